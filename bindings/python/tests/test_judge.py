"""The Python judge example (examples/python/judge.py) runs and gives every verdict."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import REPO

JUDGE = REPO / "examples" / "python" / "judge.py"


def test_the_judge_example_gives_every_verdict() -> None:
    done = subprocess.run([sys.executable, str(JUDGE), "--json"], capture_output=True,
                          timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr.decode()
    judgements = {j["solution"]: j for j in json.loads(done.stdout)}
    verdicts = {name: j["verdict"] for name, j in judgements.items()}
    assert verdicts == {
        "accepted": "AC", "wrong_answer": "WA", "time_limit": "TLE",
        "memory_limit": "MLE", "runtime_error": "RE", "output_limit": "OLE",
        "compile_error": "CE",
    }
    # The runtime error happens on every case but the second.
    assert [c["verdict"] for c in judgements["runtime_error"]["cases"]] == ["RE", "AC", "RE", "RE"]
    assert all(c["verdict"] == "AC" for c in judgements["accepted"]["cases"])
    for case in judgements["time_limit"]["cases"]:
        assert 1000 <= case["time_ms"] <= 1200, case
    for case in judgements["memory_limit"]["cases"]:
        assert case["memory_kib"] >= 48 * 1024, case
    assert "undefined_name" in judgements["compile_error"]["compile_output"]


def test_the_judge_prints_a_table() -> None:
    done = subprocess.run([sys.executable, str(JUDGE)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0].split() == ["solution", "case", "verdict", "time", "(ms)", "memory", "(KiB)"]
    assert "accepted: AC" in lines and "output_limit: OLE" in lines


def test_the_judge_maps_statuses_like_the_c_judge() -> None:
    import importlib.util
    from types import SimpleNamespace

    import scpool

    spec = importlib.util.spec_from_file_location("judge_example", JUDGE)
    judge = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = judge  # its dataclasses look their module up
    try:
        spec.loader.exec_module(judge)
    finally:
        del sys.modules[spec.name]

    def verdict(status, output: bytes = b"3\n") -> str:
        return judge.verdict_of(SimpleNamespace(status=status), output, "3\n")

    # The sandbox's failure is not the solution's.
    assert verdict(scpool.Status.RUNNER_ERROR) == "SE"
    assert verdict(scpool.Status.DISALLOWED_SYSCALL) == "RE"
    assert verdict(scpool.Status.SIGNALLED) == "RE"
    assert verdict(scpool.Status.NONZERO_EXIT) == "RE"
    # Tokens, not bytes.
    assert verdict(scpool.Status.OK, b"  3 \n\n") == "AC"
    assert verdict(scpool.Status.OK, b"4\n") == "WA"
