"""The dashboard in a real headless Chromium: served by ``blowback dashboard``, clicked.

Needs Debian's ``chromium`` at /usr/bin/chromium; the session installs it (apt-get, as root)
when it is missing.  Where it cannot (no root), the test is skipped on a developer's machine
and fails in CI (``CI=true``), so that CI never passes without having run it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SCENARIO = ROOT / "scenarios" / "contractor_unchecked.toml"
TIMEOUT_MS = 60_000


def _install_chromium() -> str | None:
    """Install Debian's chromium if it is missing; the reason it is not there, or None."""
    if CHROMIUM.exists():
        return None
    if os.geteuid() != 0:
        return "it is missing, and installing it (apt-get) needs root"
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "chromium"]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as err:
            return f"{' '.join(command)}: {err}"
        if done.returncode != 0:
            tail = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return f"{' '.join(command)} failed ({done.returncode}): {tail}"
    return None if CHROMIUM.exists() else "apt-get installed chromium but not at that path"


@pytest.fixture(scope="session")
def chromium() -> Path:
    """The path of a Chromium the test can drive."""
    problem = _install_chromium()
    if problem is not None:
        message = f"the dashboard's browser test needs Debian's chromium at {CHROMIUM}: {problem}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def dashboard_url(tmp_path):
    """``blowback dashboard`` started on a free port; its URL once it answers."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", str(SCENARIO),
                               "--port", str(port)], cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                pytest.fail(f"the dashboard exited ({server.returncode}): "
                            + (tmp_path / "server.log").read_text()[-2000:])
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the dashboard did not answer within 120 s")
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _line(page, series: str):
    return page.locator(f'svg[data-series="{series}"] polyline')


def _points(page, series: str) -> int:
    return int(_line(page, series).get_attribute("data-points"))


def _step(page) -> int:
    return int(page.locator(".bb-status").get_attribute("data-step"))


def test_dashboard_in_a_browser_steps_plots_and_takes_a_lever(chromium, dashboard_url,
                                                             tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=FLAGS,
                                    chromium_sandbox=False)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1150})
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(dashboard_url, timeout=TIMEOUT_MS)
            status = page.locator(".bb-status")
            expect(status).to_have_attribute("data-step", "0", timeout=TIMEOUT_MS)
            assert _points(page, "civilian_deaths") == 0
            map_before = page.locator("svg.bb-map image").get_attribute("href")

            for _ in range(2):
                page.get_by_role("button", name="Step").click()
            expect(status).to_have_attribute("data-step", "2")
            # The charts re-render after the step counter: wait for them (expect retries).
            for series in ("civilian_deaths", "insurgent_strength", "cooperation_mean"):
                expect(_line(page, series)).to_have_attribute("data-points", "2")
            assert page.locator("svg.bb-map image").get_attribute("href") != map_before

            page.get_by_role("button", name="fast").click()
            page.get_by_role("button", name="Play").click()
            page.wait_for_function(
                "() => +document.querySelector('.bb-status').dataset.step >= 12")
            page.get_by_role("button", name="Pause").click()
            expect(page.get_by_role("button", name="Play")).to_be_visible()
            weeks = _step(page)
            assert weeks >= 12
            expect(page.locator('svg[data-series="civilian_deaths"] polyline')).to_have_attribute(
                "data-points", str(weeks))

            # The lever's label is read back from the model after the change.
            lever = page.locator(".bb-lever", has_text="punishment:")
            expect(lever.locator(".bb-lever-label")).to_have_text("punishment: 0.2")
            lever.get_by_role("slider").focus()
            page.keyboard.press("End")
            expect(lever.locator(".bb-lever-label")).to_have_text("punishment: 1")
            expect(page.locator(".bb-log")).to_contain_text("set oversight.punishment = 1")
            assert _step(page) == weeks  # moving a lever does not step the model

            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000
            if os.environ.get("BLOWBACK_SCREENSHOTS"):
                folder = Path(os.environ["BLOWBACK_SCREENSHOTS"])
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy(shot, folder / "dashboard.png")
        finally:
            browser.close()
