"""`copier update --data NAME=VALUE` changes an answer that swaps whole files (database, auth,
framework, rate_limit_store): a file the team edited that the new choice no longer renders
is kept and reported, never deleted in silence, and `.env` is named with exactly what the new
choice needs (an update never writes it).

Issue 22: `--data database=postgres` on a SQLite project deleted `src/db/sqlite.ts` with the
team's 48 lines of store code in it, reported "merged without conflicts", and left `.env`
pointing at the SQLite file. tests/test_update.py keeps the other half: an unedited project
changes its answer and ends exactly as a fresh project of the new choice.

Real git: a one-release template history (this working tree, tagged 1.0.0), projects
generated from it, edited and committed, then updated with the copier CLI at the same release.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from update_support import build_single_release, commit_and_tag, copier, generate_at, git, leftovers

# A team's own code in a file Rampart renders for one choice only: 48 lines, as in the issue.
TEAM_STORE_CODE = "\n".join(
    ["", "// Payments: our settlement ledger, read by the nightly reconciliation job."]
    + [f"export const settlementColumn{index} = 'ledger_{index}';" for index in range(46)]
    + [""]
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_single_release(tmp_path_factory.mktemp("rampart-answers") / "template")


def update_with(project: Path, *answers: str) -> str:
    data = [argument for answer in answers for argument in ("--data", answer)]
    result = copier("update", "--trust", "--defaults", "--vcs-ref", ":current:", *data, cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.mark.parametrize(("start", "change", "edited", "env_line"), [
    pytest.param({"database": "sqlite"}, "database=postgres", "src/db/sqlite.ts",
                 "DATABASE_URL=postgres://app:app-password-for-local-development@127.0.0.1:5432/app", id="sqlite-to-postgres"),
    pytest.param({"database": "postgres"}, "database=mongodb", "src/users/postgres.ts",
                 "DATABASE_URL=mongodb://127.0.0.1:27017/app", id="postgres-to-mongodb"),
    pytest.param({"auth": "jwt"}, "auth=none", "src/security/passwords.ts", None, id="jwt-to-none"),
    pytest.param({"auth": "jwt"}, "auth=oidc", "src/users/sqlite.ts", None, id="jwt-to-oidc"),
])
def test_an_edited_file_the_new_choice_drops_is_kept_and_reported(
    template: Path, tmp_path: Path, start: dict, change: str, edited: str, env_line: str | None
) -> None:
    project = generate_at(template, tmp_path / "payments-api", "1.0.0", **start)
    target = project / edited
    team_version = target.read_text(encoding="utf-8") + TEAM_STORE_CODE
    target.write_text(team_version, encoding="utf-8")
    commit_and_tag(project, "Settlement ledger")
    extra = ("oidc_issuer=https://id.example.com", "oidc_audience=api://payments") if change == "auth=oidc" else ()

    output = update_with(project, change, *extra)

    assert target.read_text(encoding="utf-8") == team_version, f"{edited} was deleted or changed:\n{output}"
    assert "merged without conflicts" not in output, output
    report = output[output.index("UPDATE CONFLICTS"):]
    name, value = change.split("=")
    assert f"  {edited}: " in report and f"{name} is now {value}" in report, report
    # Unmerged ("deleted by them"): git status shows it, the workflow lists it, a commit waits for a decision.
    assert git(project, "diff", "--name-only", "--diff-filter=U").stdout.split() == [edited], git(project, "status").stdout
    assert leftovers(project) == [], output
    if env_line:
        assert f"  .env: " in report and env_line in report, report


def test_files_the_team_did_not_edit_go_with_the_old_choice(template: Path, tmp_path: Path) -> None:
    project = generate_at(template, tmp_path / "project", "1.0.0", database="sqlite")
    edited = project / "src/items/sqlite.ts"
    edited.write_text(edited.read_text(encoding="utf-8") + TEAM_STORE_CODE, encoding="utf-8")
    commit_and_tag(project, "One edited file of the old choice")
    output = update_with(project, "database=postgres")
    assert not (project / "src/db/sqlite.ts").exists() and not (project / "src/users/sqlite.ts").exists(), output
    assert (project / "src/db/postgres.ts").is_file()
    report = output[output.index("UPDATE CONFLICTS"):]
    assert "src/items/sqlite.ts" in report and "src/db/sqlite.ts" not in report, report


@pytest.mark.parametrize(("start", "change", "env_says"), [
    pytest.param({"rate_limit_store": "memory"}, "rate_limit_store=redis", "REDIS_URL=redis://127.0.0.1:6379", id="memory-to-redis"),
    pytest.param({"auth": "none"}, "auth=jwt", "JWT_ACCESS_SECRET", id="none-to-jwt"),
    pytest.param({"auth": "jwt"}, "auth=jwt-asymmetric", "JWT_PRIVATE_KEY", id="jwt-to-jwt-asymmetric"),
    pytest.param({"database": "mongodb"}, "database=sqlite", "DATABASE_URL=file:data/app.db", id="mongodb-to-sqlite"),
])
def test_env_is_named_with_what_the_new_choice_needs_and_never_written(
    template: Path, tmp_path: Path, start: dict, change: str, env_says: str
) -> None:
    project = generate_at(template, tmp_path / "project", "1.0.0", **start)
    secrets_before = (project / ".env").read_bytes()
    output = update_with(project, change)
    assert (project / ".env").read_bytes() == secrets_before, "an update wrote .env"
    assert "merged without conflicts" not in output, output
    report = output[output.index("UPDATE CONFLICTS"):]
    env_report = next(line for line in report.splitlines() if line.startswith("  .env: "))
    assert env_says in env_report, env_report


def test_an_update_that_changes_no_answer_says_nothing_of_env(template: Path, tmp_path: Path) -> None:
    project = generate_at(template, tmp_path / "project", "1.0.0", database="postgres", rate_limit_store="redis")
    output = update_with(project, "rate_limit_max=250")
    assert "update merged without conflicts" in output and ".env:" not in output, output
