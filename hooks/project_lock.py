"""A generated project's package-lock.json: written at generation for exactly the dependencies
the answers chose, cut offline from the template's tested union lock (hooks/lockfile.py), and
reconciled with package.json after an update, keeping what the team locked itself."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from common import say
from lockfile import npm_json, prune_lockfile, reach

DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")
NPM_LOCK_ONLY = ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"]


def load_union_lock(template_root: Path) -> dict[str, Any]:
    return json.loads((template_root / "hooks" / "npm" / "package-lock.json").read_text(encoding="utf-8"))


def write_lock(path: Path, data: dict[str, Any]) -> None:
    """A lock written as npm writes it, so npm's next run changes only what it must."""
    path.write_text(npm_json(data), encoding="utf-8")


def write_lockfile(project: Path, template_root: Path) -> None:
    """A fresh lock for a project that has none."""
    lock_file = project / "package-lock.json"
    if lock_file.exists():
        return
    manifest = json.loads((project / "package.json").read_text(encoding="utf-8"))
    write_lock(lock_file, prune_lockfile(load_union_lock(template_root), manifest))


@dataclass
class LockOutcome:
    """What reconcile_lockfile did, in words a person can act on."""

    status: str  # "current", "recut", "kept-own", "npm", "stale"
    message: str
    own: list[str] = field(default_factory=list)


def declared_dependencies(manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: dict(manifest.get(name) or {}) for name in DEPENDENCY_FIELDS}


def lock_matches(lock: dict[str, Any] | None, manifest: dict[str, Any]) -> bool:
    """True when the lock's root records exactly the dependencies package.json declares."""
    if not lock:
        return False
    root = lock.get("packages", {}).get("", {})
    return all(dict(root.get(name) or {}) == declared for name, declared in declared_dependencies(manifest).items())


def _in_union(union_packages: dict[str, Any], name: str, version: str) -> bool:
    return union_packages.get(f"node_modules/{name}", {}).get("version") == version


def offline_lock(union_lock: dict[str, Any], team_lock: dict[str, Any] | None, manifest: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str], str]:
    """The lock for `manifest` built without the network, or None and the reason it can't be.

    Template dependencies come from the union lock. Dependencies the team added (anything
    the union lock does not hold at the declared version) keep the entries the team's own
    lock has for them and for everything they pull in, provided those entries sit where the
    union lock has nothing else.
    """
    union_packages = union_lock["packages"]
    declared = {name: version for group in declared_dependencies(manifest).values() for name, version in group.items()}
    own = sorted(name for name, version in declared.items() if not _in_union(union_packages, name, version))
    if not own:
        return prune_lockfile(union_lock, manifest), own, ""
    if not team_lock:
        return None, own, "there is no readable package-lock.json to take them from"
    team_packages = team_lock.get("packages", {})
    team_root = team_packages.get("", {})
    for name in own:
        locked_spec = next((team_root.get(group, {}).get(name) for group in DEPENDENCY_FIELDS if name in team_root.get(group, {})), None)
        if locked_spec != declared[name] or f"node_modules/{name}" not in team_packages:
            return None, own, f"{name}@{declared[name]} is in package.json but not in package-lock.json"
    try:
        team_locations = reach(team_packages, own)
    except ValueError as error:
        return None, own, f"the team's lock is incomplete ({error})"
    merged = dict(union_packages)
    for location in sorted(team_locations):
        entry = team_packages[location]
        known = merged.get(location)
        if known is None:
            merged[location] = entry
        elif known.get("version") != entry.get("version"):
            return None, own, f"{location} is {entry.get('version')} in the team's lock but {known.get('version')} in Rampart's"
    try:
        lock = prune_lockfile({"lockfileVersion": union_lock["lockfileVersion"], "packages": merged}, manifest)
    except (ValueError, KeyError) as error:
        return None, own, str(error)
    return lock, own, ""


def run_npm(arguments: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    npm = shutil.which("npm")
    if npm is None:
        raise FileNotFoundError("npm is not on PATH")
    return subprocess.run(
        [npm, *arguments], cwd=cwd, capture_output=True, text=True, timeout=600,
        env={**os.environ, "npm_config_update_notifier": "false"},
    )


def _installed(lock: dict[str, Any]) -> dict[str, Any]:
    return {location: entry for location, entry in lock.get("packages", {}).items() if location}


def reconcile_lockfile(
    project: Path,
    template_root: Path,
    npm: Callable[[list[str], Path], subprocess.CompletedProcess[str]] = run_npm,
    previous_union: dict[str, Any] | None = None,
) -> LockOutcome:
    """Makes package-lock.json lock exactly what package.json declares.

    `previous_union` is the tested lock of the release the project was on: when this release
    refreshed it (a transitive fix, say), a lock that already matches package.json is re-cut
    too, so lockfile-only fixes arrive like the others.
    """
    manifest_file, lock_file = project / "package.json", project / "package-lock.json"
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return LockOutcome("current", "no package.json: nothing to lock")
    except ValueError:
        return LockOutcome(
            "stale",
            "package.json is not valid JSON (an unresolved conflict?), so package-lock.json was left as it was. "
            "Resolve package.json, then run `npm install --package-lock-only --ignore-scripts`.",
        )
    try:
        team_lock: dict[str, Any] | None = json.loads(lock_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        team_lock = None
    union = load_union_lock(template_root)
    matches = lock_matches(team_lock, manifest)
    refreshed = matches and previous_union is not None and _installed(previous_union) != _installed(union)
    if matches and not refreshed:
        return LockOutcome("current", "package-lock.json already matches package.json")
    lock, own, reason = offline_lock(union, team_lock, manifest)
    if lock is not None and team_lock is not None and lock["packages"] == team_lock.get("packages"):
        return LockOutcome("current", "package-lock.json already matches package.json and Rampart's tested lock")
    why = "to take this release's refresh of Rampart's tested lock" if refreshed else "to match package.json"
    if lock is not None and not own:
        write_lock(lock_file, lock)
        return LockOutcome("recut", f"package-lock.json re-cut offline from Rampart's tested lock {why}")
    if lock is not None:
        # The team's packages joined Rampart's: let npm check every version range, offline.
        previous = lock_file.read_bytes() if lock_file.exists() else None
        write_lock(lock_file, lock)
        kept = f"package-lock.json re-cut offline from Rampart's tested lock {why}, keeping your locked entries for {', '.join(own)}"
        try:
            check = npm(["ls", "--all", "--package-lock-only"], project)
        except (OSError, subprocess.SubprocessError):
            return LockOutcome("kept-own", f"{kept} (not checked: npm is not on PATH; `npm ci` will check it)", own)
        if check.returncode == 0:
            return LockOutcome("kept-own", kept, own)
        if previous is not None:
            lock_file.write_bytes(previous)
        problems = [line for line in (check.stderr + check.stdout).splitlines() if "invalid" in line or "missing" in line]
        reason = f"`npm ls` found problems in the offline cut ({'; '.join(problems[:3]) or 'see npm ls --all'})"
    if refreshed:
        # The lock still matches package.json: keep it valid rather than reach for the registry.
        return LockOutcome("current", f"package-lock.json kept as it was: this release refreshed Rampart's tested lock, but it could not be applied offline ({reason})", own)
    # Only the registry can resolve what the team added: say so, and what to do if it fails.
    command = "npm " + " ".join(NPM_LOCK_ONLY)
    say(f"package-lock.json cannot be cut offline: {reason}. Running `{command}` (needs the npm registry).")
    try:
        result = npm(NPM_LOCK_ONLY, project)
    except (OSError, subprocess.SubprocessError) as error:
        return LockOutcome("stale", f"package-lock.json is stale and `{command}` could not run ({error}); run it yourself before `npm ci`.", own)
    if result.returncode != 0:
        output = (result.stderr or result.stdout or "").strip().splitlines()
        detail = next((line for line in output if line.startswith("npm error")), output[-1] if output else "no output")
        return LockOutcome("stale", f"package-lock.json is stale and `{command}` failed ({detail}); fix that and run it again before `npm ci`.", own)
    return LockOutcome("npm", f"package-lock.json re-resolved by `{command}` (from the npm registry, not from Rampart's tested lock: review its diff)", own)


def previous_union_lock(project: Path, template_root: Path, answers_file: str) -> dict[str, Any] | None:
    """The tested lock of the release the project was on before this update, if git has it."""
    import yaml

    answers = subprocess.run(["git", "show", f"HEAD:./{answers_file}"], cwd=project, capture_output=True, text=True, check=False)
    if answers.returncode != 0:
        return None
    commit = (yaml.safe_load(answers.stdout) or {}).get("_commit")
    if not commit:
        return None
    union = subprocess.run(["git", "show", f"{commit}:hooks/npm/package-lock.json"], cwd=template_root, capture_output=True, text=True, check=False)
    if union.returncode != 0:
        return None
    try:
        return json.loads(union.stdout)
    except ValueError:
        return None
