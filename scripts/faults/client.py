"""JSON over HTTP with the standard library, telling apart the ways a request can fail.

A fault suite has to know whether a failed command may still have been applied: a refused
connection was not, a timeout or a reset connection may have been. `Failure.applied_maybe`
says which.
"""

from __future__ import annotations

import base64
import functools
import os
import subprocess
import http.client
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


class Failure(Exception):
    """The request got no HTTP answer."""

    def __init__(self, kind: str, applied_maybe: bool):
        super().__init__(kind)
        self.kind = kind
        self.applied_maybe = applied_maybe


@functools.cache
def _token() -> str:
    """The bearer token the services want: $TOKEN, else one with every role from
    scripts/token.sh (empty if it cannot be made: the calls then show 401s)."""
    if os.environ.get("TOKEN"):
        return os.environ["TOKEN"]
    script = Path(__file__).resolve().parents[1] / "token.sh"
    try:
        out = subprocess.run([str(script), "fault-trials"], capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return ""


def call(method: str, url: str, body=None, headers=None, timeout: float = 10.0) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    if not request.has_header("Authorization") and _token():
        request.add_header("Authorization", f"Bearer {_token()}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Reply(response.status, _json(response.read()), dict(response.headers))
    except urllib.error.HTTPError as error:
        return Reply(error.code, _json(error.read()), dict(error.headers or {}))
    except urllib.error.URLError as error:
        raise _failure(error.reason) from None
    except (OSError, http.client.HTTPException) as error:
        raise _failure(error) from None


def _failure(reason) -> Failure:
    if isinstance(reason, ConnectionRefusedError):
        return Failure("connection refused", applied_maybe=False)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return Failure("timeout", applied_maybe=True)
    if isinstance(reason, (ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        return Failure("connection reset", applied_maybe=True)
    return Failure(f"transport error ({type(reason).__name__})", applied_maybe=True)


def _json(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode(errors="replace")


class Management:
    """RabbitMQ's management API (RABBITMQ_MANAGEMENT_URL, credentials in the URL)."""

    def __init__(self, url: str):
        parts = urllib.parse.urlsplit(url)
        user = urllib.parse.unquote(parts.username or "guest")
        password = urllib.parse.unquote(parts.password or "guest")
        port = f":{parts.port}" if parts.port else ""
        self.base = f"{parts.scheme}://{parts.hostname}{port}/api"
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        self.auth = {"authorization": f"Basic {token}"}

    def request(self, method: str, path: str, body=None) -> Reply:
        reply = call(method, f"{self.base}/{path}", body, self.auth, timeout=30)
        if not reply.ok:
            raise RuntimeError(f"management API {method} {path}: {reply.status} {reply.body}")
        return reply

    @staticmethod
    def quote(name: str) -> str:
        return urllib.parse.quote(name, safe="")
