"""Generating a project: defaults work, bad answers are refused, the output is clean."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, generate

# Jinja syntax as Copier would have rendered it: `{{ name`, `{% tag`, `{# comment`.
# GitHub Actions expressions (${{ secrets.X }}) are not Jinja and may appear in workflows.
JINJA_MARKERS = re.compile(r"(?<!\$)\{\{-?\s*[A-Za-z_(]|\{%-?\s|\{#")


def text_files(project: Path):
    for path in sorted(project.rglob("*")):
        if path.is_file() and "node_modules" not in path.parts:
            yield path, path.read_text(encoding="utf-8")


def test_defaults_generate_with_pytest_copie(copie) -> None:
    result = copie.copy(extra_answers={})
    assert result.exit_code == 0, result.exception
    project = result.project_dir
    for expected in [
        ".copier-answers.yml",
        ".env",
        ".env.example",
        ".npmrc",
        ".github/workflows/ci.yml",
        ".github/dependabot.yml",
        "package.json",
        "package-lock.json",
        "README.md",
        "src/server.ts",
        "src/app.ts",
        "src/db/sqlite.ts",
        *(f"src/security/{name}.ts" for name in ["validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "authorization"]),
        *(f"test/security/{name}.test.ts" for name in ["validation", "headers", "rate-limit", "jwt", "injection", "cors", "errors", "supply-chain", "authorization"]),
        "src/cli/grant-role.ts",
        "src/api/item-routes.ts",
        "docs/index.md",
        "docs/adding-a-route.md",
        "docs/practices/authorization.md",
    ]:
        assert (project / expected).is_file(), f"{expected} was not generated"
    assert result.answers["framework"] == "express"
    assert result.answers["database"] == "sqlite"


def test_no_unrendered_jinja_and_valid_json(tmp_path: Path) -> None:
    project = generate(tmp_path / "project", project_name="Café <API> & \"Friends\"", description='Quotes " and \\ backslashes')
    for path, text in text_files(project):
        assert not path.name.endswith(".jinja"), f"{path} kept its .jinja suffix"
        assert not JINJA_MARKERS.search(text), f"unrendered Jinja in {path.relative_to(project)}"
        if path.suffix == ".json":
            json.loads(text)
    manifest = json.loads((project / "package.json").read_text())
    assert manifest["description"] == 'Quotes " and \\ backslashes'
    assert manifest["name"] == "caf-api-friends"


def test_secrets_only_in_env(tmp_path: Path) -> None:
    project = generate(tmp_path / "project")
    env = dict(line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line and not line.startswith("#"))
    secrets = [env["JWT_ACCESS_SECRET"], env["JWT_REFRESH_SECRET"]]
    assert len(set(secrets)) == 2
    assert all(len(secret.encode()) >= 48 for secret in secrets)
    assert stat.S_IMODE((project / ".env").stat().st_mode) == 0o600
    for path, text in text_files(project):
        if path.name != ".env":
            for secret in secrets:
                assert secret not in text, f"a generated secret leaked into {path.relative_to(project)}"
    # A second project gets secrets of its own.
    other = generate(tmp_path / "other")
    assert secrets[0] not in (other / ".env").read_text()
    # .env is ignored by git in the generated project.
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    ignored = subprocess.run(["git", "check-ignore", ".env"], cwd=project, capture_output=True, text=True)
    assert ignored.returncode == 0, ".env is not git-ignored"


def test_answers_reach_the_project(tmp_path: Path) -> None:
    project = generate(
        tmp_path / "project",
        project_name="Orders",
        package_slug="@acme/orders-api",
        cors_origins=["https://shop.acme.example", "http://localhost:3000", "http://127.0.0.1:8080", "http://[::1]:5173"],
        body_limit_kb=64,
        rate_limit_max=250,
        rate_limit_window_minutes=5,
        auth_rate_limit_max=3,
    )
    settings = (project / "src/project.ts").read_text()
    assert "\"https://shop.acme.example,http://localhost:3000,http://127.0.0.1:8080,http://[::1]:5173\"" in settings
    assert "bodyLimit: '64kb'" in settings
    assert "rateLimitMax: 250" in settings
    assert "rateLimitWindowMinutes: 5" in settings
    assert "authRateLimitMax: 3" in settings
    assert json.loads((project / "package.json").read_text())["name"] == "@acme/orders-api"
    assert json.loads((project / "package-lock.json").read_text())["name"] == "@acme/orders-api"


BAD_ANSWERS = [
    ({"package_slug": "Not A Package"}, "not a valid npm package name"),
    ({"package_slug": "_private"}, "not a valid npm package name"),
    ({"project_name": "   "}, "must not be empty"),
    ({"cors_origins": ["*"]}, "must not contain '*'"),
    ({"cors_origins": ["http://app.example.com"]}, "plain http:// is accepted only for localhost"),
    ({"cors_origins": ["app.example.com"]}, "is not allowed"),
    ({"cors_origins": ["https://app.example.com/"]}, "is not allowed"),
    ({"cors_origins": ["https://app.example.com:443"]}, "is not allowed"),
    ({"cors_origins": "https://app.example.com"}, "must be a YAML list"),
    ({"cors_origins": []}, "at least one origin"),
    ({"body_limit_kb": 0}, "body_limit_kb must be between 1 and 1024"),
    ({"rate_limit_max": 0}, "rate_limit_max must be between"),
    ({"auth_rate_limit_max": 100000}, "auth_rate_limit_max must be between"),
    ({"framework": "koa"}, "koa"),
    ({"database": "oracle"}, "oracle"),
]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=[next(iter(a)) + ":" + str(next(iter(a.values()))) for a, _ in BAD_ANSWERS])
def test_bad_answers_are_refused_and_nothing_is_written(tmp_path: Path, answers: dict, message: str) -> None:
    destination = tmp_path / "project"
    data_args = [arg for key, value in answers.items() for arg in ("--data", f"{key}={json.dumps(value) if not isinstance(value, str) else value}")]
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD", *data_args, str(ROOT), str(destination)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0, f"{answers} was accepted"
    assert message in result.stderr + result.stdout, result.stderr
    assert not destination.exists() or not any(destination.iterdir()), "files were written for a refused answer"
