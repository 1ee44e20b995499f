"""Which apps run a dispatcher: a server process's (``create_app(...,
dispatch=True)``, as ``opentms serve`` and ``opentms.asgi:app`` build it)
while it serves, unless OPENTMS_WEBHOOK_DISPATCHER is false; never an
in-process app of the tests (their deliveries happen only when a test asks)."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import build_services
from opentms.services.webhooks.dispatcher import Dispatcher
from tests.conftest import make_settings


async def _serve_once(app: Starlette, dispatcher: Dispatcher) -> bool:
    """Run ``app``'s lifespan as a server does: whether the dispatcher ran
    between startup and shutdown."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await inbox.put({"type": "lifespan.startup"})
    task = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send))
    while "lifespan.startup.complete" not in sent:
        await asyncio.sleep(0.01)
    running = dispatcher.running
    await inbox.put({"type": "lifespan.shutdown"})
    await task
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    return running


@pytest.mark.parametrize(
    ("dispatch", "enabled", "runs"),
    [
        pytest.param(True, True, True, id="server"),
        pytest.param(True, False, False, id="server-with-dispatcher-off"),
        pytest.param(False, True, False, id="in-process-app"),
    ],
)
def test_the_lifespan_runs_the_dispatcher_of_a_server_process(
    tmp_path: Path, dispatch: bool, enabled: bool, runs: bool
) -> None:
    services = build_services(make_settings(tmp_path, webhook_dispatcher=enabled))
    try:
        assert services.dispatcher is not None
        app = create_app(services, dispatch=dispatch)
        assert asyncio.run(_serve_once(app, services.dispatcher)) is runs
        assert not services.dispatcher.running
    finally:
        services.close()
