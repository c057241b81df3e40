"""package.json merged as data when Copier's text merge of it failed during an update: three-way,
entry by entry, between the previous release's render, the team's committed file and this
release's render; only an entry both sides changed differently is a clash, reported by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common import git
from lockfile import collation_key
from project_lock import DEPENDENCY_FIELDS

_ABSENT = object()
# Sections npm keeps sorted by name whenever it saves package.json.
SORTED_SECTIONS = (*DEPENDENCY_FIELDS, "peerDependencies")


def _merge_value(base: Any, ours: Any, theirs: Any, path: list[str], clashes: list[tuple[str, ...]]) -> Any:
    """Three-way merge of one JSON value; _ABSENT stands for a key one side does not have."""
    if ours == theirs or theirs == base:
        return ours
    if ours == base:
        return theirs
    if isinstance(ours, dict) and isinstance(theirs, dict) and (base is _ABSENT or isinstance(base, dict)):
        return _merge_object({} if base is _ABSENT else base, ours, theirs, path, clashes)
    clashes.append(tuple(path))
    return ours  # the team's value stays until a person decides


def _merge_object(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], path: list[str], clashes: list[tuple[str, ...]]) -> dict[str, Any]:
    order = list(ours)
    theirs_keys = list(theirs)
    for index, key in enumerate(theirs_keys):
        if key not in order:
            # The release's new key goes after the key it follows in the release's file.
            previous = next((name for name in reversed(theirs_keys[:index]) if name in order), None)
            order.insert(order.index(previous) + 1 if previous is not None else 0, key)
    for key in base:
        if key not in order:
            order.append(key)
    merged = {}
    for key in order:
        value = _merge_value(base.get(key, _ABSENT), ours.get(key, _ABSENT), theirs.get(key, _ABSENT), [*path, key], clashes)
        if value is not _ABSENT:
            merged[key] = value
    if len(path) == 1 and path[0] in SORTED_SECTIONS:
        merged = dict(sorted(merged.items(), key=lambda item: collation_key(item[0])))
    return merged


def merge_manifests(base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, ...]]]:
    """package.json merged entry by entry: the team's additions, removals and bumps kept,
    the release's applied; returns the merge and the path of every entry both sides changed
    to different values."""
    clashes: list[tuple[str, ...]] = []
    return _merge_object(base, ours, theirs, [], clashes), clashes


def _describe(value: Any) -> str:
    return "removed" if value is _ABSENT else json.dumps(value)


def _at(data: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key, _ABSENT) if isinstance(data, dict) else _ABSENT
    return data


def _unmerged(project: Path, relpath: str) -> bool:
    return bool(git(project, "ls-files", "--unmerged", "--", relpath).strip())


def merge_package_json(project: Path, template_root: Path, answers_file: str) -> tuple[str | None, dict[str, str]]:
    """When Copier's text merge of package.json failed, redo it as data.

    Returns what to tell the team (None when there was nothing to do) and the clashes."""
    import yaml
    from migrations import committed, previous_render, render

    manifest, rejected = project / "package.json", project / "package.json.rej"
    try:
        json.loads(manifest.read_text(encoding="utf-8"))
        text_merged = not rejected.exists() and not _unmerged(project, "package.json")
    except (OSError, ValueError):
        text_merged = False
    if text_merged:
        return None, {}
    try:
        ours = json.loads(committed(project, "package.json") or b"null")
        base = json.loads(previous_render(project, "package.json", answers_file) or b"null")
        answers = yaml.safe_load((project / answers_file).read_text(encoding="utf-8")) or {}
        theirs = json.loads(render(str(template_root), "HEAD", answers, "package.json") or b"null")
    except Exception as error:  # noqa: BLE001 - any failure means: leave it to a person
        return f"package.json could not be merged as data ({error}): resolve it by hand", {}
    if not all(isinstance(side, dict) for side in (ours, base, theirs)):
        return "package.json could not be merged as data (a version of it is missing or not an object): resolve it by hand", {}
    merged, clashes = merge_manifests(base, ours, theirs)
    manifest.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    rejected.unlink(missing_ok=True)
    git(project, "reset", "-q", "--", "package.json")  # clears the unmerged index entry
    names = [".".join(path) for path in clashes]
    found = {"package.json": "; ".join(
        f"{name} changed by you ({_describe(_at(ours, path))}) and by this release "
        f"({_describe(_at(theirs, path))}, was {_describe(_at(base, path))}): yours kept, decide"
        for name, path in zip(names, clashes)
    )} if clashes else {}
    detail = f"; changed on both sides, yours kept: {', '.join(names)}" if clashes else ""
    return f"package.json merged as data (its text merge conflicted): your changes kept, this release's applied{detail}", found
