"""Where the template suite spends its time, read from a pytest JUnit XML report.

`.ci/run` writes the report of every run to build/junit.xml and prints this summary after it;
docs/proof.md keeps the figures of the runs it cites. Run by hand:

    python tests/timings.py build/junit.xml [--workers 2] [--slowest 15]

Prints a Markdown table of worker-seconds by test file, and what one combination of choices
costs: the tests named after it (its whole proof suite in tests/test_matrix.py and its outside
verification in tests/test_verification.py), in worker-seconds and in wall time at the given
number of pytest-xdist workers.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matrix import COMBINATIONS, combination_id  # noqa: E402

PARAMETERS = re.compile(r"\[(?P<parameters>[^\]]+)\]$")


def read(report: Path) -> list[tuple[str, str, float]]:
    """(test file, test name, seconds) for every test case in the report."""
    cases = []
    for case in ElementTree.parse(report).iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        cases.append((module, case.get("name", ""), float(case.get("time", 0))))
    return cases


def by_file(cases: list[tuple[str, str, float]]) -> list[tuple[str, int, float]]:
    totals: dict[str, list[float]] = defaultdict(list)
    for module, _name, seconds in cases:
        totals[module].append(seconds)
    return sorted(((module, len(times), sum(times)) for module, times in totals.items()), key=lambda row: -row[2])


# The files whose tests each combination adds: its whole proof suite and its outside verification.
PER_COMBINATION_FILES = ("test_matrix", "test_verification")


def per_combination(cases: list[tuple[str, str, float]]) -> dict[str, float]:
    """Worker-seconds that each combination adds (its id ends the names of its tests)."""
    ids = {combination_id(combination) for combination in COMBINATIONS}
    totals: dict[str, float] = defaultdict(float)
    for module, name, seconds in cases:
        match = PARAMETERS.search(name)
        if module not in PER_COMBINATION_FILES or not match:
            continue
        for identifier in ids:
            if match.group("parameters").endswith(identifier):
                totals[identifier] += seconds
    return dict(totals)


def summary(report: Path, workers: int, slowest: int) -> str:
    cases = read(report)
    total = sum(seconds for _module, _name, seconds in cases)
    lines = ["| Test file | Tests | Worker-seconds | Share |", "|---|---:|---:|---:|"]
    for module, count, seconds in by_file(cases):
        lines.append(f"| {module} | {count} | {seconds:.0f} | {100 * seconds / total:.0f}% |")
    lines.append(f"| all | {len(cases)} | {total:.0f} | 100% |")
    combinations = per_combination(cases)
    if combinations:
        values = sorted(combinations.values())
        mean = sum(values) / len(values)
        lines += [
            "",
            f"One combination ({len(values)} measured): {mean:.0f} worker-seconds on average "
            f"(from {values[0]:.0f} to {values[-1]:.0f}), so about {mean / workers:.0f} s of wall time at {workers} workers.",
        ]
    if slowest:
        lines += ["", f"Slowest {slowest}:"]
        for module, name, seconds in sorted(cases, key=lambda case: -case[2])[:slowest]:
            lines.append(f"  {seconds:7.1f} s  {module}::{name}")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--slowest", type=int, default=15)
    options = parser.parse_args(argv)
    if not options.report.is_file():
        print(f"no report at {options.report}", file=sys.stderr)
        return 1
    print(summary(options.report, options.workers, options.slowest))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
