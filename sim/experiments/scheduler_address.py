"""Whether a Dask scheduler answers at an address, said within a bounded time.

``distributed.Client`` bounds only the opening of the connection: where something else listens
(a scheduler's dashboard, another service), it waits for Dask's handshake for ever, or reads
the other side's bytes as the length of a message and fails allocating it.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

# How long a sweep waits for a scheduler's handshake (seconds), as long as Client's connect.
HANDSHAKE_SECONDS = 20.0


def not_a_scheduler(address: str, seconds: float | None = None) -> str | None:
    """What keeps ``address`` from being used as a Dask scheduler, in a few words, or None;
    ``seconds`` for the handshake (:data:`HANDSHAKE_SECONDS` if None)."""
    seconds = HANDSHAKE_SECONDS if seconds is None else seconds
    from distributed.comm import connect, get_address_host_port
    from distributed.security import Security

    async def handshake() -> None:
        args = Security().get_connection_args("client")
        comm = await asyncio.wait_for(connect(address, timeout=seconds, **args), seconds)
        await comm.close()

    try:
        get_address_host_port(address)
    except ValueError as err:  # no such scheme, no port
        return f"cannot connect ({err})"
    try:
        # In a thread of its own: the caller's thread may run an event loop (a notebook's),
        # in which asyncio.run refuses to start another.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(lambda: asyncio.run(handshake())).result()
    except (OSError, TypeError) as err:
        # TypeError: a tls:// address without Dask's TLS settings (distributed.comm.tls).
        if not isinstance(err, TimeoutError):
            return f"cannot connect ({err})"
        return (f"no Dask scheduler answered there within {seconds:g} s (the scheduler's own "
                "port, 8786 by default, not its dashboard's)")
    except Exception:
        # Another service's bytes read as Dask's messages.
        return "what answers there is not a Dask scheduler (the scheduler's own port, 8786 by "\
            "default, not its dashboard's)"
    return None
