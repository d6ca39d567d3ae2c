"""The HTTP API v1 (FastAPI), mounted at /api in the console's ASGI app: thin like pages."""

from api.app import create_app

__all__ = ["create_app"]
