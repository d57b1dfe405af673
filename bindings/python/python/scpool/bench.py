"""What a pooled run costs through Python: acquire + execve of a no-op (run from a
memfd copy) + release, on a pool of two containers, one thread, after a warm-up.
The same measure as the `pooled` row of `scpool bench`, so the two compare.

    python3 -m scpool.bench --runs 1000 --program /path/to/static-noop [--json]

With --json prints one JSON object:
{"runs": N, "warmup": W, "pooled_median_us": ..., "pooled_p99_us": ..., "pooled_mean_us": ...}
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from typing import Dict, List, Optional, Sequence

from . import Pool, Status, memfd_copy


def summarize(samples_ns: List[int]) -> Dict[str, float]:
    """Median and nearest-rank p99 (as `scpool bench` computes them), in µs."""
    ordered = sorted(samples_ns)
    p99_rank = math.ceil(len(ordered) * 99 / 100)
    return {
        "median_us": statistics.median(ordered) / 1000,
        "p99_us": ordered[p99_rank - 1] / 1000,
        "mean_us": statistics.fmean(ordered) / 1000,
    }


def measure_pooled(program: str, runs: int, warmup: int) -> Dict[str, float]:
    """Times `runs` pooled runs of `program` after `warmup` untimed ones."""
    with Pool(size=2) as pool, memfd_copy(program) as exec_file:
        args = [program]
        samples: List[int] = []
        for i in range(warmup + runs):
            started = time.perf_counter_ns()
            c = pool.acquire()
            r = c.execve(args, exec_file=exec_file)
            c.release()
            took = time.perf_counter_ns() - started
            if r.status is not Status.OK:
                raise RuntimeError(f"the no-op failed in the container: {r!r}")
            if i >= warmup:
                samples.append(took)
    return summarize(samples)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m scpool.bench",
        description="Per-run cost of pooled acquire + execve(no-op) + release through Python.",
    )
    parser.add_argument("--runs", type=int, default=1000, help="timed runs (default 1000)")
    parser.add_argument("--program", required=True,
                        help="a static no-op program on the host (copied into a memfd)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args(argv)
    if options.runs < 1:
        parser.error("--runs must be at least 1")
    if not os.access(options.program, os.X_OK):
        parser.error(f"{options.program} is not an executable file")
    warmup = min(max(options.runs // 10, 10), 100)
    pooled = measure_pooled(options.program, options.runs, warmup)
    if options.json:
        print(json.dumps({
            "runs": options.runs,
            "warmup": warmup,
            "pooled_median_us": round(pooled["median_us"], 1),
            "pooled_p99_us": round(pooled["p99_us"], 1),
            "pooled_mean_us": round(pooled["mean_us"], 1),
        }))
    else:
        print(f"pooled through Python ({options.runs} runs after {warmup} warm-up): "
              f"median {pooled['median_us']:.1f} us, p99 {pooled['p99_us']:.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
