"""The sign-in cookie. Streamlit cannot set cookies from a script, so after a sign-in the page
posts a one-time code here (web/handoff.js) and this route sets the HttpOnly session cookie."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from services import auth

HANDOFF_JS = (Path(__file__).parent / "handoff.js").read_text(encoding="utf-8")
SESSION_PATH = "/auth/session"
SIGNOUT_PATH = "/auth/signout"
SCRIPT_PATH = "/auth/handoff.js"


def _same_origin(request: Request) -> bool:
    """Whether a POST came from a page of this console (no cross-site form posts)."""
    if request.headers.get("sec-fetch-site") == "same-origin":
        return True
    origin = request.headers.get("origin")
    return bool(origin) and urlsplit(origin).netloc == request.headers.get("host")


def _https(request: Request) -> bool:
    return request.url.scheme == "https"


def _local_target(value: object) -> str:
    """Where to go after the cookie is set: a path (and query) of this console, else home."""
    return auth.local_target(value) or "/"


async def handoff_script(_request: Request) -> Response:
    return Response(
        HANDOFF_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache"},
    )


async def set_session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    form = await request.form()
    code = form.get("code")
    token = await run_in_threadpool(auth.claim_handoff, code=code if isinstance(code, str) else "")
    response = RedirectResponse(_local_target(form.get("next")), status_code=303)
    if token is None:
        return response  # an expired or used code: the page shows the sign-in screen again
    response.set_cookie(
        auth.COOKIE_NAME,
        token,
        max_age=int(auth.session_max_age_seconds()),
        path="/",
        httponly=True,
        secure=_https(request),
        samesite="lax",
    )
    return response


async def clear_session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return PlainTextResponse("Cross-site request refused.", status_code=403)
    token = request.cookies.get(auth.COOKIE_NAME)
    if token:
        await run_in_threadpool(auth.end_session, token=token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(auth.COOKIE_NAME, path="/", httponly=True, samesite="lax")
    return response


def auth_routes() -> list[BaseRoute]:
    """The cookie routes st.App mounts beside Streamlit's own."""
    return [
        Route(SCRIPT_PATH, handoff_script, methods=["GET"]),
        Route(SESSION_PATH, set_session_cookie, methods=["POST"]),
        Route(SIGNOUT_PATH, clear_session_cookie, methods=["POST"]),
    ]
