"""Real-browser fixtures: the app as `make run` serves it (`streamlit run server.py`) on a loopback port,
driven by Debian's chromium.

Never `playwright install`: Playwright drives the system browser at /usr/bin/chromium.
"""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("LOUPE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@dataclass
class RunningApp:
    url: str
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data_dir: Path, log_path: Path, extra_env: dict[str, str] | None = None,
              port: int | None = None) -> RunningApp:
    port = port or free_port()
    env = {**os.environ, "LOUPE_DATA_DIR": str(data_dir), "OMP_WAIT_POLICY": "PASSIVE", **(extra_env or {})}
    log_fh = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "server.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log_fh, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return RunningApp(url, data_dir, proc, log_path)
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not become healthy within 60 s")


def stop_app(app: RunningApp) -> None:
    app.process.terminate()
    try:
        app.process.wait(10)
    except subprocess.TimeoutExpired:
        app.process.kill()


@pytest.fixture
def app_factory(tmp_path) -> Iterator[Callable[..., RunningApp]]:
    """Start app servers (several may share one data dir or DynamoDB table); all are stopped afterwards."""
    apps: list[RunningApp] = []

    def _start(data_dir: Path | None = None, extra_env: dict[str, str] | None = None,
               port: int | None = None) -> RunningApp:
        data = data_dir or tmp_path / "data"
        app = start_app(data, tmp_path / f"streamlit-{len(apps)}.log", extra_env, port)
        apps.append(app)
        return app

    yield _start
    for app in apps:
        stop_app(app)


@pytest.fixture
def app(app_factory) -> RunningApp:
    return app_factory()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `apt-get install -y chromium` (make test does).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()



class SentFrames:
    """The websocket frames a page sends to the app server (script reruns carrying widget values), to wait on.

    Create it before the page's first `goto`, so that the app's websocket is seen from its start.
    """

    def __init__(self, page) -> None:
        self.page = page
        self.frames: list[bytes] = []
        page.on("websocket", lambda ws: ws.on("framesent", self._add))

    def _add(self, frame: bytes | str) -> None:
        self.frames.append(frame if isinstance(frame, bytes) else frame.encode())

    def __len__(self) -> int:
        return len(self.frames)

    def wait_for(self, needle: bytes, timeout_s: float = 30.0) -> None:
        """Wait until a sent frame contains `needle` (a component's state key, for example)."""
        deadline = time.monotonic() + timeout_s
        while not any(needle in frame for frame in self.frames):
            if time.monotonic() > deadline:
                raise AssertionError(f"the page sent no frame with {needle!r} within {timeout_s} s")
            self.page.wait_for_timeout(50)  # lets Playwright deliver the page's events


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script (no 'Running...' status widget)."""
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.includes('Running')",
        timeout=30_000,
    )


def open_as(page, url: str, name: str) -> None:
    """Open a page and type the reviewer's name, as a person would, waiting for each rerun."""
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("textbox", name="Who is reviewing?").fill(name)
    page.keyboard.press("Enter")
    wait_for_app(page)


def seed(data_dir: Path, fn: Callable, **kwargs):
    """Run `fn(service, **kwargs)` on a service over data_dir (no job threads) before the app starts on it."""
    from core.config import Config
    from core.service import Service

    svc = Service(Config(data_dir=data_dir), start_jobs=False)
    try:
        return fn(svc, **kwargs)
    finally:
        svc.close()


@contextlib.contextmanager
def served_app(env: dict[str, str], tmp: Path) -> Iterator[int]:
    """`streamlit run server.py` on a free loopback port with `env` (its log in tmp/server.log); yields the port once
    the server answers its health check, and stops it at the end."""
    port = free_port()
    log = open(tmp / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "server.py", "--server.port", str(port),
                             "--server.fileWatcherType", "none"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp / "server.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not answer within 60 s"
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


@pytest.fixture(scope="session")
def oidc_issuer(tmp_path_factory) -> Iterator[str]:
    """A real OpenID provider on loopback (oidc-provider): the one scripts/with-test-servers.sh started, else one
    started here as that script does."""
    if os.environ.get("LOUPE_TEST_OIDC_ISSUER"):
        yield os.environ["LOUPE_TEST_OIDC_ISSUER"]
        return
    if not (ROOT / ".cache" / "oidc-provider" / "node_modules" / "oidc-provider").exists():
        pytest.fail("oidc-provider is not installed: run `make setup-test`.")
    port = free_port()
    log = tmp_path_factory.mktemp("oidc") / "provider.log"
    proc = subprocess.Popen(["node", str(ROOT / "scripts" / "oidc-provider.mjs"), str(port)],
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(url + "/.well-known/openid-configuration", timeout=2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def write_auth_secrets(path: Path, port: int, issuer: str) -> Path:
    """A secrets file whose [auth] section signs in through the provider at issuer, for an app on this port (what a
    team puts in .streamlit/secrets.toml; the app reads it through STREAMLIT_SECRETS_FILES)."""
    path.write_text(f'''[auth]
redirect_uri = "http://127.0.0.1:{port}/oauth2callback"
cookie_secret = "browser-test-cookie-secret-0123456789abcdef"
client_id = "loupe"
client_secret = "loupe-test-secret"
server_metadata_url = "{issuer}/.well-known/openid-configuration"
client_kwargs = {{ prompt = "login" }}  # Streamlit asks for select_account, which oidc-provider does not offer
''')
    return path


def sign_in(page, url: str, email: str) -> None:
    """Sign in on the app at url through the provider's own login form, as a person does."""
    page.goto(url)
    wait_for_app(page)
    page.get_by_role("button", name="Sign in").click()
    page.locator("input[name=login]").fill(email)
    page.locator("input[name=password]").fill("any")
    page.locator("button[type=submit]").click()
    page.wait_for_url(url + "/**")
    wait_for_app(page)
    page.get_by_text(f"Signed in as {email}").wait_for()
