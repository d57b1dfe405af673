"""`python3 -m scpool.bench` measures pooled runs and prints one JSON object."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scpool.bench import summarize


def test_the_bench_prints_its_figures(noop) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scpool.bench", "--runs", "50", "--program", str(noop), "--json"],
        capture_output=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    figures = json.loads(done.stdout.decode().strip().splitlines()[-1])
    assert figures["runs"] == 50 and figures["warmup"] == 10
    assert 0 < figures["pooled_median_us"] <= figures["pooled_p99_us"]


def test_the_bench_refuses_bad_options(noop) -> None:
    for args in [["--runs", "0", "--program", str(noop)], ["--program", "/no/such/noop"], []]:
        done = subprocess.run([sys.executable, "-m", "scpool.bench", *args],
                              capture_output=True, timeout=60)
        assert done.returncode == 2, args


def test_summaries_match_the_cli() -> None:
    # Nearest-rank p99, and the median of an even count is the mean of the middle two.
    s = summarize([1000 * i for i in range(1, 101)])
    assert (s["median_us"], s["p99_us"]) == (50.5, 99.0)
    assert summarize([7000])["p99_us"] == pytest.approx(7.0)
