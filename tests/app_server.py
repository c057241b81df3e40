"""The generated app's real server, run by the template's own tests: `node src/server.ts` as a
processes.ChildProcess (its own process group, its JSON log collected), and small HTTP helpers."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import failure
from processes import ChildProcess, node_binary


TEST_ORIGIN = "https://app.example.test"
TEST_SECRETS = {
    "JWT_ACCESS_SECRET": "template-tests-access-secret-0123456789-abcdefghijklmnop",
    "JWT_REFRESH_SECRET": "template-tests-refresh-secret-0123456789-abcdefghijklmnop",
}


def server_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The whole environment of a throwaway `node src/server.ts`, as test/support/server.ts
    builds it: loopback on a free port, JSON logs at info, the test origin and secrets, and
    limits no test meets unless it lowers them. `settings` add or replace variables."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "HOST": "127.0.0.1",
        "PORT": "0",
        # No metrics listener: servers of parallel tests would all want 9464.
        "METRICS_PORT": "0",
        "LOG_LEVEL": "info",
        "DATABASE_URL": database_url,
        "CORS_ORIGINS": TEST_ORIGIN,
        "RATE_LIMIT_MAX": "100000",
        "AUTH_RATE_LIMIT_MAX": "100000",
        **TEST_SECRETS,
        **settings,
    }


class AppServer(ChildProcess):
    """`node src/server.ts` in its own process group, with its output collected; listening
    once constructed (a start that fails stops it and fails the test)."""

    def __init__(self, project: Path, environment: dict[str, str], timeout: float = 30, node_arguments: tuple[str, ...] = ()) -> None:
        super().__init__([node_binary(), *node_arguments, "src/server.ts"], cwd=project, env=environment, name="the server", error=failure)
        try:
            self.url = str(self.wait_for_log("listening", timeout)["url"])
        except BaseException:
            self.stop()
            raise
        self.port = int(self.url.rsplit(":", 1)[1])

    def request(self, path: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, dict[str, str], Any]:
        headers = {"content-type": "application/json"} if body is not None else {}
        if token:
            headers["authorization"] = f"Bearer {token}"
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method="POST" if data else "GET")
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                status, response_headers, text = response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            status, response_headers, text = error.code, error.headers, error.read().decode()
        return status, {name.lower(): value for name, value in response_headers.items()}, json.loads(text) if text else None
