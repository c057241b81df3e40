"""Proof that the proofs can fail: remove each practice from a generated project and that
practice's own proof file turns red. Runs for every framework (on SQLite: the wiring removed
is the framework's, the same whatever the database). Only that file runs, with `npm test`'s
own flags: tests/test_matrix.py runs the whole suite of every combination."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
from conftest import InstalledProjects, clone_project, generate, npm, run
from removals import AUTHORIZATION_REMOVALS, DATABASE_REMOVALS, OIDC_REMOVALS, REMOVALS, Edit

PRACTICES = {"validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "supply-chain", "authorization", "events"}
ALL_TEST_FILES = '"test/**/*.test.ts"'
FAILED_FILE = re.compile(r"^test at (?:\S*/)?test/security/([\w-]+)\.test\.ts:\d+:\d+$", re.MULTILINE)


def apply(project: Path, edits: list[Edit]) -> None:
    for edit in edits:
        path = project / edit.file
        text = path.read_text(encoding="utf-8")
        count = text.count(edit.find)
        assert count == 1, f"removal edit expects {edit.find!r} exactly once in {edit.file}, found {count}"
        path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


@pytest.fixture(scope="module", params=sorted(REMOVALS))
def installed_project(request: pytest.FixtureRequest, installed_projects: InstalledProjects) -> tuple[str, Path]:
    """(framework, its installed default project): shared, so each removal edits a clone_project copy."""
    framework = request.param
    return framework, installed_projects(framework=framework)


def test_every_practice_has_a_removal_for_every_framework() -> None:
    for framework, removals in REMOVALS.items():
        assert set(removals) == PRACTICES, framework


@pytest.mark.parametrize("practice", sorted(PRACTICES))
def test_removing_a_practice_fails_its_proof(installed_project: tuple[str, Path], tmp_path: Path, practice: str) -> None:
    framework, installed = installed_project
    project = clone_project(installed, tmp_path / "project")
    remove_and_expect_red(project, framework, practice)


def test_removing_the_role_check_fails_the_authorization_proof(installed_project: tuple[str, Path], tmp_path: Path) -> None:
    """The "authorization" removal above takes the ownership check away; this takes the role check."""
    framework, installed = installed_project
    project = clone_project(installed, tmp_path / "project")
    remove_and_expect_red(project, framework, "authorization", AUTHORIZATION_REMOVALS["role"])


@pytest.fixture(scope="module", params=sorted(REMOVALS))
def installed_oidc_project(request: pytest.FixtureRequest, installed_projects: InstalledProjects) -> tuple[str, Path]:
    """(framework, its installed auth: oidc project), shared the same way."""
    framework = request.param
    return framework, installed_projects(framework=framework, auth="oidc")


@pytest.mark.parametrize("check", sorted(OIDC_REMOVALS))
def test_removing_an_oidc_check_fails_the_oidc_proof(installed_oidc_project: tuple[str, Path], tmp_path: Path, check: str) -> None:
    """auth: oidc: without the audience check, the type check or the key-set cooldown, oidc.test.ts turns red."""
    framework, installed = installed_oidc_project
    project = clone_project(installed, tmp_path / "project")
    remove_and_expect_red(project, framework, "oidc", OIDC_REMOVALS[check])


def test_removing_verification_fails_the_asymmetric_jwt_proof(tmp_path: Path) -> None:
    """The Ed25519 variant has its own jwt proof file: it must turn red too."""
    project = generate(tmp_path / "project", auth="jwt-asymmetric")
    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    remove_and_expect_red(project, "express", "jwt")


def test_concatenated_sql_fails_the_injection_proof(tmp_path: Path) -> None:
    """With PostgreSQL, the email lookup built by string concatenation turns injection.test.ts red."""
    project = generate(tmp_path / "project", database="postgres")
    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    remove_and_expect_red(project, "express", "injection", DATABASE_REMOVALS["postgres"]["injection"])


def remove_and_expect_red(project: Path, framework: str, practice: str, edits: list[Edit] | None = None) -> None:
    apply(project, edits if edits is not None else REMOVALS[framework][practice])
    result = run(proof_file_command(project, practice), cwd=project, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"{framework}: npm test still passes without {practice}:\n{output[-4000:]}"
    failed = set(FAILED_FILE.findall(output))
    assert practice in failed, f"{framework}: without {practice}, the failures were in {sorted(failed)} instead:\n{output[-4000:]}"


def proof_file_command(project: Path, practice: str) -> list[str]:
    """`npm test`'s command line, narrowed from every test file to the practice's proof file."""
    script = json.loads((project / "package.json").read_text(encoding="utf-8"))["scripts"]["test"]
    assert ALL_TEST_FILES in script, f"the test script no longer names {ALL_TEST_FILES}: {script}"
    return shlex.split(script.replace(ALL_TEST_FILES, shlex.quote(f"test/security/{practice}.test.ts")))
