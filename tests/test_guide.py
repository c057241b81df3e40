"""The guide is a test: docs/adding-a-route.md, as generated for a project, is applied to that
project exactly as written, and the project then passes typecheck, lint and its whole proof
suite, on each database.

Each code block of the guide is marked by the HTML comment just above it (a rendered page does
not show it): `<!-- guide: new file PATH -->` for a whole new file, or
`<!-- guide: in PATH, after the line "LINE" -->` for lines to insert after a line that occurs
exactly once in that file. Every code block of the guide must carry a mark, so none can drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import generate, npm

MARK = re.compile(
    r'<!-- guide: (?:new file (?P<new>\S+)|in (?P<file>\S+), (?P<where>after|before) the line "(?P<line>.*?)") -->\n'
    r"```[a-z]*\n(?P<body>.*?)\n```\n",
    re.DOTALL,
)
FENCE = re.compile(r"^```", re.MULTILINE)

# One project per database, the other answers varied so that the guide meets each of them; and
# oidc, whose owners are the provider's subjects (text, no users table), on PostgreSQL, where
# its migrations differ most.
PROJECTS = [
    {"framework": "express", "database": "sqlite", "auth": "jwt"},
    {"framework": "fastify", "database": "postgres", "auth": "jwt-asymmetric"},
    {"framework": "express", "database": "mongodb", "auth": "none"},
    {"framework": "express", "database": "postgres", "auth": "oidc"},
]


@dataclass(frozen=True)
class Step:
    path: str
    body: str
    # None for a new file; otherwise where the lines go.
    where: str | None = None
    line: str | None = None


def steps_of(guide: str) -> list[Step]:
    steps = [
        Step(match["new"], match["body"]) if match["new"] else Step(match["file"], match["body"], match["where"], match["line"])
        for match in MARK.finditer(guide)
    ]
    fences = len(FENCE.findall(guide))
    assert fences == 2 * len(steps), f"{fences // 2} code blocks but {len(steps)} marked: mark every block (see tests/test_guide.py)"
    return steps


def apply(project: Path, step: Step) -> None:
    target = project / step.path
    if step.where is None:
        assert not target.exists(), f"the guide creates {step.path}, which exists already"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(step.body + "\n", encoding="utf-8")
        return
    lines = target.read_text(encoding="utf-8").split("\n")
    found = [index for index, line in enumerate(lines) if line == step.line]
    assert len(found) == 1, f"the guide's line {step.line!r} occurs {len(found)} times in {step.path}"
    at = found[0] + (1 if step.where == "after" else 0)
    lines[at:at] = step.body.split("\n")
    target.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize("answers", PROJECTS, ids=lambda answers: answers["database"])
def test_the_guide_as_written_passes_the_whole_proof_suite(tmp_path: Path, answers: dict[str, str]) -> None:
    project = generate(tmp_path / "project", **answers)
    guide = (project / "docs/adding-a-route.md").read_text(encoding="utf-8")
    steps = steps_of(guide)
    assert {step.path for step in steps} >= {"src/notes/schemas.ts", "src/notes/repository.ts", "src/notes/routes.ts", "src/server.ts", "src/db/index.ts"}
    for step in steps:
        apply(project, step)

    npm("ci", "--ignore-scripts", "--no-audit", cwd=project)
    npm("run", "typecheck", cwd=project)
    npm("run", "lint", cwd=project)
    tested = npm("test", cwd=project, check=False, timeout=900)
    output = tested.stdout + tested.stderr
    assert tested.returncode == 0 and re.search(r"^ℹ fail 0$", tested.stdout, re.MULTILINE), output[-8000:]


def test_every_block_is_marked_and_every_mark_parses() -> None:
    """The marks on their own, on a page with one of each kind and one unmarked block."""
    page = (
        '<!-- guide: new file src/a.ts -->\n```ts\nexport const a = 1;\n```\n\n'
        '<!-- guide: in src/b.ts, after the line "  b," -->\n```ts\n  c,\n```\n'
    )
    steps = steps_of(page)
    assert steps == [Step("src/a.ts", "export const a = 1;"), Step("src/b.ts", "  c,", "after", "  b,")]
    with pytest.raises(AssertionError, match="mark every block"):
        steps_of(page + "\n```ts\nunmarked();\n```\n")
