"""What an update could not merge: every file left with conflict markers, a .rej file or an
unmerged index entry, and the report that tells the team what to do about them."""

from __future__ import annotations

from pathlib import Path

from common import git

# The labels Copier 9 writes around an inline conflict, and the ones hooks/migrations.py writes.
CONFLICT_START = b"<<<<<<< "
CONFLICT_END = b">>>>>>> "

UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


def has_conflict_markers(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            starts = ends = False
            for line in handle:
                starts = starts or line.startswith(CONFLICT_START)
                ends = ends or line.startswith(CONFLICT_END)
                if starts and ends:
                    return True
    except OSError:
        pass
    return False


def find_conflicts(project: Path) -> dict[str, str]:
    """Every path an update left unresolved, with how it shows: markers, .rej, or unmerged."""
    found: dict[str, str] = {}
    # Porcelain paths are relative to the repository's top, which may be above the project.
    top = Path(git(project, "rev-parse", "--show-toplevel").strip() or project).resolve()
    status = git(project, "status", "--porcelain=v1", "-z", "--ignored", "--untracked-files=all", "--", ".")
    entries = status.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        code, full = entry[:2], top / entry[3:]
        if code[0] in "RC":
            index += 1  # the rename's source path follows
        try:
            path = full.relative_to(project.resolve()).as_posix()
        except ValueError:
            continue
        if "node_modules" in full.parts:
            continue
        if path.endswith(".rej"):
            found[path] = "rejected hunks (.rej file)"
        elif code in UNMERGED:
            found[path] = "conflict markers (unmerged)"
        elif code != "!!" and has_conflict_markers(full):
            found[path] = "conflict markers"
    return dict(sorted(found.items()))


def conflict_report(conflicts: dict[str, str]) -> str:
    """What to tell the team about what is left to resolve, and what to run next."""
    if not conflicts:
        return "update merged without conflicts; review `git diff`, then run `npm ci --ignore-scripts && npm test`."
    lines = "\n".join(f"  {path}: {how}" for path, how in conflicts.items())
    return (
        f"UPDATE CONFLICTS: {len(conflicts)} file(s) need you; nothing was resolved in either direction.\n{lines}\n"
        "Resolve each as its line says: markers between '<<<<<<< before updating' and '>>>>>>> after updating', "
        "a .rej file's hunks by hand (then delete it); `git add` (or `git rm`) the result, "
        "then run `npm ci --ignore-scripts && npm test` before committing."
    )
