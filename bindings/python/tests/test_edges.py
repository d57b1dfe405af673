"""Edge cases of the binding: huge values, a call that fails inside scpool, errors
without an errno, conversions, fork safety of repr, results' output objects and
pools closed at interpreter exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import scpool
from conftest import assert_still_works
from test_leaks import settle


class Index:
    """An int-like object that is not an int (like numpy.int64)."""

    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


def test_huge_durations_mean_no_deadline() -> None:
    with scpool.Pool(size=1, setup_timeout=1e19) as pool:
        with pool.acquire(timeout=1e19) as c:
            r = c.run(["/bin/true"], wall_time_limit=1e19)
            assert r.status is scpool.Status.OK, r
            assert_still_works(c)


def test_a_call_failing_inside_scpool_discards_the_container() -> None:
    with scpool.Pool(size=1) as pool:
        c = pool.acquire(timeout=30)
        first = c.init_pid
        with pytest.raises(scpool.ContainerBroken):
            c._panic_for_test()
        assert c.broken and not c.released
        # Never an answer from the container left half-way: every call refuses.
        for call in [lambda: c.run(["/bin/true"]), c.ping, lambda: c.read_file("/w/x")]:
            with pytest.raises(scpool.ContainerBroken):
                call()
        c.release()
        c.release()
        assert c.released
        # It was destroyed, not given back: the pool makes a new one.
        with pool.acquire(timeout=30) as fresh:
            assert fresh.init_pid != first
            assert_still_works(fresh)
        assert pool.stats().destroyed >= 1


def test_a_host_error_without_errno_has_errno_none() -> None:
    from scpool._scpool import _host_error_for_test

    e = _host_error_for_test(None)
    assert isinstance(e, scpool.HostError) and isinstance(e, OSError)
    assert e.errno is None
    assert "made by the core" in str(e)
    e = _host_error_for_test(2)
    assert e.errno == 2


@pytest.mark.parametrize("options", [
    {"time_limit": 10**400},
    {"wall_time_limit": 10**400},
    {"cpu_rate": 10**400},
    {"cpu_rate": -10**400},
])
def test_ints_too_large_for_a_float_are_bad_values(box, options) -> None:
    with pytest.raises(ValueError):
        box.run(["/bin/true"], **options)
    assert_still_works(box)


def test_too_large_timeouts_are_bad_values(pool) -> None:
    with pytest.raises(ValueError):
        pool.acquire(timeout=10**400)
    with pytest.raises(ValueError):
        scpool.Pool(size=1, setup_timeout=10**400)


def test_counts_take_objects_with_index_but_not_bools(box) -> None:
    r = box.run(["/bin/true"], memory_limit=Index(64 << 20), output_limit=Index(1 << 20),
                process_limit=Index(4), wall_time_limit=60)
    assert r.ok, r
    with pytest.raises(ValueError):
        box.run(["/bin/true"], memory_limit=Index(-1))
    with pytest.raises(TypeError):
        box.run(["/bin/true"], memory_limit=True)  # an int, but surely a mistake
    with pytest.raises(TypeError):
        box.run(["/bin/true"], memory_limit=1.0)
    numpy = pytest.importorskip("numpy")
    assert box.run(["/bin/true"], memory_limit=numpy.int64(64 << 20)).ok


def test_pool_sizes_take_objects_with_index() -> None:
    with scpool.Pool(size=Index(1)) as pool:
        assert "max_size=1" in repr(pool)


def test_repr_in_a_forked_child_touches_nothing(pool) -> None:
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code, never return
        code = 3
        try:
            text = repr(pool)
            code = 0 if text == f"<scpool.Pool of process {os.getppid()}>" else 2
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert "idle=" in repr(pool)


def test_output_is_made_once(box) -> None:
    r = box.run(["/bin/sh", "-c", "echo out; echo err >&2"])
    assert r.stdout == b"out\n" and r.stderr == b"err\n"
    assert r.stdout is r.stdout
    assert r.stderr is r.stderr
    assert "stdout=4 bytes" in repr(r)


def test_pools_still_referenced_at_exit_are_closed() -> None:
    # A daemon thread keeps the pool alive through the interpreter's shutdown: only
    # the exit hook closes it.
    script = textwrap.dedent("""
        import threading, scpool
        pool = scpool.Pool(size=2)
        ready = threading.Event()
        def hold(p=pool):
            ready.set()
            threading.Event().wait()
        threading.Thread(target=hold, daemon=True).start()
        ready.wait()
        assert pool.stats().idle == 2
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err.decode()
    prefix = f"scpool-{child.pid}-"

    def left() -> list:
        found = []
        for root, dirs, _ in os.walk("/sys/fs/cgroup"):
            found += [os.path.join(root, d) for d in dirs if d.startswith(prefix)]
        return found

    assert settle(left) == []
