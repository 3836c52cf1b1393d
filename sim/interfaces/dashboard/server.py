"""Serve the dashboard page with Solara's own server, on the host and port asked for."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Sequence
from pathlib import Path

from sim.core.scenario import ScenarioError

APP = "sim.interfaces.dashboard.app"
# How the command tells the served page (imported by the server, by name) what to open.
SCENARIO_ENV = "BLOWBACK_DASHBOARD_SCENARIO"
SEED_ENV = "BLOWBACK_DASHBOARD_SEED"
SETTINGS_ENV = "BLOWBACK_DASHBOARD_SETTINGS"  # the --set options, as a JSON list of KEY=VALUE


def check_port(host: str, port: int) -> None:
    """Fail with one line, before any import of the server, when the address is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise ScenarioError("--port", None,
                                f"{host}:{port} cannot be used ({err.strerror}); "
                                "choose another port with --port") from None


def serve(scenario: str | Path | None, host: str, port: int, seed: int | None,
          settings: Sequence[str] = ()) -> None:
    """Run the dashboard server until interrupted; the page opens on ``scenario`` with the
    ``--set`` options ``settings`` (``KEY=VALUE``) applied."""
    os.environ[SCENARIO_ENV] = str(Path(scenario).resolve()) if scenario else ""
    os.environ[SEED_ENV] = "" if seed is None else str(seed)
    os.environ[SETTINGS_ENV] = json.dumps(list(settings))
    # Solara reads these when it is imported: no usage reports, no version check online
    # (a seminar room may have no network, and a page should not phone home).
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    from solara.__main__ import run

    print(f"Blowback dashboard: http://{host}:{port}  (Ctrl-C stops it)", flush=True)
    run.main([APP, "--host", host, "--port", str(port), "--production", "--no-open",
              "--no-check-version", "--log-level-uvicorn", "warning"],
             standalone_mode=False)
