"""The Redis rate-limit store, against real Redis servers and real API servers.

(tests/test_matrix.py type-checks, lints and runs the whole proof suite of every redis
combination against the Redis at TEST_REDIS_URL; this file covers what only several
instances, or a Redis that goes away, can show.)

- Shared limits: two instances of one project on different loopback ports share one Redis.
  240 failed logins, alternating between them, are all sent before any answer is read; exactly
  AUTH_RATE_LIMIT_MAX of them are answered 401 in total and every other one 429: the limit is
  the whole fleet's, and simultaneous attempts do not slip past it.
- Outage: the Redis is killed under a running server. Login, register and refresh fail
  closed (503 JSON, Retry-After, no internals); the general /api limit falls back to counting
  in the process, and still refuses past its limit; the process stays up. Redis is started
  again on the same port: logins work again without a restart, and /api is counted in Redis
  again. Losing and regaining Redis are logged once each, however many reconnection attempts
  fail in between.
- Readiness: /ready answers 503 while Redis is unreachable (at start, or lost later) and 200
  again once it answers, in the same process: a load balancer stops sending sign-ins to an
  instance that would answer them 503.
- Two projects generated with the same name, each started from its own .env as `npm start`
  does, on one Redis: each counts alone (Copier wrote each a prefix of its own), and a server
  left on the default prefix says so at start.
- Configuration: no REDIS_URL, or a URL that is not redis://, stops the server at start with a
  message naming the variable.

Both frameworks. Each test starts its own redis-server on a free loopback port (nothing shared
with other tests); it needs the redis-server binary, which `.ci/services/redis.sh` installs.
Without it these tests fail, saying so; they never skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import jinja2
import pytest
import yaml
from app_server import AppServer as Server
from app_server import server_environment
from conftest import ROOT, InstalledProjects, failure, free_port, generate
from matrix import COMBINATIONS, FRAMEWORKS
from processes import ChildProcess, node_binary

HOW_TO_INSTALL = "install it with `bash .ci/services/redis.sh` as root (Debian's redis-server), or `apt-get install -y redis-server`"
# What a 503 must never carry: the store, the library, the address, a stack or a file path.
INTERNALS = re.compile(r"redis|ECONNREFUSED|connect |127\.0\.0\.1|not ready|stream|\bat \S+ \(|\.ts:\d+|node_modules", re.IGNORECASE)
NO_SUCH_USER = "/api/users/00000000-0000-4000-8000-000000000000"
LOST = "rate-limit store unreachable"
BACK = "rate-limit store reachable again"
NOT_READY = (503, {"error": "Rate-limit store unavailable"})


# --- Redis -----------------------------------------------------------------------------------


def resp_command(port: int, *arguments: str) -> Any:
    """One command over RESP, on a fresh connection; returns the decoded reply."""
    payload = f"*{len(arguments)}\r\n" + "".join(f"${len(argument.encode())}\r\n{argument}\r\n" for argument in arguments)
    with socket.create_connection(("127.0.0.1", port), timeout=3) as connection:
        connection.sendall(payload.encode())
        reader = connection.makefile("rb")
        line = reader.readline().decode().rstrip("\r\n")
        kind, rest = line[:1], line[1:]
        if kind == "+":
            return rest
        if kind == ":":
            return int(rest)
        if kind == "$":
            return None if rest == "-1" else reader.read(int(rest) + 2)[:-2].decode()
        if kind == "-":
            raise RuntimeError(f"Redis answered an error: {rest}")
        raise RuntimeError(f"unexpected RESP reply: {line!r}")


def answers_ping(port: int) -> bool:
    try:
        return resp_command(port, "PING") == "PONG"
    except (OSError, RuntimeError):
        return False


class RedisServer:
    """A throwaway redis-server on its own loopback port, without persistence."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(f"redis-server is missing (not on PATH): {HOW_TO_INSTALL}.", pytrace=False)
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="rampart-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: ChildProcess | None = None

    def start(self) -> None:
        self.process = ChildProcess(
            [self.binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no", "--dir", str(self.root)],
            name=f"redis-server on 127.0.0.1:{self.port}",
            error=failure,
        )
        self.process.wait_until(lambda: answers_ping(self.port), "an answer to PING", timeout=15)

    def kill(self) -> None:
        """Abrupt loss, as a crash or a network cut: connections are reset, nothing is said."""
        if self.process is not None:
            self.process.kill()
        self.process = None

    def remove(self) -> None:
        self.kill()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    instance = RedisServer()
    try:
        instance.start()
        yield instance
    finally:
        instance.remove()


# --- Projects and servers --------------------------------------------------------------------

# Each test runs servers in installed_projects(framework=..., rate_limit_store="redis"), shared
# by the tests of a worker: they edit no file, and their servers write only its data/ directory.


def redis_environment(redis_url: str, prefix: str, **overrides: str) -> dict[str, str]:
    """A server counting in Redis under its own key prefix, with a window no test outlives."""
    settings = {"REDIS_URL": redis_url, "RATE_LIMIT_REDIS_PREFIX": prefix, "RATE_LIMIT_WINDOW_MS": "600000", "AUTH_ACCOUNT_LOCKOUT_MAX": "100000"}
    return server_environment("file:data/app.db", **{**settings, **overrides})


def assert_clean_exit(server: Server) -> None:
    code = server.stop()
    assert code == 0, f"the server did not shut down cleanly ({code}):\n{server.output()[-4000:]}"
    for fatal in ("uncaught exception", "unhandled promise rejection"):
        assert fatal not in server.output(), server.output()[-4000:]


# --- Shared limits across instances ----------------------------------------------------------

ATTEMPTS = 240
AUTH_LIMIT = 25


async def send_all_then_read(ports: list[int]) -> list[int]:
    """Opens one connection per attempt, writes every request, and only then reads: all
    attempts are in flight at once. Returns the status codes, in the order sent."""
    body = json.dumps({"email": "nobody@example.com", "password": "wrong password"}).encode()
    connections = await asyncio.gather(*(asyncio.open_connection("127.0.0.1", port) for port in ports))
    for port, (_, writer) in zip(ports, connections):
        writer.write(
            (
                f"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
        )
    await asyncio.gather(*(writer.drain() for _, writer in connections))

    async def status(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
        try:
            response = await asyncio.wait_for(reader.read(), timeout=60)
        finally:
            writer.close()
        match = re.match(rb"HTTP/1\.1 (\d{3}) ", response)
        assert match, f"not an HTTP response: {response[:200]!r}"
        return int(match.group(1))

    return list(await asyncio.gather(*(status(reader, writer) for reader, writer in connections)))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_two_instances_share_one_login_limit(installed_projects: InstalledProjects, redis_server: RedisServer, framework: str) -> None:
    project = installed_projects(framework=framework, rate_limit_store="redis")
    prefix = f"shared-{framework}-{os.getpid()}:rl"
    environment = redis_environment(redis_server.url, prefix, AUTH_RATE_LIMIT_MAX=str(AUTH_LIMIT))
    first = Server(project, environment)
    try:
        second = Server(project, environment)
        try:
            assert first.port != second.port
            ports = [first.port if attempt % 2 == 0 else second.port for attempt in range(ATTEMPTS)]
            statuses = asyncio.run(asyncio.wait_for(send_all_then_read(ports), timeout=120))
            counts = {status: statuses.count(status) for status in sorted(set(statuses))}
            assert counts == {401: AUTH_LIMIT, 429: ATTEMPTS - AUTH_LIMIT}, (
                f"{ATTEMPTS} simultaneous failed logins over two instances with AUTH_RATE_LIMIT_MAX={AUTH_LIMIT}: "
                f"expected exactly {AUTH_LIMIT} answered 401 and the rest 429, got {counts}"
            )
            # Each instance answered its half, and each refused: the limit is the pair's.
            for name, port in (("first", first.port), ("second", second.port)):
                answered = [status for status, to in zip(statuses, ports) if to == port]
                assert len(answered) == ATTEMPTS // 2 and 429 in answered, f"{name} instance answered {answered}"
            # Every attempt was counted under one key, in the shared Redis.
            assert resp_command(redis_server.port, "GET", f"{prefix}:login:127.0.0.1") == str(ATTEMPTS)
            # Once over the limit, both instances keep refusing.
            for server in (first, second):
                status, headers, body = server.request("/api/auth/login", {"email": "nobody@example.com", "password": "wrong password"})
                assert status == 429 and int(headers["retry-after"]) > 0, (status, headers, body)
            assert first.process.poll() is None and second.process.poll() is None
        finally:
            assert_clean_exit(second)
    finally:
        assert_clean_exit(first)


# --- Redis goes away and comes back ----------------------------------------------------------

API_LIMIT = 8


def assert_fails_closed(reply: tuple[int, dict[str, str], Any], what: str) -> None:
    status, headers, body = reply
    assert status == 503, f"{what} while Redis is down: {status} {body}"
    assert headers.get("content-type") == "application/json; charset=utf-8", headers
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str), body
    assert not INTERNALS.search(json.dumps(body)), f"{what}: the 503 shows internals: {body}"
    assert int(headers.get("retry-after", "0")) > 0, f"{what}: no Retry-After on the 503: {headers}"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_outage_fails_closed_then_recovers_without_restart(installed_projects: InstalledProjects, redis_server: RedisServer, framework: str) -> None:
    project = installed_projects(framework=framework, rate_limit_store="redis")
    prefix = f"outage-{framework}-{os.getpid()}:rl"
    api_key = f"{prefix}:api:127.0.0.1"
    server = Server(project, redis_environment(redis_server.url, prefix, RATE_LIMIT_MAX=str(API_LIMIT)))
    try:
        # Redis up: logins work, and /api is counted in Redis.
        email, password = f"outage-{framework}-{time.time_ns()}@example.com", "correct horse battery staple outage"
        registered = server.request("/api/auth/register", {"email": email, "name": "Outage", "password": password, "age": 30})
        assert registered[0] == 201, registered
        login = server.request("/api/auth/login", {"email": email, "password": password})
        assert login[0] == 200, login
        access_token, refresh_token = login[2]["accessToken"], login[2]["refreshToken"]
        assert resp_command(redis_server.port, "GET", api_key) == "2"
        assert server.request("/ready")[::2] == (200, {"status": "ok"})

        # Redis gone.
        redis_server.kill()
        server.wait_for_log(LOST)
        # Not ready: a load balancer stops sending sign-ins that would be answered 503.
        assert server.request("/ready")[::2] == NOT_READY
        assert_fails_closed(server.request("/api/auth/login", {"email": email, "password": password}), "login")
        assert_fails_closed(server.request("/api/auth/register", {"email": f"x{email}", "name": "X", "password": password, "age": 30}), "register")
        assert_fails_closed(server.request("/api/auth/refresh", {"refreshToken": refresh_token}), "refresh")
        # The general limit falls back to this process: requests are answered, and counted.
        # Three were counted above; the rest of the limit, then refusals.
        for remaining in range(API_LIMIT - 4, -1, -1):
            status, headers, body = server.request(NO_SUCH_USER, token=access_token)
            assert status == 404, f"/api while Redis is down: {status} {body}"
            assert headers.get("ratelimit", "").startswith(f"limit={API_LIMIT}, remaining={remaining},"), headers
        status, headers, body = server.request(NO_SUCH_USER, token=access_token)
        assert (status, body) == (429, {"error": "Too many requests, try again later."}), (status, body)
        assert server.request("/health")[0] == 200
        # Several reconnection attempts fail meanwhile; the process stays up and quiet.
        time.sleep(1.5)
        assert server.process.poll() is None, f"the server died when Redis went away:\n{server.output()[-4000:]}"

        # Redis back on the same port, empty: logins work again, same process.
        redis_server.start()
        deadline = time.monotonic() + 20
        while True:
            reply = server.request("/api/auth/login", {"email": email, "password": password})
            # Until the client has reconnected: 503 (login) or 429 (the exhausted fallback).
            assert reply[0] in (200, 429, 503), reply
            if reply[0] == 200 or time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        assert reply[0] == 200, f"logins did not work again within 20 s of Redis coming back: {reply}\n{server.output()[-4000:]}"
        server.wait_for_log(BACK)
        assert server.request("/ready")[::2] == (200, {"status": "ok"}), "ready again once Redis is back, without a restart"
        # /api is counted in Redis again, not in the exhausted in-process fallback.
        before = int(resp_command(redis_server.port, "GET", api_key))
        status, headers, body = server.request(NO_SUCH_USER, token=access_token)
        assert status == 404, (status, body)
        assert int(resp_command(redis_server.port, "GET", api_key)) == before + 1
        assert headers.get("ratelimit", "").startswith(f"limit={API_LIMIT}, remaining={API_LIMIT - before - 1},"), headers
        assert server.process.poll() is None

        # One line when Redis went away, one when it came back: no line per failed attempt.
        assert server.count_logs(LOST) == 1, [entry for entry in server.logs() if str(entry.get("msg", "")).startswith("rate-limit store")]
        assert server.count_logs(BACK) == 1
        assert "ECONNREFUSED" not in "\n".join(line for line in server.lines if not line.startswith("{")), "ioredis printed errors itself"
    finally:
        assert_clean_exit(server)


def test_starts_without_redis_and_uses_it_once_it_answers(installed_projects: InstalledProjects) -> None:
    """Redis down at start: the server still starts (after its bounded wait), fails closed, and
    needs no restart once Redis answers."""
    project = installed_projects(framework="express", rate_limit_store="redis")
    redis = RedisServer()  # its port is chosen; nothing listens there yet
    try:
        server = Server(project, redis_environment(redis.url, f"late-{os.getpid()}:rl"))
        try:
            assert server.count_logs(LOST) == 1, server.output()[-3000:]
            bad_login = {"email": "nobody@example.com", "password": "wrong password"}
            assert_fails_closed(server.request("/api/auth/login", bad_login), "login before Redis ever answered")
            assert server.request("/api/users/me")[0] == 401, "the general /api limit falls back while Redis is down"
            assert server.request("/ready")[::2] == NOT_READY, "ready before Redis ever answered"
            redis.start()
            deadline = time.monotonic() + 20
            while (reply := server.request("/api/auth/login", bad_login))[0] == 503 and time.monotonic() < deadline:
                time.sleep(0.2)
            assert reply[0] == 401, f"login did not use Redis within 20 s of it answering: {reply}\n{server.output()[-3000:]}"
            assert resp_command(redis.port, "GET", f"late-{os.getpid()}:rl:login:127.0.0.1") == "1"
            assert server.request("/ready")[::2] == (200, {"status": "ok"})
            assert server.count_logs(BACK) == 1 and server.count_logs(LOST) == 1
        finally:
            assert_clean_exit(server)
    finally:
        redis.remove()


# --- Two projects with the same name on one Redis ------------------------------------------

OWN_PREFIX = re.compile(r"^RATE_LIMIT_REDIS_PREFIX=(rampart-api:[0-9a-f]{8}:rl)$", re.MULTILINE)
DEFAULT_PREFIX_WARNING = "RATE_LIMIT_REDIS_PREFIX is not set"


def started_like_npm_start(project: Path, redis_url: str) -> Server:
    """The server as `npm start` runs it, its settings from the project's own .env; only where to
    listen and which Redis come from the environment, which takes precedence over .env."""
    environment = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "PORT": "0", "METRICS_PORT": "0", "REDIS_URL": redis_url}
    return Server(project, environment, node_arguments=("--env-file-if-exists=.env",))


def test_two_projects_with_the_same_name_count_apart(installed_projects: InstalledProjects, redis_server: RedisServer, tmp_path: Path) -> None:
    """Issue 22: the second project generated with the default name answered its first request
    429, counting against the first one's keys. Each .env now holds a prefix of its own."""
    first = installed_projects(framework="express", rate_limit_store="redis")
    second = generate(tmp_path / "second", framework="express", rate_limit_store="redis")
    (second / "node_modules").symlink_to(first / "node_modules", target_is_directory=True)

    bad_login = {"email": "nobody@example.com", "password": "wrong password"}
    limit = 5  # auth_rate_limit_max's default, which both projects keep
    servers = [started_like_npm_start(project, redis_server.url) for project in (first, second)]
    try:
        # The first project's client uses up its login budget...
        assert [servers[0].request("/api/auth/login", bad_login)[0] for _ in range(limit + 1)] == [401] * limit + [429]
        # ...and the second project, on the same Redis, still counts this client from zero.
        status, headers, body = servers[1].request("/api/auth/login", bad_login)
        assert status == 401, f"the second project answered its first login {status} {body}: it counts the first one's requests"
        assert headers["ratelimit"].startswith(f"limit={limit}, remaining={limit - 1},"), headers
        prefixes = [server.wait_for_log("rate-limit store connected")["prefix"] for server in servers]
        assert not any(server.logged(DEFAULT_PREFIX_WARNING) for server in servers)
    finally:
        for server in servers:
            assert_clean_exit(server)
    # Each counted under the random prefix Copier wrote into its .env.
    for project, prefix in zip((first, second), prefixes):
        match = OWN_PREFIX.search((project / ".env").read_text())
        assert match and match.group(1) == prefix, f"{project}/.env does not hold the prefix its server used ({prefix})"
    assert resp_command(redis_server.port, "GET", f"{prefixes[0]}:login:127.0.0.1") == str(limit + 1)
    assert resp_command(redis_server.port, "GET", f"{prefixes[1]}:login:127.0.0.1") == "1"

    # Without RATE_LIMIT_REDIS_PREFIX (no .env, as in an image), the server counts under the
    # default and says at start that every service with this name shares it.
    environment = server_environment("file:data/app.db", REDIS_URL=redis_server.url)
    default = Server(first, environment)
    try:
        assert default.wait_for_log(DEFAULT_PREFIX_WARNING)["prefix"] == "rampart-api:rl"
    finally:
        assert_clean_exit(default)


# --- Configuration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"REDIS_URL": ""}, "REDIS_URL is missing"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must be a redis:// or rediss:// URL"),
        ({"RATE_LIMIT_REDIS_PREFIX": "two words"}, "RATE_LIMIT_REDIS_PREFIX must be"),
    ],
)
def test_bad_redis_settings_stop_the_server_at_start(installed_projects: InstalledProjects, overrides: dict[str, str], message: str) -> None:
    project = installed_projects(framework="express", rate_limit_store="redis")
    environment = redis_environment("redis://127.0.0.1:1", "unused:rl", **overrides)
    result = subprocess.run([node_binary(), "src/server.ts"], cwd=project, env=environment, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1, result
    assert message in result.stderr and "The server was not started." in result.stderr, result.stderr


# --- The generated CI workflow ---------------------------------------------------------------


def test_ci_workflow_is_valid_yaml_with_the_services_each_combination_needs() -> None:
    """One services: and one env: block whatever the choices: a Redis service and TEST_REDIS_URL
    exactly when the store is Redis, beside the database's own."""
    # Copier's own filters (regex_replace) come from jinja2-ansible-filters, as in Copier.
    environment = jinja2.Environment(keep_trailing_newline=True, undefined=jinja2.StrictUndefined, extensions=["jinja2_ansible_filters.AnsibleCoreFiltersExtension"])
    template = environment.from_string((ROOT / "template/.github/workflows/ci.yml.jinja").read_text(encoding="utf-8"))
    for combination in COMBINATIONS:
        job = yaml.safe_load(template.render(package_slug="rampart-api", **combination))["jobs"]["verify"]
        services = {combination["database"]} - {"sqlite"}
        variables = {"TEST_DATABASE_URL"} if services else set()
        if combination["rate_limit_store"] == "redis":
            services.add("redis")
            variables.add("TEST_REDIS_URL")
            assert job["services"]["redis"]["image"] == "redis:7" and job["services"]["redis"]["ports"] == ["6379:6379"], job
            assert job["env"]["TEST_REDIS_URL"] == "redis://127.0.0.1:6379"
        assert set(job.get("services") or {}) == services, (combination, job.get("services"))
        assert set(job.get("env") or {}) == variables, (combination, job.get("env"))
        assert job["steps"][-1] == {"run": "npm test"}, combination
