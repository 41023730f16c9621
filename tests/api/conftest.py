"""The API served for real: uvicorn on a loopback port around a service in a temporary folder, and real boto3
clients pointed at it with `endpoint_url` (their own signing, serialization, paginators and error classes)."""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import boto3
import pytest
import uvicorn
from botocore.config import Config as BotoConfig

from api.app import MAX_BODY_BYTES, create_app
from core.api_keys import ApiKey


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class RunningApi:
    url: str
    service: object
    admin: ApiKey
    client_key: ApiKey

    def client(self, name: str, key: ApiKey | None = None, *, secret: str | None = None, retries: int = 1,
               **config):
        """A boto3 client on this API, signed with `key` (default: the admin key)."""
        key = key or self.admin
        return boto3.client(name, endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=key.access_key_id,
                            aws_secret_access_key=secret if secret is not None else key.secret_access_key,
                            config=BotoConfig(retries={"mode": "standard", "max_attempts": retries}, **config))


class ServerThread:
    """uvicorn in a thread of the test process, so the test sees the service it serves."""

    def __init__(self, app, port: int):
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                                   access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def api_factory(service) -> Iterator[Callable[..., RunningApi]]:
    servers: list[ServerThread] = []

    def start(*, max_body_bytes: int = MAX_BODY_BYTES) -> RunningApi:
        port = free_port()
        server = ServerThread(create_app(service, max_body_bytes=max_body_bytes), port).__enter__()
        servers.append(server)
        admin = service.api_keys.create("ada-admin", "admin")
        client_key = service.api_keys.create("app-client", "client")
        return RunningApi(f"http://127.0.0.1:{port}", service, admin, client_key)

    yield start
    for server in servers:
        server.__exit__()


@pytest.fixture
def api(api_factory) -> RunningApi:
    return api_factory()
