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
    - keeps each file the team edited that the update dropped (a changed answer that swaps
      whole files, or a release that drops one), unmerged, "deleted by them" (dropped_files.py);
    - reports every file the update could not merge (conflict markers or .rej files), those
      kept files, and what `.env` needs for an answer the update changed (env_file.py);
    - never touches `.env`: an update never rotates or writes secrets.

This file is only the entry point; each concern is a module beside it: env_file.py (.env),
template_source.py (the `_src_path` updates need), project_lock.py (package-lock.json, cut from
lockfile.py's tested union lock), manifest_merge.py (package.json as data) and
update_conflicts.py (what is left to resolve); common.py holds say() and git().
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Copier runs this file as a script: the modules beside it hold each concern.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import say  # noqa: E402
from dropped_files import keep_edited_dropped_files  # noqa: E402
from env_file import env_for_new_answers, write_env  # noqa: E402
from migrations import committed_answers  # noqa: E402
from manifest_merge import merge_package_json  # noqa: E402
from project_lock import previous_union_lock, reconcile_lockfile, write_lockfile  # noqa: E402
from template_source import RefusedSource, record_updatable_source  # noqa: E402
from update_conflicts import conflict_report, find_conflicts  # noqa: E402


def finish_update(project: Path, template_root: Path, answers_file: str = ".copier-answers.yml") -> int:
    merge_message, clashes = merge_package_json(project, template_root, answers_file)
    if merge_message:
        say(merge_message)
    outcome = reconcile_lockfile(project, template_root, previous_union=previous_union_lock(project, template_root, answers_file))
    say(outcome.message)
    kept = keep_edited_dropped_files(project, template_root, answers_file)
    env_file = project / ".env"
    if not env_file.exists():
        say("no .env here (an update never writes or rotates secrets): create one from .env.example, "
            "with secrets from `node -e \"console.log(require('node:crypto').randomBytes(48).toString('base64url'))\"`.")
        env_needs = []
    else:
        import yaml

        new_answers = yaml.safe_load((project / answers_file).read_text(encoding="utf-8")) or {}
        env_needs = env_for_new_answers(env_file.read_text(encoding="utf-8"), committed_answers(project, answers_file), new_answers)
    conflicts = find_conflicts(project)
    conflicts.update(kept)
    if env_needs:
        conflicts[".env"] = "; ".join(env_needs) + " (an update never writes .env)"
    for path, how in clashes.items():
        conflicts[path] = f"{conflicts[path]}; {how}" if path in conflicts else how
    say(conflict_report(conflicts))
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
        say(f"could not finish the project: {error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
