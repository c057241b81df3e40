"""Every supported combination is generated, installed with `npm ci --ignore-scripts`, and
passes typecheck, lint, lockfile-lint and its whole proof suite against its real database.

Its lint and lockfile-lint runs are the outside verifier's (tests/verification.py): one eslint
run over the whole project is both `npm run lint` and the security-rules check, and the
lockfile check runs `npm run lint:lockfile` and then shows its options refuse a tampered lock."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path

import pytest
import verification
from combination_projects import prepared_project
from conftest import ROOT, npm
from matrix import COMBINATIONS, combination_id, markdown_table

PRACTICE_FILES = {"validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "supply-chain", "authorization", "events"}
# Practice 4's proofs: token checks and sessions; a public API has neither.
AUTH_PROOF_FILES = {"jwt", "sessions"}
# Not a practice of its own: Node's permission model in the Dockerfile's CMD (docs/container.md).
CONTAINER_PROOF_FILES = {"permissions"}
DATABASE_FILES = {"sqlite": "sqlite.ts", "postgres": "postgres.ts", "mongodb": "mongodb.ts"}
DATABASE_PACKAGES = {"sqlite": set(), "postgres": {"pg"}, "mongodb": {"mongoose"}}
# fast-jwt issues and verifies the API's own tokens; jose verifies an identity provider's.
AUTH_PACKAGES = {"jwt": {"fast-jwt"}, "jwt-asymmetric": {"fast-jwt"}, "oidc": {"jose"}, "none": set()}
# Metrics (prom-client) and manual tracing (OpenTelemetry), in every project.
OBSERVABILITY_PACKAGES = {"prom-client"} | {
    f"@opentelemetry/{name}" for name in ("api", "context-async-hooks", "core", "exporter-trace-otlp-http", "resources", "sdk-trace")
}
FRAMEWORK_PACKAGES = {
    "express": {"express", "rate-limiter-flexible"},
    "fastify": {"fastify", "rate-limiter-flexible"},
}
IMPORT = re.compile(r"""^import\s(?:[^'"]*\sfrom\s)?['"]([^'"]+)['"]""", re.MULTILINE)


def summary(output: str) -> dict[str, int]:
    """node:test's closing counts (ℹ tests N, ℹ pass N, ...)."""
    return {name: int(count) for name, count in re.findall(r"^ℹ (\w+) (\d+)$", output, re.MULTILINE)}


def imported_packages(directory: Path) -> set[str]:
    packages = set()
    for source in directory.rglob("*.ts"):
        for specifier in IMPORT.findall(source.read_text(encoding="utf-8")):
            if specifier.startswith((".", "node:")):
                continue
            parts = specifier.split("/")
            packages.add("/".join(parts[:2]) if specifier.startswith("@") else parts[0])
    return packages


def assert_only_what_is_chosen(project: Path, combination: dict[str, str]) -> None:
    database = combination["database"]
    db_files = {path.name for path in (project / "src/db").glob("*.ts")}
    for other, file in DATABASE_FILES.items():
        assert (file in db_files) == (other == database), f"src/db has {sorted(db_files)} for {database}"
    manifest = json.loads((project / "package.json").read_text())
    dependencies = set(manifest["dependencies"])
    expected = {"pino", "zod"} | OBSERVABILITY_PACKAGES | FRAMEWORK_PACKAGES[combination["framework"]] | DATABASE_PACKAGES[database]
    expected |= AUTH_PACKAGES[combination["auth"]]
    if combination["rate_limit_store"] == "redis":
        expected |= {"ioredis"}
    assert dependencies == expected, f"unexpected runtime dependencies: {sorted(dependencies ^ expected)}"
    unused = dependencies - imported_packages(project / "src")
    assert not unused, f"declared but never imported by src/: {sorted(unused)}"
    # Development dependencies: each is a tool a script runs, a library the tests or the
    # lint config import, or the types of a package in use (by src/ or by the tests).
    tooling = json.dumps(manifest["scripts"]) + (project / "eslint.config.js").read_text()
    used_by_tests = imported_packages(project / "test")
    for name in manifest["devDependencies"]:
        typed = name.removeprefix("@types/")
        assert (
            name in tooling or name in used_by_tests or (name.startswith("@types/") and (typed == "node" or typed in dependencies | used_by_tests))
        ), f"development dependency {name} is not used"


def assert_npm_keeps_the_lock_as_written(project: Path) -> None:
    """npm, asked to write the lock for this package.json, writes the same bytes: the team's
    first `npm install x` then changes only the lines for x (about a second per project)."""
    written = {name: (project / name).read_bytes() for name in ("package.json", "package-lock.json")}
    npm("install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund", cwd=project)
    for name, content in written.items():
        rewritten = (project / name).read_bytes()
        if rewritten != content:
            diff = difflib.unified_diff(content.decode().splitlines(), rewritten.decode().splitlines(), "generated", "npm", lineterm="", n=1)
            pytest.fail(f"npm rewrites the generated {name}:\n" + "\n".join(list(diff)[:40]))


def test_combinations_page_is_current() -> None:
    page = (ROOT / "docs/combinations.md").read_text(encoding="utf-8")
    assert markdown_table() in page, "regenerate the table in docs/combinations.md with `python tests/matrix.py`"


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_combination(shared_root: Path, combination: dict[str, str]) -> None:
    # Generated and installed with `npm ci --ignore-scripts` once, shared with its verification.
    project = prepared_project(shared_root, combination)
    assert_only_what_is_chosen(project, combination)
    assert_npm_keeps_the_lock_as_written(project)
    npm("run", "typecheck", cwd=project)
    verification.run_eslint_security(project)
    verification.run_lockfile_lint(project)
    result = npm("test", cwd=project, timeout=600)
    counts = summary(result.stdout)
    assert counts.get("fail") == 0, result.stdout
    assert counts.get("pass", 0) >= (45 if combination["auth"] == "none" else 75), counts
    assert counts.get("skipped") == 0 and counts.get("todo") == 0 and counts.get("cancelled") == 0, counts
    proof_files = {path.name.removesuffix(".test.ts") for path in (project / "test/security").glob("*.test.ts")}
    if combination["auth"] == "none":
        assert proof_files == (PRACTICE_FILES - AUTH_PROOF_FILES) | CONTAINER_PROOF_FILES
    elif combination["auth"] == "oidc":
        # The provider's tokens instead of the API's own, and no sessions: accounts live there.
        assert proof_files == (PRACTICE_FILES - AUTH_PROOF_FILES) | {"oidc"} | CONTAINER_PROOF_FILES
    else:
        assert proof_files == PRACTICE_FILES | {"sessions"} | CONTAINER_PROOF_FILES
