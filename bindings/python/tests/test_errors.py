"""Bad input raises the right exception, never a panic, and the pool keeps serving."""

from __future__ import annotations

import errno
import os
import signal
import time

import pytest

import scpool
from conftest import assert_still_works


def test_the_exception_hierarchy() -> None:
    for name in ["InvalidArgument", "UnsupportedError", "OpenError", "SetupError",
                 "ContainerBroken", "AcquireTimeout", "PoolClosed", "ContainerReleased",
                 "HostError"]:
        assert issubclass(getattr(scpool, name), scpool.Error), name
    assert issubclass(scpool.InvalidArgument, ValueError)
    assert issubclass(scpool.OpenError, OSError)
    assert issubclass(scpool.AcquireTimeout, TimeoutError)
    assert scpool.InvalidArgument.__module__ == "scpool"


@pytest.mark.parametrize("args, exception", [
    (["/bin/echo", "a\0b"], scpool.InvalidArgument),
    ([], scpool.InvalidArgument),
    ("/bin/echo", TypeError),
    ([1, 2], TypeError),
    (None, TypeError),
    ([b"/bin/echo\0"], ValueError),
])
def test_bad_arguments(box, args, exception) -> None:
    with pytest.raises(exception):
        box.run(args)
    assert_still_works(box)


@pytest.mark.parametrize("options, exception", [
    ({"time_limit": -1}, ValueError),
    ({"time_limit": float("nan")}, ValueError),
    ({"time_limit": float("inf")}, ValueError),
    ({"time_limit": 0}, scpool.InvalidArgument),
    ({"time_limit": "1"}, TypeError),
    ({"wall_time_limit": -0.5}, ValueError),
    ({"memory_limit": -1}, ValueError),
    ({"memory_limit": 0}, scpool.InvalidArgument),
    ({"memory_limit": 2**64}, ValueError),
    ({"memory_limit": 1.5}, TypeError),
    ({"memory_limit": True}, TypeError),
    ({"output_limit": -5}, ValueError),
    ({"process_limit": 2**32}, ValueError),
    ({"process_limit": 0}, scpool.InvalidArgument),
    ({"cpu_rate": 0.0}, scpool.InvalidArgument),
    # The library's one range, 0.01 to 10000 cores, for every language.
    ({"cpu_rate": 0.001}, scpool.InvalidArgument),
    ({"cpu_rate": 20000.0}, scpool.InvalidArgument),
    ({"cpu_rate": -0.5}, scpool.InvalidArgument),
    ({"cpu_time_limit": 0}, scpool.InvalidArgument),
    ({"cpu_time_limit": 1.0, "time_limit": 1.0}, TypeError),
    ({"seccomp": "off"}, None),  # the old spelling of "disabled"
    ({"cpu_rate": "fast"}, TypeError),
    ({"open_files": -1}, ValueError),
    ({"stack": None}, None),
    ({"seccomp": "paranoid"}, ValueError),
    ({"seccomp": 3}, TypeError),
    ({"seccomp": "Single-Program"}, ValueError),
    ({"seccomp": b""}, ValueError),  # a custom program needs an instruction
    ({"seccomp": b"\x06\x00\x00\x00\x00\x00\xff"}, ValueError),  # 7 bytes
    ({"env": "A=1"}, TypeError),
    ({"env": ["A=\0"]}, scpool.InvalidArgument),
    ({"cwd": "relative"}, scpool.InvalidArgument),
    ({"stdin": "text"}, TypeError),
    ({"no_such_option": 1}, TypeError),
    ({"files": [0]}, TypeError),  # run() takes stdin, not files
])
def test_bad_run_options(box, options, exception) -> None:
    if exception is None:
        assert box.run(["/bin/true"], **options).ok
    else:
        with pytest.raises(exception):
            box.run(["/bin/true"], **options)
    assert_still_works(box)


@pytest.mark.parametrize("options, exception", [
    ({"files": [-1]}, ValueError),
    ({"files": [10**6]}, scpool.InvalidArgument),
    ({"files": ["0"]}, TypeError),
    ({"files": 3}, TypeError),
    ({"exec_file": 10**6}, scpool.InvalidArgument),
    ({"exec_file": object()}, TypeError),
    ({"stdin": b""}, TypeError),  # execve() takes files, not stdin
])
def test_bad_execve_options(box, options, exception) -> None:
    with pytest.raises(exception):
        box.execve(["/bin/true"], **options)
    assert_still_works(box)


def test_bad_opens(box) -> None:
    with pytest.raises(scpool.OpenError) as caught:
        box.open([("/w/missing", os.O_RDONLY)])
    assert caught.value.errno == errno.ENOENT
    assert caught.value.filename == "/w/missing"
    assert isinstance(caught.value, OSError)
    with pytest.raises(scpool.OpenError) as caught:
        box.open([("/w/x", os.O_WRONLY | os.O_CREAT, 0o644), ("/etc/nope/x", os.O_RDONLY)])
    assert caught.value.filename == "/etc/nope/x"
    for bad in [[("relative", os.O_RDONLY)], [("/w/../etc/passwd", os.O_RDONLY)],
                [("/w/x\0", os.O_RDONLY)]]:
        with pytest.raises(scpool.InvalidArgument):
            box.open(bad)
    for bad in ["/w/x", [("/w/x",)], [("/w/x", "r")], [("/w/x", -1)], [42]]:
        with pytest.raises((TypeError, ValueError)):
            box.open(bad)
    with pytest.raises(TypeError):
        box.write_file("/w/x", "text")
    with pytest.raises(scpool.OpenError):
        box.read_file("/w/nothing")
    assert_still_works(box)


def test_bad_pool_configs() -> None:
    with pytest.raises(scpool.InvalidArgument):
        scpool.Pool(min_idle=3, max_size=2)
    with pytest.raises(scpool.InvalidArgument):
        scpool.Pool(size=0)
    with pytest.raises(ValueError):
        scpool.Pool(size=-1)
    with pytest.raises(TypeError):
        scpool.Pool(size=1, mounts="/usr")
    with pytest.raises(scpool.InvalidArgument):
        scpool.Pool(size=1, mounts=[("relative", "/x")])
    with pytest.raises(scpool.InvalidArgument):
        scpool.Pool(size=1, extra_mounts=[("/usr", "/w")])
    with pytest.raises(ValueError, match='"auto", "required" or "off"'):
        scpool.Pool(size=1, cgroup="sometimes")
    with pytest.raises(scpool.SetupError):
        scpool.Pool(size=1, mounts=[("/no/such/dir", "/x")])
    with pytest.raises(TypeError):
        scpool.Pool(1)  # keywords only


def test_limits_the_container_cannot_enforce_are_refused() -> None:
    with scpool.Pool(size=1, cgroup="off") as pool, pool.acquire() as c:
        # The program's uid is the container's own: RLIMIT_NPROC counts exactly it.
        assert c.run(["/bin/true"], process_limit=4).status is scpool.Status.OK
        with pytest.raises(scpool.UnsupportedError):
            c.run(["/bin/true"], cpu_rate=0.5)
        assert_still_works(c)
    # A fixed uid may be shared: a process limit then needs the cgroup.
    with scpool.Pool(size=1, cgroup="off", uid=65534, gid=65534) as pool, pool.acquire() as c:
        with pytest.raises(scpool.UnsupportedError):
            c.run(["/bin/true"], process_limit=4)
        assert_still_works(c)


def test_a_broken_container_is_reported_and_replaced() -> None:
    with scpool.Pool(size=1) as pool:
        c = pool.acquire(timeout=10)
        os.kill(c.init_pid, signal.SIGKILL)
        with pytest.raises(scpool.ContainerBroken):
            c.run(["/bin/true"])
        assert c.broken
        with pytest.raises(scpool.ContainerBroken):
            c.ping()
        c.release()
        # The pool destroyed it and makes another.
        with pool.acquire(timeout=30) as fresh:
            assert fresh.init_pid != c.init_pid
            assert_still_works(fresh)
        assert pool.stats().destroyed >= 1


def test_a_closed_pool_and_released_containers_refuse_use() -> None:
    pool = scpool.Pool(size=1)
    c = pool.acquire()
    pool.close()
    # A container still out keeps working until released, then is destroyed.
    assert_still_works(c)
    c.release()
    for call in [lambda: c.ping(), lambda: c.read_file("/w/x"), lambda: c.reset()]:
        with pytest.raises(scpool.ContainerReleased):
            call()
    for call in [pool.acquire, pool.stats, lambda: pool.run(["/bin/true"])]:
        with pytest.raises(scpool.PoolClosed):
            call()


def test_an_acquire_gives_up_at_its_timeout() -> None:
    with scpool.Pool(size=1) as pool, pool.acquire():
        started = time.monotonic()
        with pytest.raises(scpool.AcquireTimeout):
            pool.acquire(timeout=0.2)
        assert time.monotonic() - started >= 0.2
        with pytest.raises(ValueError):
            pool.acquire(timeout=-1)


def test_fork_children_cannot_use_the_parents_pool(pool) -> None:
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code, never return
        code = 0
        try:
            try:
                pool.acquire(timeout=1)
                code = 1
            except scpool.Error as e:
                code = 0 if "fork" in str(e) else 2
            if code == 0:
                # The one-shot run makes the child its own pool.
                code = 0 if scpool.run(["/bin/true"]).ok else 3
                from scpool._default import _close_default_pool
                _close_default_pool()
        except BaseException:
            code = 4
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    # The parent's pool is unharmed.
    assert pool.run(["/bin/true"]).ok
