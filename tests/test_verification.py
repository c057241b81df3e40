"""Outside verification of every supported combination (tests/matrix.py's COMBINATIONS):
njsscan and schemathesis against the running app, with a fresh database. What each check does
and why: tests/verification.py. The other two outside checks, eslint's security rules and
lockfile-lint, run in tests/test_matrix.py, where they are also the project's own lint.

Installs are shared: every project's package-lock.json is cut from the template's union lock
(hooks/npm/), so the union is installed once per run with `npm ci --ignore-scripts` and each
generated project links to it; exactly the versions its own lockfile pins are there (each
project's own `npm ci` is tests/test_matrix.py's job). Each combination is generated once and
shared by its two tests, across pytest-xdist workers too (file locks guard the shared copies).
PostgreSQL, MongoDB and Redis must be running (`.ci/services/`): without them the tests of the
combinations that need them fail, saying so.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import verification
from conftest import ROOT, generate, npm
from matrix import COMBINATIONS, combination_id

CHECKS = ("njsscan", "schemathesis")


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every xdist worker of this run sees (the parent of the workers' basetemps)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if worker_id != "master" else base) / "verification-shared"
    root.mkdir(exist_ok=True)
    return root


@contextmanager
def locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def once(shared_root: Path, name: str, make: Callable[[Path], None]) -> Path:
    """Runs make(directory) once per run for `name`, whichever worker asks first."""
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


def union_install(shared_root: Path) -> Path:
    def install(directory: Path) -> None:
        for file in ("package.json", "package-lock.json"):
            shutil.copy(ROOT / "hooks" / "npm" / file, directory / file)
        npm("ci", "--ignore-scripts", "--no-audit", cwd=directory)

    return once(shared_root, "union-install", install) / "node_modules"


def prepared_project(shared_root: Path, combination: dict[str, str]) -> Path:
    """The combination, generated once per run, linked to the union install."""
    node_modules = union_install(shared_root)

    def prepare(directory: Path) -> None:
        project = generate(directory / "project", **combination)
        (project / "node_modules").symlink_to(node_modules, target_is_directory=True)

    return once(shared_root, combination_id(combination), prepare) / "project"


# Check by check, so the first checks the workers pick prepare different combinations.
@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
@pytest.mark.parametrize("check", CHECKS)
def test_outside_verification(shared_root: Path, combination: dict[str, str], check: str) -> None:
    if check == "schemathesis":
        # Before anything is generated: a missing server is named at once.
        verification.require_servers(combination)
    project = prepared_project(shared_root, combination)
    if check == "njsscan":
        cache = shared_root / "njsscan-cache"
        cache.mkdir(exist_ok=True)
        verification.run_njsscan(project, cache_dir=cache)
    else:
        report = verification.run_schemathesis(project, {"LOG_LEVEL": "info"})
        print(json.dumps({key: report[key] for key in ("operations", "test_cases", "running_time", "elapsed_seconds")}))
