"""The template's union lockfile is current, and cutting it per project is exact."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "hooks"))

from lockfile import check, prune_lockfile  # noqa: E402

UNION_LOCK = json.loads((ROOT / "hooks/npm/package-lock.json").read_text())
UNION_MANIFEST = json.loads((ROOT / "hooks/npm/package.json").read_text())


def test_union_lock_matches_every_rendered_package_json() -> None:
    assert check() == [], "run `python hooks/lockfile.py refresh` after changing versions in template/package.json.jinja"


def test_pruning_to_the_union_manifest_keeps_everything() -> None:
    pruned = prune_lockfile(UNION_LOCK, UNION_MANIFEST)
    assert set(pruned["packages"]) == set(UNION_LOCK["packages"])
    for location, entry in UNION_LOCK["packages"].items():
        if location:
            assert pruned["packages"][location] == entry, location


def test_pruning_drops_what_is_not_needed_and_marks_dev_only_packages() -> None:
    manifest = {"name": "only-zod", "version": "1.0.0", "dependencies": {"zod": UNION_MANIFEST["dependencies"]["zod"]}, "devDependencies": {"typescript": UNION_MANIFEST["devDependencies"]["typescript"]}}
    pruned = prune_lockfile(UNION_LOCK, manifest)
    assert set(pruned["packages"]) == {"", "node_modules/zod", "node_modules/typescript"}
    assert "dev" not in pruned["packages"]["node_modules/zod"]
    assert pruned["packages"]["node_modules/typescript"]["dev"] is True
    assert pruned["packages"][""]["dependencies"] == manifest["dependencies"]


def test_generated_lock_has_no_package_outside_its_dependency_tree(tmp_path: Path) -> None:
    from conftest import generate

    project = generate(tmp_path / "project")
    lock = json.loads((project / "package-lock.json").read_text())
    manifest = json.loads((project / "package.json").read_text())
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    assert prune_lockfile(lock, manifest)["packages"] == lock["packages"]
