"""The MongoDB choice against a real MongoDB wire-protocol server (FerretDB 1.24.2, SQLite backend).

`.ci/services/mongodb.sh` builds FerretDB and starts it on 127.0.0.1:27017 before pytest runs
(TEST_DATABASE_URL overrides the address). Every test here needs it, and fails, never skips,
with a message naming that script when it is missing.

- The injection proof is real: with the request guard, validation, the String casts and
  mongoose's sanitizeFilter removed, an operator in the login email logs an attacker into an
  account whose email they never gave; each layer alone stops it, and the shipped code
  refuses it.
- /ready is honest: it turns 503 when the database process dies, the server stays up, and it
  turns 200 again when the database is back, without a restart.

tests/test_matrix.py runs each mongodb project's typecheck, lint and whole proof suite against
the same server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from app_server import AppServer as Server
from app_server import server_environment
from conftest import InstalledProjects, clone_project, free_port
from processes import ChildProcess, node_binary
from removals import Edit

FERRETDB_VERSION = "v1.24.2"
SERVICE_SCRIPT = ".ci/services/mongodb.sh"
START_TIMEOUT = 30.0


# --- The MongoDB wire protocol, just enough to ask a server something -------------------------


def _bson(fields: list[tuple[str, int | str]]) -> bytes:
    body = b""
    for name, value in fields:
        key = name.encode() + b"\0"
        if isinstance(value, int):
            body += b"\x10" + key + struct.pack("<i", value)
        else:
            text = value.encode() + b"\0"
            body += b"\x02" + key + struct.pack("<i", len(text)) + text
    return struct.pack("<i", 4 + len(body) + 1) + body + b"\0"


def run_command(host: str, port: int, database: str, command: str, timeout: float = 3.0) -> bool:
    """Sends `{command: 1}` to `database` as an OP_MSG; True when the reply says ok: 1."""
    body = struct.pack("<I", 0) + b"\0" + _bson([(command, 1), ("$db", database)])
    message = struct.pack("<iiii", 16 + len(body), 1, 0, 2013) + body
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            connection.sendall(message)
            reply = b""
            while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
                chunk = connection.recv(65536)
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    return struct.unpack("<i", reply[12:16])[0] == 2013 and b"\x01ok\x00" + struct.pack("<d", 1.0) in reply[21:]


def answers(host: str, port: int) -> bool:
    return run_command(host, port, "admin", "hello")


@dataclass(frozen=True)
class MongoServer:
    host: str
    port: int

    def url(self, database: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"mongodb://{host}:{self.port}/{database}"


def shared_server() -> MongoServer:
    """The server .ci/services/mongodb.sh starts, or the one TEST_DATABASE_URL names."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip() or "mongodb://127.0.0.1:27017"
    authority = url.removeprefix("mongodb://").split("/", 1)[0].split("?", 1)[0]
    if not url.startswith("mongodb://") or "@" in authority or "," in authority:
        pytest.fail(f"TEST_DATABASE_URL={url} must be mongodb://host[:port] without credentials for these tests")
    host, _, port = authority.rpartition(":") if authority.rpartition(":")[2].isdigit() else (authority, "", "27017")
    server = MongoServer(host.strip("[]"), int(port))
    if not answers(server.host, server.port):
        pytest.fail(
            f"no MongoDB-compatible server answers on {server.host}:{server.port} (TEST_DATABASE_URL={url}). "
            f"Run `bash {SERVICE_SCRIPT}` (it builds FerretDB {FERRETDB_VERSION} with Go and starts it there), "
            "or start MongoDB and set TEST_DATABASE_URL."
        )
    return server


def ferretdb_binary() -> str:
    """A FerretDB 1.24.2 binary: $FERRETDB_BIN, PATH, or where the service script installs it."""
    candidates = [os.environ.get("FERRETDB_BIN", ""), shutil.which("ferretdb") or ""]
    go = shutil.which("go") or ("/usr/local/go/bin/go" if os.access("/usr/local/go/bin/go", os.X_OK) else "")
    if go:
        gopath = subprocess.run([go, "env", "GOPATH"], capture_output=True, text=True, timeout=30).stdout.strip()
        candidates += [str(Path(entry) / "bin" / "ferretdb") for entry in gopath.split(os.pathsep) if entry]
    candidates += [str(Path.home() / "go/bin/ferretdb"), "/usr/local/bin/ferretdb"]
    for candidate in filter(None, candidates):
        if os.access(candidate, os.X_OK):
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=30)
            if f"version: {FERRETDB_VERSION}" in version.stdout.splitlines():
                return candidate
    pytest.fail(
        f"FerretDB {FERRETDB_VERSION} was not found (looked at $FERRETDB_BIN, PATH, $(go env GOPATH)/bin, ~/go/bin, "
        f"/usr/local/bin). Run `bash {SERVICE_SCRIPT}` to build and install it."
    )


@contextmanager
def dedicated_ferretdb(state_dir: Path, port: int) -> Iterator[ChildProcess]:
    """A FerretDB of its own on a loopback port, with its own SQLite data and state."""
    (state_dir / "data").mkdir(parents=True, exist_ok=True)
    process = ChildProcess(
        [
            ferretdb_binary(),
            "--handler=sqlite",
            f"--sqlite-url=file:{state_dir / 'data'}/",
            f"--state-dir={state_dir}",
            f"--listen-addr=127.0.0.1:{port}",
            "--debug-addr=-",
            "--telemetry=disable",
            "--log-level=warn",
        ],
        name=f"FerretDB on 127.0.0.1:{port}",
    )
    try:
        process.wait_until(lambda: answers("127.0.0.1", port), "an answer", timeout=START_TIMEOUT, interval=0.1)
        yield process
    finally:
        process.stop(grace=10)


# --- The generated server -----------------------------------------------------------------------


@dataclass
class Response:
    status: int
    body: dict
    text: str


def call(server: Server, path: str, body: object | None = None, token: str | None = None, timeout: float = 30.0) -> Response:
    headers = {"content-type": "application/json"} if body is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.url + path, data=data, headers=headers, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            status, text = reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    try:
        parsed = json.loads(text) if text else {}
    except json.JSONDecodeError:
        parsed = {}
    return Response(status, parsed if isinstance(parsed, dict) else {}, text)


@contextmanager
def api_server(project: Path, database_url: str) -> Iterator[Server]:
    """`node src/server.ts` in its own process group, as test/support/server.ts runs it."""
    server = Server(project, server_environment(database_url), timeout=START_TIMEOUT)
    try:
        yield server
    finally:
        server.stop(grace=10)


def wait_for(condition, timeout: float, interval: float = 0.25):
    """Polls `condition` until it returns something truthy; returns that, or the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(interval)


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mongodb_server() -> MongoServer:
    return shared_server()


@pytest.fixture
def mongodb_project(installed_projects: InstalledProjects) -> Path:
    """The installed express+mongodb project, shared: a test that edits files uses a clone_project copy."""
    return installed_projects(framework="express", database="mongodb")


@pytest.fixture
def fresh_database(mongodb_server: MongoServer) -> Iterator[str]:
    name = f"pytest_{uuid.uuid4().hex}"
    yield mongodb_server.url(name)
    run_command(mongodb_server.host, mongodb_server.port, name, "dropDatabase")


# --- (a) The injection proof is real ---------------------------------------------------------


# Each protection between an operator in the login email and the database, as the smallest edit
# that takes it away from the generated project (each must match exactly once).
LAYERS: dict[str, list[Edit]] = {
    # The request guard (practice 5): refuses any key starting with '$'.
    "guard": [Edit("src/app.ts", "assertNoOperatorKeys(parts);", "")],
    # Strict schemas (practice 1): LoginSchema only lets a string through as the email.
    "validation": [Edit("src/app.ts", "const input = validateRequest(route.schemas, parts);", "const input = parts;")],
    # The article's String() casts, in the route and in the store.
    "string-casts": [
        Edit("src/auth/routes.ts", "users.findByEmail(String(body.email))", "users.findByEmail(body.email)"),
        Edit("src/users/mongodb.ts", "findOne({ email: String(email) })", "findOne({ email })"),
    ],
    # mongoose's sanitizeFilter: wraps an object with '$' keys in $eq.
    "sanitizeFilter": [Edit("src/db/mongodb.ts", "sanitizeFilter: true,", "sanitizeFilter: false,")],
}

OPERATOR_EMAILS = [{"$regex": ".*"}, {"$gt": ""}]


def without(project: Path, layers: list[str]) -> None:
    for layer in layers:
        for edit in LAYERS[layer]:
            path = project / edit.file
            text = path.read_text(encoding="utf-8")
            assert text.count(edit.find) == 1, f"{edit.find!r} should appear exactly once in {edit.file}: the template changed, update LAYERS"
            path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


def register_victim(server: Server) -> tuple[str, str]:
    email = f"victim-{uuid.uuid4().hex[:12]}@example.com"
    password = f"victim password {uuid.uuid4()}"
    registered = call(server, "/api/auth/register", {"email": email, "name": "Victim", "age": 40, "password": password})
    assert registered.status == 201, registered.text
    assert call(server, "/api/auth/login", {"email": email, "password": password}).status == 200
    return email, password


def test_operator_email_takes_over_an_account_without_the_protections(mongodb_project: Path, tmp_path: Path, fresh_database: str) -> None:
    """The attack the injection proof guards against, shown over HTTP against the real server.

    The attacker knows a password (a leaked or common one) but not whose it is. With the
    request guard, validation, both String() casts and sanitizeFilter removed from a generated
    project, `{"email": {"$regex": ".*"}}` or `{"email": {"$gt": ""}}` reaches mongoose, which
    casts it as a query operator, and findOne returns the first account: the victim, whose
    email the attacker never supplied. The access token issued is the victim's (GET
    /api/users/me answers with the victim's email). Shown at the HTTP level because nothing
    else stands in the way once those layers are gone; the database is the real one.
    """
    project = clone_project(mongodb_project, tmp_path / "unprotected")
    without(project, list(LAYERS))
    with api_server(project, fresh_database) as server:
        victim_email, password = register_victim(server)
        for operator in OPERATOR_EMAILS:
            login = call(server, "/api/auth/login", {"email": operator, "password": password})
            assert login.status == 200, f"{operator}: the attack did not work, so the proof proves nothing: {login.text}"
            me = call(server, "/api/users/me", token=str(login.body["accessToken"]))
            assert me.status == 200 and me.body["email"] == victim_email, me.text


@pytest.mark.parametrize("kept", [None, *LAYERS], ids=["shipped", *(f"only-{layer}" for layer in LAYERS)])
def test_each_protection_alone_stops_the_operator_email(mongodb_project: Path, tmp_path: Path, fresh_database: str, kept: str | None) -> None:
    """The same payloads against the shipped project, and against projects that keep just one
    protection: none of them logs in. The guard answers 400 "Request contains a forbidden key";
    validation answers 400 "Validation failed"; the String() casts turn the object into the text
    "[object Object]", which matches nobody (401); sanitizeFilter wraps it in $eq, which the
    schema's string cast refuses (a generic 500, never a login).
    """
    project = clone_project(mongodb_project, tmp_path / "project")
    if kept is not None:
        without(project, [layer for layer in LAYERS if layer != kept])
    expected = {None: {400}, "guard": {400}, "validation": {400}, "string-casts": {401}, "sanitizeFilter": {500}}[kept]
    with api_server(project, fresh_database) as server:
        victim_email, password = register_victim(server)
        for operator in OPERATOR_EMAILS:
            login = call(server, "/api/auth/login", {"email": operator, "password": password})
            assert login.status in expected, f"{operator} with only {kept or 'everything'} in place: {login.status} {login.text}"
            assert "accessToken" not in login.body
            assert victim_email not in login.text
        if kept is None:
            assert login.body == {"error": "Request contains a forbidden key", "details": [{"location": "body", "path": "email.$gt"}]}
        assert call(server, "/api/auth/login", {"email": victim_email, "password": password}).status == 200


# --- (b) /ready is honest --------------------------------------------------------------------


def test_ready_follows_the_database_process(mongodb_project: Path, tmp_path: Path) -> None:
    """A dedicated FerretDB is killed under a running server and started again on the same port
    and data: /ready goes 200 -> 503 -> 200, a login in between is a 500, and the server
    process never restarts. Uses the store's shipped timeouts (no serverSelectionTimeoutMS in
    the URL), so the 503 also shows that a lost database gives an error within seconds.
    """
    port = free_port()
    state = tmp_path / "ferretdb"
    database_url = f"mongodb://127.0.0.1:{port}/ready_{uuid.uuid4().hex[:12]}"
    with dedicated_ferretdb(state, port) as first:
        first_pid = first.pid
        with api_server(mongodb_project, database_url) as server:
            assert call(server, "/ready").status == 200
            email, password = register_victim(server)

            first.kill()
            assert first.process.poll() is not None and not answers("127.0.0.1", port)

            started = time.monotonic()
            ready = call(server, "/ready", timeout=30)
            assert ready.status == 503, ready.text
            assert ready.body == {"error": "Database unavailable"}
            assert time.monotonic() - started < 20, "a lost database must fail /ready within seconds, not hang"
            login = call(server, "/api/auth/login", {"email": email, "password": password}, timeout=30)
            assert login.status == 500 and login.body == {"error": "Internal server error"}, login.text
            assert server.process.poll() is None, f"the server exited when the database went away:\n{server.output()[-3000:]}"
            assert call(server, "/health").status == 200

            with dedicated_ferretdb(state, port) as second:
                assert second.pid != first_pid
                recovered = wait_for(lambda: call(server, "/ready", timeout=30).status == 200, timeout=30)
                assert recovered, f"/ready did not recover within 30s:\n{server.output()[-3000:]}"
                assert server.process.poll() is None
                again = call(server, "/api/auth/login", {"email": email, "password": password})
                assert again.status == 200, f"the data did not survive the restart: {again.text}"
            assert sum('"msg":"listening"' in line for line in server.lines) == 1, "the server restarted"


# --- (c) A database that is down at start-up --------------------------------------------------

STACK_FRAME = re.compile(r"^\s+at \S", re.MULTILINE)


def test_an_unreachable_database_stops_the_start_with_one_line(mongodb_project: Path) -> None:
    """Nothing listens on the port: the server retries for DATABASE_START_WAIT_MS (each attempt
    bounded by serverSelectionTimeoutMS), then exits 1 with one line naming the host and what
    to do; no stack trace, no password."""
    port = free_port()
    url = f"mongodb://app:not-for-your-eyes@127.0.0.1:{port}/app?serverSelectionTimeoutMS=1000"
    started = time.monotonic()
    result = subprocess.run([node_binary(), "src/server.ts"], cwd=mongodb_project, capture_output=True, text=True, timeout=60,
                            env=server_environment(url, DATABASE_START_WAIT_MS="2000"))
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert not STACK_FRAME.search(output) and '"stack"' not in output and "uncaught" not in output, output
    assert "not-for-your-eyes" not in output, "the password reached the output"
    assert result.stdout == "", "nothing is logged: the server never got as far as listening"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(
        rf"MongoDB at 127\.0\.0\.1:{port} did not answer within 2 s \(.*ECONNREFUSED.*\): "
        r"start it \(docker compose up -d starts the one in docker-compose\.yml\) or set DATABASE_URL to a running server\. The server was not started\.",
        lines[0],
    ), lines[0]
    # Several attempts, and no longer than the wait plus one attempt (node's own start included).
    assert 2.0 <= elapsed < 15, f"{elapsed:.1f} s"


def test_a_database_that_comes_up_during_the_wait_is_used(mongodb_project: Path, tmp_path: Path) -> None:
    """FerretDB starts seconds after the server: the server waits for it and serves."""
    port = free_port()
    url = f"mongodb://127.0.0.1:{port}/late_{uuid.uuid4().hex[:12]}?serverSelectionTimeoutMS=1000"
    server = ChildProcess([node_binary(), "src/server.ts"], cwd=mongodb_project, env=server_environment(url, DATABASE_START_WAIT_MS="60000"), name="the server")
    try:
        time.sleep(3)
        assert server.process.poll() is None, f"the server gave up before the wait was over:\n{server.output()}"
        with dedicated_ferretdb(tmp_path / "ferretdb", port):
            listening = wait_for(lambda: any('"msg":"listening"' in line for line in server.lines), timeout=30)
            assert listening, f"the server did not start once the database answered:\n{server.output()[-3000:]}"
    finally:
        server.stop(grace=10)
