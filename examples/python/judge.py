#!/usr/bin/env python3
"""A small judge on scpool: compiles C++ solutions with g++ inside a container, runs
each on the test cases with limits (the seed scenario: input and output files opened
inside the container, the program's stdin and stdout bound to them), compares the
output and prints a verdict table with time and memory per case.

The output is compared as whitespace-separated tokens (so "3" and "3\n\n" are both
accepted), unlike the C judge (examples/c/judge.c), which compares bytes. RUNNER_ERROR is a
sandbox error, "SE" (not the solution's fault: rejudge it); every other failure that
no limit explains, a disallowed system call included, is a runtime error, "RE".

Solutions are judged two at a time, one container each, from two Python threads:
every scpool call releases the GIL.

Run as root:  python3 examples/python/judge.py [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Dict, List

import scpool

# The problem: print the sum of two integers.
CASES = [("1 2\n", "3\n"), ("40 2\n", "42\n"), ("-5 5\n", "0\n"), ("1000000 1000000\n", "2000000\n")]

# One solution per verdict.
SOLUTIONS: Dict[str, str] = {
    "accepted": r"""
        #include <iostream>
        int main() { long long a, b; std::cin >> a >> b; std::cout << a + b << "\n"; }
    """,
    "wrong_answer": r"""
        #include <iostream>
        int main() { long long a, b; std::cin >> a >> b; std::cout << a - b << "\n"; }
    """,
    "time_limit": r"""
        #include <iostream>
        int main() { volatile unsigned long n = 0; for (;;) n++; }
    """,
    "memory_limit": r"""
        #include <vector>
        #include <iostream>
        int main() { std::vector<char> v(512 << 20, 1); std::cout << int(v[12345]) << "\n"; }
    """,
    "runtime_error": r"""
        #include <iostream>
        int main() { long long a, b; std::cin >> a >> b; int *p = nullptr; if (a != 40) *p = 1; std::cout << a + b << "\n"; }
    """,
    "output_limit": r"""
        #include <cstdio>
        int main() { for (;;) std::puts("spam spam spam spam spam spam spam spam"); }
    """,
    "compile_error": r"""
        int main() { return undefined_name; }
    """,
}

COMPILE_LIMITS = dict(cpu_time_limit=30.0, wall_time_limit=60.0, memory_limit=1 << 30,
                      output_limit=64 << 20, process_limit=32)
RUN_LIMITS = dict(cpu_time_limit=1.0, wall_time_limit=3.0, memory_limit=64 << 20,
                  output_limit=1 << 20, process_limit=1)
ENV = ["PATH=/usr/bin:/bin"]

VERDICTS = {
    scpool.Status.TIME_LIMIT_EXCEEDED: "TLE",
    scpool.Status.WALL_TIME_LIMIT_EXCEEDED: "TLE",
    scpool.Status.MEMORY_LIMIT_EXCEEDED: "MLE",
    scpool.Status.OUTPUT_LIMIT_EXCEEDED: "OLE",
    scpool.Status.RUNNER_ERROR: "SE",  # the sandbox failed, not the solution
    scpool.Status.DISALLOWED_SYSCALL: "RE",
}


@dataclass
class CaseResult:
    case: int
    verdict: str
    time_ms: float
    memory_kib: int


@dataclass
class Judgement:
    solution: str
    verdict: str
    cases: List[CaseResult]
    compile_output: str = ""


def verdict_of(r: scpool.Result, output: bytes, expected: str) -> str:
    if r.status is scpool.Status.OK:
        # Whitespace-separated tokens, not bytes (see the docstring).
        return "AC" if output.split() == expected.encode().split() else "WA"
    return VERDICTS.get(r.status, "RE")


def judge(pool: scpool.Pool, name: str, source: str) -> Judgement:
    with pool.acquire(timeout=60) as c:
        c.write_file("/w/sol.cpp", source.encode())
        compiled = c.run(["/usr/bin/g++", "-O2", "-o", "/w/sol", "/w/sol.cpp"],
                         env=ENV, **COMPILE_LIMITS)
        if compiled.status is not scpool.Status.OK:
            lines = (compiled.stderr.decode(errors="replace") or compiled.message).splitlines()
            first_error = next((line for line in lines if "error" in line), lines[:1] or [""])
            return Judgement(name, "CE", [], str(first_error).strip())
        cases = []
        for i, (given, expected) in enumerate(CASES, 1):
            # The seed scenario: files opened inside the container become the
            # program's stdin and stdout.
            inp, out = c.open([("/w/input.txt", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644),
                               ("/w/output.txt", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)])
            with inp, out:
                inp.write(given.encode())
                inp.seek(0)
                r = c.execve(["/w/sol"], files=[inp, out], env=ENV, **RUN_LIMITS)
                out.seek(0)
                output = out.read(RUN_LIMITS["output_limit"])
            cases.append(CaseResult(i, verdict_of(r, output, expected),
                                    round(r.cpu_time * 1000, 1), r.memory // 1024))
        overall = next((case.verdict for case in cases if case.verdict != "AC"), "AC")
        return Judgement(name, overall, cases)


def print_table(judgements: List[Judgement]) -> None:
    print(f"{'solution':<15} {'case':>4} {'verdict':<7} {'time (ms)':>9} {'memory (KiB)':>12}")
    for j in judgements:
        if not j.cases:
            print(f"{j.solution:<15} {'-':>4} {j.verdict:<7} {'-':>9} {'-':>12}  {j.compile_output}")
        for case in j.cases:
            print(f"{j.solution:<15} {case.case:>4} {case.verdict:<7} "
                  f"{case.time_ms:>9.1f} {case.memory_kib:>12}")
    print()
    for j in judgements:
        print(f"{j.solution}: {j.verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    with scpool.Pool(size=2) as pool, ThreadPoolExecutor(2) as threads:
        futures = [threads.submit(judge, pool, name, source)
                   for name, source in SOLUTIONS.items()]
        judgements = [f.result() for f in futures]
    if options.json:
        print(json.dumps([asdict(j) for j in judgements]))
    else:
        print_table(judgements)
    return 0


if __name__ == "__main__":
    sys.exit(main())
