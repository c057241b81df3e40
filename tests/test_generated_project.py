"""The default project installs, type-checks, lints and passes its whole proof suite."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import npm

PRACTICE_FILES = {"validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "supply-chain"}


def summary(output: str) -> dict[str, int]:
    """node:test's closing counts (ℹ tests N, ℹ pass N, ...)."""
    return {name: int(count) for name, count in re.findall(r"^ℹ (\w+) (\d+)$", output, re.MULTILINE)}


def test_typecheck(default_project: Path) -> None:
    npm("run", "typecheck", cwd=default_project)


def test_lint_has_no_findings(default_project: Path) -> None:
    npm("run", "lint", cwd=default_project)


def test_lockfile_lint(default_project: Path) -> None:
    npm("run", "lint:lockfile", cwd=default_project)


def test_proof_suite_passes_with_nothing_skipped(default_project: Path) -> None:
    result = npm("test", cwd=default_project)
    counts = summary(result.stdout)
    assert counts.get("fail") == 0, result.stdout
    assert counts.get("pass", 0) >= 60, counts
    assert counts.get("skipped") == 0 and counts.get("todo") == 0 and counts.get("cancelled") == 0, counts
    proof_files = {path.name.removesuffix(".test.ts") for path in (default_project / "test/security").glob("*.test.ts")}
    assert proof_files == PRACTICE_FILES
