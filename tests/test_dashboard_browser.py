"""The dashboard in a real headless Chromium: served by ``blowback dashboard``, clicked.

Needs Debian's ``chromium`` at /usr/bin/chromium; the session installs it (apt-get, as root)
when it is missing.  Where it cannot (no root), the test is skipped on a developer's machine
and fails in CI (``CI=true``), so that CI never passes without having run it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import MAP_SCALE, ROOT, dashboard_address

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
SCENARIO = ROOT / "scenarios" / "contractor_unchecked.toml"
TIMEOUT_MS = 60_000
# An XGA projector, a WXGA one and a full-HD screen: the page must fit each without scrolling.
SCREENS = ((1024, 768), (1280, 800), (1920, 1080))
# Where to copy the screenshots of the screens too (docs/img regenerates the documentation's).
SHOTS_ENV = "BLOWBACK_SCREENSHOTS"


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


@pytest.fixture
def dashboard_url(tmp_path):
    """``blowback dashboard`` started on a port it picks; its URL once the page answers."""
    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen([sys.executable, "-m", "sim", "dashboard", str(SCENARIO),
                               "--port", "0"], cwd=ROOT, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        url = dashboard_address(server, log_path)
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("the dashboard did not answer within 60 s of printing its address")
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


# Records, at every change of the page, whether it is busy, what its status says, whether
# the spinner shows and whether Step is disabled.
WATCH_BUSY = """() => {
    window.bbSeen = [];
    const look = () => {
        const status = document.querySelector('.bb-status');
        const step = [...document.querySelectorAll('button')]
            .find(b => b.textContent.trim() === 'Step');
        if (status) window.bbSeen.push({
            busy: status.dataset.busy, text: status.textContent,
            computing: document.querySelector('.bb-computing') !== null,
            stepDisabled: step !== undefined && step.disabled});
    };
    new MutationObserver(look).observe(document.body,
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""


# Each chart text smaller than 11 pixels as drawn, or that leaves its chart's box.
CHART_TEXT = """() => [...document.querySelectorAll('svg.bb-chart')].flatMap(svg => {
    const box = svg.viewBox.baseVal, drawn = svg.getBoundingClientRect();
    const scale = Math.min(drawn.width / box.width, drawn.height / box.height);
    return [...svg.querySelectorAll('text')].filter(t => {
        const size = parseFloat(t.getAttribute('font-size')) * scale, b = t.getBBox();
        return size < 11 || b.x < 0 || b.x + b.width > box.width;
    }).map(t => `${svg.dataset.series}: ${t.textContent}`);
})"""


# The drawn size in pixels of each text of the map's key (its symbols' names, the layer's name
# and the ends of its scale; not the symbols' tooltips), as drawn inside an SVG (scaled with it)
# or as the page's text.
MAP_KEY_TEXT = """() => [...document.querySelectorAll('.bb-symbols, .bb-legend')].flatMap(key => {
    const svg = key.closest('svg'), box = svg && svg.viewBox.baseVal;
    const drawn = svg && svg.getBoundingClientRect();
    const scale = svg ? Math.min(drawn.width / box.width, drawn.height / box.height) : 1;
    const texts = [...key.querySelectorAll('*')].filter(e => e.tagName !== 'title'
        && [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim()));
    return texts.map(t => [t.textContent.trim(), parseFloat(getComputedStyle(t).fontSize) * scale]);
})"""


# The pixels each map's title takes as drawn (side by side, a title names each side's regime).
MAP_TITLES = """() => [...document.querySelectorAll('svg.bb-map')].flatMap(svg => {
    const box = svg.viewBox.baseVal, drawn = svg.getBoundingClientRect();
    const scale = Math.min(drawn.width / box.width, drawn.height / box.height);
    return [...svg.querySelectorAll('.bb-map-title')].map(
        t => parseFloat(t.getAttribute('font-size')) * scale);
})"""


# Each town's name on each map: its drawn size in pixels, its box in the map's units (the glyphs'
# box, as the browser lays them out) and the map's visible frame, its viewBox.
TOWN_LABELS = """() => [...document.querySelectorAll('svg.bb-map')].flatMap((svg, map) => {
    const box = svg.viewBox.baseVal, drawn = svg.getBoundingClientRect();
    const scale = Math.min(drawn.width / box.width, drawn.height / box.height);
    return [...svg.querySelectorAll('.bb-town')].map(t => {
        const b = t.getBBox();
        return {map, name: t.textContent, px: parseFloat(t.getAttribute('font-size')) * scale,
                box: [b.x, b.y, b.x + b.width, b.y + b.height],
                frame: [box.x, box.y, box.x + box.width, box.y + box.height]};
    });
})"""


def _town_label_problems(labels: list[dict], smallest: float) -> list[str]:
    """Town names drawn under ``smallest`` pixels, leaving their map's frame, or overlapping
    another."""
    out = [f"{t['name']} {t['px']:.1f} px" for t in labels if t["px"] < smallest]
    for t in labels:
        (x0, y0, x1, y1), (f0, g0, f1, g1) = t["box"], t["frame"]
        if x0 < f0 or y0 < g0 or x1 > f1 or y1 > g1:
            out.append(f"{t['name']} leaves the map: {t['box']} outside {t['frame']}")
    for k, a in enumerate(labels):
        for b in labels[k + 1:]:
            (a0, a1, a2, a3), (b0, b1, b2, b3) = a["box"], b["box"]
            if a["map"] == b["map"] and a0 < b2 and b0 < a2 and a1 < b3 and b1 < a3:
                out.append(f"{a['name']} overlaps {b['name']}")
    return out


# Each element that scrolls but the levers' panel and the event log, which scroll on purpose:
# Solara's page scrolls in a <div> of its own, so the document alone never shows it.
SCROLLING = """() => [...document.querySelectorAll('*')]
    .filter(e => !e.closest('.bb-levers, .bb-log')).flatMap(e => {
        const style = getComputedStyle(e), scrolls = v => v === 'auto' || v === 'scroll';
        const over = [scrolls(style.overflowY) ? e.scrollHeight - e.clientHeight : 0,
                      scrolls(style.overflowX) ? e.scrollWidth - e.clientWidth : 0];
        return over.some(o => o > 0) ? [`${e.tagName}.${e.className}: ${over} px`] : [];
    })"""

# How many pixels a map unit takes on each map as drawn (an SVG keeps its proportions).
MAP_SCALES = """() => [...document.querySelectorAll('svg.bb-map')].map(svg => {
    const box = svg.viewBox.baseVal, drawn = svg.getBoundingClientRect();
    return Math.min(drawn.width / box.width, drawn.height / box.height);
})"""


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

            # A click while a week computes is dropped, so each waits for the one before.
            for week in (1, 2):
                page.get_by_role("button", name="Step").click()
                expect(status).to_have_attribute("data-step", str(week))
                expect(page.get_by_role("button", name="Step")).to_be_enabled()
            # The charts re-render after the step counter: wait for them (expect retries).
            for series in ("civilian_deaths", "insurgent_strength", "cooperation_mean"):
                expect(_line(page, series)).to_have_attribute("data-points", "2")
            assert page.locator("svg.bb-map image").get_attribute("href") != map_before

            page.get_by_role("button", name="fast").click()
            page.get_by_role("button", name="Play").click()
            page.wait_for_function(
                "() => +document.querySelector('.bb-status').dataset.step >= 12")
            page.get_by_role("button", name="Pause").click()
            # Play comes back once the week under way has landed: the count is then final.
            expect(page.get_by_role("button", name="Play")).to_be_enabled()
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
            expect(page.locator(".bb-log")).to_contain_text("Set oversight.punishment = 1")
            assert _step(page) == weeks  # moving a lever does not step the model

            # A year at once: the page says it is computing and takes no click meanwhile.  A
            # fast machine computes the year between two polls of ``expect``, so every state
            # the page passes through is recorded as it is drawn and checked afterwards.
            page.evaluate(WATCH_BUSY)
            page.get_by_role("button", name="+1 year").click()
            # A year takes a second or two alone, more on a machine busy with other work: the
            # test waits for it as for a page load, not for expect's default of 5 s.
            expect(status).to_have_attribute("data-step", str(weeks + 52), timeout=TIMEOUT_MS)
            # Step comes back with the last week, a draw before the status does: what must
            # hold is that no click gets through while weeks remain.
            ahead = [seen for seen in page.evaluate("() => window.bbSeen")
                     if seen["busy"] == "true" and f"(to {weeks + 52})" in seen["text"]]
            assert ahead, "the page never said it was computing the year"
            assert all(seen["computing"] and seen["stepDisabled"] for seen in ahead), ahead
            expect(status).to_have_attribute("data-busy", "false")
            expect(page.locator(".bb-computing")).to_have_count(0)
            expect(page.get_by_role("button", name="Step")).to_be_enabled()

        finally:
            browser.close()


def _inside(page, locator, width: int, height: int) -> list[str]:
    """What of ``locator``'s elements lies outside the viewport (none on a page that fits)."""
    out = []
    for k in range(locator.count()):
        box = locator.nth(k).bounding_box()
        assert box is not None, f"{locator} #{k} is not displayed"
        if box["x"] < 0 or box["y"] < 0 or box["x"] + box["width"] > width + 0.5 \
                or box["y"] + box["height"] > height + 0.5:
            out.append(f"{locator} #{k} at {box}")
    return out


def _fits(page, width: int, height: int, shown: str, scaled: bool = True) -> None:
    """Every part the class needs lies inside the viewport, nothing scrolls but the levers and
    the log, the charts' text and the map key's are 11 pixels or more and (``scaled``) the maps
    are drawn large enough, their town names too, each inside its map and clear of the others."""
    where = f"{width}x{height}, {shown}"
    parts = [page.locator(".bb-map-view"), page.locator(".bb-map-key"),
             page.locator(".bb-chart-view"),
             page.locator(".bb-levers"), page.locator(".bb-status"),
             page.get_by_role("button", name="Step"),
             page.get_by_role("button", name="+1 year"),
             page.get_by_role("button", name="coup in a neighbour")]
    outside = [o for part in parts for o in _inside(page, part, width, height)]
    assert not outside, f"{where}: {outside}"
    scroll = page.evaluate("() => [document.documentElement.scrollWidth, "
                           "document.documentElement.scrollHeight]")
    assert scroll[0] <= width and scroll[1] <= height, (where, scroll)
    scrolling = page.evaluate(SCROLLING)
    assert not scrolling, f"{where}: {scrolling}"
    small = page.evaluate(CHART_TEXT)
    assert not small, f"{where}: {small}"
    key = page.evaluate(MAP_KEY_TEXT)
    assert min((size for _, size in key), default=0) >= 11, f"{where}: map key {key}"
    assert len(key) >= 9, f"{where}: map key {key}"  # seven symbols, the layer, its two ends
    scales = page.evaluate(MAP_SCALES)
    assert scales and (min(scales) >= MAP_SCALE or not scaled), f"{where}: maps drawn at {scales}"
    titles = page.evaluate(MAP_TITLES)
    assert min(titles, default=11) >= 11 or not scaled, f"{where}: maps' titles {titles}"
    towns = page.evaluate(TOWN_LABELS)
    assert len(towns) >= 9, f"{where}: town names {towns}"
    problems = _town_label_problems(towns, 11 if scaled else 0)
    assert not problems, f"{where}: town names: {problems}"


def test_the_page_fits_two_projectors_and_a_full_hd_screen(chromium, dashboard_url, tmp_path):
    """At 1024x768, 1280x800 and 1920x1080, one run and then side by side: the maps, every
    chart, the toolbar, the levers' column and the event buttons lie inside the viewport with
    no scrolling at all (the levers scroll in their own column), even under the line of a
    refused value, Solara's banner is gone, and switching side by side on says that it
    restarted both."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=FLAGS,
                                    chromium_sandbox=False)
        try:
            for width, height in SCREENS:
                page = browser.new_page(viewport={"width": width, "height": height})
                page.set_default_timeout(TIMEOUT_MS)
                page.goto(dashboard_url, timeout=TIMEOUT_MS)
                expect(page.locator(".bb-status")).to_have_attribute("data-step", "0")
                expect(page.get_by_text("(restarts both runs at week 0)")).to_be_visible()
                _fits(page, width, height, "one run")
                page.locator(".v-input--switch", has_text="side by side").locator(
                    "input").click(force=True)
                expect(page.locator(".bb-map-view")).to_have_count(2)
                expect(page.locator(".bb-restarted")).to_contain_text("restarted at week 0")
                expect(page.locator("svg.bb-map text", has_text="Contractor, accountable")
                       ).to_have_count(1)
                assert page.get_by_text("runs on Solara").count() == 0
                _fits(page, width, height, "side by side")
                assert page.locator('svg[data-series="partner_relationship"] '
                                    '.bb-threshold').count() == 1
                shot = tmp_path / f"dashboard-{width}x{height}.png"
                page.screenshot(path=str(shot))
                assert shot.stat().st_size > 20_000
                if os.environ.get(SHOTS_ENV):
                    folder = Path(os.environ[SHOTS_ENV])
                    folder.mkdir(parents=True, exist_ok=True)
                    shutil.copy(shot, folder / shot.name)
                # A refused value's line makes room for itself, the maps shrinking until the
                # next action that succeeds takes it away: nothing falls off the page.
                page.get_by_label("seed").fill("not a seed")
                page.get_by_role("button", name="Reset").click()
                expect(page.locator(".bb-error")).to_contain_text("seed: 'not a seed'")
                _fits(page, width, height, "side by side, with a refused value's line",
                      scaled=False)
                page.close()
        finally:
            browser.close()
