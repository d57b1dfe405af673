"""Per-container ids, the address-space limit and the library's defaults, the
user/system split and accounting of results, and containers whose init died."""

from __future__ import annotations

import os
import signal
import time

import pytest

import scpool
from conftest import MIB, PATH_ENV, assert_still_works

Status = scpool.Status

SPIN = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"
ULIMITS = "ulimit -n; ulimit -s; ulimit -v"


def host_accounting() -> str:
    """What a container with a cgroup uses here: v2 when the unified hierarchy is
    mounted at /sys/fs/cgroup, else v1."""
    unified = os.path.exists("/sys/fs/cgroup/cgroup.controllers")
    return "cgroup-v2" if unified else "cgroup-v1"


def wait_dead(pid: int) -> None:
    """Waits until process PID has exited (a zombie, or gone)."""
    for _ in range(1000):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except FileNotFoundError:
            return
        if stat[stat.rindex(")") + 2] in "ZX":
            return
        time.sleep(0.01)
    raise AssertionError(f"process {pid} did not die")


def test_a_range_of_one_id_serves_one_container_at_a_time() -> None:
    first = 0x7FF00003
    with scpool.Pool(size=1, id_range=(first, 1)) as pool:
        with pool.acquire(timeout=30) as c:
            assert c.program_ids == (first, first)
            r = c.run(["/bin/sh", "-c", "id -u; id -g"], env=[PATH_ENV])
            assert r.status is Status.OK, r
            assert r.stdout == f"{first}\n{first}\n".encode()
            # A second pool needs a second id while the first holds the only one.
            with pytest.raises(scpool.SetupError, match="taken"):
                scpool.Pool(size=1, id_range=(first, 1))
    # Closed, the pool gave its id back.
    with scpool.Pool(size=1, id_range=(first, 1)) as pool:
        with pool.acquire(timeout=30) as c:
            assert c.program_ids == (first, first)


def test_the_core_judges_id_ranges() -> None:
    with pytest.raises(scpool.InvalidArgument, match="id range"):
        scpool.Pool(size=1, id_range=(0x7FF00003, 0))
    with pytest.raises(TypeError):
        scpool.Pool(size=1, id_range=0x7FF00003)


def test_programs_get_ids_of_the_default_range(box) -> None:
    uid, gid = box.program_ids
    first, count = scpool.DEFAULT_ID_RANGE
    assert (first, count) == (0x70000000, 65536)
    assert first <= uid < first + count and gid == uid


def test_unset_limits_are_the_library_defaults(box) -> None:
    assert scpool.DEFAULT_LIMITS["process_limit"] > 0
    with pytest.raises(TypeError):
        scpool.DEFAULT_LIMITS["stack"] = 1  # type: ignore[index]
    r = box.run(["/bin/sh", "-c", ULIMITS], env=[PATH_ENV])
    assert r.status is Status.OK, r
    want = f"{scpool.DEFAULT_LIMITS['open_files']}\n{scpool.DEFAULT_LIMITS['stack'] // 1024}\n"
    assert r.stdout == f"{want}unlimited\n".encode()
    r = box.run(["/bin/sh", "-c", ULIMITS], env=[PATH_ENV], address_space_limit=64 * MIB)
    assert r.status is Status.OK, r
    assert r.stdout == f"{want}65536\n".encode()


def test_a_memory_limit_below_the_minimum_is_refused_by_the_core(box) -> None:
    with pytest.raises(scpool.InvalidArgument, match=str(scpool.MIN_MEMORY)):
        box.run(["/bin/true"], memory_limit=64 << 10)
    # The smallest accepted limit ends in a verdict, never a broken container.
    r = box.run(["/bin/true"], memory_limit=scpool.MIN_MEMORY)
    assert r.status in (Status.OK, Status.MEMORY_LIMIT_EXCEEDED), r
    assert_still_works(box)


def test_cpu_time_splits_exactly_into_user_and_system_time(box) -> None:
    r = box.run(["/bin/sh", "-c", SPIN], env=[PATH_ENV])
    assert r.status is Status.OK, r
    assert r.user_time > r.system_time
    # Both come from whole nanoseconds that add up; as floats, within rounding.
    assert r.user_time + r.system_time == pytest.approx(r.cpu_time, abs=1e-9)
    assert r.accounting == host_accounting()


def test_without_cgroups_the_accounting_is_none() -> None:
    with scpool.Pool(size=1, cgroup="off") as pool, pool.acquire(timeout=30) as c:
        r = c.run(["/bin/sh", "-c", SPIN], env=[PATH_ENV])
        assert r.status is Status.OK, r
        assert r.accounting == "none"
        assert r.user_time > 0
        assert r.user_time + r.system_time == pytest.approx(r.cpu_time, abs=1e-9)


def kernel_at_least(major: int, minor: int) -> bool:
    release = os.uname().release.split(".")
    return (int(release[0]), int(release[1].split("-")[0])) >= (major, minor)


CHILDREN = "sleep 1000 & a=$!; sleep 1000 & b=$!; sleep 1000 & c=$!; kill $a $b $c; wait; true"


def test_process_peak_reports_each_runs_own_peak() -> None:
    with scpool.Pool(size=1, process_peak=True) as pool, pool.acquire(timeout=30) as c:
        r = c.run(["/bin/sh", "-c", CHILDREN], env=[PATH_ENV])
        assert r.status is Status.OK, r
        # A cgroup of the run's own on a kernel that keeps pids.peak (6.1+).
        counted = r.accounting != "none" and kernel_at_least(6, 1)
        if counted:
            # The shell and its three children (a shell may count a helper).
            assert r.peak_processes in (4, 5), r
        else:
            assert r.peak_processes is None, r
        r = c.run(["/bin/true"])
        assert r.status is Status.OK, r
        assert r.peak_processes == (1 if counted else None)
    with pytest.raises(TypeError):
        scpool.Pool(size=1, process_peak="yes")


def test_a_container_whose_init_died_while_idle_is_never_handed_out() -> None:
    with scpool.Pool(size=1) as pool:
        with pool.acquire(timeout=30) as c:
            dead = c.init_pid
            assert not c.broken
        for _ in range(1000):
            if pool.stats().idle == 1:
                break
            time.sleep(0.01)
        os.kill(dead, signal.SIGKILL)
        wait_dead(dead)
        with pool.acquire(timeout=30) as c:
            assert c.init_pid != dead
            assert not c.broken
            assert_still_works(c)
            # Held while its init dies: broken before any call.
            pid = c.init_pid
            os.kill(pid, signal.SIGKILL)
            wait_dead(pid)
            assert c.broken
            with pytest.raises(scpool.ContainerBroken):
                c.ping()
        assert not c.broken  # released
        with pool.acquire(timeout=30) as c:
            assert_still_works(c)
