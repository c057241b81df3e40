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
import sys
from pathlib import Path

import pytest
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
    quick_start = ChildProcess(["bash", "-e", "-c", quick_start_command()], cwd=clone, env={**os.environ, "PATH": path, "PORT": str(port), "METRICS_PORT": "0"}, name="the Quick start")
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


# --- Where the weekly update workflow finds the template (issue 22, item 3) ---------------

UPDATE_WORKFLOW = ROOT / "template/.github/workflows/rampart-update.yml"
# What the workflow and the copy both say, in these words, so a team meets one explanation.
UNREACHABLE = "which GitHub cannot reach"


def template_source_step() -> dict:
    steps = yaml.safe_load(UPDATE_WORKFLOW.read_text(encoding="utf-8"))["jobs"]["update"]["steps"]
    names = [step.get("name", "") for step in steps]
    checks = [index for index, name in enumerate(names) if name == "Can GitHub reach the template?"]
    assert checks, f"rampart-update.yml checks no _src_path before copier runs: {names}"
    assert checks[0] < names.index("Is a newer Rampart release out?"), "the check must come before copier check-update"
    return steps[checks[0]]


def run_source_check(tmp_path: Path, source_line: str) -> subprocess.CompletedProcess[str]:
    """The workflow's step, run as GitHub runs it (bash -e), on an answers file with this line."""
    (tmp_path / ".copier-answers.yml").write_text(f"# Changes here will be overwritten by Copier\n_commit: 0.1.0\n{source_line}\nauth: jwt\n")
    script = template_source_step()["run"]
    env = {**os.environ, "ANSWERS_FILE": ".copier-answers.yml"}
    return subprocess.run(["bash", "-e", "-o", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("source_line", [
    "_src_path: /home/dev/src/rampart",
    "_src_path: '/Users/dev/Rampart clone'",
    "_src_path: file:///srv/git/rampart.git",
    "_src_path: ../rampart",
    "_src_path: C:\\Users\\dev\\rampart",
])
def test_the_update_workflow_says_plainly_when_the_template_is_a_local_path(tmp_path: Path, source_line: str) -> None:
    """Copier's own message for this is `Checking is only supported in git-tracked templates.`"""
    result = run_source_check(tmp_path, source_line)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    source = source_line.split(": ", 1)[1].strip("'")
    error = next((line for line in output.splitlines() if line.startswith("::error")), "")
    assert source in error and UNREACHABLE in error and "_src_path: https://github.com/" in error, output
    assert "copier" not in output.replace("copier-answers", "").replace("Copier", ""), "the step must explain, not run copier"


@pytest.mark.parametrize("source_line", [
    "_src_path: https://github.com/acme/rampart.git",
    "_src_path: 'https://git.example.com/platform/rampart'",
    "_src_path: git@github.com:acme/rampart.git",
    "_src_path: ssh://git@git.example.com/platform/rampart.git",
    "_src_path: gh:acme/rampart",
])
def test_the_update_workflow_goes_on_for_a_url(tmp_path: Path, source_line: str) -> None:
    result = run_source_check(tmp_path, source_line)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout


def test_a_copy_from_a_local_path_says_the_workflow_needs_a_url(tmp_path: Path) -> None:
    released = tmp_path / "rampart"
    release_1_0_0(released)
    git(released, "remote", "add", "origin", "https://git.example.com/platform/rampart.git")
    result = copier("copy", "--trust", "--defaults", "--quiet", str(released), str(tmp_path / "api"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if UNREACHABLE in line]
    assert len(said) == 1, result.stderr
    # What it is, why it matters, and the exact line to write instead (this clone's origin).
    assert str(released) in said[0] and ".github/workflows/rampart-update.yml" in said[0], said[0]
    assert "_src_path: https://git.example.com/platform/rampart.git" in said[0], said[0]
    assert yaml.safe_load((tmp_path / "api/.copier-answers.yml").read_text())["_src_path"] == str(released)


def test_a_copy_from_a_url_is_recorded_as_that_url_and_says_nothing_of_it(tmp_path: Path) -> None:
    """A URL GitHub could clone, served here from a local repository by git's insteadOf."""
    released = tmp_path / "rampart"
    release_1_0_0(released)
    url = "https://git.example.com/platform/rampart.git"
    config = tmp_path / "gitconfig"
    config.write_text(f'[url "{released}"]\n\tinsteadOf = {url}\n')
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--quiet", url, str(tmp_path / "api")],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, **GIT_ENV, "GIT_CONFIG_GLOBAL": str(config), "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load((tmp_path / "api/.copier-answers.yml").read_text())["_src_path"] == url
    assert UNREACHABLE not in result.stderr, result.stderr


def test_the_docs_agree_on_which_answers_file_line_a_team_may_edit() -> None:
    """docs/updating.md told teams to edit `_src_path` while the README said never to edit the
    answers file: both, and the generated README and answers file, now say the same thing."""
    rendered_pages = {
        "docs/updating.md": (ROOT / "docs/updating.md").read_text(encoding="utf-8"),
        "template/README.md.jinja": (ROOT / "template/README.md.jinja").read_text(encoding="utf-8"),
        "answers file": (ROOT / "template/{{_copier_conf.answers_file}}.jinja").read_text(encoding="utf-8"),
    }
    for page, text in rendered_pages.items():
        flat = " ".join(text.split())
        assert not re.search(r"never edit (it|`?\.copier-answers\.yml`?) by hand|NEVER EDIT MANUALLY", flat, re.IGNORECASE), page
        assert "_src_path" in flat, f"{page} does not say that `_src_path` is the line a team may edit"
    for page in ("docs/updating.md", "template/README.md.jinja"):
        flat = " ".join(rendered_pages[page].split())
        assert "only `_src_path`" in flat and "--data" in flat, f"{page}: which line may be edited, and how answers change"
