#!/usr/bin/env python3
"""Instructions per request, counted by valgrind's callgrind:
`.venv/bin/python bench/instructions.py [--framework fastify] [--scenario patch]`.

Why: CPU time per request, bench/run's steadiest measure, still differs by several percent
between servers of the same code on a shared virtual machine (docs/performance.md, "Start
order"): more than the 5% issue 23 allows metrics against metrics off. The number of
instructions a server executes is not moved by a neighbour's load, the clock, the caches or
where its pages landed; it is the work itself. It does not see what costs cycles without
instructions (a cache miss, a page fault), so it stands beside bench/run's CPU columns and
does not replace them.

How: each server runs under callgrind (every thread counted), answers WARMUP requests, then
SHORT more, and stops; the same again with LONG instead of SHORT. The difference of the two
totals over LONG - SHORT is the instructions per request: start-up, warm-up (the JIT's
compilation) and shut-down cancel out. valgrind runs a server about fifty times slower, so
this takes a minute or two per server and request type.

Compared: the project as generated (metrics on) against the same project with METRICS_PORT=0,
on each framework and request type asked for. Needs valgrind (Debian's `valgrind` package) and
the repository's virtual environment. Nothing here is a test: no number is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    BENCH,
    FRAMEWORKS,
    SCENARIOS,
    ChildProcess,
    Server,
    Settings,
    copier_copy,
    create_item,
    log_in,
    node_binary,
    run,
    server_environment,
)

START_TIMEOUT = 300.0
VARIANTS = {"metrics on": {}, "metrics off": {"METRICS_PORT": "0"}}


def counted_run(project: Path, scenario: str, requests: tuple[int, int], env: dict[str, str], workdir: Path) -> int:
    """Starts the server under callgrind, sends `requests` (warm-up, then measured) and stops it:
    the instructions it executed in all, every thread's."""
    out = Path(tempfile.mkstemp(prefix="callgrind-", dir=workdir)[1])
    command = ["valgrind", "--tool=callgrind", "--smc-check=all-non-file", f"--callgrind-out-file={out}", node_binary(), "src/server.ts"]
    process = ChildProcess(command, cwd=project, env=env, name=f"bench: {scenario} under callgrind", keep=1000, error=SystemExit)
    try:
        server = Server("counted", process, str(process.wait_for_log("listening", START_TIMEOUT)["url"]))
        server.token = log_in(server)
        server.item_id = create_item(server)
        for amount in requests:
            plan = {"url": server.url, "scenario": scenario, "token": server.token, "itemId": server.item_id, "connections": 8, "amount": amount, "expect": SCENARIOS[scenario][1]}
            result = json.loads(run([node_binary(), str(BENCH / "load.mjs"), json.dumps(plan)], BENCH, timeout=1800).stdout.strip().splitlines()[-1])
            if result["unexpected"] or result["errors"] or result["completed"] != amount:
                raise SystemExit(f"bench: {scenario} answered other than {plan['expect']}: {result}")
    finally:
        process.stop(grace=120)
    totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
    if not totals:
        raise SystemExit(f"bench: callgrind wrote no totals to {out}:\n{process.output()[-2000:]}")
    return int(totals[0].split()[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="express, fastify (default: both)")
    parser.add_argument("--scenario", choices=list(SCENARIOS), action="append", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--warmup", type=int, default=1000, help="requests before counting (default 1000)")
    parser.add_argument("--short", type=int, default=1000, help="requests counted in the short run (default 1000)")
    parser.add_argument("--long", type=int, default=5000, help="requests counted in the long run (default 5000)")
    # A count does not depend on what else runs: servers may share the machine.
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="servers counted at once (default: one per CPU)")
    options = parser.parse_args(argv)
    if not shutil.which("valgrind"):
        raise SystemExit("bench: valgrind is missing (Debian: apt-get install valgrind)")
    if options.long <= options.short:
        raise SystemExit("bench: --long must be larger than --short")
    settings = Settings(connections=8, duration=0, rounds=0, warmup=0, ablation_rounds=0, ablation_duration=0, server_cpu=None, load_cpu=None)
    jwt = {"JWT_ACCESS_SECRET": secrets.token_urlsafe(48), "JWT_REFRESH_SECRET": secrets.token_urlsafe(48)}
    with tempfile.TemporaryDirectory(prefix="rampart-instructions-") as temporary:
        workdir = Path(temporary)
        for framework in options.framework or FRAMEWORKS:
            project = workdir / framework
            copier_copy(project, framework)
            run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], project)
            for scenario in options.scenario or SCENARIOS:
                with ThreadPoolExecutor(max_workers=options.jobs) as pool:
                    runs = {
                        (variant, amount): pool.submit(counted_run, project, scenario, (options.warmup, amount), {**server_environment(project, jwt, settings), **overrides}, workdir)
                        for variant, overrides in VARIANTS.items()
                        for amount in (options.short, options.long)
                    }
                    totals = {key: future.result() for key, future in runs.items()}
                counted = {variant: (totals[variant, options.long] - totals[variant, options.short]) / (options.long - options.short) for variant in VARIANTS}
                on, off = counted["metrics on"], counted["metrics off"]
                print(f"{framework} {SCENARIOS[scenario][0]}: metrics off {off:,.0f}, on {on:,.0f} instructions per request; on/off {on / off:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
