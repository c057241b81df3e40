"""`copier update` from 0.1.0 carries a team's project onto the route layer of 0.2.0: routes
declare an access policy, handlers receive the caller (hooks/codemods.py), and the team's own
route is then covered by the authorization proof without a new test.

The template history is real git: 0.1.0 is the tree of the commit that released it
(CHANGELOG.md, tag 0.1.0), 0.2.0 this working tree. The same update runs once more on that
history with no tags at all, as a platform team that has not tagged yet has it: a migration
that code needs may not depend on a tag being there (copier.yml's `_migrations`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import npm
from update_support import GREETING_ROUTE_0_1, GREETING_TEST, commit_and_tag, copier, edit, generate_at, git, history_from, leftovers

# "CHANGELOG 0.1.0: auth and rate-limit store choices": the 0.1.0 release.
RELEASE_0_1_0 = "6e3bcd6"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return history_from(
        RELEASE_0_1_0,
        tmp_path_factory.mktemp("rampart-0.1") / "template",
        old=("Rampart 0.1.0", "0.1.0"),
        new=("Rampart 0.2.0: route layer, roles, items", "0.2.0"),
    )


@pytest.fixture(scope="module")
def untagged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = history_from(
        RELEASE_0_1_0,
        tmp_path_factory.mktemp("rampart-0.1-untagged") / "template",
        old=("Rampart 0.1.0, not tagged", None),
        new=("Rampart main, not tagged", None),
    )
    assert git(repo, "tag").stdout.strip() == "", "the history must be untagged"
    return repo


def add_greeting_route_0_1(project: Path) -> None:
    edit(project / "src/api/routes.ts", "  ];\n  if (authenticated) {\n", GREETING_ROUTE_0_1 + "  ];\n  if (authenticated) {\n")
    (project / "test/greeting.test.ts").write_text(GREETING_TEST, encoding="utf-8")
    commit_and_tag(project, "Greeting endpoint")


def test_a_team_route_from_0_1_moves_onto_the_route_layer(template: Path, tmp_path: Path) -> None:
    project = generate_at(template, tmp_path / "payments-api", "0.1.0")
    add_greeting_route_0_1(project)

    result = copier("update", "--trust", "--defaults", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert leftovers(project) == [], output
    # The resource layout arrived too: the team's route moved to src/users/routes.ts, calling its repository.
    assert "moved src/api/routes.ts -> src/users/routes.ts: your edits carried over" in output
    assert "route policies: src/users/routes.ts: 1 route(s) now declare an access policy" in output
    assert "store calls: src/users/routes.ts: 1 call(s)" in output

    routes = (project / "src/users/routes.ts").read_text(encoding="utf-8")
    assert "auth: 'bearer'" not in routes
    assert "path: '/api/users/me/greeting'" in routes
    greeting = routes[routes.index("path: '/api/users/me/greeting'"):]
    assert greeting.index("access: 'authenticated'") < greeting.index("async handle({ caller: { userId } })") < greeting.index("defineRoute(")
    # The new route layer arrived beside the team's route: roles, items, the authorization proof.
    assert (project / "src/security/authorization.ts").is_file()
    assert (project / "test/security/authorization.test.ts").is_file()

    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    npm("run", "typecheck", cwd=project)
    npm("run", "lint", cwd=project)
    # npm test includes test/security/authorization.test.ts, whose matrix is read from the
    # server's /openapi.json: the team's route is in it, and answers 401 without a token.
    tested = npm("test", cwd=project, check=False, timeout=600)
    assert tested.returncode == 0, tested.stdout[-6000:] + tested.stderr[-2000:]


def test_the_route_conversion_runs_without_any_release_tag(untagged_template: Path, tmp_path: Path) -> None:
    """Issue 22: gated on `version: "0.2.0"`, the codemod never ran on an untagged history, the
    update said "merged without conflicts", and the team's route failed typecheck
    (`'auth' does not exist in type 'RouteShape'`)."""
    old_commit = git(untagged_template, "rev-parse", "HEAD~1").stdout.strip()
    project = generate_at(untagged_template, tmp_path / "payments-api", old_commit)
    add_greeting_route_0_1(project)

    result = copier("update", "--trust", "--defaults", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert leftovers(project) == [], output
    assert "route policies: src/users/routes.ts: 1 route(s) now declare an access policy" in output, output
    routes = (project / "src/users/routes.ts").read_text(encoding="utf-8")
    assert "auth: 'bearer'" not in routes and "async handle({ caller: { userId } })" in routes, routes

    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    typecheck = npm("run", "typecheck", cwd=project, check=False)
    assert typecheck.returncode == 0, typecheck.stdout[-4000:] + typecheck.stderr[-2000:]
    npm("run", "lint", cwd=project)
