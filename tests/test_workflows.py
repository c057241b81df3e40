"""The generated GitHub workflows, read by linters nobody here wrote, in every combination.

- zizmor (requirements.txt), offline audits at its default persona, with no configuration
  file that could silence an audit: no findings.
- actionlint (.ci/services/workflow-linters.sh builds the pinned version) with shellcheck on
  every `run:` script: no findings.
- A finding accepted on purpose is suppressed inline (`# zizmor: ignore[audit]`, `# shellcheck
  disable=SCxxxx`) with its reason, and listed in ACCEPTED_SUPPRESSIONS: the count of each is
  asserted exactly, so a new suppression cannot slip in unreviewed.

Only .github/ is rendered (no tasks, no npm): the workflows depend on the answers, not on the
lockfile or .env. A deliberately bad workflow shows each linter (and shellcheck inside
actionlint) reporting what it should, so "no findings" cannot come from a linter that looked
at nothing.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from conftest import ROOT
from copier import run_copy
from matrix import COMBINATIONS, combination_id, with_required_answers

LINTERS_SCRIPT = ".ci/services/workflow-linters.sh"
ACTIONLINT_VERSION = re.search(r"^ACTIONLINT_VERSION=(\S+)$", (ROOT / LINTERS_SCRIPT).read_text(), re.MULTILINE).group(1)  # type: ignore[union-attr]
WORKFLOW_FILES = (".github/workflows/ci.yml", ".github/workflows/rampart-update.yml", ".github/dependabot.yml")

# "file: directive" -> how many times each combination carries it, with the reason beside it
# in the workflow. None today: every finding was fixed, not accepted.
ACCEPTED_SUPPRESSIONS: dict[str, int] = {}
SUPPRESSION = re.compile(r"#\s*(zizmor:\s*ignore\[[^\]]*\]|shellcheck\s+disable=[A-Z0-9,]+)")

BAD_WORKFLOW = """\
name: bad
on:
  issues:
permissions: {}
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          persist-credentials: false
      - run: echo "${{ github.event.issue.title }}" && cd $HOME
"""


def tool(name: str, how: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not on PATH: {how}", pytrace=False)
    return path


def zizmor_binary() -> str:
    return tool("zizmor", "install requirements.txt into this virtual environment (zizmor is pinned there)")


def actionlint_binary() -> str:
    binary = tool("actionlint", f"run `bash {LINTERS_SCRIPT}` (as root: it builds actionlint {ACTIONLINT_VERSION} with Go)")
    version = subprocess.run([binary, "-version"], capture_output=True, text=True, timeout=30).stdout.split("\n", 1)[0].strip()
    if version != ACTIONLINT_VERSION:
        pytest.fail(f"{binary} is actionlint {version!r}, the tests pin {ACTIONLINT_VERSION}: run `bash {LINTERS_SCRIPT}`", pytrace=False)
    return binary


def shellcheck_binary() -> str:
    # Passed to actionlint explicitly: without shellcheck it would skip the scripts silently.
    return tool("shellcheck", f"run `bash {LINTERS_SCRIPT}` (as root: Debian's shellcheck)")


def zizmor(paths: list[Path], cwd: Path) -> list[dict]:
    result = subprocess.run(
        [zizmor_binary(), "--offline", "--no-config", "--persona=regular", "--format=json", *map(str, paths)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    # 0: nothing found; 10 and up: findings (their highest severity). Anything else is a failure to run.
    if 0 < result.returncode < 10:
        pytest.fail(f"zizmor exited {result.returncode}:\n{result.stderr[-3000:]}", pytrace=False)
    audited = re.findall(r"completed (\S+)", result.stderr)
    expected = sum(len(list((cwd / path).glob(".github/workflows/*.yml"))) + (cwd / path / ".github/dependabot.yml").is_file() for path in paths)
    assert len(audited) == expected, f"zizmor audited {len(audited)} files, expected {expected}:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout)


def actionlint(files: list[Path], cwd: Path, config: Path) -> list[dict]:
    result = subprocess.run(
        [actionlint_binary(), "-config-file", str(config), "-shellcheck", shellcheck_binary(), "-format", "{{json .}}", *map(str, files)],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )
    if result.returncode not in (0, 1):  # 1: problems found; others: it could not run
        pytest.fail(f"actionlint exited {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}", pytrace=False)
    return json.loads(result.stdout or "[]")


def zizmor_summary(finding: dict) -> str:
    location = finding["locations"][0]
    path = location["symbolic"]["key"]["Local"]["verbatim_path"]
    row = location["concrete"]["location"]["start_point"]["row"] + 1
    return f"{path}:{row}: zizmor {finding['ident']}: {finding['desc']}"


def actionlint_summary(error: dict) -> str:
    return f"{error['filepath']}:{error['line']}: actionlint {error['kind']}: {error['message']}"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every combination's .github/ rendered by Copier (nothing else, no tasks), one
    subdirectory each, from a plain copy of the working tree: Copier reads a directory that is
    not a git repository as it is, instead of cloning it once per combination."""
    root = tmp_path_factory.mktemp("workflows")
    template = root / "template-copy"
    shutil.copytree(ROOT, template, ignore=shutil.ignore_patterns(".git", ".venv", "node_modules", "__pycache__"))
    only_github = ["*", "!.github", "!.github/**"]
    for combination in COMBINATIONS:
        run_copy(str(template), root / combination_id(combination), data=with_required_answers(combination), defaults=True,
                 unsafe=True, quiet=True, skip_tasks=True, exclude=only_github)
    return root


def test_the_linters_report_a_bad_workflow(tmp_path: Path) -> None:
    project = tmp_path / "bad"
    (project / ".github/workflows").mkdir(parents=True)
    workflow = project / ".github/workflows/bad.yml"
    workflow.write_text(BAD_WORKFLOW, encoding="utf-8")
    config = tmp_path / "actionlint.yaml"
    config.write_text("", encoding="utf-8")
    assert {finding["ident"] for finding in zizmor([project], tmp_path)} == {"template-injection", "unpinned-uses"}
    errors = actionlint([workflow], tmp_path, config)
    assert {error["kind"] for error in errors} == {"expression", "shellcheck"}, errors
    assert any("SC2086" in error["message"] for error in errors), errors


def test_no_findings_from_zizmor_or_actionlint_in_any_combination(rendered: Path, tmp_path: Path) -> None:
    projects = [rendered / combination_id(combination) for combination in COMBINATIONS]
    config = tmp_path / "actionlint.yaml"
    config.write_text("", encoding="utf-8")  # actionlint's defaults; no project configuration
    findings = [zizmor_summary(finding) for finding in zizmor([Path(project.name) for project in projects], rendered)]
    files = [Path(project.name) / name for project in projects for name in WORKFLOW_FILES if name.startswith(".github/workflows/")]
    errors = [actionlint_summary(error) for error in actionlint(files, rendered, config)]
    assert not findings + errors, f"{len(findings)} zizmor and {len(errors)} actionlint finding(s):\n" + "\n".join(findings + errors)

    # What the linters were told to overlook: exactly the accepted suppressions, in each combination.
    for project in projects:
        found: Counter[str] = Counter()
        for name in WORKFLOW_FILES:
            for directive in SUPPRESSION.findall((project / name).read_text(encoding="utf-8")):
                found[f"{name}: {' '.join(directive.split())}"] += 1
        assert dict(found) == ACCEPTED_SUPPRESSIONS, f"{project.name}: suppressions differ from ACCEPTED_SUPPRESSIONS: {dict(found)}"
