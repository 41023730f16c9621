"""server.py with LOUPE_AUTH=oidc: stored media only for a signed-in member (Streamlit's signed identity cookie;
tampered or expired reads as nobody), XSRF protection on and cross-origin requests refused."""
from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from streamlit.web.server.starlette.starlette_app_utils import create_signed_value

from core.config import Config
from core.service import Service
from tests.browser.conftest import served_app

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-cookie-secret-" + "x" * 32
COOKIE = "_streamlit_user"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[tuple[int, str]]:
    """(port, media_id): `streamlit run server.py` with LOUPE_AUTH=oidc, ann@x.org an admin, one stored image."""
    tmp = tmp_path_factory.mktemp("signin")
    env = {**os.environ, "LOUPE_DATA_DIR": str(tmp / "data"), "LOUPE_AUTH": "oidc", "LOUPE_ADMINS": "ann@x.org",
           "STREAMLIT_SERVER_COOKIE_SECRET": SECRET, "OMP_WAIT_POLICY": "PASSIVE"}
    with Service(Config.from_env(env), start_jobs=False) as service:
        media_id = service.catalog.ingest_file(ROOT / "demo" / "cat.jpg").media_id
    with served_app(env, tmp) as port:
        yield port, media_id


def _identity(email: str, *, age_s: float = 0.0) -> str:
    payload = json.dumps({"origin": "http://127.0.0.1", "is_logged_in": True, "email": email})
    with mock.patch("itsdangerous.timed.TimestampSigner.get_timestamp", return_value=int(time.time() - age_s)):
        return create_signed_value(SECRET, COOKIE, payload).decode()


def _status(port: int, path: str, *, cookie: str = "", method: str = "GET", headers: dict | None = None) -> tuple[
        int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                     headers={**({"Cookie": f"{COOKIE}={cookie}"} if cookie else {}),
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


def test_stored_media_is_served_to_a_signed_in_member_only(served):
    port, media_id = served
    path = f"/stored-media/{media_id}"
    assert _status(port, path)[0] == 403
    assert _status(port, path, cookie=_identity("ann@x.org"))[0] == 200
    assert _status(port, path, cookie=_identity("mallory@x.org"))[0] == 403  # signed in, not a member


def test_a_tampered_or_expired_identity_is_refused(served):
    port, media_id = served
    good = _identity("ann@x.org")
    tampered = good[:-3] + ("AAA" if not good.endswith("AAA") else "BBB")
    assert _status(port, f"/stored-media/{media_id}", cookie=tampered)[0] == 403
    assert _status(port, f"/stored-media/{media_id}", cookie=_identity("ann@x.org", age_s=60 * 86400))[0] == 403


def test_xsrf_protection_is_on_and_other_origins_get_no_cors_grant(served):
    port, _ = served
    status, _ = _status(port, "/_stcore/upload_file/session/widget", method="PUT",
                        headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert status == 403  # no XSRF token: refused before any upload is read
    _, headers = _status(port, "/_stcore/health", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in {k.lower() for k in headers}
