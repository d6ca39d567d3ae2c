"""/docs: Swagger UI served from our own origin, so it loads under the console's CSP.

FastAPI's built-in page pulls Swagger UI from a CDN and starts it with an inline script; the
console's Content-Security-Policy allows neither. Here the assets come from the ``swagger-ui-py``
wheel and the start-up code is a same-origin script that reads the spec's address from the page.
"""

from __future__ import annotations

from html import escape
from importlib.util import find_spec
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles


def _assets() -> Path:
    # Located, not imported: importing swagger_ui loads jinja2 and yaml we do not use.
    spec = find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


ASSETS = _assets()
_START = """\
// Starts Swagger UI on the spec named by the page (served from /docs, no inline script).
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.spec,
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
"""


def _page(prefix: str, title: str, spec: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)}</title>
<link rel="stylesheet" href="{prefix}/docs/assets/swagger-ui.css">
<link rel="icon" type="image/png" href="{prefix}/docs/assets/favicon-32x32.png">
</head>
<body>
<div id="swagger-ui" data-spec="{escape(spec)}"></div>
<script src="{prefix}/docs/assets/swagger-ui-bundle.js"></script>
<script src="{prefix}/docs/start.js"></script>
</body>
</html>
"""


def install(app: FastAPI, *, path: str = "/docs") -> None:
    """Serve the docs page, its start-up script and the Swagger UI assets under ``path``."""

    async def docs(request: Request) -> HTMLResponse:
        prefix = escape(request.scope.get("root_path", "").rstrip("/"))
        spec = f"{request.scope.get('root_path', '').rstrip('/')}{app.openapi_url}"
        return HTMLResponse(_page(prefix, f"{app.title} — docs", spec))

    async def start(request: Request) -> Response:
        return Response(_START, media_type="text/javascript")

    app.add_api_route(path, docs, methods=["GET"], include_in_schema=False)
    app.add_api_route(f"{path}/start.js", start, methods=["GET"], include_in_schema=False)
    app.mount(f"{path}/assets", StaticFiles(directory=ASSETS), name="docs-assets")
