#!/usr/bin/env python3
"""Copier task: finish a generated project, offline and in well under a second.

- Writes `.env` with fresh random secrets, unless the project already has one
  (an update never rotates secrets silently).
- Writes `package-lock.json` for exactly the dependencies the answers chose, cut from the
  template's tested lockfile (hooks/npm/package-lock.json), unless one already exists.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockfile import prune_lockfile  # noqa: E402

ENV_TEMPLATE = """\
# Written by Rampart at generation time with fresh random secrets. Never commit this file.
# See .env.example for every setting.
HOST=127.0.0.1
PORT=3000
LOG_LEVEL=info
JWT_ACCESS_SECRET={access}
JWT_REFRESH_SECRET={refresh}
"""


def write_env(project: Path) -> None:
    env_file = project / ".env"
    if env_file.exists():
        return
    env_file.write_text(
        ENV_TEMPLATE.format(access=secrets.token_urlsafe(48), refresh=secrets.token_urlsafe(48)),
        encoding="utf-8",
    )
    env_file.chmod(0o600)


def write_lockfile(project: Path, template_root: Path) -> None:
    lock_file = project / "package-lock.json"
    if lock_file.exists():
        return
    manifest = json.loads((project / "package.json").read_text(encoding="utf-8"))
    union_lock = json.loads((template_root / "hooks" / "npm" / "package-lock.json").read_text(encoding="utf-8"))
    lock = prune_lockfile(union_lock, manifest)
    lock_file.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--template-root", type=Path, required=True)
    parser.add_argument("--operation", default="copy")
    parser.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args()
    try:
        write_env(args.project)
        write_lockfile(args.project, args.template_root)
    except (OSError, ValueError, KeyError) as error:
        print(f"rampart: could not finish the project: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
