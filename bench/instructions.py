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

Compared, on each framework and request type asked for: the project as generated (metrics on),
the same project with METRICS_PORT=0, and the bare baseline of bench/run (bench/bare/*.ts).
On against off differ only by metrics, and there the count reads issue 23's 5%; bare runs other
code, whose instructions can cost more or less time each (on Express the count and the CPU time
disagree: docs/performance.md), so against bare read bench/run's CPU columns. With --pieces,
also bench/run's scratch copies with one practice taken out (its ABLATIONS), each against the
project as generated: what each piece adds to a request, counted. Needs valgrind (Debian's
`valgrind` package) and the repository's virtual environment. Nothing here is a test: no
number is asserted.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (  # noqa: E402
    ABLATIONS,
    BARE_ENTRY,
    BARE_TOKEN,
    FRAMEWORKS,
    SCENARIOS,
    Settings,
    apply_edits,
    bare_copy,
    bare_environment,
    copier_copy,
    create_item,
    ensure_autocannon,
    load,
    log_in,
    run,
    scratch_copy,
    server_environment,
    start_server,
)

# valgrind starts Node about fifty times slower than Node alone.
START_TIMEOUT = 300.0
HARDENED_ENTRY = "src/server.ts"
METRICS_ON, METRICS_OFF, BARE = "metrics on", "metrics off", "bare"


def counted_run(directory: Path, entry: str, scenario: str, requests: tuple[int, int], env: dict[str, str], settings: Settings, workdir: Path) -> int:
    """Starts the server under callgrind, sends `requests` (warm-up, then measured) and stops it:
    the instructions it executed in all, every thread's."""
    out = Path(tempfile.mkstemp(prefix="callgrind-", dir=workdir)[1])
    wrapper = ("valgrind", "--tool=callgrind", "--smc-check=all-non-file", f"--callgrind-out-file={out}")
    server = start_server(f"{scenario} under callgrind", directory, entry, env, None, wrapper, START_TIMEOUT)
    try:
        server.token = BARE_TOKEN if entry == BARE_ENTRY else log_in(server)
        server.item_id = create_item(server)
        for amount in requests:
            load(server, scenario, 0, settings, amount=amount)
    finally:
        # callgrind writes its totals on exit, which takes a while.
        server.process.stop(grace=120)
    totals = [line for line in out.read_text().splitlines() if line.startswith("totals:")]
    if not totals:
        raise SystemExit(f"bench: callgrind wrote no totals to {out}:\n{server.process.output()[-2000:]}")
    return int(totals[0].split()[1])


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--framework", choices=FRAMEWORKS, action="append", help="express, fastify (default: both)")
    parser.add_argument("--scenario", choices=list(SCENARIOS), action="append", help=f"{', '.join(SCENARIOS)} (default: all)")
    parser.add_argument("--pieces", action="store_true", help="also count bench/run's copies with one practice taken out")
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
    ensure_autocannon()
    settings = Settings(connections=8, duration=0, rounds=0, warmup=0, ablation_rounds=0, ablation_duration=0, server_cpu=None, load_cpu=None)
    jwt = {"JWT_ACCESS_SECRET": secrets.token_urlsafe(48), "JWT_REFRESH_SECRET": secrets.token_urlsafe(48)}
    with tempfile.TemporaryDirectory(prefix="rampart-instructions-") as temporary:
        workdir = Path(temporary)
        for framework in options.framework or FRAMEWORKS:
            project = workdir / framework
            copier_copy(project, framework)
            run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], project)
            bare = bare_copy(framework, project, workdir / f"{framework}-bare")
            # Each variant: its directory, its entry point, and its environment, built as the
            # server starts (so its free METRICS_PORT is chosen then, not all at once up front).
            variants: dict[str, tuple[Path, str, Callable[[], dict[str, str]]]] = {
                METRICS_ON: (project, HARDENED_ENTRY, lambda: server_environment(project, jwt, settings)),
                METRICS_OFF: (project, HARDENED_ENTRY, lambda: {**server_environment(project, jwt, settings), "METRICS_PORT": "0"}),
                BARE: (bare, BARE_ENTRY, lambda: bare_environment(bare, settings)),
            }
            if options.pieces:
                for piece, edits in ABLATIONS[framework].items():
                    directory = scratch_copy(project, workdir / f"{framework}-without-{piece.replace(' ', '-')}")
                    apply_edits(directory, edits)
                    variants[f"without {piece}"] = (directory, HARDENED_ENTRY, lambda directory=directory: server_environment(directory, jwt, settings))

            def count(variant: str, scenario: str, amount: int) -> int:
                directory, entry, environment = variants[variant]
                return counted_run(directory, entry, scenario, (options.warmup, amount), environment(), settings, workdir)

            for scenario in options.scenario or SCENARIOS:
                with ThreadPoolExecutor(max_workers=options.jobs) as pool:
                    runs = {(variant, amount): pool.submit(count, variant, scenario, amount) for variant in variants for amount in (options.short, options.long)}
                    totals = {key: future.result() for key, future in runs.items()}
                counted = {variant: (totals[variant, options.long] - totals[variant, options.short]) / (options.long - options.short) for variant in variants}
                on, off, bare_count = counted[METRICS_ON], counted[METRICS_OFF], counted[BARE]
                print(
                    f"{framework} {SCENARIOS[scenario][0]}: instructions per request: bare {bare_count:,.0f}, metrics off {off:,.0f}, on {on:,.0f}; "
                    f"on/off {on / off:.3f}, bare/on {bare_count / on:.3f}",
                    flush=True,
                )
                for variant in variants:
                    if variant.startswith("without "):
                        print(f"  {variant}: {counted[variant]:,.0f}, {on - counted[variant]:+,.0f} for the piece (as generated/without {on / counted[variant]:.3f})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
