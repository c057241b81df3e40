"""A released template history, real git, for tests/test_update.py.

The template repository is a copy of this working tree (tracked and new, unignored files),
committed and tagged 1.0.0. Two releases follow, made the way the platform team would make
them (docs/releasing.md):

- 1.1.0, hardening: a stricter Content-Security-Policy (base-uri and form-action 'none')
  with its proof updated; Express projects depend on ipaddr.js 2.5.0, a package the union
  lock already holds (so no registry refresh); actions/checkout pinned to another commit in CI;
  a new line in .env.example.
- 2.0.0, a move: src/project.ts becomes src/settings.ts, with a `move` migration.

Every edit must find its target exactly once, so a change in the template cannot make a
release silently do nothing (the same rule as tests/removals.py).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from matrix import with_required_answers

ROOT = Path(__file__).resolve().parent.parent

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Rampart Tests",
    "GIT_AUTHOR_EMAIL": "tests@rampart.invalid",
    "GIT_COMMITTER_NAME": "Rampart Tests",
    "GIT_COMMITTER_EMAIL": "tests@rampart.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}

CHECKOUT_SHA = "11bd71901bbe5b1630ceea73d27597364c9af683"
# The template's own checkout step, pinned by commit: release 1.1.0 moves it to CHECKOUT_SHA.
CHECKOUT_LINE = re.search(r"- uses: actions/checkout@[0-9a-f]{40} # v\S+\n", (ROOT / "template/.github/workflows/ci.yml.jinja").read_text()).group(0)  # type: ignore[union-attr]
RELEASES = ("1.0.0", "1.1.0", "2.0.0")
LATEST = RELEASES[-1]
CSP_1_0 = "default-src 'none';frame-ancestors 'none'"
CSP_1_1 = "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'"


def git(cwd: Path, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(arguments)} failed in {cwd}:\n{result.stdout}\n{result.stderr}")
    return result


def copier(*arguments: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The copier CLI, as a team or a workflow runs it."""
    return subprocess.run(
        [sys.executable, "-m", "copier", *arguments], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, **GIT_ENV},
    )


def edit(path: Path, find: str, replace: str) -> None:
    text = path.read_text(encoding="utf-8")
    count = text.count(find)
    assert count == 1, f"{path}: expected {find!r} exactly once, found it {count} times"
    path.write_text(text.replace(find, replace), encoding="utf-8")


def commit_and_tag(repo: Path, message: str, tag: str | None = None) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-gpg-sign", "-m", message)
    if tag:
        git(repo, "tag", "-a", tag, "-m", f"Rampart {tag}")


def working_tree_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split("\0")
    return [name for name in listed if name and (ROOT / name).is_file()]


def history_from(commit: str, repo: Path, old: tuple[str, str | None], new: tuple[str, str | None]) -> Path:
    """A template repository of two commits: `commit` of this clone (message and tag `old`),
    then this working tree (message and tag `new`; a tag of None leaves the commit untagged)."""
    repo.mkdir(parents=True)
    tree = subprocess.run(["git", "archive", "--format=tar", commit], cwd=ROOT, capture_output=True, check=False)
    assert tree.returncode == 0, f"this clone has no commit {commit}; clone with full history: {tree.stderr.decode()}"
    subprocess.run(["tar", "-x", "-C", str(repo)], input=tree.stdout, check=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A", "-f")
    commit_and_tag(repo, *old)
    for path in repo.iterdir():
        if path.name != ".git":
            subprocess.run(["rm", "-rf", str(path)], check=True)
    for name in working_tree_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    # Forced: template/.gitignore is the generated project's, and it ignores .env.*.
    git(repo, "add", "-A", "-f")
    commit_and_tag(repo, *new)
    return repo


def release_1_0_0(repo: Path) -> None:
    """The template as it is in this working tree."""
    for name in working_tree_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    git(repo, "init", "-q", "-b", "main")
    # Forced: template/.gitignore is the generated project's, and it ignores .env.*.
    git(repo, "add", "-f", "--", *working_tree_files())
    commit_and_tag(repo, "Rampart as it is", "1.0.0")


def release_1_1_0(repo: Path) -> None:
    template = repo / "template"
    edit(template / "src/security/headers.ts", f'"{CSP_1_0}"', f'"{CSP_1_1}"')
    edit(template / "test/security/headers.test.ts", f'"{CSP_1_0}"', f'"{CSP_1_1}"')
    # A dependency change that stays inside the union lock: no registry needed.
    manifest = template / "package.json.jinja"
    text = manifest.read_text(encoding="utf-8")
    express_pin = re.search(r'^(\s*)\["express", "[^"]+"\],\n', text, re.MULTILINE)
    assert express_pin, "package.json.jinja no longer pins express"
    manifest.write_text(text[: express_pin.end()] + f'{express_pin.group(1)}["ipaddr.js", "2.5.0"],\n' + text[express_pin.end():], encoding="utf-8")
    for union_file in (repo / "hooks/npm/package.json", repo / "hooks/npm/package-lock.json"):
        data = json.loads(union_file.read_text(encoding="utf-8"))
        root = data["packages"][""] if "packages" in data else data
        root["dependencies"] = dict(sorted({**root["dependencies"], "ipaddr.js": "2.5.0"}.items()))
        union_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    edit(template / ".github/workflows/ci.yml.jinja", CHECKOUT_LINE, f"- uses: actions/checkout@{CHECKOUT_SHA} # v4.2.2\n")
    edit(template / ".env.example.jinja", "# Where to listen.", "# Never put production secrets in a file.\n\n# Where to listen.")
    commit_and_tag(repo, "1.1.0: stricter CSP, ipaddr.js for Express, checkout pinned to another commit", "1.1.0")


MOVE_MIGRATION = """\
_migrations:
  - version: "2.0.0"
    command:
      - "{{ _copier_python }}"
      - "{{ _copier_conf.src_path }}/hooks/migrations.py"
      - move
      - src/project.ts
      - src/settings.ts
      - --answers-file
      - "{{ _copier_conf.answers_file }}"
"""


def release_2_0_0(repo: Path) -> None:
    template = repo / "template"
    git(repo, "mv", "template/src/project.ts.jinja", "template/src/settings.ts.jinja")
    changed = 0
    for path in sorted(template.rglob("*")):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        moved = text.replace("/project.ts'", "/settings.ts'").replace("src/project.ts", "src/settings.ts")
        if moved != text:
            path.write_text(moved, encoding="utf-8")
            changed += 1
    assert changed >= 3, "expected the imports of src/project.ts to move with it"
    # The moved file changes too, so a team edit of the same line meets a conflict.
    edit(template / "src/settings.ts.jinja", "// Answers given when this project", "// Settings: the answers given when this project")
    edit(repo / "copier.yml", "_migrations:\n", MOVE_MIGRATION)
    commit_and_tag(repo, "2.0.0: src/project.ts is now src/settings.ts", "2.0.0")


def release_2_1_0(repo: Path) -> None:
    """Drops ipaddr.js again (Express projects no longer need it): a removed dependency."""
    manifest = repo / "template/package.json.jinja"
    text = manifest.read_text(encoding="utf-8")
    pin = re.search(r'^\s*\["ipaddr.js", "2.5.0"\],\n', text, re.MULTILINE)
    assert pin, "2.0.0 no longer pins ipaddr.js"
    manifest.write_text(text[: pin.start()] + text[pin.end():], encoding="utf-8")
    for union_file in (repo / "hooks/npm/package.json", repo / "hooks/npm/package-lock.json"):
        data = json.loads(union_file.read_text(encoding="utf-8"))
        root = data["packages"][""] if "packages" in data else data
        del root["dependencies"]["ipaddr.js"]
        union_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    commit_and_tag(repo, "2.1.0: ipaddr.js dropped", "2.1.0")


def build_single_release(repo: Path) -> Path:
    """The template as it is in this working tree, one commit tagged 1.0.0."""
    repo.mkdir(parents=True)
    release_1_0_0(repo)
    return repo


def build_template_history(repo: Path) -> Path:
    repo.mkdir(parents=True)
    release_1_0_0(repo)
    release_1_1_0(repo)
    release_2_0_0(repo)
    return repo


def generate_at(template: Path, destination: Path, ref: str, **answers: str) -> Path:
    """`copier copy` at a release, then the project's first commit, as a team starts."""
    data = [argument for key, value in with_required_answers(answers).items() for argument in ("--data", f"{key}={value}")]
    result = copier("copy", "--trust", "--defaults", "--quiet", "--vcs-ref", ref, *data, str(template), str(destination), cwd=destination.parent)
    assert result.returncode == 0, f"copier copy failed:\n{result.stdout}\n{result.stderr}"
    git(destination, "init", "-q", "-b", "main")
    commit_and_tag(destination, f"Generated from Rampart {ref}")
    return destination


def project_files(project: Path) -> dict[str, bytes]:
    """Every file git would see (tracked or not, ignored ones aside), with its content."""
    listed = git(project, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout.split("\0")
    return {name: (project / name).read_bytes() for name in listed if name and (project / name).is_file()}


def leftovers(project: Path) -> list[str]:
    """Conflict markers and .rej files anywhere outside node_modules."""
    found = []
    for path in project.rglob("*"):
        if "node_modules" in path.parts or ".git" in path.parts or not path.is_file():
            continue
        if path.suffix == ".rej" or path.name.endswith(".orig"):
            found.append(str(path.relative_to(project)))
            continue
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            continue
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            found.append(str(path.relative_to(project)))
    return sorted(found)


# --- What a service team does to its project between updates ----------------------------

GREETING_ROUTE = """\
    defineRoute({
      method: 'GET',
      path: '/api/users/me/greeting',
      summary: 'A greeting for the authenticated user',
      tag: 'users',
      access: 'authenticated',
      schemas: { params: NoParams, query: NoQuery },
      responses: { 200: { description: 'A greeting' }, 401: error('Invalid token') },
      async handle({ caller }) {
        const user = await users.findById(caller.userId);
        if (!user) throw new AppError(404, 'User not found');
        return { status: 200, body: { greeting: `Hello, ${user.name}` } };
      },
    }),
"""
# The same route as a team wrote it for 0.1.0, before routes declared an access policy.
GREETING_ROUTE_0_1 = """\
    defineRoute({
      method: 'GET',
      path: '/api/users/me/greeting',
      summary: 'A greeting for the authenticated user',
      tag: 'users',
      auth: 'bearer',
      schemas: { params: NoParams, query: NoQuery },
      responses: { 200: { description: 'A greeting' }, 401: error('Invalid token') },
      async handle({ userId }) {
        const user = await store.findUserById(userId);
        if (!user) throw new AppError(404, 'User not found');
        return { status: 200, body: { greeting: `Hello, ${user.name}` } };
      },
    }),
"""

GREETING_TEST = """\
// The payments team's own endpoint, proven like Rampart's.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from './support/http.ts';
import { startServer, type RunningServer } from './support/server.ts';
import { newUser } from './support/users.ts';

describe('greeting', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('greets the authenticated user by name', async () => {
    const user = await newUser(server);
    const response = await request(server, '/api/users/me/greeting', { token: user.accessToken });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body, { greeting: 'Hello, Test User' });
  });

  it('refuses anonymous callers', async () => {
    assert.equal((await request(server, '/api/users/me/greeting')).status, 401);
  });
});
"""

README_LINE = "Owned by the payments team; on call in #payments-oncall."
TEAM_DEPENDENCY = ("dayjs", "1.11.13")


def team_edits(project: Path) -> None:
    """A new route and its test, a changed rate limit, an edited README, a deleted
    documentation file, an added dependency, and a CI edit that 1.1.0 also makes."""
    edit(project / "src/users/routes.ts", "  ];\n  if (authenticated) {\n", GREETING_ROUTE + "  ];\n  if (authenticated) {\n")
    (project / "test/greeting.test.ts").write_text(GREETING_TEST, encoding="utf-8")
    edit(project / "src/project.ts", "rateLimitMax: 100,", "rateLimitMax: 250,")
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3:3] = [README_LINE + "\n", "\n"]
    readme.write_text("".join(lines), encoding="utf-8")
    (project / ".env.example").unlink()  # "our settings are documented in the runbook"
    edit(project / ".github/workflows/ci.yml", CHECKOUT_LINE, "- uses: actions/checkout@v5\n")
    name, version = TEAM_DEPENDENCY
    result = subprocess.run(
        ["npm", "install", "--save-exact", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
         "--prefer-offline", f"{name}@{version}"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, f"npm install {name}@{version} failed:\n{result.stdout}\n{result.stderr}"
