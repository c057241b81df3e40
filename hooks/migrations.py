#!/usr/bin/env python3
"""Migration steps for Rampart releases that move, rename or split a generated file.

Why a release that moves a file needs one: `copier update` replays the team's edits onto
the file's *old* path, then deletes every path the new version no longer renders. A team
that had edited `src/old.ts` would find the new `src/new.ts` with none of its edits, and no
conflict to tell it so. `move`, run by Copier after the update (`_stage == 'after'`), carries
the edits across with a three-way merge:

    base   = the old path as the previously applied Rampart version rendered it
    ours   = the old path as the team committed it (HEAD; updates need a clean tree)
    theirs = the new path as the new Rampart version rendered it

and then removes the old path. Where the team's edits and the release's changes touch the
same lines, the new file gets Copier's conflict markers ("before updating" is the team's
side, "after updating" the release's) and post_generate.py's report lists it.

`retire` is for a file a release splits or drops: when the team had edited it, its copy is
put back where it was, and the step says where its parts went, instead of losing the edits.

Each step decides from the project itself, never from version numbers: it acts only when the
team's HEAD has the old path *and* the previously applied Rampart version rendered it (so a
file of the team's own that happens to have an old name is left alone), and says nothing
otherwise. So the entries carry no `version:` and run on every update, tagged or not
(Copier 9 compares `version:` with the git tags, and gates nothing right without them):

    _migrations:
      - command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py",
                  "move", "src/old.ts", "src/new.ts", "src/other.ts", "src/elsewhere/other.ts",
                  "--answers-file", "{{ _copier_conf.answers_file }}"]
        when: "{{ _stage == 'after' }}"

List them above the `--finish-update` step, which reports what is left to resolve. Rendering
the previous version happens at most once per step, only when a path to carry exists; it
reuses the template clone Copier already made, runs no tasks and needs no npm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

# Run as a script, this file's folder is on sys.path: common.py sits beside it.
from common import say

LABELS = ("before updating", "last update", "after updating")


def committed(project: Path, relpath: str) -> bytes | None:
    """The file as HEAD has it, or None when HEAD has no such file."""
    result = subprocess.run(["git", "show", f"HEAD:./{relpath}"], cwd=project, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def render_project(source: str, ref: str, answers: dict, destination: Path) -> None:
    """The whole project as Rampart at `ref` renders it for these answers (no tasks, no npm)."""
    from copier import run_copy

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    run_copy(source, destination, data=data, vcs_ref=ref, defaults=True, quiet=True,
             skip_tasks=True, unsafe=True, overwrite=True)


def render(source: str, ref: str, answers: dict, relpath: str) -> bytes | None:
    """`relpath` as Rampart at `ref` renders it for these answers (no tasks, no npm)."""
    with tempfile.TemporaryDirectory(prefix="rampart-render-") as scratch:
        destination = Path(scratch) / "project"
        render_project(source, ref, answers, destination)
        rendered = destination / relpath
        return rendered.read_bytes() if rendered.is_file() else None


def committed_answers(project: Path, answers_file: str) -> dict:
    """The answers file as HEAD has it (empty when there is none)."""
    import yaml

    answers_text = committed(project, answers_file)
    return (yaml.safe_load(answers_text) or {}) if answers_text is not None else {}


def previous_render(project: Path, relpath: str, answers_file: str) -> bytes | None:
    """`relpath` as the previously applied Rampart version rendered it for these answers."""
    answers = committed_answers(project, answers_file)
    source, commit = answers.get("_src_path"), answers.get("_commit")
    if not source or not commit:
        return None
    return render(str(source), str(commit), answers, relpath)


class PreviousRender:
    """The project as the previously applied Rampart version rendered it for the same answers,
    rendered on first use (no tasks, no npm) and then read path by path."""

    def __init__(self, project: Path, answers_file: str) -> None:
        self.project, self.answers_file = project, answers_file
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._root: Path | None = None
        self.error: Exception | None = None

    def _render(self) -> Path | None:
        answers = committed_answers(self.project, self.answers_file)
        source, commit = answers.get("_src_path"), answers.get("_commit")
        if not source or not commit:
            return None
        self._scratch = tempfile.TemporaryDirectory(prefix="rampart-render-")
        destination = Path(self._scratch.name) / "project"
        render_project(str(source), str(commit), answers, destination)
        return destination

    def read(self, relpath: str) -> bytes | None:
        """`relpath` as the previous version rendered it; None when it did not, or could not be rendered (see error)."""
        if self._root is None and self.error is None:
            try:
                self._root = self._render()
            except Exception as error:  # noqa: BLE001 - any failure to render means: do not guess
                self.error = error
        if self._root is None:
            return None
        rendered = self._root / relpath
        return rendered.read_bytes() if rendered.is_file() else None

    @property
    def available(self) -> bool:
        return self._root is not None

    def close(self) -> None:
        if self._scratch is not None:
            self._scratch.cleanup()


def merge(ours: bytes, base: bytes, theirs: bytes) -> tuple[bytes, int]:
    """git merge-file: the merged text and the number of conflicts (0 when clean)."""
    with tempfile.TemporaryDirectory(prefix="rampart-merge-") as scratch:
        paths = [Path(scratch) / name for name in ("ours", "base", "theirs")]
        for path, content in zip(paths, (ours, base, theirs)):
            path.write_bytes(content)
        labels = [argument for label in LABELS for argument in ("-L", label)]
        result = subprocess.run(["git", "merge-file", *labels, *map(str, paths)], capture_output=True, check=False)
        if result.returncode < 0 or result.returncode > 127:
            raise RuntimeError(f"git merge-file failed: {result.stderr.decode(errors='replace').strip()}")
        return paths[0].read_bytes(), result.returncode


def move(project: Path, old: str, new: str, previous: PreviousRender) -> None:
    old_path, new_path = project / old, project / new
    ours = committed(project, old)
    if ours is None:
        return  # Nothing to carry: the team never had the file, or it moved in an earlier update.
    base = previous.read(old)
    if base is None and previous.available:
        return  # The previous version did not render it: the file is the team's own.
    if old_path.is_file():
        ours = old_path.read_bytes()
    if not new_path.exists():
        # This version does not render the new path for these answers: keep the team's file there.
        new_path.parent.mkdir(parents=True, exist_ok=True)
        new_path.write_bytes(ours)
        old_path.unlink(missing_ok=True)
        say(f"moved {old} -> {new}: your file, as it was")
        return
    if previous.error is not None:
        say(f"could not render the previous version of {old} ({previous.error})")
    theirs = new_path.read_bytes()
    if base is not None and ours == base:
        old_path.unlink(missing_ok=True)
        say(f"moved {old} -> {new}: you had not edited it")
        return
    # Without the previous render, an empty base makes every differing line a conflict: loud, never lossy.
    merged, conflicts = merge(ours, base if base is not None else b"", theirs)
    new_path.write_bytes(merged)
    old_path.unlink(missing_ok=True)
    if conflicts:
        say(f"moved {old} -> {new}: {conflicts} conflict(s) between your edits and this release; resolve them in {new}")
    else:
        say(f"moved {old} -> {new}: your edits carried over")


def retire(project: Path, relpath: str, where: str, previous: PreviousRender) -> None:
    """Puts back a file the new version no longer renders, when the team had edited it."""
    ours = committed(project, relpath)
    if ours is None or (project / relpath).exists():
        return
    base = previous.read(relpath)
    if previous.available and (base is None or base == ours):
        return  # The team's own file (left alone by Copier), or an unedited one: nothing to keep.
    target = project / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(ours)
    say(f"{relpath} is no longer part of Rampart ({where}): your edited copy is kept there; "
        "move your additions to their new place, then delete it")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    move_command = commands.add_parser("move", help="carry the team's edits of each OLD to its NEW, then remove OLD")
    move_command.add_argument("paths", nargs="+", metavar="OLD NEW", help="pairs of paths: OLD NEW [OLD NEW ...]")
    retire_command = commands.add_parser("retire", help="keep the team's edited copy of a file the new version drops")
    retire_command.add_argument("path")
    retire_command.add_argument("--where", required=True, help="where its parts went, for the message")
    for command in (move_command, retire_command):
        command.add_argument("--answers-file", default=".copier-answers.yml")
        command.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args()
    previous = PreviousRender(args.project, args.answers_file)
    try:
        if args.command == "retire":
            retire(args.project, args.path, args.where, previous)
            return 0
        if len(args.paths) % 2:
            parser.error("move takes pairs of paths: OLD NEW [OLD NEW ...]")
        for old, new in zip(args.paths[::2], args.paths[1::2]):
            move(args.project, old, new, previous)
    finally:
        previous.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
