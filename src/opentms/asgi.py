"""The app factory servers import, beside the composition root that it calls:
``uvicorn --factory opentms.asgi:app``."""

from __future__ import annotations

import logging.config

from starlette.applications import Starlette

from opentms.adapters.http.app import create_app
from opentms.bootstrap import build_services
from opentms.config import Settings
from opentms.observability import logging_config


def app() -> Starlette:
    settings = Settings()
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
    return create_app(build_services(settings), dispatch=True)
