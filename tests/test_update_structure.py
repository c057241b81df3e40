"""`copier update` carries a team's project onto the resource layout (src/users/, src/items/,
src/auth/) with its edits, with no release tag anywhere: the move steps in copier.yml carry no
`version:` and decide from the project itself (hooks/migrations.py).

The template history is real git and untagged, as a platform team's repository is until its first tag: the commit before the
move (PRE_MOVE) and then this working tree.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import npm
from update_support import GREETING_ROUTE, commit_and_tag, copier, edit, generate_at, git, history_from, leftovers

# "docs/performance.md: what remains on the Fastify PATCH": the last commit before the move.
PRE_MOVE = "f80ddc3"

# A team's own route, added among the items' routes before the move, calling the old Store.
LATEST_ITEM_ROUTE = """\
    defineRoute({
      method: 'GET',
      path: '/api/items/latest',
      summary: 'Your latest item',
      tag: 'items',
      access,
      schemas: { params: NoParams, query: NoQuery },
      responses: { 200: { description: 'Your latest item, or null', schema: ItemSchema.nullable() } },
      async handle({ caller }) {
        const [latest] = await store.listItems({ ownerId: caller?.userId ?? null, limit: 1 });
        return { status: 200, body: latest ? publicItem(latest) : null };
      },
    }),
"""
ITEM_ROUTE_ANCHOR = "    defineRoute({\n      method: 'GET',\n      path: '/api/items/:id',"
STORE_NOTE = "// Payments: reviewed with the storage team.\n"
# The greeting route as a team wrote it before the move, against the one Store.
GREETING_ROUTE_PRE_MOVE = GREETING_ROUTE.replace("users.findById(", "store.findUserById(")


def head_sha(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two untagged commits: the template before the move, then this working tree."""
    repo = history_from(
        PRE_MOVE,
        tmp_path_factory.mktemp("rampart-structure") / "template",
        old=("Rampart before the move", None),
        new=("Rampart: resources as units", None),
    )
    assert git(repo, "tag").stdout.strip() == "", "the history must be untagged"
    return repo


def test_a_team_edit_in_a_moved_file_is_kept_without_a_release_tag(template: Path, tmp_path: Path) -> None:
    pre_move = git(template, "rev-parse", "HEAD~1").stdout.strip()
    project = generate_at(template, tmp_path / "payments-api", pre_move)
    edit(project / "src/api/item-routes.ts", ITEM_ROUTE_ANCHOR, LATEST_ITEM_ROUTE + ITEM_ROUTE_ANCHOR)
    edit(project / "src/api/routes.ts", "  ];\n  if (authenticated) {\n", GREETING_ROUTE_PRE_MOVE + "  ];\n  if (authenticated) {\n")
    store = project / "src/db/store.ts"
    store.write_text(STORE_NOTE + store.read_text(encoding="utf-8"), encoding="utf-8")
    commit_and_tag(project, "Latest item, greeting, a note on the store")

    result = copier("update", "--trust", "--defaults", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert leftovers(project) == [], output

    # The edited moves: the team's routes are in the new files, calling the repositories.
    assert "moved src/api/item-routes.ts -> src/items/routes.ts: your edits carried over" in output, output
    assert "moved src/api/routes.ts -> src/users/routes.ts: your edits carried over" in output, output
    assert not (project / "src/api/item-routes.ts").exists() and not (project / "src/api/routes.ts").exists()
    items = (project / "src/items/routes.ts").read_text(encoding="utf-8")
    assert LATEST_ITEM_ROUTE.replace("store.listItems(", "items.list(") + ITEM_ROUTE_ANCHOR in items, items
    users = (project / "src/users/routes.ts").read_text(encoding="utf-8")
    assert GREETING_ROUTE in users, users
    assert "store calls: src/items/routes.ts: 1 call(s)" in output and "store calls: src/users/routes.ts: 1 call(s)" in output, output

    # The unedited moves say so; the edited store, split in this release, is kept for the team.
    assert "moved src/auth.ts -> src/auth/index.ts: you had not edited it" in output, output
    assert "moved src/api/auth-routes.ts -> src/auth/routes.ts: you had not edited it" in output, output
    assert not (project / "src/auth.ts").exists() and not (project / "src/api/auth-routes.ts").exists()
    assert store.read_text(encoding="utf-8").startswith(STORE_NOTE)
    assert "src/db/store.ts is no longer part of Rampart" in output, output

    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    npm("run", "typecheck", cwd=project)
    npm("run", "lint", cwd=project)


def test_the_move_steps_are_silent_once_moved(template: Path, tmp_path: Path) -> None:
    """On the new layout, every later update runs the steps again: they find nothing to do."""
    repo = Path(shutil.copytree(template, tmp_path / "template", symlinks=True))
    project = generate_at(repo, tmp_path / "project", head_sha(repo))
    edit(repo / "template/src/security/headers.ts", "'Referrer-Policy': 'no-referrer',", "'Referrer-Policy': 'no-referrer', // unchanged")
    commit_and_tag(repo, "A later change")
    result = copier("update", "--trust", "--defaults", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "// unchanged" in (project / "src/security/headers.ts").read_text(encoding="utf-8")
    for said in ("moved ", "no longer part of Rampart", "store calls:"):
        assert said not in output, output


def test_an_edit_in_a_part_that_moved_out_of_a_split_file_is_a_reported_conflict(template: Path, tmp_path: Path) -> None:
    """src/db/sqlite.ts keeps its path but gives its items' statements to src/items/sqlite.ts:
    a team's edit there cannot be placed by a machine, so it is kept, marked and reported."""
    pre_move = git(template, "rev-parse", "HEAD~1").stdout.strip()
    project = generate_at(template, tmp_path / "project", pre_move)
    team_line = "    // Payments: titles are audited nightly.\n"
    edit(project / "src/db/sqlite.ts", "  async updateItem(id: string, changes: ItemChanges, scope: OwnerScope): Promise<Item | null> {\n",
         "  async updateItem(id: string, changes: ItemChanges, scope: OwnerScope): Promise<Item | null> {\n" + team_line)
    commit_and_tag(project, "An audit note")
    result = copier("update", "--trust", "--defaults", cwd=project)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    merged = (project / "src/db/sqlite.ts").read_text(encoding="utf-8")
    assert team_line in merged and "<<<<<<< before updating" in merged, merged
    assert leftovers(project) == ["src/db/sqlite.ts"], output
    assert "src/db/sqlite.ts: conflict markers" in output, output
