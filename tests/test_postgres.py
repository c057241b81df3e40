"""The PostgreSQL choice, against real PostgreSQL servers.

(tests/test_matrix.py type-checks, lints and runs the whole proof suite of every postgres
combination; this file covers what is particular to PostgreSQL.)

- Postgres-only files are generated for postgres, and only for it; every statement is constant.
- SQL injection, for real: a concatenated version of the email lookup is injectable on the
  same server where the shipped, parameterized store returns nothing for the same payloads.
- /ready is honest: a throwaway cluster is stopped under a running server (503, JSON, no
  crash) and started again (200, same server process, same data).
- Concurrency: one of eight simultaneous refreshes rotates; five simultaneous migration runs
  on an empty schema apply each file once.

Needs PostgreSQL: TEST_DATABASE_URL (default postgres://postgres:postgres@127.0.0.1:5432/postgres,
which `.ci/services/postgres.sh` provides) and the server binaries under /usr/lib/postgresql.
Without them these tests fail, saying what is missing; they never skip.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from app_server import AppServer as Server, server_environment
from conftest import InstalledProjects, clone_project, free_port, generate, run
from matrix import FRAMEWORKS
from processes import node_binary

DEFAULT_TEST_DATABASE_URL = "postgres://postgres:postgres@127.0.0.1:5432/postgres"
HOW_TO_START = "start it with `bash .ci/services/postgres.sh` as root (Debian's postgresql on 127.0.0.1:5432, postgres/postgres), or set TEST_DATABASE_URL"
INTERNALS = re.compile(r"postgres|ECONNREFUSED|connect |\bat \S+ \(|\.ts:\d+|node_modules", re.IGNORECASE)


def postgres_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "").strip() or DEFAULT_TEST_DATABASE_URL


def require_postgres() -> str:
    """TEST_DATABASE_URL, after checking that something accepts connections there."""
    url = postgres_url()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 5432
    problem = None
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as error:
        problem = error
    if problem is not None:
        pytest.fail(f"PostgreSQL is unreachable at {host}:{port} (TEST_DATABASE_URL): {problem}. {HOW_TO_START}.", pytrace=False)
    return url


@pytest.fixture
def postgres_project(installed_projects: InstalledProjects) -> Path:
    """The installed express+postgres project, shared: a test that edits files uses a clone_project copy."""
    return installed_projects(framework="express", database="postgres")


# --- What is generated ---------------------------------------------------------------------

POSTGRES_ONLY = [
    "src/db/postgres.ts",
    "src/db/migrate.ts",
    "migrations/001_initial.sql",
    "docker/postgres-init.sql",
]


def test_postgres_files_are_generated_only_for_postgres(postgres_project: Path, tmp_path: Path) -> None:
    for path in POSTGRES_ONLY:
        assert (postgres_project / path).is_file(), f"{path} was not generated for database=postgres"
    assert not (postgres_project / "src/db/sqlite.ts").exists()
    assert "from './postgres.ts'" in (postgres_project / "src/db/index.ts").read_text()
    manifest = json.loads((postgres_project / "package.json").read_text())
    assert manifest["scripts"]["migrate"] == "node --env-file-if-exists=.env src/db/migrate.ts"
    assert "pg" in manifest["dependencies"]

    sqlite = generate(tmp_path / "sqlite")
    for path in POSTGRES_ONLY:
        assert not (sqlite / path).exists(), f"{path} was generated for database=sqlite"
    assert not (sqlite / "migrations").exists() and not (sqlite / "docker").exists()


def test_compose_matches_the_example_environment(postgres_project: Path) -> None:
    compose = (postgres_project / "docker-compose.yml").read_text()
    init = (postgres_project / "docker/postgres-init.sql").read_text()
    assert "image: postgres:17" in compose
    assert '"127.0.0.1:5432:5432"' in compose, "the port must be published on loopback only"
    assert "POSTGRES_PASSWORD: postgres" in compose, "the proof suite's default TEST_DATABASE_URL needs postgres/postgres"
    assert "./docker/postgres-init.sql:/docker-entrypoint-initdb.d/" in compose
    assert "CREATE ROLE app WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'app-password-for-local-development'" in init
    assert "CREATE DATABASE app OWNER app" in init
    example = postgres_project / ".env.example"
    # Rendered from a dirty working tree, Copier leaves .env.example out: template/.gitignore's
    # `.env.*` matches .env.example.jinja, and Copier commits dirty trees with `git add -A`.
    if example.exists():
        assert "DATABASE_URL=postgres://app:app-password-for-local-development@127.0.0.1:5432/app" in example.read_text()


def test_every_statement_is_a_constant(postgres_project: Path) -> None:
    """Static half of the injection proof: the store sends only constant SQL text, in every
    file that talks to PostgreSQL (src/db/postgres.ts and each resource's postgres.ts)."""
    sources = sorted(postgres_project.glob("src/**/postgres.ts"))
    assert len(sources) >= 4, f"expected src/db and each resource to have a postgres.ts: {sources}"
    total = 0
    for path in sources:
        source = path.read_text()
        calls = re.findall(r"\.query(?:<\w+>)?\(([^,)]+)", source)
        assert calls, f"no queries found in {path}"
        assert all(re.fullmatch(r"SQL\.\w+", call.strip()) for call in calls), f"{path}: a query does not use a constant from SQL: {calls}"
        # Column lists shared by several statements: module constants, themselves plain literals.
        fragments = dict(re.findall(r"^const ([A-Z_]+_COLUMNS) = ('[^'`$]*'|`[^`$]*`);$", source, re.MULTILINE))
        block = source[source.index("const SQL = {") : source.index("} as const;", source.index("const SQL = {"))]
        names = re.findall(r"^  (\w+):", block, re.MULTILINE)
        statements = re.findall(r"^  (\w+): ('[^']*'|`[^`]*`),$", block, re.MULTILINE)
        assert statements and [name for name, _ in statements] == names, f"{path}: a statement is not one literal: {names}"
        for name, text in statements:
            spliced = set(re.findall(r"\$\{(\w+)\}", text))
            assert spliced <= set(fragments), f"SQL.{name} splices something other than a column-list constant: {spliced - set(fragments)}"
            plain = re.sub(r"\$\{\w+\}", "", text)
            assert re.fullmatch(r"['`][^'`$+]*(?:\$\d[^'`$+]*)*['`]", plain, re.DOTALL), f"SQL.{name} is not a literal with $n placeholders: {text}"
        total += len(statements)
    assert total >= 9, f"only {total} statements found"


# --- SQL injection, for real ---------------------------------------------------------------

INJECTION_DEMO = r"""
import { Pool } from 'pg';
import { openDatabase } from './src/db/index.ts';
import { createTestDatabase } from './test/support/database.ts';

const COLUMNS = 'id, email, name, age, password_hash, created_by';
const database = await createTestDatabase();
const store = await openDatabase(database.url, { migrateOnStart: true });
const pool = new Pool({ connectionString: database.url, max: 1 });
// The mistake the shipped store never makes: the value spliced into the SQL text.
const concatenatedSql = (email: string): string => "SELECT " + COLUMNS + " FROM users WHERE email = '" + email + "'";
const concatenated = async (email: string): Promise<string[]> =>
  (await pool.query<{ email: string }>(concatenatedSql(email))).rows.map((row) => row.email);
const tableExists = async (name: string): Promise<boolean> =>
  (await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [name])).rows[0]?.found !== null;

try {
  const victim = await store.users.create({ email: 'victim@example.com', name: 'Victim', age: 40, passwordHash: 'hash-of-the-victim', createdBy: null });
  const payloads = ["' OR '1'='1", "' OR 1=1 --", "nobody' UNION SELECT " + COLUMNS + " FROM users --"];
  const lookups = [];
  for (const payload of payloads) {
    lookups.push({ payload, store: await store.users.findByEmail(payload), concatenated: await concatenated(payload) });
  }
  const drop = "x'; DROP TABLE refresh_tokens; --";
  const storeDrop = await store.users.findByEmail(drop);
  const afterStore = await tableExists('refresh_tokens');
  // Without parameters pg uses the simple query protocol, which runs every statement it is given.
  await pool.query(concatenatedSql(drop));
  const afterConcatenated = await tableExists('refresh_tokens');
  const verbatim = await store.users.create({ email: "o'reilly@example.com", name: drop, age: 30, passwordHash: null, createdBy: victim.id });
  console.log(JSON.stringify({
    sanity: { store: (await store.users.findByEmail('victim@example.com'))?.id === victim.id, concatenated: await concatenated('victim@example.com') },
    lookups,
    drop: { store: storeDrop, afterStore, afterConcatenated },
    verbatim: await store.users.findById(verbatim.id),
  }));
} finally {
  await pool.end();
  await store.close();
  await database.dispose();
}
"""


def run_script(postgres_project: Path, tmp_path: Path, source: str) -> Any:
    """Runs a TypeScript script inside a copy of the generated project; returns its last JSON line."""
    url = require_postgres()
    project = clone_project(postgres_project, tmp_path / "project")
    (project / "script.ts").write_text(source, encoding="utf-8")
    result = run(["node", "script.ts"], cwd=project, timeout=120, env={**os.environ, "TEST_DATABASE_URL": url})
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_sql_injection_concatenated_query_vs_shipped_store(postgres_project: Path, tmp_path: Path) -> None:
    report = run_script(postgres_project, tmp_path, INJECTION_DEMO)

    # Both forms find the victim by the right email: the difference below is the injection alone.
    assert report["sanity"] == {"store": True, "concatenated": ["victim@example.com"]}
    for lookup in report["lookups"]:
        assert lookup["concatenated"] == ["victim@example.com"], f"the concatenated query resisted {lookup['payload']!r}?"
        assert lookup["store"] is None, f"the shipped store matched {lookup['payload']!r}: {lookup['store']}"
    # Stacked statements: the concatenated query drops a table; the store only looked for an email.
    assert report["drop"] == {"store": None, "afterStore": True, "afterConcatenated": False}
    assert report["verbatim"]["email"] == "o'reilly@example.com"
    assert report["verbatim"]["name"] == "x'; DROP TABLE refresh_tokens; --"


# --- Concurrency: refresh rotation and migrations -----------------------------------------

CONCURRENCY_DEMO = r"""
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { migrate } from './src/db/migrate.ts';
import { openDatabase } from './src/db/index.ts';
import { createTestDatabase } from './test/support/database.ts';

const database = await createTestDatabase();
const store = await openDatabase(database.url, { migrateOnStart: false });
try {
  const user = await store.users.create({ email: 'refresh@example.com', name: 'Refresh', age: 30, passwordHash: null, createdBy: null });
  const jti = randomUUID();
  await store.sessions.saveRefreshToken({ jti, family: randomUUID(), userId: user.id, expiresAt: new Date(Date.now() + 60_000) });
  // Eight refreshes with the same token at once, on eight pooled connections.
  const outcomes = await Promise.all(Array.from({ length: 8 }, () => store.sessions.useRefreshToken(jti, new Date())));
  const unknown = await store.sessions.useRefreshToken(randomUUID(), new Date());
  const notUuid = await store.sessions.useRefreshToken('not-a-uuid', new Date());
  await store.close();

  // The schema gone, then five runners at once: the advisory lock lets one apply each file.
  const client = new Client({ connectionString: database.url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    await client.end();
  }
  const runs = await Promise.all(Array.from({ length: 5 }, () => migrate(database.url)));
  console.log(JSON.stringify({ outcomes, unknown, notUuid, runs }));
} finally {
  await store.close();
  await database.dispose();
}
"""


def test_concurrent_refreshes_rotate_once_and_migrations_apply_once(postgres_project: Path, tmp_path: Path) -> None:
    report = run_script(postgres_project, tmp_path, CONCURRENCY_DEMO)
    assert sorted(report["outcomes"]) == ["reused"] * 7 + ["rotated"], report["outcomes"]
    assert report["unknown"] == "unknown" and report["notUuid"] == "unknown"
    migrations = sorted(path.stem for path in (postgres_project / "migrations").glob("*.sql"))
    assert len(migrations) >= 3, migrations
    applied = [run["applied"] for run in report["runs"]]
    assert sorted(applied) == [[], [], [], [], migrations], report["runs"]
    assert all(run["alreadyApplied"] == migrations for run in report["runs"] if not run["applied"]), report["runs"]


# --- /ready against a cluster that goes away and comes back --------------------------------


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory, on its own loopback port."""

    PASSWORD = "throwaway-cluster-password"

    def __init__(self) -> None:
        binaries = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(Path(path).parent.parent.name))
        if not binaries:
            pytest.fail(f"PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): {HOW_TO_START}.", pytrace=False)
        self.bin = Path(binaries[-1]).parent
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own OS user.
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.fail("running as root, but there is no 'postgres' OS user to run a cluster as: install Debian's postgresql", pytrace=False)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="rampart-pg-"))
        if self.as_user:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.port = free_port()
        password_file = self.root / "password"
        password_file.write_text(self.PASSWORD)
        if self.as_user:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        self.pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={password_file}", "--no-sync", "--no-instructions", "-E", "UTF8")
        self.url = f"postgres://postgres:{self.PASSWORD}@127.0.0.1:{self.port}/postgres"

    def pg(self, program: str, *arguments: str) -> None:
        result = subprocess.run([*self.as_user, str(self.bin / program), *arguments], capture_output=True, text=True, timeout=60, cwd=self.root)
        if result.returncode != 0:
            log = (self.root / "log").read_text() if (self.root / "log").exists() else ""
            pytest.fail(f"{program} {' '.join(arguments)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}\n{log[-3000:]}", pytrace=False)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root} -c fsync=off"
        self.pg("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "-t", "30", "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop")

    def remove(self) -> None:
        subprocess.run([*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    instance = Cluster()
    try:
        instance.start()
        yield instance
    finally:
        instance.remove()


def wait_for_status(server: Server, path: str, status: int, timeout: float) -> tuple[int, dict[str, str], Any]:
    deadline = time.monotonic() + timeout
    while True:
        reply = server.request(path)
        if reply[0] == status or time.monotonic() >= deadline:
            return reply
        time.sleep(0.25)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_ready_follows_the_database_without_a_restart(installed_projects: InstalledProjects, cluster: Cluster, framework: str) -> None:
    postgres_project = installed_projects(framework=framework, database="postgres")
    # The fresh cluster has no schema: the server migrates it before listening.
    server = Server(postgres_project, server_environment(cluster.url, DATABASE_MIGRATE_ON_START="true"))
    try:
        status, headers, body = server.request("/ready")
        assert (status, headers.get("content-type"), body) == (200, "application/json; charset=utf-8", {"status": "ok"})
        email, password = f"ready-{os.getpid()}-{time.time_ns()}@example.com", "correct horse battery staple ready"
        registered = server.request("/api/auth/register", {"email": email, "name": "Ready", "password": password, "age": 30})
        assert registered[0] == 201, registered
        login = server.request("/api/auth/login", {"email": email, "password": password})
        assert login[0] == 200, login
        token = login[2]["accessToken"]
        assert server.request("/api/users/me", token=token)[0] == 200

        cluster.stop()
        status, headers, body = server.request("/ready")
        assert status == 503, (status, body, server.output()[-3000:])
        assert headers.get("content-type") == "application/json; charset=utf-8"
        assert isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str), body
        assert not INTERNALS.search(json.dumps(body)), body
        status, headers, body = server.request("/api/users/me", token=token)
        assert (status, body) == (500, {"error": "Internal server error"}), (status, body)
        assert server.request("/health")[0] == 200
        time.sleep(0.5)
        assert server.process.poll() is None, f"the server died when PostgreSQL stopped:\n{server.output()}"

        cluster.start()
        status, _, body = wait_for_status(server, "/ready", 200, timeout=20)
        assert (status, body) == (200, {"status": "ok"}), f"/ready did not recover within 20 s: {status} {body}\n{server.output()[-3000:]}"
        me = server.request("/api/users/me", token=token)
        assert me[0] == 200 and me[2]["email"] == email, me
        assert server.process.poll() is None
    finally:
        code = server.stop()
    assert code == 0, f"the server did not shut down cleanly ({code}):\n{server.output()}"
    assert "uncaught exception" not in server.output() and "unhandled promise rejection" not in server.output()


# --- A database that is down at start-up ---------------------------------------------------

STACK_FRAME = re.compile(r"^\s+at \S", re.MULTILINE)


@pytest.mark.parametrize(("framework", "migrate"), [("express", "true"), ("fastify", "false")])
def test_an_unreachable_database_stops_the_start_with_one_line(installed_projects: InstalledProjects, framework: str, migrate: str) -> None:
    """Nothing listens on the port: the server retries for DATABASE_START_WAIT_MS, then exits 1
    with one line on stderr naming the host and what to do; no stack trace, no password."""
    project = installed_projects(framework=framework, database="postgres")
    port = free_port()
    url = f"postgres://app:{Cluster.PASSWORD}@127.0.0.1:{port}/app"
    started = time.monotonic()
    result = subprocess.run(
        [node_binary(), "src/server.ts"], cwd=project, capture_output=True, text=True, timeout=60,
        env=server_environment(url, DATABASE_START_WAIT_MS="2000", DATABASE_MIGRATE_ON_START=migrate),
    )
    elapsed = time.monotonic() - started
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert not STACK_FRAME.search(output) and '"stack"' not in output and "uncaught" not in output, output
    assert Cluster.PASSWORD not in output, "the password reached the output"
    assert result.stdout == "", "nothing is logged: the server never got as far as listening"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert re.fullmatch(
        rf"PostgreSQL at 127\.0\.0\.1:{port} did not answer within 2 s \(connect ECONNREFUSED 127\.0\.0\.1:{port}\): "
        r"start it \(docker compose up -d starts the one in docker-compose\.yml\) or set DATABASE_URL to a running server\. The server was not started\.",
        lines[0],
    ), lines[0]
    # It waited (several attempts), and not much longer than asked (node's own start included).
    assert 2.0 <= elapsed < 15, f"{elapsed:.1f} s"


def test_a_database_that_comes_up_during_the_wait_is_used(installed_projects: InstalledProjects) -> None:
    """The cluster starts seconds after the server: the server waits for it, migrates and
    serves, as after `docker compose up -d && npm start`."""
    project = installed_projects(framework="express", database="postgres")
    cluster = Cluster()  # initdb only: nothing listens yet
    late_start = threading.Timer(3, cluster.start)
    try:
        late_start.start()
        # Server() fails the test if the process exits before it logs "listening".
        server = Server(project, server_environment(cluster.url, DATABASE_START_WAIT_MS="60000", DATABASE_MIGRATE_ON_START="true"))
        try:
            assert server.request("/ready")[0] == 200
        finally:
            server.stop()
    finally:
        late_start.join()
        cluster.remove()
