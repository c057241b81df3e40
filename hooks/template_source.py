"""Where `copier update` will look for the template: the `_src_path` a project records must be
one the project can reach again, and the template must be a git repository (updates need its
history)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from common import git, say

REMOTE_SOURCE = re.compile(r"^([a-z][a-z0-9+.-]*://|git@|gh:|gl:)", re.IGNORECASE)
# What a GitHub runner can clone; the same list as the check in rampart-update.yml.
CLONABLE_FROM_GITHUB = re.compile(r"^(https?://|ssh://|git://|git@[^:]+:|gh:|gl:)", re.IGNORECASE)


class RefusedSource(Exception):
    """The project could never be updated from where it was copied."""


def is_git_repository(path: Path) -> bool:
    if path.is_file():
        return path.suffix == ".bundle"
    result = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False)
    return result.returncode == 0 and Path(result.stdout.strip()).resolve() == path.resolve()


def not_a_repository(source: str) -> RefusedSource:
    return RefusedSource(
        f"the template {source!r} is not a git repository, so `copier update` could never bring "
        "this project its fixes. Copy from a git clone of Rampart (by its absolute path) or from "
        "the repository's URL."
    )


def updatable_source(source: str, template_root: Path) -> str:
    """The `_src_path` to record: `source` itself when `copier update` can find it from the
    project, else the absolute path of the repository Copier cloned (its clone's origin)."""
    if REMOTE_SOURCE.match(source) or (Path(source).expanduser().is_absolute() and is_git_repository(Path(source).expanduser())):
        return source
    origin = git(template_root, "remote", "get-url", "origin").strip()
    if REMOTE_SOURCE.match(origin):
        return origin
    if origin and is_git_repository(Path(origin)):
        return str(Path(origin).resolve())
    raise not_a_repository(source)


def unreachable_from_github(source: str) -> str | None:
    """Why the weekly update workflow cannot fetch `source`, and the line to write instead;
    None when it is a URL a GitHub runner can clone."""
    if CLONABLE_FROM_GITHUB.match(source):
        return None
    origin = ""
    if not REMOTE_SOURCE.match(source):
        origin = git(Path(source).expanduser(), "remote", "get-url", "origin").strip()
    if CLONABLE_FROM_GITHUB.match(origin):
        url = f"_src_path: {origin}` (this clone's origin)"
    else:
        url = "_src_path: https://github.com/your-org/rampart.git` (the template repository's git URL)"
    return (
        f"the template is recorded as {source}, a path on this machine, which GitHub cannot reach: "
        "the weekly .github/workflows/rampart-update.yml will stop there. Before you push, set that line of "
        f"the answers file to `{url} and commit (or copy from the URL); _src_path is the one line of that "
        "file you may edit (README.md, Updating from Rampart)"
    )


def record_updatable_source(project: Path, template_root: Path, answers_file: str) -> None:
    """Refuses a template copy that could never be updated, and repairs a relative source."""
    import yaml

    answers_path = project / answers_file
    text = answers_path.read_text(encoding="utf-8")
    answers = yaml.safe_load(text) or {}
    source, commit = str(answers.get("_src_path", "")), str(answers.get("_commit", ""))
    if not commit:  # Copier records no commit for a template outside git
        raise not_a_repository(source)
    fixed = updatable_source(source, template_root)
    if fixed != source:
        replacement = yaml.safe_dump({"_src_path": fixed}, allow_unicode=True, width=10_000).strip()
        answers_path.write_text(re.sub(r"^_src_path:.*$", lambda _: replacement, text, count=1, flags=re.MULTILINE), encoding="utf-8")
        say(f"recorded the template as {fixed} (not {source!r}), so `copier update` finds it from the project")
    unreachable = unreachable_from_github(fixed)
    if unreachable:
        say(unreachable)
    if re.fullmatch(r"[0-9a-f]{7,40}", commit):  # `git describe --always` found no tag
        say(f"the template repository has no release tag (this copy is commit {commit}): releases are "
            "tags, and until one exists the project and its update workflow name versions 0.0.0.postN "
            "(docs/releasing.md)")
