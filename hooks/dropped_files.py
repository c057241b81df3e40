"""Files an update would delete although the team edited them, kept and reported instead.

Copier deletes every path the previous render had and the new render has not, edited or
not: a changed answer that swaps whole files (`--data database=postgres` drops
src/db/sqlite.ts) or a release that drops one. A team's code in such a file would be gone,
with "merged without conflicts" on top. After the update (in the finishing step), each path
that the team's HEAD has, that the previous release rendered for the previous answers, that
the team changed, and that is missing now, is put back as the team committed it and left
unmerged, "deleted by them" for git (base: the previous render; ours: the team's; no theirs):
`git status` shows it, the update workflow lists it, and a commit waits until the team
decides (`git rm` it once its code has a new home, or `git add` it to keep it as its own).

Paths the move steps carry elsewhere, and those the retire step keeps, are theirs (read from
copier.yml's `_migrations`, the one list). Unedited files go with the old choice, as before.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from common import git
from migrations import PreviousRender, committed, committed_answers

# The answers that decide which files exist; the report names the ones this update changed.
FILE_CHOICES = ("framework", "database", "auth", "rate_limit_store")


def handled_by_migration_steps(template_root: Path) -> set[str]:
    """Every OLD path of a `move` step and every path of a `retire` step in copier.yml."""
    import yaml

    config = yaml.safe_load((template_root / "copier.yml").read_text(encoding="utf-8")) or {}
    paths: set[str] = set()
    for step in config.get("_migrations", []):
        command = [str(part) for part in (step.get("command", []) if isinstance(step, dict) else [])]
        for index, part in enumerate(command[:-1]):
            if not part.endswith("hooks/migrations.py"):
                continue
            action, arguments = command[index + 1], command[index + 2:]
            positional = arguments[: next((i for i, a in enumerate(arguments) if a.startswith("--")), len(arguments))]
            if action == "move":
                paths.update(positional[::2])
            elif action == "retire":
                paths.update(positional[:1])
    return paths


def changed_choices(project: Path, answers_file: str) -> list[str]:
    """`name is now value` for each file-swapping answer this update changed."""
    import yaml

    before = committed_answers(project, answers_file)
    after = yaml.safe_load((project / answers_file).read_text(encoding="utf-8")) or {}
    return [f"{name} is now {after[name]}" for name in FILE_CHOICES if name in after and before.get(name) != after.get(name)]


def mark_deleted_by_them(project: Path, relpath: str, base: bytes | None, ours: bytes) -> None:
    """The index entry git gives a file one side edited and the other deleted (stages 1 and 2)."""
    def stored(content: bytes) -> str:
        return subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=project, input=content,
                              capture_output=True, check=True).stdout.decode().strip()

    mode = (git(project, "ls-files", "--stage", "--", relpath).split() or ["100644"])[0]
    lines = [f"0 {'0' * 40}\t{relpath}"]
    if base is not None:
        lines.append(f"{mode} {stored(base)} 1\t{relpath}")
    lines.append(f"{mode} {stored(ours)} 2\t{relpath}")
    subprocess.run(["git", "update-index", "--index-info"], cwd=project, input="\n".join(lines) + "\n",
                   text=True, capture_output=True, check=True)


def keep_edited_dropped_files(project: Path, template_root: Path, answers_file: str) -> dict[str, str]:
    """Puts back each edited file this update dropped; returns path -> what to do, for the report."""
    handled = handled_by_migration_steps(template_root)
    tracked = git(project, "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", ".").split("\0")
    missing = [path for path in tracked if path and path not in handled and not (project / path).exists()
               and not (project / path).is_symlink()]
    if not missing:
        return {}
    previous = PreviousRender(project, answers_file)
    changes = changed_choices(project, answers_file)
    reason = f"{', '.join(changes)}, which has no such file" if changes else "this release has no such file"
    kept: dict[str, str] = {}
    try:
        for relpath in missing:
            ours = committed(project, relpath)
            base = previous.read(relpath)
            if ours is None or (previous.available and (base is None or base == ours)):
                continue  # Unedited: it goes with the old choice. (A file of the team's own is never dropped.)
            target = project / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(ours)
            mark_deleted_by_them(project, relpath, base, ours)
            kept[relpath] = (
                f"you edited it, and {reason}: kept as you committed it (unmerged, deleted by them); move your code to the new choice's "
                "files, then `git rm` it (or `git add` it to keep it as your own)"
            )
    finally:
        previous.close()
    return kept
