"""The generated project's structure holds in every combination (docs/project-structure.md in
the generated manual): no source file over 300 lines, nothing in src/security importing from
the layers above it, src/api importing no resource, and no import cycle anywhere in src/, type
imports included; the local accounts' modules and tables only where the auth choice keeps
accounts. Rendering alone, no npm: all 48 combinations in well under a minute.

The generated project's own `npm run lint` enforces the same layering with
eslint-plugin-import-x; the last test shows it failing on a team's upward import and cycle.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import ROOT, clone_project, npm
from copier import run_copy
from matrix import COMBINATIONS, combination_id, with_required_answers

MAX_LINES = 300
# Modules every layer may import: settings, the logger, the generated answers.
FOUNDATION = {"src/config.ts", "src/logger.ts", "src/project.ts"}
# import ... from '...', import '...', export ... from '...', across lines; never across statements.
IMPORT = re.compile(r"""^\s*(?:import|export)\b(?:[^'";]*?\bfrom)?\s*['"]([^'"]+)['"]""", re.MULTILINE)


def render(destination: Path, combination: dict[str, str]) -> Path:
    run_copy(str(ROOT), destination, data=with_required_answers(combination), defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD", skip_tasks=True)
    return destination


def import_graph(project: Path) -> dict[str, set[str]]:
    """Every module of src/ and the modules of src/ it imports (types included), by project path."""
    graph: dict[str, set[str]] = {}
    for source in sorted((project / "src").rglob("*.ts")):
        name = source.relative_to(project).as_posix()
        targets = set()
        for specifier in IMPORT.findall(source.read_text(encoding="utf-8")):
            if specifier.startswith("."):
                target = (source.parent / specifier).resolve().relative_to(project.resolve()).as_posix()
                assert (project / target).is_file(), f"{name} imports {specifier}, which is not there"
                targets.add(target)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one module (or a self-import)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("structure")
    return {combination_id(combination): render(root / combination_id(combination), combination) for combination in COMBINATIONS}


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_every_combination_keeps_its_layers(rendered: dict[str, Path], combination: dict[str, str]) -> None:
    project = rendered[combination_id(combination)]
    graph = import_graph(project)
    assert len(graph) >= 30, sorted(graph)

    too_long = {name: count for name in graph if (count := len((project / name).read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"source files over {MAX_LINES} lines: {too_long}"

    upward = {
        name: sorted(target for target in targets if not target.startswith("src/security/") and target not in FOUNDATION)
        for name, targets in graph.items()
        if name.startswith("src/security/")
    }
    assert not {name: targets for name, targets in upward.items() if targets}, "src/security imports from the layers above it"

    route_layer = {
        name: sorted(target for target in targets if not target.startswith(("src/api/", "src/security/")) and target not in FOUNDATION)
        for name, targets in graph.items()
        if name.startswith("src/api/")
    }
    assert not {name: targets for name, targets in route_layer.items() if targets}, "src/api imports a resource or the database"

    assert cycles(graph) == [], "import cycles in src/"


# The local accounts' modules: with auth oidc the identity provider holds the accounts, so a
# project has none of them (src/users/routes.ts answers GET /api/users/me from the token).
ACCOUNT_MODULES = {"src/users/repository.ts", "src/users/schemas.ts", "src/users/sqlite.ts", "src/users/postgres.ts", "src/users/mongodb.ts", "src/db/sqlite-accounts.ts"}
# Tables and collections of the local accounts, as the schema code or migrations name them.
ACCOUNT_TABLES = re.compile(r"\b(?:CREATE TABLE(?: IF NOT EXISTS)?|REFERENCES) (?:users|user_roles|refresh_tokens|revoked_refresh_families)\b|collection: 'users'")


@pytest.mark.parametrize("combination", COMBINATIONS, ids=combination_id)
def test_accounts_exist_only_where_the_api_keeps_them(rendered: dict[str, Path], combination: dict[str, str]) -> None:
    """jwt and jwt-asymmetric keep accounts, roles and sessions; none keeps user records (and
    the same schema); oidc keeps no account at all: items only, owned by the token's sub."""
    project = rendered[combination_id(combination)]
    auth, database = combination["auth"], combination["database"]
    sources = {path.relative_to(project).as_posix() for path in (project / "src").rglob("*.ts")}
    schema_files = [project / name for name in sources if name.startswith("src/db/") or name.endswith(f"/{database}.ts")]
    schema_files += sorted((project / "migrations").glob("*.sql"))
    account_schema = sorted(path.relative_to(project).as_posix() for path in schema_files if ACCOUNT_TABLES.search(path.read_text(encoding="utf-8")))
    index = (project / "src/db/index.ts").read_text(encoding="utf-8")
    migrations = sorted(path.name for path in (project / "migrations").glob("*.sql"))
    if auth == "oidc":
        assert not sources & ACCOUNT_MODULES, f"local account modules in an oidc project: {sorted(sources & ACCOUNT_MODULES)}"
        assert not (project / "src/cli").exists(), "grant-role has no accounts to change with oidc"
        assert account_schema == [], f"account tables in an oidc project: {account_schema}"
        assert "users:" not in index and "sessions:" not in index, index
        if database == "postgres":
            assert migrations == ["001_items.sql"], migrations
    else:
        expected = {"src/users/repository.ts", "src/users/schemas.ts", f"src/users/{database}.ts"} | ({"src/db/sqlite-accounts.ts"} if database == "sqlite" else set())
        assert expected <= sources, f"missing: {sorted(expected - sources)}"
        assert ("src/cli/grant-role.ts" in sources) == (auth != "none")
        assert account_schema, "no account tables"
        assert "users:" in index and ("sessions:" in index) == (auth != "none"), index
        if database == "postgres":
            assert migrations == ["001_initial.sql", "002_roles_and_items.sql", "003_refresh_family_revocation.sql"], migrations


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    """The graph and the cycle finder on a planted cycle and a planted upward import."""
    project = render(tmp_path / "project", COMBINATIONS[0])
    (project / "src/items/a.ts").write_text("import type { B } from './b.ts';\nexport type A = B;\n")
    (project / "src/items/b.ts").write_text("import type {\n  A,\n} from './a.ts';\nexport type B = A;\n")
    graph = import_graph(project)
    assert graph["src/items/a.ts"] == {"src/items/b.ts"} and graph["src/items/b.ts"] == {"src/items/a.ts"}
    assert ["src/items/a.ts", "src/items/b.ts"] in cycles(graph)
    assert "src/security/errors.ts" in graph["src/api/route.ts"]


UPWARD_IMPORT = "import type { ItemRepository } from '../items/repository.ts';\nexport type Unused = ItemRepository;\n"
CYCLE = {
    "src/items/clock.ts": "import { stamp } from './stamp.ts';\nexport const now = (): string => stamp(new Date());\n",
    "src/items/stamp.ts": "import { now } from './clock.ts';\nexport const stamp = (date: Date): string => (date ? date.toISOString() : now());\n",
}


def test_lint_refuses_an_upward_import_and_a_cycle(installed_projects, tmp_path: Path) -> None:
    project = clone_project(installed_projects(), tmp_path / "project")
    npm("run", "lint", cwd=project)
    headers = project / "src/security/headers.ts"
    headers.write_text(UPWARD_IMPORT + headers.read_text(encoding="utf-8"), encoding="utf-8")
    for name, text in CYCLE.items():
        (project / name).write_text(text, encoding="utf-8")
    result = npm("run", "lint", cwd=project, check=False)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert re.search(r"src/security/headers\.ts\n\s+1:\d+\s+error\s+.*src/security is the bottom layer.*import-x/no-restricted-paths", output), output
    for name in CYCLE:
        assert re.search(rf"{re.escape(name)}\n\s+1:1\s+error\s+Dependency cycle detected\s+import-x/no-cycle", output), output
