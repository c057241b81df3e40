#!/usr/bin/env python3
"""Rewrites a team's own code where a Rampart release changed a contract it builds on.

Run by Copier on `copier update` (`_migrations` in copier.yml, `_stage == 'after'`), after the
team's edits are replayed, so it sees the team's routes as they are. Each rewrite is small,
says what it changed, and leaves anything it does not recognise for the type checker to name.

Every rewrite finds the old shape by its text, is a no-op on code already in the new shape,
and says nothing then: copier.yml runs it on every update, with no `version:`, so it works
whether or not the template history has release tags.

route-policies (0.2.0): routes declared `auth: 'bearer'` or `auth: 'none'` now declare an
access policy, `access: 'authenticated'` or `access: 'public'`, and handlers receive the
caller instead of a bare user id: `handle({ body, userId })` becomes
`handle({ body, caller: { userId } })`, so the handler's body is unchanged. A route that was
public and read userId now fails typecheck (a public route has no caller), which is right:
decide whether it needs a token.

store-calls (resources as units): the one `Store` of src/db/store.ts became a repository per
resource, and the routes that moved into the resource folders (src/users/routes.ts,
src/items/routes.ts, src/auth/routes.ts) receive their repository by name. In the files given,
a team's call `store.findUserById(id)` becomes `users.findById(id)`, `store.updateItem(...)`
becomes `items.update(...)`, and so on (STORE_CALLS). A call in a file where that repository is
not in scope is left for the type checker to name.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

# Run as a script, this file's folder is on sys.path: common.py sits beside it.
from common import say

POLICIES = {"bearer": "authenticated", "none": "public"}
OLD_POLICY = re.compile(r"\bauth: '(bearer|none)'")
# The destructured parameter of a route handler: handle({ ... }) or async handle({ ... }).
HANDLER_PARAMETERS = re.compile(r"(\bhandle\(\{)([^}]*)(\}\))")
USER_ID = re.compile(r"(?<![\w.:])userId(?![\w:])")

# Store method -> the repository and method that took it over.
STORE_CALLS = {
    "createUser": "users.create",
    "findUserByEmail": "users.findByEmail",
    "findUserById": "users.findById",
    "setUserRole": "users.setRole",
    "createItem": "items.create",
    "findItemById": "items.findById",
    "listItems": "items.list",
    "updateItem": "items.update",
    "deleteItem": "items.delete",
    "saveRefreshToken": "sessions.saveRefreshToken",
    "useRefreshToken": "sessions.useRefreshToken",
    "revokeRefreshFamily": "sessions.revokeRefreshFamily",
}
STORE_CALL = re.compile(r"(?<![\w.])store\.(" + "|".join(STORE_CALLS) + r")\(")


def convert_routes(text: str) -> tuple[str, int]:
    """The text with old route declarations converted, and how many policies were rewritten."""
    converted, policies = OLD_POLICY.subn(lambda match: f"access: '{POLICIES[match.group(1)]}'", text)
    if policies == 0:
        return text, 0
    converted = HANDLER_PARAMETERS.sub(
        lambda match: match.group(1) + USER_ID.sub("caller: { userId }", match.group(2)) + match.group(3), converted
    )
    return converted, policies


def route_policies(project: Path) -> int:
    for path in sorted((project / "src").rglob("*.ts")):
        if "node_modules" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "defineRoute(" not in text:
            continue  # Only route tables declare routes; an `auth:` elsewhere is not ours to rewrite.
        converted, policies = convert_routes(text)
        if converted != text:
            path.write_text(converted, encoding="utf-8")
            say(
                f"route policies: {path.relative_to(project)}: {policies} route(s) now declare an access policy "
                "(auth: 'bearer' -> access: 'authenticated', auth: 'none' -> access: 'public'); "
                "make any that only admins may call { role: 'admin' }"
            )
    return 0


def store_calls(project: Path, files: list[str]) -> int:
    for relpath in files:
        path = project / relpath
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        methods = sorted(set(STORE_CALL.findall(text)))
        converted, calls = STORE_CALL.subn(lambda match: f"{STORE_CALLS[match.group(1)]}(", text)
        if calls:
            path.write_text(converted, encoding="utf-8")
            renames = ", ".join(f"store.{method} -> {STORE_CALLS[method]}" for method in methods)
            say(f"store calls: {relpath}: {calls} call(s) of the old Store now go to the resource's repository ({renames})")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    policies = commands.add_parser("route-policies", help="auth: 'bearer'|'none' -> access: 'authenticated'|'public'")
    policies.add_argument("--project", type=Path, default=Path.cwd())
    calls = commands.add_parser("store-calls", help="store.<method>( -> <repository>.<method>( in the files given")
    calls.add_argument("files", nargs="+")
    calls.add_argument("--project", type=Path, default=Path.cwd())
    args = parser.parse_args()
    if args.command == "store-calls":
        return store_calls(args.project, args.files)
    return route_policies(args.project)


if __name__ == "__main__":
    sys.exit(main())
