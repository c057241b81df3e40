"""The README's Quick start, run verbatim in a fresh clone of a released Rampart: it installs
the generator, generates a project that serves, and that project can take the next release.

The one test here costs about a minute (a real `pip install -r requirements.txt` and
`npm ci`): it is the first hour of a new user, and every other test starts after it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import yaml
from conftest import ROOT, VENV_BIN, free_port
from processes import ChildProcess
from update_support import GIT_ENV, commit_and_tag, copier, git, release_1_0_0

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_command() -> str:
    section = README[README.index("## Quick start\n"):]
    match = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert match, "README.md's Quick start has no ```sh block"
    return match.group(1)


def test_the_quick_start_gives_a_project_that_serves_and_updates(tmp_path: Path) -> None:
    released = tmp_path / "released"
    release_1_0_0(released)
    clone = tmp_path / "rampart"
    git(tmp_path, "clone", "-q", str(released), str(clone))

    # A new user's shell: no virtual environment of ours on PATH, only what the command installs.
    path = os.pathsep.join(entry for entry in os.environ["PATH"].split(os.pathsep) if Path(entry) != VENV_BIN)
    port = free_port()
    quick_start = ChildProcess(["bash", "-e", "-c", quick_start_command()], cwd=clone, env={**os.environ, "PATH": path, "PORT": str(port)}, name="the Quick start")
    try:
        quick_start.wait_for_http(f"http://127.0.0.1:{port}/health", timeout=900)
    finally:
        quick_start.stop(grace=30)

    project = tmp_path / "my-api"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(clone) and answers["_commit"] == "1.0.0", answers
    git(project, "init", "-q", "-b", "main")
    commit_and_tag(project, "Generated from Rampart")

    # The next release, in the clone the project was generated from.
    npmrc = clone / "template/.npmrc"
    npmrc.write_text(npmrc.read_text() + "# Rampart 1.0.1 was here.\n")
    commit_and_tag(clone, "1.0.1", "1.0.1")

    clone_copier = str(clone / ".venv/bin/copier")
    check = subprocess.run([clone_copier, "check-update", "--output-format", "json"], cwd=project, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout) == {"update_available": True, "current_version": "1.0.0", "latest_version": "1.0.1"}
    update = subprocess.run([clone_copier, "update", "--trust", "--defaults"], cwd=project, capture_output=True, text=True, timeout=300,
                            env={**os.environ, **GIT_ENV, "PATH": f"{clone / '.venv/bin'}{os.pathsep}{path}"})
    assert update.returncode == 0, update.stdout + update.stderr
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "1.0.1"
    assert (project / ".npmrc").read_text().endswith("# Rampart 1.0.1 was here.\n")


def test_a_relative_template_path_is_recorded_as_the_absolute_one(tmp_path: Path) -> None:
    """`copier copy . ../api` would record `_src_path: .`, which the project reads as itself."""
    released = tmp_path / "rampart"
    release_1_0_0(released)
    result = copier("copy", "--trust", "--defaults", ".", "../api", cwd=released)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "api/.copier-answers.yml").read_text())["_src_path"] == str(released)
    assert f"recorded the template as {released} (not '.')" in result.stderr


def test_a_template_outside_git_is_refused_and_nothing_stays(tmp_path: Path) -> None:
    released = tmp_path / "released"
    release_1_0_0(released)
    plain = tmp_path / "plain"  # the release as a download would have it: files, no .git
    plain.mkdir()
    subprocess.run(f"git archive HEAD | tar -x -C '{plain}'", shell=True, cwd=released, check=True)
    result = copier("copy", "--trust", "--defaults", str(plain), str(tmp_path / "api"), cwd=tmp_path)
    assert result.returncode != 0
    assert "refused: the template" in result.stderr and "is not a git repository" in result.stderr, result.stderr
    assert not (tmp_path / "api").exists(), "a project that could never be updated was left behind"
