"""The app server's own HTTP face: a Host allow-list on every request, and stored media streamed by range.

server.py mounts both on Streamlit's ASGI app (`st.App`). Streamlit checks `server.allowedHosts` only on its
WebSocket; the allow-list here applies the same option to every HTTP request too, so a DNS-rebinding page
can read nothing, media included. The media route answers only for the id of a stored media item (a sha256),
never a path, and streams the stored file in chunks with HTTP Range support: the browser's player seeks
without the server holding a copy of the file per session.
"""
from __future__ import annotations

import json
import logging
import re
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

log = logging.getLogger(__name__)

MEDIA_PATH = "stored-media"
MIME_TYPES = {"wav": "audio/wav", "mp3": "audio/mpeg", "flac": "audio/flac", "ogg": "audio/ogg", "m4a": "audio/mp4",
              "mp4": "video/mp4", "webm": "video/webm", "mkv": "video/x-matroska", "jpeg": "image/jpeg",
              "png": "image/png", "webp": "image/webp", "gif": "image/gif"}
_MEDIA_ID = re.compile(r"^[0-9a-f]{64}$")
_served = False  # set when server.py mounts the route in this process


def is_host_allowed(host: str | None) -> bool:
    """Streamlit's own check of a Host header against `server.allowedHosts` (empty list: any host)."""
    from streamlit.web.server.starlette.starlette_websocket import is_host_allowed as streamlit_check

    return streamlit_check(host)


class HostAllowList:
    """ASGI middleware refusing any HTTP request or WebSocket whose Host is not in `server.allowedHosts`."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"host"), None)
            if not is_host_allowed(host):
                log.warning("refused a %s request for host %r: not in server.allowedHosts", scope["type"], host)
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                response = PlainTextResponse(
                    "This Loupe server does not answer to that host name. Its operator lists the names it answers "
                    "to in server.allowedHosts.", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def media_routes() -> list[Route]:
    """The stored-media route, for `st.App(routes=...)`; mounting it makes the player use it."""
    global _served
    from streamlit import config

    base = config.get_option("server.baseUrlPath").strip("/")
    _served = True
    path = f"/{base + '/' if base else ''}{MEDIA_PATH}/{{media_id:path}}"
    return [Route(path, _serve_media, methods=["GET", "HEAD"])]


def is_served() -> bool:
    return _served


def media_url(page_url: str | None, media_id: str) -> str | None:
    """The absolute URL of a stored item's bytes as the browser sees this app, or None if the route isn't served."""
    if not _served or not page_url:
        return None
    from streamlit import config

    parts = urlsplit(page_url)
    base = config.get_option("server.baseUrlPath").strip("/")
    return f"{parts.scheme}://{parts.netloc}/{base + '/' if base else ''}{MEDIA_PATH}/{media_id}"


async def _serve_media(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    media_id = request.path_params["media_id"]
    if not await run_in_threadpool(_may_read_media, dict(request.cookies)):
        return PlainTextResponse("Sign in to see stored media.", status_code=403)
    if not _MEDIA_ID.match(media_id):
        return PlainTextResponse("No stored media has that id.", status_code=404)
    found = await run_in_threadpool(_stored_file, media_id)
    if found is None:
        return PlainTextResponse("No stored media has that id.", status_code=404)
    path, media_format = found
    # FileResponse streams the file in chunks and answers Range requests with 206 Partial Content.
    return FileResponse(path, media_type=MIME_TYPES.get(media_format, "application/octet-stream"),
                        headers={"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"})


def _may_read_media(cookies: dict[str, str]) -> bool:
    """With LOUPE_AUTH=oidc, only a member signed in through st.login: Streamlit's own signed, dated identity
    cookie (itsdangerous, keyed by `[auth] cookie_secret`) is checked as its WebSocket checks it, so a tampered or
    expired cookie reads as nobody."""
    from components.app import service_outside_script

    service = service_outside_script()
    if service.config.auth == "none":
        return True
    from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME
    from streamlit.web.server.starlette.starlette_websocket import _get_signed_cookie_with_chunks

    try:
        raw = _get_signed_cookie_with_chunks(cookies, USER_COOKIE_NAME)
        payload = json.loads(raw) if raw else {}
    except (ValueError, RuntimeError):  # no cookie secret configured, or a cookie that is not JSON
        return False
    email = str(payload.get("email") or "") if payload.get("is_logged_in") else ""
    return bool(email) and service.members.actor_for(email) is not None


def _stored_file(media_id: str):
    """(local path, format) of a stored media item, or None. Runs in a worker thread: S3 may download it."""
    from components.app import service_outside_script
    from core.errors import LoupeError

    service = service_outside_script()
    try:
        item = service.catalog.get(media_id)
        return service.catalog.media_path(media_id), item.format
    except LoupeError:
        return None
