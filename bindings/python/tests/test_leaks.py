"""Nothing is left behind once a pool is closed: no descriptors, child processes,
threads, cgroups or mounts of this process."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

import scpool
from scpool._default import _close_default_pool


def open_fds() -> set:
    return set(os.listdir("/proc/self/fd"))


def children() -> list:
    found = []
    for task in os.listdir("/proc/self/task"):
        found += open(f"/proc/self/task/{task}/children").read().split()
    return found


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


def our_cgroups() -> list:
    prefix = f"scpool-{os.getpid()}-"
    found = []
    for root, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(root, d) for d in dirs if d.startswith(prefix)]
    return found


def mounts() -> str:
    return Path("/proc/self/mountinfo").read_text()


def settle(check, timeout: float = 10.0):
    """The value of `check()` once it stops changing for the better (cleanup of a
    destroyed container may finish a moment after close returns)."""
    deadline = time.monotonic() + timeout
    value = check()
    while value and time.monotonic() < deadline:
        time.sleep(0.05)
        value = check()
    return value


def test_nothing_is_left_after_close(progs, host_ns) -> None:
    _close_default_pool()
    gc.collect()
    fds, thread_count, mount_table = open_fds(), threads(), mounts()
    assert our_cgroups() == [] and children() == []

    with scpool.Pool(size=3) as pool:
        for _ in range(20):
            with pool.acquire(timeout=30) as c:
                inp, out = c.open([("/w/i", os.O_RDWR | os.O_CREAT, 0o644),
                                   ("/w/o", os.O_RDWR | os.O_CREAT, 0o644)])
                with inp, out, scpool.memfd_copy(progs["copy"]) as program:
                    inp.write(b"x")
                    c.execve(["copy", "/w/i", "/w/o"], exec_file=program)
                c.run(["/bin/sh", "-c", "sleep 100 & echo started"], wall_time_limit=5)
                c.run(["/bin/sleep", "10"], wall_time_limit=0.05)
        # One broken, one discarded, one left out at close.
        broken = pool.acquire(timeout=30)
        os.kill(broken.init_pid, 9)
        broken.release()
        pool.acquire(timeout=30).discard()
        left_out = pool.acquire(timeout=30)
        assert len(our_cgroups()) > 0 and len(children()) > 0
    left_out.release()
    del pool, left_out, broken, c
    gc.collect()

    assert settle(children) == []
    assert settle(our_cgroups) == []
    assert settle(lambda: open_fds() - fds) == set()
    assert settle(lambda: threads() > thread_count) is False
    assert mounts() == mount_table
