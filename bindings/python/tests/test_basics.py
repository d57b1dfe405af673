"""The shared surface: the seed scenario, run/execve semantics, files in and out,
reset, results, stats, context managers and the one-shot run."""

from __future__ import annotations

import os

import pytest

import scpool
from conftest import PATH_ENV, SAFETY_WALL_TIME, assert_still_works


def test_the_seed_scenario_with_a_host_program(box: scpool.Container) -> None:
    # Files opened inside the container, input written through the descriptor, a
    # host program copied into a memfd and run by descriptor, output read back.
    inp, out = box.open([
        ("/w/input.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        ("/w/output.txt", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644),
    ])
    with inp, out, scpool.memfd_copy("/usr/bin/cp") as cp:
        assert inp.write(b"the seed's data\n") == 16
        r = box.execve(["cp", "/w/input.txt", "/w/output.txt"], exec_file=cp,
                       wall_time_limit=SAFETY_WALL_TIME)
        assert r.status is scpool.Status.OK, r
        assert (r.exit_code, r.signal) == (0, None)
        assert out.read() == b"the seed's data\n"
    assert box.read_file("/w/output.txt") == b"the seed's data\n"


def test_the_seed_scenario_with_descriptors_as_stdio(box, progs) -> None:
    # A compiled C program, run by descriptor, its stdio being files opened in the
    # container: files[i] becomes descriptor i.
    box.write_file("/w/in", b"abc\n")
    inp, out = box.open([("/w/in", os.O_RDONLY), ("/w/out", os.O_WRONLY | os.O_CREAT, 0o600)])
    with inp, out, scpool.memfd_copy(progs["copy"]) as program:
        r = box.execve(["copy", "/dev/stdin", "/dev/stdout"], files=[inp, out],
                       exec_file=program, wall_time_limit=SAFETY_WALL_TIME)
    assert r.status is scpool.Status.OK, r
    assert box.read_file("/w/out") == b"ABC\n"
    assert r.stdout == b"" and r.stderr == b""  # execve captures nothing


def test_execve_takes_raw_descriptor_numbers(box, progs) -> None:
    (out,) = box.open([("/w/fds", os.O_WRONLY | os.O_CREAT, 0o644)])
    with out, scpool.memfd_copy(progs["fds"]) as program:
        r = box.execve(["fds"], files=[0, out.fileno()], exec_file=program.fileno(),
                       wall_time_limit=SAFETY_WALL_TIME)
    assert r.status is scpool.Status.OK, r
    # Exactly the three standard descriptors, whatever the host had open.
    assert box.read_file("/w/fds") == b"0 1 2\n"


def test_run_passes_stdin_and_captures_both_streams(box) -> None:
    r = box.run(["/bin/sh", "-c", "read a b; echo $((a+b)); echo oops >&2; exit 3"],
                stdin=b"1 2\n", env=[PATH_ENV])
    assert r.status is scpool.Status.NONZERO_EXIT
    assert (r.exit_code, r.signal) == (3, None)
    assert (r.stdout, r.stderr) == (b"3\n", b"oops\n")
    assert r.message == ""


def test_the_environment_is_exactly_what_was_given(box) -> None:
    r = box.run(["/usr/bin/env"], env=["A=1", b"B=two", "PATH=/bin"])
    assert r.stdout == b"A=1\nB=two\nPATH=/bin\n"
    assert box.run(["/usr/bin/env"]).stdout == b""


def test_cwd_and_path_like_arguments(box) -> None:
    from pathlib import PurePosixPath
    box.write_file(PurePosixPath("/w/sub.txt"), bytearray(b"x"))
    r = box.run([PurePosixPath("/bin/pwd")], cwd="/tmp")
    assert r.stdout == b"/tmp\n"
    assert box.run(["/bin/pwd"]).stdout == b"/w\n"


def test_files_written_and_read_back(box) -> None:
    payload = bytes(range(256)) * 1024
    box.write_file("/w/blob", payload)
    assert box.read_file("/w/blob") == payload
    r = box.run(["/usr/bin/stat", "-c", "%u %a %s", "/w/blob"], env=[PATH_ENV])
    uid = box.program_ids[0]
    assert r.stdout == f"{uid} 644 262144\n".encode()  # the program's user owns it


def test_open_gives_file_objects_matching_the_flags(box) -> None:
    box.write_file("/w/f", b"old")
    ro, rw, app, directory = box.open([
        ("/w/f", os.O_RDONLY),
        ("/w/g", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600),
        ("/w/f", os.O_WRONLY | os.O_APPEND),
        ("/w", os.O_RDONLY | os.O_DIRECTORY),
    ])
    try:
        assert (ro.mode, rw.mode, app.mode) == ("rb", "rb+", "ab")
        assert ro.read() == b"old"
        app.write(b"+new")
        rw.write(b"rw")
        rw.seek(0)
        assert rw.read() == b"rw"
        # A directory comes back as a plain descriptor.
        assert isinstance(directory, int)
        assert sorted(os.listdir(directory)) == ["f", "g"]
    finally:
        for f in (ro, rw, app):
            f.close()
        os.close(directory)
    assert box.read_file("/w/f") == b"old+new"
    r = box.run(["/usr/bin/stat", "-c", "%a", "/w/g"])
    assert r.stdout == b"600\n"


def test_reset_empties_the_work_dirs_and_kills_leftovers(box) -> None:
    box.write_file("/w/a", b"1")
    box.write_file("/tmp/b", b"2")
    box.reset()
    r = box.run(["/bin/ls", "-A", "/w", "/tmp"])
    assert r.stdout == b"/tmp:\n\n/w:\n"
    assert_still_works(box)


def test_results_and_statuses_read_well(box) -> None:
    r = box.run(["/bin/true"])
    assert r.status is scpool.Status.OK and r.ok
    assert isinstance(r.cpu_time, float) and isinstance(r.wall_time, float)
    assert isinstance(r.setup_time, float) and isinstance(r.memory, int)
    assert 0 < r.setup_time < 5 and 0 <= r.cpu_time < 1 and 0 < r.wall_time < 5
    assert r.memory > 0
    assert repr(r).startswith("Result(status=OK, exit_code=0, signal=None, cpu_time=")
    assert [s.name for s in scpool.Status] == [
        "OK", "NONZERO_EXIT", "SIGNALLED", "TIME_LIMIT_EXCEEDED",
        "WALL_TIME_LIMIT_EXCEEDED", "MEMORY_LIMIT_EXCEEDED", "OUTPUT_LIMIT_EXCEEDED",
        "DISALLOWED_SYSCALL", "RUNNER_ERROR",
    ]
    assert scpool.Status("OK") is scpool.Status.OK
    assert str(scpool.Status.SIGNALLED) == "SIGNALLED"


def test_a_container_released_by_its_context_goes_back_to_the_pool() -> None:
    with scpool.Pool(size=1) as pool:
        with pool.acquire(timeout=10) as c:
            pid = c.init_pid
            assert not c.released and not c.broken
            assert pool.stats().in_use == 1
        assert c.released
        with pytest.raises(scpool.ContainerReleased):
            c.run(["/bin/true"])
        c.release()  # idempotent
        # The same container is handed out again once reset.
        with pool.acquire(timeout=10) as again:
            assert again.init_pid == pid
        stats = pool.stats()
        assert (stats.created, stats.acquires, stats.reused) == (1, 2, 1)
        assert stats.destroyed == 0
        assert set(stats.as_dict()) == {
            "idle", "in_use", "pending", "created", "destroyed", "reused", "acquires",
            "acquire_waits", "acquire_timeouts", "acquire_latency_mean",
            "acquire_latency_max",
        }
        assert "PoolStats(idle=" in repr(stats)
    assert pool.closed
    with pytest.raises(scpool.PoolClosed):
        pool.acquire()
    pool.close()  # idempotent


def test_discard_destroys_and_the_pool_makes_a_new_one() -> None:
    with scpool.Pool(size=1) as pool:
        c = pool.acquire(timeout=10)
        first = c.init_pid
        c.discard()
        assert c.released
        with pool.acquire(timeout=30) as c2:
            assert c2.init_pid != first
            assert_still_works(c2)
        assert pool.stats().destroyed == 1


def test_pool_run_and_the_one_shot_run(pool) -> None:
    r = pool.run(["/bin/echo", "pooled"])
    assert (r.status, r.stdout) == (scpool.Status.OK, b"pooled\n")
    r = scpool.run(["/bin/sh", "-c", "cat; echo $X"], stdin=b"in\n", env=["X=1"],
                   time_limit=2.0)
    assert (r.status, r.stdout) == (scpool.Status.OK, b"in\n1\n")
    assert scpool.default_pool() is scpool.default_pool()


def test_pool_sizes_from_keywords() -> None:
    with scpool.Pool(min_idle=1, max_size=1, acquire_timeout=0.2) as pool:
        assert "max_size=1" in repr(pool)
        with pool.acquire():
            with pytest.raises(scpool.AcquireTimeout):
                pool.acquire()
        assert pool.stats().acquire_timeouts == 1
