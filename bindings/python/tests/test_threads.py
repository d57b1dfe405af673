"""Threads share one pool and run in parallel: every blocking call releases the GIL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import scpool

RENDEZVOUS = (
    # Each program announces itself, then waits for the other one: both finish only
    # if both run at the same time (one thread holding the GIL through its run would
    # keep the other from starting, and both would hit the wall-time limit).
    'touch "/meet/$1"; n=0; until [ -e "/meet/$2" ]; do '
    'n=$((n+1)); [ $n -gt 1000 ] && exit 7; sleep 0.01; done'
)


def test_two_threads_run_at_the_same_time(scratch: Path) -> None:
    meet = scratch / "meet"
    meet.mkdir()
    meet.chmod(0o777)  # the programs run as nobody
    with scpool.Pool(size=2, extra_mounts=[(str(meet), "/meet", True)]) as pool:
        def side(me: str, other: str) -> scpool.Result:
            with pool.acquire(timeout=30) as c:
                return c.run(["/bin/sh", "-c", RENDEZVOUS, "sh", me, other],
                             env=["PATH=/usr/bin:/bin"], wall_time_limit=30)

        with ThreadPoolExecutor(2) as threads:
            a = threads.submit(side, "a", "b")
            b = threads.submit(side, "b", "a")
            results = [a.result(timeout=60), b.result(timeout=60)]
    for r in results:
        assert r.status is scpool.Status.OK, r
    assert sorted(p.name for p in meet.iterdir()) == ["a", "b"]


def test_python_threads_run_while_a_program_runs(pool) -> None:
    # The main thread watches the clock while another thread waits in a 0.5 s run.
    # Had the run held the GIL, the main thread would have stalled for all of it.
    done = threading.Event()

    def runner() -> None:
        pool.run(["/bin/sleep", "0.5"], wall_time_limit=10)
        done.set()

    worker = threading.Thread(target=runner)
    last = started = time.monotonic()
    worker.start()
    longest_stall = 0.0
    while not done.is_set():
        now = time.monotonic()
        longest_stall = max(longest_stall, now - last)
        last = now
    worker.join()
    assert last - started >= 0.5
    assert longest_stall < 0.25, f"the main thread stalled for {longest_stall:.3f} s"


def test_many_threads_on_few_containers() -> None:
    threads, runs = 8, 5
    with scpool.Pool(size=3, acquire_timeout=60) as pool:
        def work(i: int) -> list:
            out = []
            for j in range(runs):
                with pool.acquire() as c:
                    r = c.run(["/bin/sh", "-c", f"echo {i}-{j}"], env=["PATH=/bin"])
                    out.append((r.status, r.stdout))
            return out

        with ThreadPoolExecutor(threads) as executor:
            results = list(executor.map(work, range(threads)))
        stats = pool.stats()
    for i, out in enumerate(results):
        assert out == [(scpool.Status.OK, f"{i}-{j}\n".encode()) for j in range(runs)]
    assert stats.acquires == threads * runs
    assert stats.created == 3 and stats.destroyed == 0
    assert stats.in_use == 0


def test_threads_sharing_one_container_take_turns(pool) -> None:
    with pool.acquire(timeout=30) as c:
        def work(i: int) -> bytes:
            c.write_file(f"/w/{i}", str(i).encode())
            return c.run(["/bin/cat", f"/w/{i}"]).stdout

        with ThreadPoolExecutor(4) as executor:
            assert list(executor.map(work, range(16))) == [str(i).encode() for i in range(16)]


def test_attributes_do_not_wait_for_a_run_in_progress(pool) -> None:
    with pool.acquire(timeout=30) as c:
        with ThreadPoolExecutor(1) as executor:
            running = executor.submit(c.run, ["/bin/sleep", "1"], wall_time_limit=10)
            time.sleep(0.2)
            started = time.monotonic()
            assert not c.released and not c.broken
            assert "in use" in repr(c)
            assert time.monotonic() - started < 0.5
            assert not running.done()
            assert running.result().ok
