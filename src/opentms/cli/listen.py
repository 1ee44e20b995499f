"""Whether ``opentms serve`` can listen on its address, asked before it
migrates the database or says it is serving."""

from __future__ import annotations

import errno
import socket

# The exit status of ``opentms serve`` when it cannot listen on its address
# (1 is any other error, 2 a usage error).
ADDRESS_UNAVAILABLE = 3


def listen_problem(host: str, port: int) -> str | None:
    """Why ``host:port`` cannot be listened on, in one line, or None if it can.

    Binds as uvicorn will (IPv6 when the host has a colon, ``SO_REUSEADDR``,
    so a port left in TIME_WAIT is free) and lets go at once: a program that
    takes the port in between still makes uvicorn fail, with its own message.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    address = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except socket.gaierror as exc:
            return f"cannot listen on {address}: the host is unknown ({exc.strerror})"
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return (
                    f"cannot listen on {address}: the address is already in use "
                    "(another server listens there; stop it, or choose --port or --host)"
                )
            return f"cannot listen on {address}: {exc.strerror or exc}"
    return None
