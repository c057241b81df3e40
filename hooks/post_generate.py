#!/usr/bin/env python3
"""Copier task and update step for Rampart: offline, and well under a second.

Copier calls this file in two ways (see copier.yml):

As a task (`--operation copy|update`), after each render.
  copy (also `copier recopy`):
    - makes sure `copier update` will find the template again: a `_src_path` that is a
      relative path (`copier copy . ../api` records `.`, which the project later reads as
      itself) is replaced by the template's absolute path; a template that is not a git
      repository is refused, since updates need its history;
    - writes `.env` with fresh random secrets, unless the project already has one;
    - writes `package-lock.json` for exactly the dependencies the answers chose, cut from
      the template's tested lockfile (hooks/npm/package-lock.json); if one exists but locks
      other root dependencies than package.json declares, it is reconciled (see below).
  update: Copier runs the tasks three times during `copier update`: in a temporary render
    of the old version, in the project before the team's changes are replayed onto it, and
    in a temporary render of the new version. Here the task only writes package-lock.json
    where it is missing (always in the temporary renders, never in the project) and never
    writes `.env`. Two rules follow for every future version of this file:
    - every version must write package-lock.json in both temporary renders, or Copier
      takes the lock for a file the new version dropped and deletes the team's;
    - nothing here may be slow or reach the network: it runs in throwaway renders.

As the last `_migrations` step (`--finish-update`), once per update, in the project, after
Copier has replayed the team's changes (tasks run too early to see them):
    - merges package.json as data when Copier's text merge could not (conflict markers, a
      .rej file): three-way, entry by entry, between the previous release's render, the
      team's committed file and this release's render; only an entry both sides changed
      differently is a conflict, reported by name;
    - reconciles package-lock.json with the merged package.json (and with Rampart's tested
      lock when this release refreshed it): re-cut offline from the template's lock, keeping
      the team's own locked packages, checked by `npm ls --package-lock-only`; only when that
      cannot be done does it run `npm install --package-lock-only --ignore-scripts`, and
      says so;
    - reports every file the update could not merge (conflict markers or .rej files);
    - never touches `.env`: an update never rotates or writes secrets.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockfile import _collation_key, _reach, npm_json, prune_lockfile  # noqa: E402

ENV_HEADER = """\
# Written by Rampart at generation time from .env.example, with fresh random secrets.
# Never commit this file. Copier never overwrites it on update.
"""

# PKCS#8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410): the key is just the seed.
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")

DEPENDENCY_FIELDS = ("dependencies", "devDependencies", "optionalDependencies")
NPM_LOCK_ONLY = ["install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund"]
# The labels Copier 9 writes around an inline conflict, and the ones hooks/migrations.py writes.
CONFLICT_START = b"<<<<<<< "
CONFLICT_END = b">>>>>>> "


def say(message: str) -> None:
    print(f"rampart: {message}", file=sys.stderr, flush=True)


def ed25519_private_key_pem() -> str:
    """A fresh Ed25519 private key in PKCS#8 PEM, with no dependency beyond the standard library."""
    body = base64.b64encode(ED25519_PKCS8_PREFIX + secrets.token_bytes(32)).decode("ascii")
    return f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"


def env_from_example(example: str) -> str:
    """.env.example with its placeholders replaced by fresh secrets (and a signing key when the
    project signs tokens with Ed25519), so .env holds exactly the settings the project reads."""
    lines = []
    for line in example.splitlines():
        name = line.split("=", 1)[0]
        if name in ("JWT_ACCESS_SECRET", "JWT_REFRESH_SECRET"):
            line = f"{name}={secrets.token_urlsafe(48)}"
        elif name == "# JWT_PRIVATE_KEY":
            # One line: the server turns the literal \n back into newlines.
            line = "JWT_PRIVATE_KEY=" + ed25519_private_key_pem().replace("\n", "\\n")
        lines.append(line)
    return ENV_HEADER + "\n".join(lines) + "\n"


def write_env(project: Path) -> None:
    env_file = project / ".env"
    if env_file.exists():
        return
    example = (project / ".env.example").read_text(encoding="utf-8")
    env_file.write_text(env_from_example(example), encoding="utf-8")
    env_file.chmod(0o600)


def load_union_lock(template_root: Path) -> dict[str, Any]:
    return json.loads((template_root / "hooks" / "npm" / "package-lock.json").read_text(encoding="utf-8"))


def _write_json(path: Path, data: dict[str, Any]) -> None:
    """A lock written as npm writes it, so npm's next run changes only what it must."""
    path.write_text(npm_json(data), encoding="utf-8")


def write_lockfile(project: Path, template_root: Path) -> None:
    """A fresh lock for a project that has none."""
    lock_file = project / "package-lock.json"
    if lock_file.exists():
        return
    manifest = json.loads((project / "package.json").read_text(encoding="utf-8"))
    _write_json(lock_file, prune_lockfile(load_union_lock(template_root), manifest))


# --- Where `copier update` will look for the template -----------------------------------

REMOTE_SOURCE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|gh:|gl:)", re.IGNORECASE)


class RefusedSource(Exception):
    """The project could never be updated from where it was copied."""


def _git_repository(path: Path) -> bool:
    if path.is_file():
        return path.suffix == ".bundle"
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == path.resolve()


def _not_a_repository(source: str) -> RefusedSource:
    return RefusedSource(
        f"the template {source!r} is not a git repository, so `copier update` could never bring "
        "this project its fixes. Copy from a git clone of Rampart (by its absolute path) or from "
        "the repository's URL."
    )


def updatable_source(source: str, template_root: Path) -> str:
    """The `_src_path` to record: `source` itself when `copier update` can find it from the
    project, else the absolute path of the repository Copier cloned (its clone's origin)."""
    if REMOTE_SOURCE.match(source) or (Path(source).expanduser().is_absolute() and _git_repository(Path(source).expanduser())):
        return source
    origin = _git(template_root, "remote", "get-url", "origin").strip()
    if REMOTE_SOURCE.match(origin):
        return origin
    if origin and _git_repository(Path(origin)):
        return str(Path(origin).resolve())
    raise _not_a_repository(source)


def record_updatable_source(project: Path, template_root: Path, answers_file: str) -> None:
    """Refuses a template copy that could never be updated, and repairs a relative source."""
    import yaml

    answers_path = project / answers_file
    text = answers_path.read_text(encoding="utf-8")
    answers = yaml.safe_load(text) or {}
    source, commit = str(answers.get("_src_path", "")), str(answers.get("_commit", ""))
    if not commit:  # Copier records no commit for a template outside git
        raise _not_a_repository(source)
    fixed = updatable_source(source, template_root)
    if fixed != source:
        replacement = yaml.safe_dump({"_src_path": fixed}, allow_unicode=True, width=10_000).strip()
        answers_path.write_text(re.sub(r"^_src_path:.*$", lambda _: replacement, text, count=1, flags=re.MULTILINE), encoding="utf-8")
        say(f"recorded the template as {fixed} (not {source!r}), so `copier update` finds it from the project")
    if re.fullmatch(r"[0-9a-f]{7,40}", commit):  # `git describe --always` found no tag
        say(f"the template has no release tag at {commit}: `copier update` needs a project generated "
            "from a tagged release (docs/releasing.md)")


# --- Reconciling an existing lock with package.json -------------------------------------


@dataclass
class LockOutcome:
    """What reconcile_lockfile did, in words a person can act on."""

    status: str  # "current", "recut", "kept-own", "npm", "stale"
    message: str
    own: list[str] = field(default_factory=list)


def _declared(manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {name: dict(manifest.get(name) or {}) for name in DEPENDENCY_FIELDS}


def lock_matches(lock: dict[str, Any] | None, manifest: dict[str, Any]) -> bool:
    """True when the lock's root records exactly the dependencies package.json declares."""
    if not lock:
        return False
    root = lock.get("packages", {}).get("", {})
    return all(dict(root.get(name) or {}) == declared for name, declared in _declared(manifest).items())


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
    declared = {name: version for group in _declared(manifest).values() for name, version in group.items()}
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
        team_locations = _reach(team_packages, own)
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
        _write_json(lock_file, lock)
        return LockOutcome("recut", f"package-lock.json re-cut offline from Rampart's tested lock {why}")
    if lock is not None:
        # The team's packages joined Rampart's: let npm check every version range, offline.
        previous = lock_file.read_bytes() if lock_file.exists() else None
        _write_json(lock_file, lock)
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


# --- Merging package.json as data -----------------------------------------------------

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
        merged = dict(sorted(merged.items(), key=lambda item: _collation_key(item[0])))
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
    return bool(_git(project, "ls-files", "--unmerged", "--", relpath).strip())


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
    _git(project, "reset", "-q", "--", "package.json")  # clears the unmerged index entry
    names = [".".join(path) for path in clashes]
    found = {"package.json": "; ".join(
        f"{name} changed by you ({_describe(_at(ours, path))}) and by this release "
        f"({_describe(_at(theirs, path))}, was {_describe(_at(base, path))}): yours kept, decide"
        for name, path in zip(names, clashes)
    )} if clashes else {}
    detail = f"; changed on both sides, yours kept: {', '.join(names)}" if clashes else ""
    return f"package.json merged as data (its text merge conflicted): your changes kept, this release's applied{detail}", found


# --- Reporting what an update could not merge -------------------------------------------

UNMERGED = {"DD", "AU", "UD", "UA", "DU", "AA", "UU"}


def _git(project: Path, *arguments: str) -> str:
    result = subprocess.run(["git", *arguments], cwd=project, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else ""


def _has_markers(path: Path) -> bool:
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
    top = Path(_git(project, "rev-parse", "--show-toplevel").strip() or project).resolve()
    status = _git(project, "status", "--porcelain=v1", "-z", "--ignored", "--untracked-files=all", "--", ".")
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
        elif code != "!!" and _has_markers(full):
            found[path] = "conflict markers"
    return dict(sorted(found.items()))


def finish_update(project: Path, template_root: Path, answers_file: str = ".copier-answers.yml") -> int:
    merge_message, clashes = merge_package_json(project, template_root, answers_file)
    if merge_message:
        say(merge_message)
    outcome = reconcile_lockfile(project, template_root, previous_union=previous_union_lock(project, template_root, answers_file))
    say(outcome.message)
    if not (project / ".env").exists():
        say("no .env here (an update never writes or rotates secrets): create one from .env.example, "
            "with secrets from `node -e \"console.log(require('node:crypto').randomBytes(48).toString('base64url'))\"`.")
    conflicts = find_conflicts(project)
    for path, how in clashes.items():
        conflicts[path] = f"{conflicts[path]}; {how}" if path in conflicts else how
    if conflicts:
        lines = "\n".join(f"  {path}: {how}" for path, how in conflicts.items())
        say(
            f"UPDATE CONFLICTS: {len(conflicts)} file(s) need you; nothing was resolved in either direction.\n{lines}\n"
            "Edit each file (between '<<<<<<< before updating' and '>>>>>>> after updating', or from its .rej file), "
            "delete the .rej files, `git add` the result, then run `npm ci --ignore-scripts && npm test` before committing."
        )
    else:
        say("update merged without conflicts; review `git diff`, then run `npm ci --ignore-scripts && npm test`.")
    if outcome.status == "stale":
        say("package-lock.json does NOT match package.json yet: `npm ci` will refuse it until it does.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--template-root", type=Path, required=True)
    # Copier's _copier_operation: "copy" (also for recopy) or "update"; anything else is
    # treated like an update, the cautious side.
    parser.add_argument("--operation", default="copy")
    parser.add_argument("--finish-update", action="store_true", help="the after-update step (a Copier migration)")
    parser.add_argument("--answers-file", default=".copier-answers.yml")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args()
    try:
        if args.finish_update:
            return finish_update(args.project, args.template_root, args.answers_file)
        if args.operation == "copy":
            record_updatable_source(args.project, args.template_root, args.answers_file)
            write_env(args.project)
            if (args.project / "package-lock.json").exists():
                outcome = reconcile_lockfile(args.project, args.template_root)
                if outcome.status != "current":
                    say(outcome.message)
            else:
                write_lockfile(args.project, args.template_root)
        else:
            write_lockfile(args.project, args.template_root)
    except RefusedSource as error:
        say(f"refused: {error}")
        return 1
    except (OSError, ValueError, KeyError) as error:
        print(f"rampart: could not finish the project: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
