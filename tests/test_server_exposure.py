"""What `make run` exposes: the server started with the project's own config listens on loopback only, and it
refuses a request or a WebSocket naming a host outside `server.allowedHosts` (a DNS-rebinding page)."""
from __future__ import annotations

import base64
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.conftest import served_app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def served_port(tmp_path_factory) -> Iterator[int]:
    """`streamlit run server.py` with no address or host flags: only .streamlit/config.toml decides."""
    tmp = tmp_path_factory.mktemp("exposure")
    env = {**os.environ, "LOUPE_DATA_DIR": str(tmp / "data"), "OMP_WAIT_POLICY": "PASSIVE"}
    env = {k: v for k, v in env.items() if not k.startswith("STREAMLIT_SERVER_")}
    with served_app(env, tmp) as port:
        yield port


def _raw_request(port: int, lines: list[str]) -> str:
    """The status line of a hand-written request (urllib won't send a Host that differs from the address)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return conn.recv(4096).decode("latin-1").split("\r\n", 1)[0]


def _get(port: int, host: str) -> str:
    return _raw_request(port, ["GET / HTTP/1.1", f"Host: {host}", "Connection: close"])


def _websocket(port: int, host: str) -> str:
    key = base64.b64encode(os.urandom(16)).decode()
    return _raw_request(port, ["GET /_stcore/stream HTTP/1.1", f"Host: {host}", f"Origin: http://{host}",
                               "Upgrade: websocket", "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                               "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: streamlit"])


def test_a_page_on_a_foreign_host_name_is_refused(served_port):
    assert " 403 " in _get(served_port, f"evil.example:{served_port}")
    assert " 200 " in _get(served_port, f"127.0.0.1:{served_port}")
    assert " 200 " in _get(served_port, f"localhost:{served_port}")


def test_a_websocket_on_a_foreign_host_name_is_refused(served_port):
    assert " 101 " not in _websocket(served_port, f"evil.example:{served_port}")
    assert " 101 " in _websocket(served_port, f"localhost:{served_port}")


def _non_loopback_ipv4() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP: picks the outgoing interface, sends nothing
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_the_server_listens_on_loopback_only(served_port):
    address = _non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address to try")
    with pytest.raises(OSError):
        socket.create_connection((address, served_port), timeout=3).close()
