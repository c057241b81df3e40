"""`copier update` from 0.1.0 carries a team's project onto the route layer of 0.2.0: routes
declare an access policy, handlers receive the caller (hooks/codemods.py), and the team's own
route is then covered by the authorization proof without a new test.

The template history is real git: 0.1.0 is the tree of the commit that released it
(CHANGELOG.md), 0.2.0 this working tree.
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


def test_a_team_route_from_0_1_moves_onto_the_route_layer(template: Path, tmp_path: Path) -> None:
    project = generate_at(template, tmp_path / "payments-api", "0.1.0")
    edit(project / "src/api/routes.ts", "  ];\n  if (authenticated) {\n", GREETING_ROUTE_0_1 + "  ];\n  if (authenticated) {\n")
    (project / "test/greeting.test.ts").write_text(GREETING_TEST, encoding="utf-8")
    commit_and_tag(project, "Greeting endpoint")

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
