"""Proof that the proofs can fail: remove each practice from a generated project and the
proof suite turns red, in that practice's own file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import clone_project, npm
from removals import REMOVALS, Edit

FAILED_FILE = re.compile(r"^test at (?:\S*/)?test/security/([\w-]+)\.test\.ts:\d+:\d+$", re.MULTILINE)


def apply(project: Path, edits: list[Edit]) -> None:
    for edit in edits:
        path = project / edit.file
        text = path.read_text(encoding="utf-8")
        count = text.count(edit.find)
        assert count == 1, f"removal edit expects {edit.find!r} exactly once in {edit.file}, found {count}"
        path.write_text(text.replace(edit.find, edit.replace), encoding="utf-8")


def test_every_practice_has_a_removal() -> None:
    for framework, removals in REMOVALS.items():
        assert set(removals) == {"validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "supply-chain"}, framework


@pytest.mark.parametrize("practice", sorted(REMOVALS["express"]))
def test_removing_a_practice_fails_its_proof(default_project: Path, tmp_path: Path, practice: str) -> None:
    project = clone_project(default_project, tmp_path / "project")
    apply(project, REMOVALS["express"][practice])
    result = npm("test", cwd=project, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"npm test still passes without {practice}:\n{output[-4000:]}"
    failed = set(FAILED_FILE.findall(output))
    assert practice in failed, f"without {practice}, the failures were in {sorted(failed)} instead:\n{output[-4000:]}"
