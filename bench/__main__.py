"""Every benchmark, one after the other, each in its own process (``make bench``).

By default each runs at a small size, so the whole set takes a few minutes and shows that every
benchmark still works; ``--full`` runs each at the size its docstring sets the targets for. The
CKAN benchmarks (publish, monitor) start the local CKAN themselves (scripts/ckan-local/start.sh).

    python -m bench                      # all, small
    python -m bench render validation    # some, small
    python -m bench --full               # all, at full size (about an hour)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from bench.machine import print_load

# The environment (or arguments) that makes each benchmark small; their full sizes are their defaults.
SMALL: dict[str, tuple[dict[str, str], list[str]]] = {
    "extraction": ({"BENCH_ROUNDS": "2"}, ["--small"]),
    "validation": ({"BENCH_ROWS": "10000"}, []),
    "month": ({"BENCH_ROUNDS": "1"}, []),
    "render": ({"BENCH_ROWS": "10000"}, []),
    "release": ({"BENCH_ROWS": "500"}, []),
    "national": ({"BENCH_INSTITUTIONS": "6", "BENCH_TOTAL_ROWS": "6000"}, []),
    "publish": ({"BENCH_ROWS": "5000", "BENCH_BASELINE": "0"}, []),
    "monitor": ({"BENCH_INSTITUTIONS": "10"}, []),
}


def run(name: str, full: bool) -> int:
    """One benchmark in a child process; its exit code."""
    environment, arguments = ({}, []) if full else SMALL[name]
    print(f"\n=== bench_{name} ===", flush=True)
    started = time.perf_counter()
    code = subprocess.call([sys.executable, "-m", f"bench.bench_{name}", *arguments],
                           env={**os.environ, **environment})
    print(f"=== bench_{name}: {time.perf_counter() - started:.0f} s, exit {code} ===", flush=True)
    return code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (all by default): {', '.join(SMALL)}")
    parser.add_argument("--full", action="store_true", help="each benchmark at its full size")
    args = parser.parse_args()
    unknown = set(args.names) - set(SMALL)
    if unknown:
        parser.error(f"unknown benchmarks: {', '.join(sorted(unknown))}")
    print_load()
    started = time.perf_counter()
    failed = [name for name in args.names or SMALL if run(name, args.full) != 0]
    print(f"\nall benchmarks: {time.perf_counter() - started:.0f} s", flush=True)
    if failed:
        sys.exit(f"benchmarks that failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
