"""Outside verification of a generated project: tools that did not write the code check it.

- schemathesis fuzzes the running server from its own GET /openapi.json, authenticated
  (register and log in first, then a Bearer token on every request), with a fixed seed and a
  fixed number of cases per operation: no 5xx, no response outside its documented schema,
  status code or content type, no schema-violating request accepted, no valid one refused,
  no operation that ignores its authentication, no error logged by the server.
- njsscan (semgrep rules for Node.js) over the shipped source, type-stripped to the JavaScript
  Node runs (njsscan reads only .js files: pointed at the .ts sources it scans nothing and
  reports nothing). A planted canary proves every run really scanned.
- eslint-plugin-security: every rule of its recommended set is on for src/, the project lints
  clean, and every finding silenced in the code is silenced for one named rule and justified
  right there (a comment on the line above, or `-- reason` in the directive).
- lockfile-lint over package-lock.json with the project's own `lint:lockfile` script, which
  must keep its strict options, and which must refuse a tampered copy of the lockfile.

Each check raises VerificationError saying exactly what is wrong. No pytest here: the same
functions run from tests/test_verification.py and from the command line
(`python tests/verification.py PROJECT [--database postgres]`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

from processes import ChildProcess, node_binary

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

# --- schemathesis settings: fixed, so a run is repeatable and bounded --------------------------
SCHEMATHESIS_SEED = 20261129
# Cases per operation and phase. 9 operations x 4 phases: about 300-400 requests, 10-40 s.
SCHEMATHESIS_MAX_EXAMPLES = 40
SCHEMATHESIS_TIMEOUT_SECONDS = 300
# Every check schemathesis has, except these (name: the reason). None is excluded today.
EXCLUDED_CHECKS: dict[str, str] = {}
# A request that breaks the schema must be refused; any of these statuses is a refusal.
# 413 is the body limit refusing an over-long field before validation sees it, which is
# exactly right, and schemathesis's default list omits it.
REFUSAL_STATUSES = ["400", "401", "403", "404", "409", "413", "415", "422", "429"]

VERIFIER = {"email": "outside-verifier@example.test", "name": "Outside Verifier", "age": 42, "password": "outside-verification-passphrase"}
START_TIMEOUT_SECONDS = 60

# label, environment variable naming the server, its default URL and port, and the script that starts it.
SERVICES = {
    "postgres": ("PostgreSQL", "TEST_DATABASE_URL", "postgres://postgres:postgres@127.0.0.1:5432/postgres", 5432, ".ci/services/postgres.sh"),
    "mongodb": ("MongoDB", "TEST_DATABASE_URL", "mongodb://127.0.0.1:27017", 27017, ".ci/services/mongodb.sh"),
    "redis": ("Redis", "TEST_REDIS_URL", "redis://127.0.0.1:6379", 6379, ".ci/services/redis.sh"),
}

# The security rules the generated lint config must apply to shipped code.
LOCKFILE_LINT_OPTIONS = ("--type npm", "--allowed-hosts npm", "--validate-https", "--validate-integrity", "--validate-package-names")

# Findings reviewed and found false, whose inline justification belongs in a file that
# tests/verification.py does not own: (rule, file, start of the matched code) -> why it is false.
# The better home for each is an inline `// njsscan-ignore: RULE` with the reason in that file,
# after which its entry here matches nothing and can go.
NJSSCAN_REVIEWED: dict[tuple[str, str, str], str] = {
    ("node_password", "test/support/database.ts", "if (parsed.password) parsed.password = '***'"): (
        "PostgreSQL test support hides the password of TEST_DATABASE_URL in messages; '***' is the mask"
    ),
    ("node_secret", "test/security/jwt.test.ts", "assertUnauthorized(await me(forged({}, 'an-attacker-secret"): (
        "the proof suite forges a token with a wrong secret on purpose, to show it is refused"
    ),
    ("node_secret", "test/security/jwt.test.ts", "assertUnauthorized(await me(forged({}, TEST_SECRETS.JWT_ACCESS_SECRET"): (
        "the proof suite signs with its own throwaway test secret and another algorithm, to show it is refused"
    ),
}

# A file njsscan must flag on every run: if it does not, the scan saw nothing.
NJSSCAN_CANARY_NAME = "zz-verification-canary.js"
NJSSCAN_CANARY_RULE = "eval_nodejs"
NJSSCAN_CANARY = """\
// Planted by tests/verification.py: proves that this njsscan run really scanned files.
export function handler(req, res) {
  res.send(eval(req.body.code));
}
"""


class VerificationError(AssertionError):
    """A generated project failed an outside check; the message says what and where."""


# --- Node ---------------------------------------------------------------------------------------


def _environment() -> dict[str, str]:
    """This environment with the venv's bin/ first (node, npm, semgrep, schemathesis)."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    return env


def _run(command: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env or _environment())
    except subprocess.TimeoutExpired as error:
        raise VerificationError(f"{' '.join(command)} did not finish within {timeout} s in {cwd}") from error


def _node_eval(project: Path, code: str, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs an ES module given as text with the project as the base of its imports."""
    return _run([node_binary(), "--no-warnings", "--input-type=module", "-e", code], cwd=project, timeout=timeout, env=env)


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


# --- Databases ----------------------------------------------------------------------------------


def _require_service(service: str, needed_by: str) -> None:
    label, variable, default_url, default_port, script = SERVICES[service]
    url = os.environ.get(variable, "").strip() or default_url
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            pass
    except OSError as error:
        raise VerificationError(
            f"{label} is not reachable at {host}:{port} ({error}); {needed_by} needs it. "
            f"Start it with `bash {script}` (as root), or point {variable} at a server."
        ) from error


def require_database_server(database: str) -> None:
    """Fails, naming the script that starts it, when the database server is not listening.
    Nothing is skipped: a missing server is a failure."""
    if database in SERVICES:
        _require_service(database, f"the {database} combinations")


def require_servers(combination: dict[str, str]) -> None:
    """Every server a combination's running app needs: its database, and Redis for Redis rate limits."""
    require_database_server(combination["database"])
    if combination.get("rate_limit_store") == "redis":
        _require_service("redis", "the combinations with Redis rate limits")


# --- The running server -------------------------------------------------------------------------

# Starts the project's server exactly as its proof suite does (test/support/server.ts): a fresh
# database (a new SQLite file, PostgreSQL database or MongoDB database name) and the proof
# suite's environment, overridden by VERIFY_SERVER_ENV. Prints {"url"} once listening, stops
# the server and drops the database when its stdin closes, and writes the server's output.
_SERVE = """
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const { startServer } = await import(pathToFileURL(process.env.VERIFY_SERVER_SUPPORT).href);
const server = await startServer(JSON.parse(process.env.VERIFY_SERVER_ENV));
// auth: oidc: a user of the suite's identity provider, which runs in this process.
const providerUsers = process.env.VERIFY_PROVIDER_USERS;
const accessToken = providerUsers ? (await (await import(pathToFileURL(providerUsers).href)).newUser(server)).accessToken : undefined;
process.stdout.write(`${JSON.stringify({ url: server.url, databaseUrl: server.database.url, accessToken })}\\n`);
await new Promise((resolve) => {
  process.stdin.on('end', resolve);
  process.stdin.on('close', resolve);
  process.once('SIGTERM', resolve);
  process.stdin.resume();
});
const stopped = await server.stop();
writeFileSync(process.env.VERIFY_SERVER_OUTPUT, server.output());
process.stdout.write(`${JSON.stringify({ stopped })}\\n`);
process.exit(0);
"""


class RunningApp:
    def __init__(self, url: str, database_url: str, output_file: Path, provider_token: str | None = None) -> None:
        self.url = url
        self.database_url = database_url
        self.output_file = output_file
        # auth: oidc: an access token the proof suite's identity provider issued.
        self.provider_token = provider_token

    def output(self) -> str:
        return self.output_file.read_text(encoding="utf-8") if self.output_file.exists() else ""

    def error_log_lines(self) -> list[str]:
        """Log lines at error level or above (pino: 50 error, 60 fatal)."""
        lines = []
        for line in self.output().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("level"), int) and entry["level"] >= 50:
                lines.append(line)
        return lines


@contextlib.contextmanager
def running_app(project: Path, env: dict[str, str] | None = None) -> Iterator[RunningApp]:
    """The generated server on a free loopback port with a fresh database of its own.
    `env` overrides the proof suite's server environment (a None value removes a variable)."""
    support = project / "test" / "support" / "server.ts"
    if not support.is_file():
        raise VerificationError(f"{support} is missing: the generated proof suite's server support is needed to start the app")
    workdir = Path(tempfile.mkdtemp(prefix="verify-serve-"))
    output_file = workdir / "server-output.log"
    process_env = _environment()
    process_env.update(
        VERIFY_SERVER_SUPPORT=str(support),
        VERIFY_SERVER_ENV=json.dumps(env or {}),
        VERIFY_SERVER_OUTPUT=str(output_file),
    )
    # auth: oidc has no sign-in on the API: its users are clients of the suite's identity provider.
    if (project / "test" / "support" / "identity-provider.ts").is_file():
        process_env["VERIFY_PROVIDER_USERS"] = str(project / "test" / "support" / "users.ts")
    helper = ChildProcess(
        [node_binary(), "--no-warnings", "--input-type=module", "-e", _SERVE],
        cwd=project,
        env=process_env,
        stdin=subprocess.PIPE,
        name=f"the generated server in {project}",
        error=VerificationError,
    )
    try:
        started = helper.wait_until(lambda: next((entry for entry in helper.logs() if "databaseUrl" in entry), None), "the line with its URL", START_TIMEOUT_SECONDS)
    except BaseException:
        helper.kill()
        raise
    try:
        yield RunningApp(str(started["url"]), str(started["databaseUrl"]), output_file, started.get("accessToken"))
    finally:
        # End of input: the helper stops the server, writes its output and exits.
        helper.close_input()
        helper.stop(grace=30, sig=None)


def _request(method: str, url: str, body: dict[str, object] | None = None, token: str | None = None) -> tuple[int, object]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def obtain_access_token(base_url: str, project: Path, database_url: str) -> str:
    """Registers the verifier's account, makes it an admin the way an operator would
    (`npm run grant-role`), and logs in: every route, admin-only ones included, is then
    exercised past its access check."""
    status, body = _request("POST", f"{base_url}/api/auth/register", VERIFIER)
    if status != 201:
        raise VerificationError(f"POST /api/auth/register for the verifier answered {status}: {body}")
    granted = _run(
        [node_binary(), "--no-warnings", "src/cli/grant-role.ts", "--email", str(VERIFIER["email"]), "--role", "admin"],
        cwd=project,
        env={**_environment(), "DATABASE_URL": database_url},
    )
    if granted.returncode != 0:
        raise VerificationError(f"grant-role for the verifier exited {granted.returncode}: {granted.stderr}")
    status, body = _request("POST", f"{base_url}/api/auth/login", {"email": VERIFIER["email"], "password": VERIFIER["password"]})
    if status != 200 or not isinstance(body, dict) or not isinstance(body.get("accessToken"), str):
        raise VerificationError(f"POST /api/auth/login for the verifier answered {status}: {body}")
    token = body["accessToken"]
    status, me = _request("GET", f"{base_url}/api/users/me", token=token)
    if status != 200:
        raise VerificationError(f"GET /api/users/me with the verifier's fresh token answered {status}: {me}")
    return token


def _operations(document: dict[str, object]) -> list[str]:
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    paths = document.get("paths")
    if not isinstance(paths, dict):
        return []
    return sorted(f"{method.upper()} {path}" for path, item in paths.items() if isinstance(item, dict) for method in item if method in methods)


# --- schemathesis --------------------------------------------------------------------------------


def schemathesis_command(
    base_url: str, token: str | None, config_file: Path, report_file: Path, events_file: Path, max_examples: int, seed: int
) -> list[str]:
    return [
        str(VENV_BIN / "schemathesis"),
        "--no-color",
        "--config-file",
        str(config_file),
        "run",
        f"{base_url}/openapi.json",
        *(["--header", f"Authorization: Bearer {token}"] if token else []),
        "--checks",
        "all",
        *(["--exclude-checks", ",".join(EXCLUDED_CHECKS)] if EXCLUDED_CHECKS else []),
        "--seed",
        str(seed),
        "--max-examples",
        str(max_examples),
        # One worker and no example database: the same seed gives the same cases every run.
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--request-timeout",
        "10",
        # Payloads and tokens are throwaway test data; failures must show them to be useful.
        "--output-sanitize",
        "false",
        "--report",
        "json,ndjson",
        "--report-json-path",
        str(report_file),
        "--report-ndjson-path",
        str(events_file),
    ]


@dataclass
class Failure:
    """One failed check on one request, as schemathesis recorded it."""

    operation: str
    check: str
    code: str
    message: str
    method: str
    uri: str
    request_body: str
    status: int | None
    response_body: str

    def describe(self) -> str:
        request = f"{self.method} {self.uri}" + (f" body {self.request_body}" if self.request_body else "")
        return (
            f"{self.code} {self.check} on {self.operation}: {self.message.splitlines()[0] if self.message else ''}\n"
            f"    request:  {request[:600]}\n    response: {self.status} {self.response_body[:400]}"
        )


def _decoded(value: object) -> str:
    if isinstance(value, dict) and "$base64" in value:
        return base64.b64decode(value["$base64"]).decode("utf-8", errors="replace")
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def schemathesis_failures(ndjson_report: Path) -> list[Failure]:
    """Every failed check in a schemathesis NDJSON event stream, with its request and response."""
    failures = []
    for line in ndjson_report.read_text(encoding="utf-8").splitlines():
        event = json.loads(line).get("ScenarioFinished")
        if not event or event.get("status") != "failure":
            continue
        recorder = event.get("recorder", {})
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                info = (check.get("failure_info") or {}).get("failure") or {}
                case = ((recorder.get("cases") or {}).get(case_id) or {}).get("value") or {}
                interaction = (recorder.get("interactions") or {}).get(case_id) or {}
                request, response = interaction.get("request") or {}, interaction.get("response") or {}
                failures.append(
                    Failure(
                        operation=str(info.get("operation") or recorder.get("label", "")),
                        check=str(check.get("name")),
                        code=str(info.get("code", "")),
                        message=str(info.get("message", "")),
                        method=str(request.get("method") or case.get("method", "")),
                        uri=str(request.get("uri") or case.get("path", "")),
                        request_body=_decoded(request.get("body", case.get("body"))),
                        status=response.get("status_code"),
                        response_body=_decoded(response.get("content")),
                    )
                )
    return failures


def run_schemathesis(
    project: Path, env: dict[str, str] | None = None, *, max_examples: int = SCHEMATHESIS_MAX_EXAMPLES, seed: int = SCHEMATHESIS_SEED
) -> dict[str, object]:
    """Fuzzes the running app from its own OpenAPI document, authenticated; returns schemathesis's
    JSON report. Every failed check fails the run."""
    workdir = Path(tempfile.mkdtemp(prefix="verify-schemathesis-"))
    config_file = workdir / "schemathesis.toml"
    config_file.write_text(
        "[checks.negative_data_rejection]\nexpected-statuses = [" + ", ".join(f'"{status}"' for status in REFUSAL_STATUSES) + "]\n",
        encoding="utf-8",
    )
    report_file, events_file = workdir / "report.json", workdir / "events.ndjson"
    started = time.monotonic()
    with running_app(project, env) as app:
        status, document = _request("GET", f"{app.url}/openapi.json")
        if status != 200 or not isinstance(document, dict):
            raise VerificationError(f"GET /openapi.json answered {status}")
        operations = _operations(document)
        # With accounts (auth jwt, jwt-asymmetric) every request carries a real token; with oidc,
        # one from the identity provider; a public API (auth none) has no login to get one from.
        token = obtain_access_token(app.url, project, app.database_url) if "/api/auth/login" in document.get("paths", {}) else app.provider_token
        command = schemathesis_command(app.url, token, config_file, report_file, events_file, max_examples, seed)
        result = _run(command, cwd=workdir, timeout=SCHEMATHESIS_TIMEOUT_SECONDS)
    # The server has stopped: its whole output is written.
    errors_logged = app.error_log_lines()
    if not report_file.is_file() or not events_file.is_file():
        raise VerificationError(f"schemathesis exited {result.returncode} without its reports:\n{_tail(result.stdout)}\n{_tail(result.stderr)}")
    report = json.loads(report_file.read_text(encoding="utf-8"))
    failures = schemathesis_failures(events_file)
    problems = [failure.describe() for failure in failures]
    if (result.returncode != 0 or report.get("exit_code") != 0) and not failures:
        problems.append(f"schemathesis exited {result.returncode} with no failure recorded:\n{_tail(result.stdout, 40)}\n{_tail(result.stderr, 20)}")
    if report.get("errors"):
        problems.append(f"schemathesis errors: {json.dumps(report['errors'])[:3000]}")
    tested = report.get("operations", {})
    if not report.get("complete") or tested.get("tested") != len(operations) or tested.get("selected") != len(operations):
        problems.append(f"not every documented operation was tested: {json.dumps(tested)} for {len(operations)} operations {operations}")
    if report.get("test_cases", {}).get("generated", 0) < len(operations) * 10:
        problems.append(f"too few test cases generated: {json.dumps(report.get('test_cases'))}")
    warnings = report.get("warnings", {})
    for name in ("missing_auth", "rate_limited", "unused_openapi_auth", "method_not_allowed", "unresolvable_reference"):
        if warnings.get(name):
            problems.append(f"schemathesis warning {name}: {json.dumps(warnings[name])}")
    if errors_logged:
        problems.append("the server logged errors during the run:\n" + "\n".join(line[:1500] for line in errors_logged[:10]))
    if problems:
        raise VerificationError(
            f"schemathesis against {project} (seed {seed}, {max_examples} examples per operation, "
            f"reproduce with `python tests/verification.py {project}`):\n"
            + "\n".join(f"- {problem}" for problem in problems)
            + f"\n--- schemathesis summary\n{_tail(result.stdout, 25)}"
        )
    report["elapsed_seconds"] = round(time.monotonic() - started, 1)
    return report


# --- njsscan -------------------------------------------------------------------------------------


@cache
def _njsscan_rules() -> Path:
    """njsscan's semgrep rules in one file. Pointed at the rules directory, semgrep validates each
    of its ~70 files in a process of its own (about 30 s here); the same rules in one file take
    a few seconds."""
    import yaml
    from njsscan import settings

    rules = []
    for rule_file in sorted(Path(settings.SGREP_RULES_DIR).rglob("*.yaml")):
        rules.extend(yaml.safe_load(rule_file.read_text(encoding="utf-8"))["rules"])
    ids = [rule["id"] for rule in rules]
    if len(ids) != len(set(ids)):
        raise VerificationError("njsscan's rules have duplicate ids: cannot merge them into one file")
    merged = Path(tempfile.mkdtemp(prefix="verify-njsscan-rules-")) / "njsscan-rules.yaml"
    merged.write_text(yaml.safe_dump({"rules": rules}), encoding="utf-8")
    return merged


# Node's own type stripper: TypeScript annotations become spaces, so every line and column of
# the JavaScript is where it was in the .ts source (findings point at the real code).
_STRIP_TYPES = """
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, join, relative } from 'node:path';
const [source, target] = [process.env.VERIFY_SOURCE, process.env.VERIFY_TARGET];
let count = 0;
for (const entry of readdirSync(source, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
  const path = join(entry.parentPath, entry.name);
  const out = join(target, relative(source, path)).replace(/\\.ts$/, '.js');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, stripTypeScriptTypes(readFileSync(path, 'utf8'), { mode: 'strip' }));
  count += 1;
}
process.stdout.write(String(count));
"""


def _suppression_justified(lines: list[str], index: int, marker: str) -> bool:
    """A suppression is justified by text after ` -- ` on its own line or by a comment line
    directly above it."""
    line = lines[index]
    after = line.split(marker, 1)[1]
    if re.search(r"\s--\s+\S", after):
        return True
    if index > 0:
        above = lines[index - 1].strip()
        return above.startswith(("//", "*", "/*")) and not any(other in above for other in ("eslint-disable", "njsscan-ignore", "nosemgrep"))
    return False


def run_njsscan(project: Path, directories: tuple[str, ...] = ("src", "test"), cache_dir: Path | None = None) -> dict[str, list[dict[str, object]]]:
    """njsscan over the project's source and its proof suite; returns its findings per file.

    njsscan's rules look at one file at a time, so a file's findings depend on its content and the
    rules alone: with `cache_dir`, a file already scanned (in another combination: most of src/
    is shared) is not scanned again. semgrep needs ~15 s of CPU for src/config.ts alone here."""
    from njsscan.njsscan import NJSScan

    scratch = Path(tempfile.mkdtemp(prefix="verify-njsscan-"))
    total = 0
    for directory in directories:
        env = _environment()
        env.update(VERIFY_SOURCE=str(project / directory), VERIFY_TARGET=str(scratch / directory))
        result = _node_eval(project, _STRIP_TYPES, timeout=60, env=env)
        if result.returncode != 0:
            raise VerificationError(f"stripping types from {project / directory} failed:\n{result.stderr}")
        total += int(result.stdout or 0)
    if total == 0:
        raise VerificationError(f"no TypeScript files under {directories} in {project}: nothing to scan")

    rules = _njsscan_rules()
    rules_digest = hashlib.sha256(rules.read_bytes()).hexdigest()
    findings: dict[str, list[dict[str, object]]] = {}
    scanned: dict[str, Path] = {}
    for js in sorted(scratch.rglob("*.js")):
        relative = str(js.relative_to(scratch))
        digest = hashlib.sha256(f"{rules_digest}\0{relative}\0".encode() + js.read_bytes()).hexdigest()
        entry = cache_dir / f"njsscan-{digest}.json" if cache_dir else None
        if entry and entry.is_file():
            findings[relative] = json.loads(entry.read_text(encoding="utf-8"))
            js.unlink()
        else:
            findings[relative] = []
            if entry:
                scanned[relative] = entry
    if cache_dir and not any(scratch.rglob("*.js")):
        # Every file's findings come from the cache, written only by runs whose canary was flagged.
        shutil.rmtree(scratch, ignore_errors=True)
        return _njsscan_verdict(project, directories, findings, [])
    # The canary is scanned with every file that is: it proves that this scan works.
    (scratch / NJSSCAN_CANARY_NAME).write_text(NJSSCAN_CANARY, encoding="utf-8")

    old_path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{old_path}"  # libsast runs `semgrep` from PATH
    previous = Path.cwd()
    try:
        os.chdir(scratch)
        scanner = NJSScan([str(scratch)], json=True, check_controls=False)
        scanner.options["sgrep_rules"] = str(rules)
        report = scanner.scan()
    finally:
        os.chdir(previous)
        os.environ["PATH"] = old_path

    problems = []
    if report.get("errors"):
        problems.append(f"njsscan reported errors (files it could not scan, or semgrep failing): {json.dumps(report['errors'])[:3000]}")
    canary_seen = False
    for section in ("nodejs", "templates"):
        for rule_id, finding in (report.get(section) or {}).items():
            for match in finding.get("files", []):
                path = Path(match["file_path"])
                relative = str(path.relative_to(scratch) if path.is_absolute() else path)
                if relative == NJSSCAN_CANARY_NAME:
                    canary_seen = canary_seen or rule_id == NJSSCAN_CANARY_RULE
                    continue
                findings.setdefault(relative, []).append(
                    {
                        "rule": rule_id,
                        "lines": list(match.get("match_lines") or []),
                        "match": str(match.get("match_string", "")).strip(),
                        "description": str(finding.get("metadata", {}).get("description", "")).strip(),
                    }
                )
    if not canary_seen:
        problems.append(f"njsscan did not flag its canary ({NJSSCAN_CANARY_RULE} in {NJSSCAN_CANARY_NAME}): the scan did not really run")
    elif not report.get("errors"):
        for relative, entry in scanned.items():
            temporary = entry.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_text(json.dumps(findings[relative]), encoding="utf-8")
            temporary.replace(entry)
    shutil.rmtree(scratch, ignore_errors=True)
    return _njsscan_verdict(project, directories, findings, problems)


def _njsscan_verdict(
    project: Path, directories: tuple[str, ...], findings: dict[str, list[dict[str, object]]], problems: list[str]
) -> dict[str, list[dict[str, object]]]:
    for relative, found in sorted(findings.items()):
        source = str(Path(relative).with_suffix(".ts"))
        for item in found:
            rule_id, matched = str(item["rule"]), str(item["match"])
            if any(rule_id == rule and source == file and matched.startswith(code) for rule, file, code in NJSSCAN_REVIEWED):
                continue
            lines = item["lines"]
            problems.append(f"{rule_id} at {source}:{lines[0] if lines else '?'}: {str(item['description'])[:300]}\n    {matched[:300]}")

    # njsscan's inline suppression must name its rule and say why.
    for directory in directories:
        for path in sorted((project / directory).rglob("*.ts")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for index, line in enumerate(lines):
                for marker in ("njsscan-ignore", "nosemgrep"):
                    if marker in line and not _suppression_justified(lines, index, marker):
                        problems.append(f"{path.relative_to(project)}:{index + 1}: {marker} without a justification")
    if problems:
        raise VerificationError(f"njsscan over {project} ({', '.join(directories)}):\n" + "\n".join(f"- {problem}" for problem in problems))
    return findings


# --- eslint-plugin-security ----------------------------------------------------------------------

_ESLINT = """
import security from 'eslint-plugin-security';
import { ESLint } from 'eslint';
const eslint = new ESLint({ overrideConfig: { linterOptions: { reportUnusedDisableDirectives: 'error' } } });
// The whole project, as `npm run lint` (eslint .) sees it: this run stands in for that script.
const results = await eslint.lintFiles(['.']);
const required = Object.keys(security.configs.recommended.rules);
const off = {};
for (const result of results) {
  const config = await eslint.calculateConfigForFile(result.filePath);
  const disabled = required.filter((rule) => {
    const setting = config.rules?.[rule];
    const severity = Array.isArray(setting) ? setting[0] : setting;
    return severity === undefined || severity === 0 || severity === 'off';
  });
  if (disabled.length) off[result.filePath] = disabled;
}
process.stdout.write(JSON.stringify({
  required,
  off,
  files: results.length,
  messages: results.flatMap((r) => r.messages.map((m) => ({ file: r.filePath, line: m.line, rule: m.ruleId, message: m.message }))),
  suppressed: results.flatMap((r) => (r.suppressedMessages ?? []).map((m) => ({ file: r.filePath, line: m.line, rule: m.ruleId, suppressions: m.suppressions }))),
}));
"""

_DIRECTIVE = re.compile(r"eslint-disable(?:-next-line|-line)?(?P<rules>[^*\n]*)")


def run_eslint_security(project: Path) -> dict[str, object]:
    """eslint with the project's config over the whole project, as its `npm run lint` (which must
    stay `eslint . --max-warnings=0`) lints it: any message fails, warnings included. Returns what
    it found and silenced. One run serves as both the project's lint and this check."""
    script = json.loads((project / "package.json").read_text(encoding="utf-8")).get("scripts", {}).get("lint", "")
    if script != "eslint . --max-warnings=0":
        raise VerificationError(f"the lint script is no longer `eslint . --max-warnings=0` (what this check stands in for): {script!r}")
    result = _node_eval(project, _ESLINT, timeout=300)
    if result.returncode != 0:
        raise VerificationError(f"eslint could not run in {project}:\n{_tail(result.stderr)}")
    report = json.loads(result.stdout)
    problems = []
    if not report["required"]:
        problems.append("eslint-plugin-security's recommended config lists no rules")
    if report["files"] == 0:
        problems.append("eslint linted no files")
    src = str(project / "src")
    for file, rules in sorted(report["off"].items()):
        if file.startswith(src):
            problems.append(f"{Path(file).relative_to(project)}: security rules are off for shipped code: {', '.join(rules)}")
    for message in report["messages"]:
        problems.append(f"{Path(message['file']).relative_to(project)}:{message['line']}: {message['rule']}: {message['message']}")
    # Every disable directive names its rules and carries its reason with it.
    for directory in ("src", "test"):
        for path in sorted((project / directory).rglob("*.ts")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for index, line in enumerate(lines):
                match = _DIRECTIVE.search(line)
                if not match or not ("//" in line or "/*" in line):
                    continue
                where = f"{path.relative_to(project)}:{index + 1}"
                if not match.group("rules").split("--")[0].strip():
                    problems.append(f"{where}: eslint-disable without a rule name silences every rule")
                elif not _suppression_justified(lines, index, "eslint-disable"):
                    problems.append(f"{where}: eslint-disable without a justification (a comment above it, or `-- reason`)")
    if problems:
        raise VerificationError(f"eslint security rules over {project}:\n" + "\n".join(f"- {problem}" for problem in problems))
    return report


# --- lockfile-lint -------------------------------------------------------------------------------


def _lockfile_lint(project: Path, arguments: list[str]) -> subprocess.CompletedProcess[str]:
    manifest = json.loads((project / "node_modules" / "lockfile-lint" / "package.json").read_text(encoding="utf-8"))
    binary = manifest["bin"] if isinstance(manifest["bin"], str) else manifest["bin"]["lockfile-lint"]
    return _run([node_binary(), str(project / "node_modules" / "lockfile-lint" / binary), *arguments], cwd=project, timeout=120)


def run_lockfile_lint(project: Path) -> None:
    """`npm run lint:lockfile` passes, keeps its strict options, and refuses a tampered lockfile."""
    script = json.loads((project / "package.json").read_text(encoding="utf-8")).get("scripts", {}).get("lint:lockfile", "")
    problems = [f"lint:lockfile lacks {option}" for option in LOCKFILE_LINT_OPTIONS if option not in script]
    if not script.startswith("lockfile-lint ") or "--path package-lock.json" not in script:
        problems.append(f"lint:lockfile does not run lockfile-lint over package-lock.json: {script!r}")
    if problems:
        raise VerificationError(f"{project / 'package.json'}:\n" + "\n".join(f"- {problem}" for problem in problems))

    result = _run(["npm", "run", "--silent", "lint:lockfile"], cwd=project, timeout=120)
    if result.returncode != 0:
        raise VerificationError(f"npm run lint:lockfile failed in {project}:\n{result.stdout}\n{result.stderr}")

    # The same options over a lockfile with one dependency fetched over http from another host.
    lockfile = json.loads((project / "package-lock.json").read_text(encoding="utf-8"))
    packages = lockfile.get("packages", {})
    victim = next((name for name, entry in packages.items() if name and isinstance(entry, dict) and entry.get("resolved")), None)
    if victim is None:
        raise VerificationError(f"{project / 'package-lock.json'} resolves no package: nothing for lockfile-lint to check")
    packages[victim]["resolved"] = "http://registry.attacker.example/" + packages[victim]["resolved"].rsplit("/", 1)[-1]
    tampered_dir = Path(tempfile.mkdtemp(prefix="verify-lockfile-"))
    tampered = tampered_dir / "package-lock.json"
    tampered.write_text(json.dumps(lockfile), encoding="utf-8")
    arguments = script.split()[1:]
    arguments[arguments.index("--path") + 1] = str(tampered)
    refused = _lockfile_lint(project, arguments)
    shutil.rmtree(tampered_dir, ignore_errors=True)
    if refused.returncode == 0:
        raise VerificationError(f"lint:lockfile's options accepted a lockfile that fetches {victim} over http from another host:\n{refused.stdout}")


# --- Command line --------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Outside verification of an installed generated project.")
    parser.add_argument("project", type=Path)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgres", "mongodb"])
    parser.add_argument("--rate-limit-store", default="memory", choices=["memory", "redis"])
    parser.add_argument("--max-examples", type=int, default=SCHEMATHESIS_MAX_EXAMPLES)
    parser.add_argument("--seed", type=int, default=SCHEMATHESIS_SEED)
    options = parser.parse_args(argv)
    project = options.project.resolve()
    failed = False
    checks = [
        ("lockfile-lint", lambda: run_lockfile_lint(project)),
        ("eslint security", lambda: run_eslint_security(project)),
        ("njsscan", lambda: run_njsscan(project)),
        ("servers", lambda: require_servers({"database": options.database, "rate_limit_store": options.rate_limit_store})),
        ("schemathesis", lambda: run_schemathesis(project, max_examples=options.max_examples, seed=options.seed)),
    ]
    for name, check in checks:
        started = time.monotonic()
        try:
            check()
        except VerificationError as error:
            failed = True
            print(f"FAIL {name} ({time.monotonic() - started:.1f} s)\n{error}")
        else:
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
