#!/usr/bin/env python3
"""Migration steps for Rampart releases that move or rename a generated file.

Why a release that moves a file needs one: `copier update` replays the team's edits onto
the file's *old* path, then deletes every path the new version no longer renders. A team
that had edited `src/old.ts` would find the new `src/new.ts` with none of its edits, and no
conflict to tell it so. This step, run by Copier after the update (`_stage == 'after'`),
carries the edits across with a three-way merge:

    base   = the old path as the previously applied Rampart version rendered it
    ours   = the old path as the team committed it (HEAD; updates need a clean tree)
    theirs = the new path as the new Rampart version rendered it

and then removes the old path. Where the team's edits and the release's changes touch the
same lines, the new file gets Copier's conflict markers ("before updating" is the team's
side, "after updating" the release's) and post_generate.py's report lists it.

Declare one entry per moved file in copier.yml, above the `--finish-update` step:

    _migrations:
      - version: "0.3.0"   # the release that moves the file
        command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/migrations.py",
                  "move", "src/old.ts", "src/new.ts",
                  "--answers-file", "{{ _copier_conf.answers_file }}"]

Copier runs it once, on updates that cross that version (new >= 0.3.0 > old). Rendering the
old version reuses the template clone Copier already made, runs no tasks and needs no npm.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

LABELS = ("before updating", "last update", "after updating")


def say(message: str) -> None:
    print(f"rampart: {message}", file=sys.stderr, flush=True)


def committed(project: Path, relpath: str) -> bytes | None:
    """The file as HEAD has it, or None when HEAD has no such file."""
    result = subprocess.run(["git", "show", f"HEAD:./{relpath}"], cwd=project, capture_output=True, check=False)
    return result.stdout if result.returncode == 0 else None


def render(source: str, ref: str, answers: dict, relpath: str) -> bytes | None:
    """`relpath` as Rampart at `ref` renders it for these answers (no tasks, no npm)."""
    from copier import run_copy

    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    with tempfile.TemporaryDirectory(prefix="rampart-render-") as scratch:
        destination = Path(scratch) / "project"
        run_copy(source, destination, data=data, vcs_ref=ref, defaults=True, quiet=True,
                 skip_tasks=True, unsafe=True, overwrite=True)
        rendered = destination / relpath
        return rendered.read_bytes() if rendered.is_file() else None


def previous_render(project: Path, relpath: str, answers_file: str) -> bytes | None:
    """`relpath` as the previously applied Rampart version rendered it for these answers."""
    import yaml

    answers_text = committed(project, answers_file)
    if answers_text is None:
        return None
    answers = yaml.safe_load(answers_text) or {}
    source, commit = answers.get("_src_path"), answers.get("_commit")
    if not source or not commit:
        return None
    return render(str(source), str(commit), answers, relpath)


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


def move(project: Path, old: str, new: str, answers_file: str) -> int:
    old_path, new_path = project / old, project / new
    ours = old_path.read_bytes() if old_path.is_file() else committed(project, old)
    if ours is None:
        say(f"moved {old} -> {new}: the project had no {old}, nothing of yours to carry")
        return 0
    if not new_path.exists():
        # This version does not render the new path for these answers: keep the team's file there.
        new_path.parent.mkdir(parents=True, exist_ok=True)
        new_path.write_bytes(ours)
        old_path.unlink(missing_ok=True)
        say(f"moved {old} -> {new}: your file, as it was")
        return 0
    theirs = new_path.read_bytes()
    try:
        base = previous_render(project, old, answers_file)
    except Exception as error:  # noqa: BLE001 - any failure to render means: do not guess
        say(f"could not render the previous version of {old} ({error})")
        base = None
    if base is not None and ours == base:
        old_path.unlink(missing_ok=True)
        say(f"moved {old} -> {new}: you had not edited it")
        return 0
    # Without the previous render, an empty base makes every differing line a conflict: loud, never lossy.
    merged, conflicts = merge(ours, base if base is not None else b"", theirs)
    new_path.write_bytes(merged)
    old_path.unlink(missing_ok=True)
    if conflicts:
        say(f"moved {old} -> {new}: {conflicts} conflict(s) between your edits and this release; resolve them in {new}")
    else:
        say(f"moved {old} -> {new}: your edits carried over")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    move_command = commands.add_parser("move", help="carry the team's edits of OLD to NEW, then remove OLD")
    move_command.add_argument("old")
    move_command.add_argument("new")
    move_command.add_argument("--answers-file", default=".copier-answers.yml")
    move_command.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args()
    return move(args.project, args.old, args.new, args.answers_file)


if __name__ == "__main__":
    sys.exit(main())
