"""Outside verification of every supported combination (tests/matrix.py's COMBINATIONS):
njsscan and schemathesis against the running app, with a fresh database. What each check does
and why: tests/verification.py. The other two outside checks, eslint's security rules and
lockfile-lint, run in tests/test_matrix.py, where they are also the project's own lint.

Each combination is generated and installed once per run, and shared with its proof-suite
test in tests/test_matrix.py (tests/combination_projects.py).
PostgreSQL, MongoDB and Redis must be running (`.ci/services/`): without them the tests of the
combinations that need them fail, saying so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import verification
from combination_projects import prepared_project
from matrix import COMBINATIONS, combination_id

CHECKS = ("njsscan", "schemathesis")


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
