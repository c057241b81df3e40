#!/usr/bin/env python3
"""The floor under the hardened server: `.venv/bin/python bench/floor.py [--framework fastify]`.

Why: issue 23 asks every cell of bench/run to keep 0.75 of the bare server. This measures how
much of bare a server keeps with only what no hardened design can leave out, each done the
cheapest way: the response headers every answer carries, a synchronous per-client count, one
session lookup per request with a token, and PATCH scoped to the caller's own items
(bench/bare/*-floor.ts say exactly what is in and what is left out). Where the floor itself
keeps less than 0.75 of bare, no implementation of the protections the proof suite requires
can meet the bar there.

How: as bench/run measures hardened against bare, in one run: two copies of each server (bare,
floor, and the project as generated), started in mirrored order, pinned to one CPU with the load
generator on the other, the same request types and rounds; req/s and the server's CPU time per
request, medians over the rounds. SQLite in memory, as in bench/run. Nothing here is a test:
no number is asserted.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    FRAMEWORKS,
    GOAL,
    SCENARIOS,
    Server,
    Settings,
    compare,
    copier_copy,
    ensure_autocannon,
    ratio,
    run,
    scratch_copy,
    start_bare,
    start_hardened,
    start_mirrored,
    wait_for_quiet,
)

BARE, FLOOR, HARDENED = "bare", "floor", "hardened"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="express, fastify (default: both)")
    parser.add_argument("--scenario", choices=list(SCENARIOS), action="append", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--rounds", type=int, default=6, help="rounds per request type (default 6, as bench/run)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per measurement (default 5, as bench/run)")
    parser.add_argument("--wait-quiet", type=int, default=600, metavar="SECONDS", help="as bench/run (default 600; 0: do not wait)")
    options = parser.parse_args(argv)
    ensure_autocannon()
    two_cpus = (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    settings = Settings(
        connections=50,
        duration=options.duration,
        rounds=options.rounds,
        warmup=2,
        ablation_rounds=0,
        ablation_duration=0,
        server_cpu=1 if two_cpus else None,
        load_cpu=0 if two_cpus else None,
    )
    jwt = {"JWT_ACCESS_SECRET": secrets.token_urlsafe(48), "JWT_REFRESH_SECRET": secrets.token_urlsafe(48)}
    scenarios = options.scenario or list(SCENARIOS)
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="rampart-floor-") as temporary:
        workdir = Path(temporary)
        try:
            for framework in options.framework or FRAMEWORKS:
                project = workdir / framework
                copier_copy(project, framework)
                run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], project)
                starters = [
                    lambda copy: start_bare(framework, project, workdir, settings, copy),
                    lambda copy: start_bare(framework, project, workdir, settings, copy, baseline=FLOOR),
                    lambda copy: start_hardened(HARDENED, scratch_copy(project, workdir / f"{framework}-hardened-{copy}"), jwt, settings),
                ]
                variants = start_mirrored(starters, servers)
                wait_for_quiet(options.wait_quiet)
                results = compare(variants, scenarios, options.rounds, options.duration, settings, framework)
                for scenario in scenarios:
                    measured = {name: samples.summary() for name, samples in results[scenario].items()}
                    rps = {name: summary["rps"] for name, summary in measured.items()}
                    cpu = {name: summary["cpu_us_per_request"] for name, summary in measured.items()}
                    print(
                        f"{framework} {SCENARIOS[scenario][0]}: req/s bare {rps[BARE]:,.0f}, floor {rps[FLOOR]:,.0f}, hardened {rps[HARDENED]:,.0f}; "
                        f"CPU µs bare {cpu[BARE]}, floor {cpu[FLOOR]}, hardened {cpu[HARDENED]}; "
                        f"of bare by req/s: floor {ratio(rps[FLOOR], rps[BARE])}, hardened {ratio(rps[HARDENED], rps[BARE])}; "
                        f"by CPU: floor {ratio(cpu[BARE], cpu[FLOOR])}, hardened {ratio(cpu[BARE], cpu[HARDENED])} (goal {GOAL})",
                        flush=True,
                    )
                for server in servers:
                    server.stop()
                servers.clear()
        finally:
            for server in servers:
                server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
