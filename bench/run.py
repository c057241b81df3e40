#!/usr/bin/env python3
"""What the hardening costs, measured: `bench/run` (or `.venv/bin/python bench/run.py`).

In one run, on loopback, bounded in count and time:

1. `copier copy` of the default project, timed (median of three), and the Fastify project.
2. `npm ci --ignore-scripts` of both, and each generated proof suite (`npm test`), timed.
3. For Express and for Fastify: the hardened server as generated, and a bare baseline of the
   same framework version (bench/bare/*.ts: the same three routes, the same store, no security
   middleware), started side by side and measured with autocannon (pinned in bench/package.json,
   installed into bench/node_modules from bench/package-lock.json) in alternating order, several
   rounds: GET /api/users/me with a valid token, POST /api/items with a valid body, PATCH of an
   item the caller owns (the object-level check included), and an unauthenticated GET (401). Medians of requests per second and p99 latency; hardened/bare.
   The same GET /api/users/me with `auth: oidc`: the project generated with the identity
   provider choice, verifying an access token of a real OpenID Provider (tests/identity-provider.mjs,
   npm oidc-provider on loopback) against the same bare baseline.
   Observability in the same rounds (issue 23): the hardened server as generated has its
   metrics on (a METRICS_PORT of its own); beside it the same project with METRICS_PORT=0
   (metrics off), and with tracing on, exporting every request's spans over OTLP/HTTP to a
   local Jaeger (tests/observability_backends.py; `.ci/services/jaeger.sh` builds it;
   --no-traces leaves that server out).
4. What each practice costs: scratch copies of the generated project with one piece taken out
   (never the template), measured against the complete project in alternating rounds.
   Proposed cheaper implementations are measured the same way.
5. docs/performance.md: the tables between its bench markers are replaced with this run's;
   bench/results/latest.json keeps the raw numbers.

Rate limits are raised for the run through the environment (RATE_LIMIT_MAX,
AUTH_RATE_LIMIT_MAX), never by changing code. Nothing here is a test: no number is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
# The tests' child-process helper: how this repository starts, waits for and stops a server.
sys.path.insert(0, str(ROOT / "tests"))
from observability_backends import Jaeger, jaeger_binary  # noqa: E402
from processes import ChildProcess, free_loopback_port, node_binary  # noqa: E402

BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
DOC = ROOT / "docs" / "performance.md"
RESULTS = BENCH / "results" / "latest.json"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

FRAMEWORKS = ("express", "fastify")
SCENARIOS = {
    # name: (what, expected status)
    "me": ("GET /api/users/me, valid token", 200),
    "create": ("POST /api/items, valid body", 201),
    "patch": ("PATCH /api/items/:id, owned item", 200),
    "unauth": ("GET /api/users/me, no token (401)", 401),
}
# The oidc cell: the "me" request, served by the project generated with auth: oidc.
OIDC_CELL = "oidc_me"
OIDC_CELL_LABEL = "GET /api/users/me, identity provider's token (oidc)"
OIDC_AUDIENCE = "api://rampart-bench"
ORIGIN = "https://app.example.test"
# The share of bare throughput every framework and request type keeps (issue 15).
GOAL = 0.75
# Issue 23: what metrics on (the default) may cost against metrics off, in every cell.
METRICS_GOAL = 0.95
# The servers measured side by side with the bare one, by name: as generated (metrics on),
# metrics off, and traced (metrics on too, and every request's spans exported to Jaeger).
HARDENED, METRICS_OFF, TRACED, BARE = "hardened", "metrics off", "traced", "bare"
START_TIMEOUT = 30.0


# --- Edits to scratch copies ---------------------------------------------------------------------


@dataclass(frozen=True)
class Edit:
    """Replace `find`, which must occur exactly once, in `file` of a scratch copy."""

    file: str
    find: str
    replace: str


UNVERIFIED_TOKENS = Edit(
    "src/security/jwt.ts",
    "const payload = this.#verify(this.#keys.verifyAccess, token);",
    "const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;",
)

# One piece taken out at a time: what is left shows what that piece costs.
ABLATIONS: dict[str, dict[str, list[Edit]]] = {
    "express": {
        "headers": [Edit("src/app.ts", "addHeaders(res, SECURITY_HEADERS);", "")],
        "request id": [
            Edit("src/app.ts", "const requestId = randomUUID();", "const requestId = '';"),
            Edit("src/app.ts", "res.locals.headers = { 'X-Request-Id': requestId } satisfies ResponseHeaders;", "res.locals.headers = {};"),
        ],
        "cors": [
            Edit(
                "src/app.ts",
                "const cors = corsPolicy(req.method, req.headers.origin, req.headers['access-control-request-method']);",
                "const cors = { headers: {}, preflight: false };",
            ),
        ],
        "rate limit": [Edit("src/app.ts", "addHeaders(res, await limiters.api.consume(key));", "")],
        "jwt verification": [UNVERIFIED_TOKENS],
        "validation": [Edit("src/app.ts", "const input = validateRequest(route.schemas, parts);", "const input = parts;")],
        "injection guard": [Edit("src/app.ts", "assertNoOperatorKeys(parts);", "")],
    },
    "fastify": {
        "headers": [Edit("src/app.ts", "reply.headers(SECURITY_HEADERS);", "")],
        "request id": [
            Edit("src/app.ts", "genReqId: () => randomUUID(),", "genReqId: () => '',"),
            Edit("src/app.ts", "reply.header('X-Request-Id', request.id);", ""),
        ],
        "cors": [
            Edit(
                "src/app.ts",
                "const cors = corsPolicy(request.method, request.headers.origin, request.headers['access-control-request-method']);",
                "const cors = { headers: {}, preflight: false };",
            ),
        ],
        "rate limit": [Edit("src/app.ts", "reply.headers(await limiters.api.consume(clientKey(request.ip)));", "")],
        "jwt verification": [UNVERIFIED_TOKENS],
        "validation": [Edit("src/app.ts", "return { value: parseRequestPart(schema, data, location) };", "return { value: data };")],
        "injection guard": [Edit("src/app.ts", "assertNoOperatorKeys({ body: request.body, params: request.params, query: request.query });", "")],
    },
}
# Every piece above out at once: what is left is the framework wiring (route table, error
# mapping, JSON body limits) and the store.
ALL_OUT = "all of the above"

# Other implementations of the same protection, measured the same way and proven by the whole
# proof suite first. Without the verified-token cache, every request checks the signature.
ALTERNATIVES: dict[str, list[Edit]] = {
    "no verified-token cache": [Edit("src/security/jwt.ts", "this.#verifiedAccess.get(token) ?? ", "")],
}


def apply_edits(project: Path, edits: list[Edit]) -> None:
    for edit in edits:
        path = project / edit.file
        text = path.read_text(encoding="utf-8")
        count = text.count(edit.find)
        if count != 1:
            raise SystemExit(f"bench: edit target found {count} times in {edit.file} (the template changed?): {edit.find!r}")
        path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


# --- Processes -----------------------------------------------------------------------------------


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    return env


def run(command: list[str], cwd: Path, timeout: float = 900, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env or environment())
    if result.returncode != 0:
        raise SystemExit(f"bench: {' '.join(command)} exited {result.returncode} in {cwd}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def timed(command: list[str], cwd: Path, timeout: float = 900) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    result = run(command, cwd, timeout)
    return time.perf_counter() - started, result


def pinned(command: list[str], cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu), *command] if cpu is not None else command


@dataclass
class Server:
    name: str
    process: ChildProcess
    url: str
    token: str = ""
    item_id: str = ""

    def stop(self) -> None:
        self.process.stop(grace=10)


def start_server(
    name: str, directory: Path, entry: str, env: dict[str, str], cpu: int | None, wrapper: tuple[str, ...] = (), timeout: float = START_TIMEOUT
) -> Server:
    """Node runs `entry` in `directory`, inside `wrapper` if given (bench/instructions.py: valgrind)."""
    # Only the last lines are kept: under load a server can log a line per request.
    process = ChildProcess(pinned([*wrapper, node_binary(), entry], cpu), cwd=directory, env=env, name=f"bench: {name}", keep=1000, error=SystemExit)
    try:
        url = str(process.wait_for_log("listening", timeout)["url"])
    except BaseException:
        process.stop(grace=10)
        raise
    return Server(name, process, url)


def http(method: str, url: str, body: dict[str, object] | None = None, token: str = "") -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def log_in(server: Server) -> str:
    account = {"email": "bench@example.test", "name": "Bench", "age": 30, "password": "benchmark-passphrase-0123"}
    status, body = http("POST", f"{server.url}/api/auth/register", account)
    if status != 201:
        raise SystemExit(f"bench: register on {server.name} answered {status}: {body}")
    status, body = http("POST", f"{server.url}/api/auth/login", {"email": account["email"], "password": account["password"]})
    if status != 200:
        raise SystemExit(f"bench: login on {server.name} answered {status}: {body}")
    return str(body["accessToken"])


def create_item(server: Server) -> str:
    """The item the PATCH scenario changes, owned by the logged-in account (hardened) or the seeded one (bare)."""
    status, body = http("POST", f"{server.url}/api/items", {"title": "Benchmark item"}, token=server.token)
    if status != 201:
        raise SystemExit(f"bench: POST /api/items on {server.name} answered {status}: {body}")
    return str(body["id"])


# --- Measuring -----------------------------------------------------------------------------------


@dataclass
class Settings:
    connections: int
    duration: int
    rounds: int
    warmup: int
    ablation_rounds: int
    ablation_duration: int
    server_cpu: int | None
    load_cpu: int | None
    database_file: bool = False
    load_averages: list[float] = field(default_factory=list)

    def database_url(self, directory: Path) -> str:
        return f"file:{directory / 'bench.db'}" if self.database_file else "file::memory:"


@dataclass
class Samples:
    rps: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "rps": statistics.median(self.rps) if self.rps else None,
            "p99_ms": statistics.median(self.p99) if self.p99 else None,
            "cpu_us_per_request": round(statistics.median(self.cpu_us), 1) if self.cpu_us else None,
            "rounds_rps": [round(value) for value in self.rps],
        }


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, all its threads (GC, libuv pool) included."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def load(server: Server, scenario: str, duration: int, settings: Settings, amount: int = 0) -> dict[str, object]:
    """`duration` seconds of the scenario's load, or exactly `amount` requests if given."""
    plan = {
        "url": server.url,
        "scenario": scenario,
        "token": server.token,
        "itemId": server.item_id,
        "connections": settings.connections,
        **({"amount": amount} if amount else {"duration": duration}),
        "expect": SCENARIOS[scenario][1],
    }
    cpu_before = cpu_seconds(server.process.pid)
    # A number of requests has no time bound of its own (under valgrind a server is ~50x slower).
    result = run(pinned([node_binary(), str(BENCH / "load.mjs"), json.dumps(plan)], settings.load_cpu), BENCH, timeout=1800 if amount else duration + 60)
    cpu_after = cpu_seconds(server.process.pid)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    # CPU time per request: unlike req/s, not inflated when another process takes the CPU away.
    if cpu_before is not None and cpu_after is not None and measured["completed"]:
        measured["cpu_us"] = (cpu_after - cpu_before) / measured["completed"] * 1e6
    if measured["unexpected"] or measured["errors"] or measured["completed"] == 0 or (amount and measured["completed"] != amount):
        raise SystemExit(f"bench: {server.name} {scenario} answered other than {plan['expect']}: {measured}\n{server.process.output()[-2000:]}")
    return measured


def start_mirrored(starters: list[Callable[[int], Server]], started: list[Server], copies: int = 2) -> list[list[Server]]:
    """`copies` servers of each variant (a starter, given the copy's number), started in mirrored
    order (A B C, then C B A) and kept for the run: where a server stands in the start order moves
    its CPU per request for its whole life (docs/performance.md, "Start order"), and mirroring
    gives every variant the same average place. Each server is added to `started` as it starts."""
    servers: list[list[Server]] = [[] for _ in starters]
    for copy in range(copies):
        order = range(len(starters)) if copy % 2 == 0 else reversed(range(len(starters)))
        for index in order:
            server = starters[index](copy)
            started.append(server)
            servers[index].append(server)
    return servers


def compare(variants: list[list[Server]], scenarios: list[str], rounds: int, duration: int, settings: Settings, label: str) -> dict[str, dict[str, Samples]]:
    """Every variant (its copies, from start_mirrored), every scenario, `rounds` times. A round
    measures one copy of each variant, the copies taking turns, so an even number of rounds
    measures each copy alike; the order of the variants rotates each round so drift (heat, a
    neighbour's load) falls on each of them alike."""
    results: dict[str, dict[str, Samples]] = {scenario: {copies[0].name: Samples() for copies in variants} for scenario in scenarios}
    for scenario in scenarios:
        settings.load_averages.append(os.getloadavg()[0])
        for copies in variants:
            for server in copies:
                load(server, scenario, settings.warmup, settings)
        for round_number in range(rounds):
            servers = [copies[round_number % len(copies)] for copies in variants]
            shift = round_number % len(servers)
            order = servers[shift:] + servers[:shift]
            if round_number % 2:
                order.reverse()
            for server in order:
                measured = load(server, scenario, duration, settings)
                results[scenario][server.name].rps.append(measured["rps"])
                results[scenario][server.name].p99.append(measured["p99"])
                if "cpu_us" in measured:
                    results[scenario][server.name].cpu_us.append(measured["cpu_us"])
            line = ", ".join(f"{server.name} {results[scenario][server.name].rps[-1]:.0f}" for server in servers)
            print(f"  {label} {scenario} round {round_number + 1}/{rounds}: {line} req/s", flush=True)
    return results


# --- The run -------------------------------------------------------------------------------------


def ensure_autocannon() -> str:
    lock = BENCH / "package-lock.json"
    stamp = BENCH / "node_modules" / ".rampart-bench-lock"
    if not stamp.is_file() or stamp.read_text() != lock.read_text():
        run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], BENCH)
        stamp.write_text(lock.read_text())
    return json.loads((BENCH / "node_modules" / "autocannon" / "package.json").read_text())["version"]


def machine() -> dict[str, object]:
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total_kb = int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) if "MemTotal" in meminfo else 0
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    node_version = subprocess.run([node_binary(), "--version"], capture_output=True, text=True).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(total_kb / 1024 / 1024, 1),
        "cpu": model.group(1).strip() if model else platform.processor(),
        "kernel": platform.release(),
        "node": node_version,
        "python": platform.python_version(),
    }


def copier_copy(destination: Path, framework: str | None, answers: dict[str, str] | None = None) -> float:
    command = [str(VENV_BIN / "copier"), "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", "--quiet"]
    for name, value in {**({"framework": framework} if framework else {}), **(answers or {})}.items():
        command += ["--data", f"{name}={value}"]
    seconds, _ = timed([*command, str(ROOT), str(destination)], ROOT, timeout=300)
    return seconds


def proof_suite(project: Path, check: bool = True) -> dict[str, object]:
    started = time.perf_counter()
    result = subprocess.run(["npm", "test"], cwd=project, capture_output=True, text=True, timeout=1200, env=environment())
    seconds = time.perf_counter() - started
    if check and result.returncode != 0:
        raise SystemExit(f"bench: the proof suite of {project} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}")
    counts = {name: int(count) for name, count in re.findall(r"^ℹ (\w+) (\d+)$", result.stdout, re.MULTILINE)}
    return {"seconds": round(seconds, 1), "tests": counts.get("tests"), "pass": counts.get("pass"), "fail": counts.get("fail")}


def scratch_copy(project: Path, destination: Path) -> Path:
    shutil.copytree(project, destination, ignore=shutil.ignore_patterns("node_modules", "data", "*.db*"))
    (destination / "node_modules").symlink_to(project / "node_modules", target_is_directory=True)
    return destination


def server_environment(directory: Path, jwt: dict[str, str], settings: Settings) -> dict[str, str]:
    return {
        "PATH": environment()["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "HOST": "127.0.0.1",
        "PORT": "0",
        "LOG_LEVEL": "info",
        "DATABASE_URL": settings.database_url(directory),
        "CORS_ORIGINS": ORIGIN,
        # Raised for the run through configuration: the limiter still runs on every request.
        "RATE_LIMIT_MAX": "10000000",
        "AUTH_RATE_LIMIT_MAX": "100000",  # the largest the configuration accepts; only failed sign-ins count
        # Metrics on, as generated, each server on a port of its own (the default 9464 fits one).
        "METRICS_PORT": str(free_loopback_port(SystemExit)),
        **jwt,
    }


def start_hardened(name: str, directory: Path, jwt: dict[str, str], settings: Settings, settings_override: dict[str, str] | None = None) -> Server:
    env = {**server_environment(directory, jwt, settings), **(settings_override or {})}
    server = start_server(name, directory, "src/server.ts", env, settings.server_cpu)
    server.token = log_in(server)
    server.item_id = create_item(server)
    return server


def start_identity_provider(project: Path) -> tuple[ChildProcess, str, str]:
    """A real OpenID Provider on loopback, run from the oidc project (its development dependency):
    (the process, its issuer, an access token for the benchmark caller)."""
    (project / "bench").mkdir(exist_ok=True)
    shutil.copy(ROOT / "tests" / "identity-provider.mjs", project / "bench" / "identity-provider.mjs")
    process = ChildProcess([node_binary(), "bench/identity-provider.mjs", OIDC_AUDIENCE], cwd=project, env=environment(), name="bench: identity provider", keep=200, error=SystemExit)
    try:
        started = process.wait_for_log("listening", START_TIMEOUT)
    except BaseException:
        process.stop(grace=10)
        raise
    return process, str(started["issuer"]), str(started["accessToken"])


def start_oidc(directory: Path, issuer: str, token: str, settings: Settings) -> Server:
    env = {**server_environment(directory, {}, settings), "OIDC_ISSUER": issuer, "OIDC_AUDIENCE": OIDC_AUDIENCE}
    server = start_server("hardened (oidc)", directory, "src/server.ts", env, settings.server_cpu)
    server.token = token
    return server


BARE_ENTRY = "bench/bare.ts"
BARE_TOKEN = "bare-server-reads-no-token"


def bare_copy(framework: str, project: Path, destination: Path, baseline: str = "") -> Path:
    """A scratch copy of the generated project with the bare baseline at BARE_ENTRY (or another
    server of bench/bare/, `{framework}-{baseline}.ts`: bench/floor.py's floor)."""
    directory = scratch_copy(project, destination)
    (directory / "bench").mkdir(exist_ok=True)
    shutil.copy(BENCH / "bare" / (f"{framework}-{baseline}.ts" if baseline else f"{framework}.ts"), directory / BARE_ENTRY)
    return directory


def bare_environment(directory: Path, settings: Settings) -> dict[str, str]:
    return {"PATH": environment()["PATH"], "HOST": "127.0.0.1", "PORT": "0", "DATABASE_URL": settings.database_url(directory)}


def start_bare(framework: str, project: Path, workdir: Path, settings: Settings, copy: int = 0, baseline: str = "") -> Server:
    """The bare server, or with `baseline` another server of bench/bare/ (bench/floor.py's
    "floor"), named after it. Neither verifies a token: any will do."""
    name = baseline or "bare"
    directory = bare_copy(framework, project, workdir / f"{framework}-{name}-{copy}", baseline)
    server = start_server(name, directory, BARE_ENTRY, bare_environment(directory, settings), settings.server_cpu)
    server.token = BARE_TOKEN
    server.item_id = create_item(server)
    return server


def traced_settings(jaeger: Jaeger) -> dict[str, str]:
    """Tracing on, the OpenTelemetry SDK's defaults otherwise: every request sampled (parentbased_always_on)."""
    return {"OTEL_EXPORTER_OTLP_ENDPOINT": jaeger.otlp_endpoint, "OTEL_SERVICE_NAME": "rampart-bench"}


def wait_for_quiet(limit: int) -> int:
    """Other work on the machine takes CPU from the server and the load generator alike, and
    makes req/s meaningless: wait (bounded) for it to finish."""
    started = time.monotonic()
    while limit and os.getloadavg()[0] >= 1.0 and time.monotonic() - started < limit:
        print(f"bench: waiting for a quiet machine (1-minute load average {os.getloadavg()[0]:.1f})", flush=True)
        time.sleep(15)
    return round(time.monotonic() - started)


def ratio(numerator: object, denominator: object) -> float | None:
    return round(float(numerator) / float(denominator), 3) if numerator and denominator else None


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Even: each variant's two copies take turns, one a round.
    parser.add_argument("--rounds", type=int, default=6, help="rounds per scenario, hardened vs bare (default 6)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement (default 5)")
    parser.add_argument("--connections", type=int, default=50, help="autocannon connections (default 50)")
    parser.add_argument("--ablation-rounds", type=int, default=4, help="rounds per practice variant (default 4)")
    parser.add_argument("--ablation-duration", type=int, default=3, help="seconds per practice measurement (default 3)")
    parser.add_argument("--quick", action="store_true", help="2 rounds of 3 s, 2 ablation rounds: a smoke run, not for the docs")
    parser.add_argument("--skip-proof-suite", action="store_true", help="do not time the generated proof suites")
    parser.add_argument("--no-traces", action="store_true", help="leave out the traced server (it needs Jaeger: .ci/services/jaeger.sh)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin server and load generator to separate CPUs")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md and bench/results/latest.json")
    parser.add_argument(
        "--database-file",
        action="store_true",
        help="SQLite in a file instead of in memory: POST /api/users is then bound by the disk's fsync, not by the server",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=600,
        metavar="SECONDS",
        help="wait up to this long for the 1-minute load average to drop below 1 before measuring (default 600; 0: do not wait)",
    )
    parser.add_argument("--render-only", action="store_true", help="rewrite docs/performance.md from bench/results/latest.json, measuring nothing")
    parser.add_argument("--workdir", type=Path, help="where to generate (default: a new temporary directory, removed at the end)")
    options = parser.parse_args(argv)
    if options.render_only:
        write_docs(render(json.loads(RESULTS.read_text(encoding="utf-8"))))
        print(f"bench: rewrote {DOC.relative_to(ROOT)} from {RESULTS.relative_to(ROOT)}")
        return 0
    if options.quick:
        options.rounds, options.duration, options.ablation_rounds, options.ablation_duration = 2, 3, 2, 3

    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None and not options.no_pin
    settings = Settings(
        connections=options.connections,
        duration=options.duration,
        rounds=options.rounds,
        warmup=2,
        ablation_rounds=options.ablation_rounds,
        ablation_duration=options.ablation_duration,
        server_cpu=1 if two_cpus else None,
        load_cpu=0 if two_cpus else None,
        database_file=options.database_file,
    )
    started = time.perf_counter()
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="rampart-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    report: dict[str, object] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip(),
        "dirty": bool(subprocess.run(["git", "status", "--porcelain", "--", "template"], cwd=ROOT, capture_output=True, text=True).stdout.strip()),
        "machine": machine(),
        "settings": {**settings.__dict__, "start_order": "mirrored"},
        "command": "bench/run" + (" " + " ".join(argv) if argv else ""),
    }
    try:
        report["autocannon"] = ensure_autocannon()
        if not options.no_traces:
            jaeger_binary(SystemExit)  # a missing Jaeger stops the run now, not after the set-up
        print(f"bench: workdir {workdir}; autocannon {report['autocannon']}; {report['machine']}", flush=True)

        # 1. Generation time.
        copies = [copier_copy(workdir / f"default-{index}", None) for index in range(3)]
        projects = {"express": workdir / "default-0"}
        fastify_seconds = copier_copy(workdir / "fastify", "fastify")
        projects["fastify"] = workdir / "fastify"
        for extra in (workdir / "default-1", workdir / "default-2"):
            shutil.rmtree(extra)
        oidc_answers = {"auth": "oidc", "oidc_issuer": "http://127.0.0.1:1", "oidc_audience": OIDC_AUDIENCE}
        oidc_projects = {framework: workdir / f"oidc-{framework}" for framework in FRAMEWORKS}
        for framework, project in oidc_projects.items():
            copier_copy(project, framework, oidc_answers)
        report["copier_copy_seconds"] = {"default": round(statistics.median(copies), 2), "default_runs": [round(s, 2) for s in copies], "fastify": round(fastify_seconds, 2)}
        print(f"bench: copier copy {report['copier_copy_seconds']}", flush=True)

        # 2. Install and proof suites.
        report["npm_ci_seconds"] = {}
        report["proof_suite"] = {}
        for framework, project in projects.items():
            seconds, _ = timed(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], project)
            report["npm_ci_seconds"][framework] = round(seconds, 1)
            if not options.skip_proof_suite:
                report["proof_suite"][framework] = proof_suite(project)
                print(f"bench: {framework} proof suite {report['proof_suite'][framework]}", flush=True)
        for project in oidc_projects.values():
            run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], project)

        jwt = {"JWT_ACCESS_SECRET": secrets.token_urlsafe(48), "JWT_REFRESH_SECRET": secrets.token_urlsafe(48)}

        # Every scratch variant is prepared (and each alternative proven) before any measurement, so
        # a template change that breaks an edit stops the run at once.
        prepared: dict[str, dict[str, Path]] = {}
        for framework, project in projects.items():
            variants: dict[str, list[Edit]] = {"complete": []}
            variants.update({f"without {piece}": edits for piece, edits in ABLATIONS[framework].items()})
            variants[f"without {ALL_OUT}"] = [edit for edits in ABLATIONS[framework].values() for edit in edits]
            variants.update({f"alternative: {name}": edits for name, edits in ALTERNATIVES.items()})
            prepared[framework] = {}
            for index, (name, edits) in enumerate(variants.items()):
                directory = scratch_copy(project, workdir / f"{framework}-variant-{index}")
                apply_edits(directory, edits)
                prepared[framework][name] = directory
        if not options.skip_proof_suite:
            for framework, variants_by_name in prepared.items():
                for name, directory in variants_by_name.items():
                    if name.startswith("alternative"):
                        # An alternative must keep every proof green, not only be faster.
                        proofs = report.setdefault("alternative_proof_suites", {}).setdefault(framework, {})
                        proofs[name] = proof_suite(directory, check=False)
                        print(f"bench: {framework} {name}: proof suite {proofs[name]}", flush=True)

        report["waited_for_quiet_seconds"] = wait_for_quiet(options.wait_quiet)

        # 3. Hardened against bare; metrics on against off, traced against not, in the same rounds.
        main_results: dict[str, dict[str, object]] = {}
        jaeger: Jaeger | None = None
        provider: ChildProcess | None = None
        try:
            if not options.no_traces:
                # On the load generator's CPU: the server's CPU stays the server's alone.
                jaeger = Jaeger(workdir / "jaeger", max_traces=10_000, cpu=settings.load_cpu, error=SystemExit)
            report["traces"] = {"backend": "Jaeger v2.13.0 (in-memory storage, OTLP/HTTP)", "cpu": settings.load_cpu} if jaeger else None
            provider, issuer, provider_token = start_identity_provider(oidc_projects["express"])
            for framework, project in projects.items():
                # Each variant's copy `copy` in a scratch directory of its own.
                starters: list[Callable[[int], Server]] = [
                    lambda copy: start_hardened(HARDENED, scratch_copy(project, workdir / f"{framework}-hardened-{copy}"), jwt, settings),
                    lambda copy: start_hardened(METRICS_OFF, scratch_copy(project, workdir / f"{framework}-metrics-off-{copy}"), jwt, settings, {"METRICS_PORT": "0"}),
                ]
                if jaeger:
                    traced = traced_settings(jaeger)
                    starters.append(lambda copy: start_hardened(TRACED, scratch_copy(project, workdir / f"{framework}-traced-{copy}"), jwt, settings, traced))
                starters.append(lambda copy: start_oidc(scratch_copy(oidc_projects[framework], workdir / f"{framework}-oidc-{copy}"), issuer, provider_token, settings))
                starters.append(lambda copy: start_bare(framework, project, workdir, settings, copy))
                side_by_side = start_mirrored(starters, servers)
                *hardened_variants, oidc_copies, bare_copies = side_by_side
                print(f"bench: {framework}: two each of {', '.join(copies[0].name for copies in side_by_side)}, started in mirrored order", flush=True)
                measured = compare([*hardened_variants, bare_copies], list(SCENARIOS), settings.rounds, settings.duration, settings, framework)
                print(f"bench: {framework}: oidc vs bare", flush=True)
                oidc_measured = compare([oidc_copies, bare_copies], ["me"], settings.rounds, settings.duration, settings, f"{framework} oidc")
                for copies in side_by_side:
                    for server in copies:
                        server.stop()
                main_results[framework] = {
                    scenario: {name: samples.summary() for name, samples in by_server.items()} for scenario, by_server in measured.items()
                }
                main_results[framework][OIDC_CELL] = {
                    "hardened": oidc_measured["me"]["hardened (oidc)"].summary(),
                    "bare": oidc_measured["me"]["bare"].summary(),
                }
        finally:
            if provider:
                provider.stop(grace=10)
            if jaeger:
                jaeger.stop(grace=10)
        report["hardened_vs_bare"] = main_results

        # 4. What each piece costs, and the alternatives.
        ablation_results: dict[str, object] = {}
        for framework, variants_by_name in prepared.items():
            # The second copy of a variant runs from a scratch copy of the first's directory.
            started_variants = start_mirrored(
                [
                    lambda copy, name=name, directory=directory: start_hardened(
                        name, directory if copy == 0 else scratch_copy(directory, directory.with_name(f"{directory.name}-{copy}")), jwt, settings
                    )
                    for name, directory in variants_by_name.items()
                ],
                servers,
            )
            print(f"bench: {framework}: two each of {len(started_variants)} variants, started in mirrored order", flush=True)
            measured = compare(started_variants, ["me", "create"], settings.ablation_rounds, settings.ablation_duration, settings, framework)
            for copies in started_variants:
                for server in copies:
                    server.stop()
            ablation_results[framework] = {
                scenario: {name: samples.summary() for name, samples in by_server.items()} for scenario, by_server in measured.items()
            }
        report["practices"] = ablation_results
    finally:
        for server in servers:
            server.stop()
        if not options.workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["bench_seconds"] = round(time.perf_counter() - started)
    report["settings"]["load_averages"] = [round(value, 2) for value in settings.load_averages]

    summary = render(report)
    print(summary)
    if not options.no_docs:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        write_docs(summary)
        print(f"bench: wrote {DOC.relative_to(ROOT)} and {RESULTS.relative_to(ROOT)}")
    return 0


# --- Reporting -----------------------------------------------------------------------------------


def fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):,.{digits}f}"


def render(report: dict[str, object]) -> str:
    m = report["machine"]
    s = report["settings"]
    loads = s.get("load_averages") or [0.0]
    database = "SQLite in a file" if s.get("database_file") else "SQLite in memory (`DATABASE_URL=file::memory:`)"
    started_order = ["hardened", "metrics off", *(["traced"] if report.get("traces") else []), "oidc", "bare"]
    lines = [
        f"Latest run: {report['date']}, template commit {report['commit']}{' with uncommitted template changes' if report['dirty'] else ''}, "
        f"`{report['command']}`, {report['bench_seconds']} s in all.",
        "",
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB memory, Linux {m['kernel']}, Node.js {m['node']}, "
        f"autocannon {report['autocannon']}. "
        + (
            f"Server pinned to CPU {s['server_cpu']}, autocannon to CPU {s['load_cpu']} (taskset); "
            if s["server_cpu"] is not None
            else "No CPU pinning; "
        )
        + f"{s['connections']} connections over loopback; {database}. "
        f"1-minute load average when each comparison started: {min(loads):.2f} to {max(loads):.2f}"
        + (" (the machine was busy with other work: trust the CPU columns more than req/s)." if max(loads) >= 1.5 else "."),
        "",
        "### Hardened against bare",
        "",
        f"Medians of {s['rounds']} alternating rounds of {s['duration']} s each. p99 latency in ms. CPU is the server's "
        "user+system CPU time per request (all its threads): less sensitive than req/s to other work on the machine "
        "(though cache and host contention still inflate it); bare/hardened CPU is the share of bare throughput the "
        "hardened server keeps when both are CPU-bound. "
        + (
            f"Every server runs twice, the copies started in mirrored order ({', '.join(started_order)}, then "
            f"{', '.join(reversed(started_order))}) and kept for the whole run, a round measuring one copy of each and "
            "the copies taking turns: on this machine a server's place in the start order moved its CPU per request for its "
            "whole life by up to a quarter (\"Start order\", below), and mirroring gives every variant the same average place."
            if s.get("start_order") == "mirrored"
            else "The servers are started in the order hardened, metrics off, traced, bare and kept for the whole run. On this "
            "machine, servers of the same code started one after the other differed by up to a quarter in CPU per request, the "
            "first started costing the most (\"Start order\", below): hardened/bare and on/off may lean against the hardened "
            "server, traced/untraced in the traced one's favour."
        ),
        "",
        "| Framework | Request | Bare req/s | Hardened req/s | Hardened/bare | Bare p99 | Hardened p99 | Bare CPU µs/req | Hardened CPU µs/req | Bare/hardened CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    hvb = report["hardened_vs_bare"]
    # Runs before the oidc cell existed have no such row.
    cells = {**{scenario: what for scenario, (what, _) in SCENARIOS.items()}, **({OIDC_CELL: OIDC_CELL_LABEL} if OIDC_CELL in hvb[FRAMEWORKS[0]] else {})}
    for framework in FRAMEWORKS:
        for scenario, what in cells.items():
            row = hvb[framework][scenario]
            bare, hardened = row["bare"], row["hardened"]
            lines.append(
                f"| {framework.capitalize()} | {what} | {fmt(bare['rps'])} | {fmt(hardened['rps'])} | "
                f"{fmt(ratio(hardened['rps'], bare['rps']), 2)} | {fmt(bare['p99_ms'])} | {fmt(hardened['p99_ms'])} | "
                f"{fmt(bare['cpu_us_per_request'])} | {fmt(hardened['cpu_us_per_request'])} | "
                f"{fmt(ratio(bare['cpu_us_per_request'], hardened['cpu_us_per_request']), 2)} |"
            )
    lines += ["", "Hardened Fastify against hardened Express (req/s; by CPU per request in brackets):", ""]
    for scenario, (what, _) in SCENARIOS.items():
        f_h, e_h = hvb["fastify"][scenario]["hardened"], hvb["express"][scenario]["hardened"]
        f_b, e_b = hvb["fastify"][scenario]["bare"], hvb["express"][scenario]["bare"]
        lines.append(
            f"- {what}: {fmt(ratio(f_h['rps'], e_h['rps']), 2)}x ({fmt(ratio(e_h['cpu_us_per_request'], f_h['cpu_us_per_request']), 2)}x); "
            f"bare Fastify against bare Express: {fmt(ratio(f_b['rps'], e_b['rps']), 2)}x ({fmt(ratio(e_b['cpu_us_per_request'], f_b['cpu_us_per_request']), 2)}x)"
        )
    kept = {
        (framework, scenario): ratio(hvb[framework][scenario]["hardened"]["rps"], hvb[framework][scenario]["bare"]["rps"]) or 0.0
        for framework in FRAMEWORKS
        for scenario in cells
    }
    short = [f"{framework.capitalize()} {cells[scenario]} ({fmt(value, 2)})" for (framework, scenario), value in kept.items() if value < GOAL]
    (low_framework, low_scenario), low = min(kept.items(), key=lambda item: item[1])
    lines += [
        "",
        f"Against the goal (hardened keeps at least {GOAL} of bare, by median req/s, on every framework and request): "
        f"met in {len(kept) - len(short)} of {len(kept)} cells; "
        + (f"not met: {'; '.join(short)}." if short else f"the lowest is {low_framework.capitalize()} {cells[low_scenario]} ({fmt(low, 2)}).")
        + " Hardened Fastify against hardened Express is reported, not a goal.",
        "",
        *render_observability(report),
        "### What each piece costs",
        "",
        f"Scratch copies of the generated project with one piece taken out, each measured against the complete "
        f"project in the same {s['ablation_rounds']} alternating rounds of {s['ablation_duration']} s (medians"
        + ("; two copies of each, started in mirrored order, as above). " if s.get("start_order") == "mirrored" else "). ")
        +         "\"Keeps\" is the complete project's throughput as a share of the copy's without that piece, from req/s "
        "and from CPU per request: the lower it is, the more the piece costs. Alternatives implement the same "
        "protection another way and are measured the same way, after the whole proof suite passed on them. With this many "
        "variants per round the noise is larger than in the table above: read differences under about 15% as noise.",
        "",
    ]
    practices = report["practices"]
    for framework in FRAMEWORKS:
        lines += [
            f"**{framework.capitalize()}**",
            "",
            "| Variant | GET me req/s | keeps | CPU µs/req | keeps (CPU) | p99 | POST req/s | keeps | CPU µs/req | keeps (CPU) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        rows = practices[framework]
        for name in rows["me"]:
            cells = [name]
            for scenario in ("me", "create"):
                complete, row = rows[scenario]["complete"], rows[scenario][name]
                keeps = ratio(complete["rps"], row["rps"]) if name != "complete" else None
                keeps_cpu = ratio(row["cpu_us_per_request"], complete["cpu_us_per_request"]) if name != "complete" else None
                cells += [fmt(row["rps"]), fmt(keeps, 2) if keeps else "-", fmt(row["cpu_us_per_request"]), fmt(keeps_cpu, 2) if keeps_cpu else "-"]
                if scenario == "me":
                    cells.append(fmt(row["p99_ms"]))
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    copier = report["copier_copy_seconds"]
    lines += [
        "### Generation, install and proof suite",
        "",
        f"- `copier copy` of the default project (Express, SQLite): {copier['default']} s (median of {len(copier['default_runs'])}: "
        f"{', '.join(str(value) for value in copier['default_runs'])}); Fastify: {copier['fastify']} s.",
        "- `npm ci --ignore-scripts`: " + ", ".join(f"{framework} {seconds} s" for framework, seconds in report["npm_ci_seconds"].items()) + ".",
    ]
    for framework, suite in report.get("proof_suite", {}).items():
        lines.append(f"- Proof suite (`npm test`), {framework}: {suite['seconds']} s, {suite['pass']}/{suite['tests']} passed.")
    for framework, proofs in report.get("alternative_proof_suites", {}).items():
        for name, suite in proofs.items():
            lines.append(f"- Proof suite with {name.removeprefix('alternative: ')} ({framework}): {suite['pass']}/{suite['tests']} passed, {suite['fail']} failed.")
    return "\n".join(lines)


def render_observability(report: dict[str, object]) -> list[str]:
    """Metrics on against off, and traced against untraced, from the same rounds as the table
    above (runs before issue 23 have neither)."""
    hvb = report["hardened_vs_bare"]
    if METRICS_OFF not in hvb[FRAMEWORKS[0]]["me"]:
        return []
    s = report["settings"]
    traced = TRACED in hvb[FRAMEWORKS[0]]["me"]
    lines = [
        "### Metrics and traces (issue 23)",
        "",
        f"The same {s['rounds']} alternating rounds as the table above, with more variants of the same project side by "
        "side: \"hardened\" is the project as generated, its metrics on (prom-client, its own listener on a METRICS_PORT "
        "nobody scrapes during the run); \"metrics off\" has METRICS_PORT=0. "
        + (
            "\"Traced\" has its metrics on and tracing on too, every request sampled (the SDK's default sampler) and exported "
            f"over OTLP/HTTP to a local {report['traces']['backend']}"
            + (f", pinned to CPU {report['traces']['cpu']} with autocannon" if report["traces"].get("cpu") is not None else "")
            + "; traced/untraced compares it with \"hardened\", so it is what tracing adds to metrics."
            if traced
            else "Tracing was not measured in this run (`--no-traces`)."
        ),
        "",
        "| Framework | Request | Metrics off req/s | Metrics on req/s | On/off | Off CPU µs/req | On CPU µs/req | Off/on CPU | On/bare |"
        + (" Traced req/s | Traced/untraced | Traced CPU µs/req | Untraced/traced CPU | Traced p99 |" if traced else ""),
        "|---|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|---:|---:|---:|" if traced else ""),
    ]
    cells = {scenario: what for scenario, (what, _) in SCENARIOS.items()}
    kept_on_bare: dict[tuple[str, str], float] = {}
    kept_on_off: dict[tuple[str, str], float] = {}
    for framework in FRAMEWORKS:
        for scenario, what in cells.items():
            row = hvb[framework][scenario]
            off, on, bare = row[METRICS_OFF], row[HARDENED], row[BARE]
            kept_on_bare[(framework, scenario)] = ratio(on["rps"], bare["rps"]) or 0.0
            kept_on_off[(framework, scenario)] = ratio(on["rps"], off["rps"]) or 0.0
            line = (
                f"| {framework.capitalize()} | {what} | {fmt(off['rps'])} | {fmt(on['rps'])} | {fmt(kept_on_off[(framework, scenario)], 2)} | "
                f"{fmt(off['cpu_us_per_request'])} | {fmt(on['cpu_us_per_request'])} | {fmt(ratio(off['cpu_us_per_request'], on['cpu_us_per_request']), 2)} | "
                f"{fmt(kept_on_bare[(framework, scenario)], 2)} |"
            )
            if traced:
                t = row[TRACED]
                line += (
                    f" {fmt(t['rps'])} | {fmt(ratio(t['rps'], on['rps']), 2)} | {fmt(t['cpu_us_per_request'])} | "
                    f"{fmt(ratio(on['cpu_us_per_request'], t['cpu_us_per_request']), 2)} | {fmt(t['p99_ms'])} |"
                )
            lines.append(line)

    def verdict(kept: dict[tuple[str, str], float], goal: float) -> str:
        short = [f"{framework.capitalize()} {cells[scenario]} ({fmt(value, 2)})" for (framework, scenario), value in kept.items() if value < goal]
        (low_framework, low_scenario), low = min(kept.items(), key=lambda item: item[1])
        return f"met in {len(kept) - len(short)} of {len(kept)} cells; " + (
            f"not met: {'; '.join(short)}." if short else f"the lowest is {low_framework.capitalize()} {cells[low_scenario]} ({fmt(low, 2)})."
        )

    lines += [
        "",
        f"Against issue 23's bar, by median req/s: metrics on keeps at least {GOAL} of bare: {verdict(kept_on_bare, GOAL)} "
        f"Metrics on costs at most {round((1 - METRICS_GOAL) * 100)}% against metrics off (on/off at least {METRICS_GOAL}): "
        f"{verdict(kept_on_off, METRICS_GOAL)} Differences of a few percent are within this machine's noise: read the CPU columns beside them."
        + (" The traced cost is published, not a goal." if traced else ""),
        "",
    ]
    return lines


def write_docs(summary: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{summary}\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
