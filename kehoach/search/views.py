"""Views of the web page beyond search: charts (server-side SVG), and the routes they need.

``register(app, backend)`` is called by ``server.create_app`` after the core API routes;
``EXTRA_ASSETS`` (name -> media type) widens the static whitelist of ``server.ASSETS``.
"""
from __future__ import annotations

from typing import Any

EXTRA_ASSETS: dict[str, str] = {}


def register(app: Any, backend: Any) -> None:
    """Add the view routes to ``app`` (a FastAPI app) for ``backend`` (a ``server.Backend``)."""
    return None
