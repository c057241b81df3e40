"""The questions as a person answers them: in a real terminal (tmux) 80 columns wide.

Copier shows a refused answer on the prompt's bottom line as "Validation error for question
'NAME': " and the first line of the template's message, cut at the terminal's width; the test
reads that line as the person sees it. About 15 seconds.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WIDTH = 80
# Copier puts "🎤 " (an emoji two columns wide, then a space) before a question's first help
# line, and questionary " » " before each choice; nothing wraps: a longer line is cut.
QUESTION_MARK_COLUMNS = 3
QUESTIONS = {name: question for name, question in yaml.safe_load((ROOT / "copier.yml").read_text(encoding="utf-8")).items() if not name.startswith("_") and isinstance(question, dict)}



@pytest.fixture(autouse=True)
def tmux_installed() -> None:
    if shutil.which("tmux") is None:
        pytest.fail("tmux is missing: `bash .ci/services/tmux.sh` installs it (.ci/run does)", pytrace=False)


class Terminal:
    """One tmux session on a server of its own, so nothing else's sessions are touched."""

    def __init__(self, command: str, cwd: Path) -> None:
        self.socket = f"rampart-prompts-{os.getpid()}"
        self.tmux(["new-session", "-d", "-s", "t", "-x", str(WIDTH), "-y", "30", "-c", str(cwd), command])

    def tmux(self, arguments: list[str]) -> str:
        return subprocess.run(["tmux", "-L", self.socket, *arguments], capture_output=True, text=True, check=True).stdout

    def screen(self) -> list[str]:
        return self.tmux(["capture-pane", "-t", "t", "-p"]).splitlines()

    def wait_for(self, text: str, timeout: float = 60) -> list[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.screen()
            if any(text in line for line in lines):
                return lines
            time.sleep(0.2)
        raise AssertionError(f"{text!r} never appeared; the screen:\n" + "\n".join(self.screen()))

    def answer(self, text: str) -> None:
        """Replaces the proposed answer (Copier pre-fills the default) with `text`."""
        self.tmux(["send-keys", "-t", "t", "C-u"])
        self.tmux(["send-keys", "-t", "t", "-l", text])
        self.tmux(["send-keys", "-t", "t", "Enter"])

    def keys(self, *keys: str) -> None:
        self.tmux(["send-keys", "-t", "t", *keys])

    def shows_refusal(self, question: str, message: str) -> bool:
        """Whether the bottom line, as shown, reads exactly `message` for `question` (it is
        redrawn as the answer is typed, so wait for it)."""
        expected = f"Validation error for question '{question}': {message}"
        try:
            lines = self.wait_for(expected, timeout=10)
        except AssertionError:
            return False
        return any(line.rstrip() == expected for line in lines)

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


def test_every_help_line_and_choice_fits_80_columns() -> None:
    """A help line or a choice longer than the terminal is cut mid-word, and the rule it ends
    with (https:// only) never shows."""
    for name, question in QUESTIONS.items():
        lines = str(question.get("help", "")).splitlines()
        for number, line in enumerate(lines):
            width = len(line) + (QUESTION_MARK_COLUMNS if number == 0 else 0)
            assert width <= WIDTH, f"{name}: help line {number + 1} is {width} columns at the prompt: {line!r}"
        for label in question.get("choices", {}):
            assert len(label) + QUESTION_MARK_COLUMNS <= WIDTH, f"{name}: choice {label!r} is cut at {WIDTH} columns"


def help_lines(question: str) -> list[str]:
    """The question's help as the prompt shows it, line by line."""
    return [line.strip() for line in QUESTIONS[question]["help"].splitlines()]


def test_questions_read_well_at_80_columns(tmp_path: Path) -> None:
    copier = shlex.join([sys.executable, "-m", "copier", "copy", "--trust", "--vcs-ref", "HEAD", str(ROOT), str(tmp_path / "api")])
    terminal = Terminal(f"{copier}; echo COPIER-EXITED-$?; sleep 600", tmp_path)
    try:
        terminal.wait_for("Human-readable name of the API")
        terminal.keys("Enter")
        screen = terminal.wait_for("npm package name")
        assert all(any(line.rstrip().endswith(shown) for line in screen) for shown in help_lines("package_slug")), screen
        terminal.answer("My App")
        assert terminal.shows_refusal("package_slug", "not a valid npm package name"), terminal.screen()[-1]
        terminal.answer("my-app")
        terminal.wait_for("One-line description")
        terminal.keys("Enter")
        for question in ("HTTP framework", "Database"):
            terminal.wait_for(question)
            terminal.keys("Enter")
        screen = terminal.wait_for("Authentication")
        for label in QUESTIONS["auth"]["choices"]:
            assert any(line.rstrip().endswith(label) for line in screen), f"choice {label!r} is cut:\n" + "\n".join(screen)
        terminal.keys("Down", "Down", "Down", "Enter")  # none: a public API (after jwt, jwt-asymmetric, oidc)
        terminal.wait_for("Where rate-limit counters live")
        terminal.keys("Enter")
        screen = terminal.wait_for("Browser origins allowed")
        # Every help line shows whole, the https-only rule included.
        assert all(any(line.rstrip().endswith(shown) for line in screen) for shown in help_lines("cors_origins")), screen
        # The default is pre-filled as one plain line, so clearing the line clears the answer.
        assert any(line.strip() == "http://localhost:5173" for line in terminal.wait_for("http://localhost:5173")), terminal.screen()
        terminal.answer("*")
        assert terminal.shows_refusal("cors_origins", "must not contain '*'"), terminal.screen()[-1]
        terminal.answer("http://app.example.com")
        assert terminal.shows_refusal("cors_origins", "plain http:// only for localhost"), terminal.screen()[-1]
        terminal.answer("https://app.example.com, https://admin.example.com")
        terminal.wait_for("Largest JSON request body")
        for bad in ("*", "ten", "0", "20000"):
            terminal.answer(bad)
            assert terminal.shows_refusal("body_limit_kb", f"must be 1 to 10240, not '{bad}'"), terminal.screen()[-1]
        terminal.answer("64")
        terminal.wait_for("Length of the rate-limit window")
        terminal.answer("*")
        # The longest question name leaves 21 columns: what is wrong still fits.
        assert terminal.shows_refusal("rate_limit_window_minutes", "must be 1 to 1440"), terminal.screen()[-1]
        terminal.answer("15")
        terminal.wait_for("Requests per client IP per window")
        terminal.answer("1.5")
        assert terminal.shows_refusal("rate_limit_max", "must be 1 to 10000000, not '1.5'"), terminal.screen()[-1]
        terminal.answer("100")
        # With auth none there is no credential endpoint: auth_rate_limit_max is not asked.
        lines = terminal.wait_for("COPIER-EXITED-", timeout=120)
        screen = "\n".join(lines)
        assert "COPIER-EXITED-0" in screen, screen
        assert "Failed login, register or refresh attempts" not in screen
        for step in ("npm ci --ignore-scripts", "npm start", "npm test", "README.md is the project's manual"):
            assert step in screen, f"the closing message lacks {step!r}:\n{screen}"
    finally:
        terminal.close()
    settings = (tmp_path / "api/src/project.ts").read_text()
    assert "bodyLimit: '64kb'" in settings and "authRateLimitMax: 5," in settings
    assert 'corsOrigins: "https://app.example.com,https://admin.example.com",' in settings, settings


def test_the_identity_provider_questions_at_80_columns(tmp_path: Path) -> None:
    """auth: oidc asks three more questions; the two without a default are asked with an empty
    line (no crash on a default that would not pass), and each refusal fits the prompt's line."""
    copier = shlex.join([sys.executable, "-m", "copier", "copy", "--trust", "--vcs-ref", "HEAD", "--skip-tasks", str(ROOT), str(tmp_path / "api")])
    terminal = Terminal(f"{copier}; echo COPIER-EXITED-$?; sleep 600", tmp_path)
    try:
        for question in ("Human-readable name of the API", "npm package name", "One-line description", "HTTP framework", "Database"):
            terminal.wait_for(question)
            terminal.keys("Enter")
        terminal.wait_for("Authentication")
        terminal.keys("Down", "Down", "Enter")  # oidc
        screen = terminal.wait_for("issuer URL")
        assert all(any(line.rstrip().endswith(shown) for line in screen) for shown in help_lines("oidc_issuer")), screen
        terminal.answer("http://login.example.com")
        assert terminal.shows_refusal("oidc_issuer", "plain http:// only for localhost"), terminal.screen()[-1]
        terminal.answer("https://login.example.com/realms/staff")
        terminal.wait_for("This API's identifier")
        terminal.answer("api://pay ments")
        assert terminal.shows_refusal("oidc_audience", "not one audience value"), terminal.screen()[-1]
        terminal.answer("api://payments")
        terminal.wait_for("Where the provider puts a caller's roles")
        terminal.answer("realm_access..roles")
        assert terminal.shows_refusal("oidc_roles_claim", "not a claim name or path"), terminal.screen()[-1]
        terminal.answer("realm_access.roles")
        # No credential endpoints with oidc: the failed-attempts limit is not asked.
        terminal.wait_for("Where rate-limit counters live")
        terminal.keys("Enter")
        for question in ("Browser origins allowed", "Largest JSON request body", "Length of the rate-limit window", "Requests per client IP"):
            terminal.wait_for(question)
            terminal.keys("Enter")
        screen = "\n".join(terminal.wait_for("COPIER-EXITED-", timeout=120))
        assert "COPIER-EXITED-0" in screen and "Failed login, register or refresh attempts" not in screen, screen
    finally:
        terminal.close()
    settings = (tmp_path / "api/src/project.ts").read_text()
    assert 'issuer: "https://login.example.com/realms/staff",' in settings and 'rolesClaim: "realm_access.roles",' in settings, settings
