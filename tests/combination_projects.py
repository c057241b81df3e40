"""Each combination of choices, generated and installed once per run and shared by the tests
that need it: its whole proof suite (tests/test_matrix.py) and its outside verification
(tests/test_verification.py), across pytest-xdist workers too (file locks guard the copies).

A shared project is only read by those tests: a test that edits files works on a copy
(conftest.clone_project).
"""

from __future__ import annotations

import fcntl
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import generate, npm
from matrix import combination_id


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once(shared_root: Path, name: str, make: Callable[[Path], None]) -> Path:
    """Runs make(directory) once per run for `name`, whichever worker asks first; a failure is
    reported to every later asker too."""
    directory = shared_root / name
    with locked(shared_root / f"{name}.lock"):
        failed = shared_root / f"{name}.failed"
        if failed.is_file():
            pytest.fail(f"preparing {name} failed earlier in this run:\n{failed.read_text()}")
        if not (shared_root / f"{name}.done").is_file():
            shutil.rmtree(directory, ignore_errors=True)
            directory.mkdir()
            try:
                make(directory)
            except BaseException as error:
                failed.write_text(str(error))
                raise
            (shared_root / f"{name}.done").write_text("ok")
    return directory


def prepared_project(shared_root: Path, combination: dict[str, str]) -> Path:
    """The combination, generated from the working tree and installed with its own
    `npm ci --ignore-scripts`, once per run."""

    def prepare(directory: Path) -> None:
        project = generate(directory / "project", **combination)
        npm("ci", "--ignore-scripts", "--no-audit", cwd=project)

    return once(shared_root, combination_id(combination), prepare) / "project"
