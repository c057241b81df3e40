"""What every step of Rampart's Copier hooks shares: how it speaks to the person running
Copier (one `rampart:` line on stderr), and how it asks git about the project."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def say(message: str) -> None:
    print(f"rampart: {message}", file=sys.stderr, flush=True)


def git(project: Path, *arguments: str) -> str:
    """git's output in `project`, or "" when git fails (not a repository, no such revision)."""
    result = subprocess.run(["git", *arguments], cwd=project, capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else ""
