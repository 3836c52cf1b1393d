"""Serve the dashboard page: Solara's app under uvicorn, on the host and port asked for.

The page runs the model for whoever reaches it, with no password, so by default it listens on
this machine only (a loopback address), and it answers only requests addressed to the host it
was started on: a web page elsewhere cannot point a name of its own at this machine (DNS
rebinding) and drive the dashboard from a visitor's browser.  Nothing here imports Solara
before :func:`serve`: the checks answer at once.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

from sim.core.inputs import parse_setting
from sim.core.scenario import Scenario, ScenarioError, default_scenario, load_scenario

APP = "sim.interfaces.dashboard.app"
# How the command tells the served page (imported by the server, by name) what to open.
SCENARIO_ENV = "BLOWBACK_DASHBOARD_SCENARIO"
SEED_ENV = "BLOWBACK_DASHBOARD_SEED"
SETTINGS_ENV = "BLOWBACK_DASHBOARD_SETTINGS"  # the --set options, as a JSON list of KEY=VALUE

PREPARING = "preparing the model (first time: compiling, ~20 s)\u2026"
WARM_UP_COMMUNITIES = 200  # a map this small steps in milliseconds once compiled
WARM_UP_WEEKS = 2
# Set once :func:`prepare` has run in this process: the kernels are compiled (or loaded from
# numba's cache), and the page's first week takes milliseconds.
PREPARED = threading.Event()

# The names a browser on this machine uses for a loopback server, as a Host header has them.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
LOOPBACK_ALLOWED = "127.0.0.1 (or any 127.x.x.x), ::1 or localhost"
# A name a Host header may carry: letters, digits, dots and dashes, or an IPv6 in brackets.
_HOST_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")


def page_title(scenario_name: str) -> str:
    """The title of the browser tab for a page that shows ``scenario_name``."""
    return f"Blowback \u2014 {scenario_name}"


def _bare(host: str) -> str:
    """``host`` without the brackets of an IPv6 address written as in a URL (``[::1]``)."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(_bare(host))
    except ValueError:
        return None


def url_host(host: str) -> str:
    """``host`` as a URL and a Host header write it (IPv6 in brackets)."""
    address = _address(host)
    return f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else host


def is_loopback(host: str) -> bool:
    """True for an address that only this machine reaches: 127.0.0.0/8, ::1, localhost."""
    if _bare(host).lower() == "localhost":
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def check_host(host: str, allow_remote: bool) -> str | None:
    """The address to listen on, checked: None for a loopback one; for another, with
    ``allow_remote``, the warning to print; a :class:`ScenarioError` (``--host``) otherwise.

    An empty host is refused even with ``allow_remote``: it is what an unset shell variable
    gives, and it would listen on every interface without anyone having asked for it.
    """
    if not host.strip():
        raise ScenarioError("--host", None, f"{host!r} is empty (an unset variable?); allowed: "
                            f"{LOOPBACK_ALLOWED}, or with --allow-remote 0.0.0.0 or an "
                            "address given explicitly")
    if is_loopback(host):
        return None
    if not allow_remote:
        raise ScenarioError("--host", None, f"{host} is reachable beyond this machine; allowed: "
                            f"{LOOPBACK_ALLOWED}, or add --allow-remote to listen beyond this "
                            "machine")
    return "reachable from the network with no password: anyone who can reach the port can " \
           "run the model"


def check_allowed_hosts(names: Sequence[str]) -> list[str]:
    """The ``--allowed-host`` names, each checked to be a host name or an address."""
    for name in names:
        if not _HOST_NAME.fullmatch(name):
            raise ScenarioError("--allowed-host", None, f"{name!r} is not a host name; allowed: "
                                "a name like lab-pc.example.org, or an address")
    return [name.lower() for name in names]


def allowed_hosts(host: str, extra: Sequence[str] = ()) -> list[str]:
    """The Host header names the page answers to (``["*"]``: any).

    The host it listens on, ``extra`` names, and the loopback names when this machine can
    reach it by them; listening on every address (0.0.0.0, ::) with no ``extra`` name accepts
    any Host, since the names the machine has on the network are not known here.
    """
    address = _address(host)
    everywhere = address is not None and address.is_unspecified
    if everywhere and not extra:
        return ["*"]
    names = [] if everywhere else [url_host(host).lower()]
    names += [name.lower() for name in extra]
    if everywhere or is_loopback(host):
        names += LOOPBACK_NAMES
    return list(dict.fromkeys(names))


def listen(host: str, port: int) -> list[socket.socket]:
    """Sockets listening on every address of ``host``, all on ``port`` (0: a free port the
    system picks), held from before the model compiles until the server takes them, so that no
    other program can take the port in between.  Fails with one line naming the cause: the
    port in use, or the address not this machine's."""
    where = f"{url_host(host)}:{port}"
    try:
        found = socket.getaddrinfo(_bare(host), port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except socket.gaierror as err:
        raise ScenarioError("--host", None, f"{host} is not a known address ({err.strerror}); "
                            f"allowed: {LOOPBACK_ALLOWED}, or an address of this machine") \
            from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(found):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                # As asyncio does: "::" would otherwise take the IPv4 port that the
                # 0.0.0.0 entry of the same name binds next.
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if len(sockets) > 1:
                # Port 0 picked a port for the first address; the others share it.
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            try:
                sock.bind(address)
                sock.listen()
            except OSError as err:
                raise _bind_error(host, port, where, err) from None
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def _bind_error(host: str, port: int, where: str, err: OSError) -> ScenarioError:
    if err.errno == errno.EADDRINUSE:
        return ScenarioError("--port", None, f"{where} is already in use by another program; "
                             "choose another port with --port")
    if err.errno == errno.EACCES:
        return ScenarioError("--port", None, f"{where}: listening on port {port} needs "
                             "privileges here; allowed: a port in [1024, 65535]")
    return ScenarioError("--host", None, f"{host} is not an address of this machine "
                         f"({err.strerror}); allowed: {LOOPBACK_ALLOWED}, or one of this "
                         "machine's addresses")


def guarded(app, names: Sequence[str]):
    """``app`` answering only HTTP and websocket requests whose Host is one of ``names``
    (with or without a port); any other gets 400 and no page."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    # No www. redirect: a name that is not allowed gets nothing, not a pointer elsewhere.
    return TrustedHostMiddleware(app, allowed_hosts=list(names), www_redirect=False)


def served_scenario() -> Scenario:
    """The scenario ``blowback dashboard`` was started with, its ``--set`` options applied
    (the command checked them before it started the server)."""
    path = os.environ.get(SCENARIO_ENV) or None
    scenario = load_scenario(path) if path else default_scenario()
    settings = json.loads(os.environ.get(SETTINGS_ENV) or "[]")
    return scenario.with_values(dict(parse_setting("--set", s) for s in settings), "--set")


def prepare(scenario: Scenario, out=None) -> None:
    """Step a tiny copy of ``scenario`` before the page is served, saying so on ``out``
    (stderr): the model's kernels compile on the first run on a machine (numba, ~20 s), and
    that wait belongs before the server's address is printed, not in the first click.  A page
    opened in a notebook does the same while it shows that it is preparing (:data:`PREPARED`)."""
    from sim.core.model import BlowbackModel

    print(PREPARING, file=out or sys.stderr, flush=True)
    tiny = scenario.with_overrides(**{"map.communities": WARM_UP_COMMUNITIES})
    model = BlowbackModel(tiny, agents=False)
    for _ in range(min(WARM_UP_WEEKS, model.steps_total)):
        model.step()
    PREPARED.set()


def serve(scenario: str | Path | None, host: str, sockets: list[socket.socket],
          seed: int | None, settings: Sequence[str] = (), names: Sequence[str] = ("*",),
          title: str = "Blowback") -> None:
    """Run the dashboard server on ``sockets`` (see :func:`listen`) until interrupted; the page
    opens on ``scenario`` with the ``--set`` options ``settings`` (``KEY=VALUE``) applied, and
    answers the Host ``names`` (see :func:`allowed_hosts`); ``title`` is the tab's title
    before the page draws."""
    os.environ[SCENARIO_ENV] = str(Path(scenario).resolve()) if scenario else ""
    os.environ[SEED_ENV] = "" if seed is None else str(seed)
    os.environ[SETTINGS_ENV] = json.dumps(list(settings))
    prepare(served_scenario())
    port = sockets[0].getsockname()[1]
    # Read by Solara when it is imported: the page to serve; no usage reports, no version
    # check online (a seminar room may have no network, and a page should not phone home).
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"], os.environ["SERVER_PORT"] = _bare(host), str(port)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    import uvicorn
    from solara.__main__ import LOGGING_CONFIG
    from solara.server import settings as solara_settings

    # Solara warns on each page not served as "localhost" that its cookie cannot be
    # SameSite=None over plain http; only a page embedded in another site needs that.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)
    solara_settings.main.mode = "production"
    solara_settings.theme.title = title
    # Its "runs on Solara" banner sits over the bottom of the page: the maps' legends.
    solara_settings.theme.show_banner = False
    from solara.server.starlette import app

    config = uvicorn.Config(guarded(app, names), host=_bare(host), port=port,
                            log_config=LOGGING_CONFIG, log_level="warning")
    print(f"Blowback dashboard: http://{url_host(host)}:{port}  (Ctrl-C stops it)", flush=True)
    uvicorn.Server(config).run(sockets=sockets)
