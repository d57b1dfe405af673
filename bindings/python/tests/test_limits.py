"""Every limit and every status, with the figures a judge relies on."""

from __future__ import annotations

import errno
import signal
import struct
import time

import scpool
from conftest import MIB, PATH_ENV, assert_still_works, guarded

Status = scpool.Status


def test_ok_nonzero_exit_and_signalled(box) -> None:
    r = box.run(["/bin/true"])
    assert (r.status, r.exit_code, r.signal) == (Status.OK, 0, None)
    r = box.run(["/bin/false"])
    assert (r.status, r.exit_code, r.signal) == (Status.NONZERO_EXIT, 1, None)
    r = box.run(["/bin/sh", "-c", "kill -SEGV $$"])
    assert (r.status, r.exit_code, r.signal) == (Status.SIGNALLED, None, signal.SIGSEGV)


def test_a_missing_program_is_a_runner_error(box) -> None:
    r = box.run(["/no/such/program"])
    assert r.status is Status.RUNNER_ERROR, r
    assert r.exit_code is None and r.signal is None
    assert "executing" in r.message and "errno 2" in r.message, r
    r = box.run(["/bin/true"], cwd="/no/such/dir")
    assert r.status is Status.RUNNER_ERROR, r
    assert "working directory" in r.message, r
    assert_still_works(box)


def test_an_infinite_loop_is_stopped_at_the_cpu_time_limit(box, host_ns) -> None:
    started = time.monotonic()
    r = guarded(box, host_ns, "hostile_spin", "forever", time_limit=0.5,
                wall_time_limit=10.0)
    took = time.monotonic() - started
    assert r.status is Status.TIME_LIMIT_EXCEEDED, r
    assert (r.exit_code, r.signal) == (None, signal.SIGKILL)
    assert 0.5 <= r.cpu_time <= 0.55, r
    assert took < 2.5, f"the call took {took:.2f} s"
    assert r.message
    assert_still_works(box)


def test_cpu_time_is_measured(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_spin", "cpu", "0.3", time_limit=5.0)
    assert r.status is Status.OK, r
    assert 0.29 <= r.cpu_time <= 0.45, r
    assert r.wall_time >= 0.29, r


def test_sleep_is_stopped_at_the_wall_time_limit(box) -> None:
    started = time.monotonic()
    r = box.run(["/bin/sleep", "10"], wall_time_limit=0.5)
    took = time.monotonic() - started
    assert r.status is Status.WALL_TIME_LIMIT_EXCEEDED, r
    assert (r.exit_code, r.signal) == (None, signal.SIGKILL)
    assert r.cpu_time < 0.05, r
    assert 0.4 <= r.wall_time < 2.0, r
    assert 0.5 <= took < 2.5
    assert_still_works(box)


def test_a_memory_bomb_is_stopped_at_the_memory_limit(box, host_ns) -> None:
    limit = 64 * MIB
    r = guarded(box, host_ns, "hostile_memory", "bomb", memory_limit=limit)
    assert r.status is Status.MEMORY_LIMIT_EXCEEDED, r
    assert (r.exit_code, r.signal) == (None, signal.SIGKILL)
    assert 48 * MIB <= r.memory <= limit + MIB, r
    assert_still_works(box)


def test_a_memory_bomb_in_a_child_counts_too(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_memory", "child-bomb", memory_limit=64 * MIB)
    assert r.status is Status.MEMORY_LIMIT_EXCEEDED, r
    assert r.exit_code == 0
    assert r.stdout == f"child signal {signal.SIGKILL.value}\n".encode()


def test_peak_memory_is_exact_and_per_run(box, host_ns) -> None:
    big = guarded(box, host_ns, "hostile_memory", "touch", "64", memory_limit=256 * MIB)
    assert big.status is Status.OK and big.stdout == b"touched 64\n", big
    assert 64 * MIB <= big.memory < 80 * MIB, big
    small = guarded(box, host_ns, "hostile_memory", "touch", "1", memory_limit=256 * MIB)
    assert small.status is Status.OK, small
    assert 0 < small.memory < 8 * MIB, (small, big)


def test_a_stdout_flood_is_cut_at_the_output_limit(box, host_ns) -> None:
    limit = 64 * 1024
    r = guarded(box, host_ns, "hostile_flood", "stdout", output_limit=limit)
    assert r.status is Status.OUTPUT_LIMIT_EXCEEDED, r
    assert r.signal == signal.SIGXFSZ
    assert 0 < len(r.stdout) <= limit
    assert r.stdout == b"y\n" * (len(r.stdout) // 2)
    assert_still_works(box)


def test_a_file_flood_is_cut_at_the_output_limit(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_flood", "file", "/w/big", output_limit=MIB)
    assert r.status is Status.OUTPUT_LIMIT_EXCEEDED, r
    assert r.signal == signal.SIGXFSZ
    assert len(box.read_file("/w/big")) == MIB


def test_a_fork_bomb_is_held_at_the_process_limit(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_forkbomb", process_limit=32, time_limit=1.0,
                wall_time_limit=10.0)
    # 32 spinning processes burn the CPU limit long before the wall limit.
    assert r.status is Status.TIME_LIMIT_EXCEEDED, r
    words = r.stdout.decode().split()
    assert words[0] == "forks" and words[2] == "errno", r.stdout
    assert 1 <= int(words[1]) <= 31
    assert int(words[3]) == 11  # EAGAIN
    assert_still_works(box)


def test_a_disallowed_syscall_under_the_strict_policy(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_sys", "socket", seccomp="strict")
    assert r.status is Status.DISALLOWED_SYSCALL, r
    assert r.signal == signal.SIGSYS
    assert r.stdout == b"" and r.message
    # A plain program runs under it; the default policy lets sockets be made.
    r = guarded(box, host_ns, "hostile_hello", seccomp="strict")
    assert (r.status, r.stdout) == (Status.OK, b"hello\n")
    r = guarded(box, host_ns, "hostile_sys", "socket")
    assert r.stdout == b"socket ok\n", r
    r = guarded(box, host_ns, "hostile_sys", "ptrace_traceme", seccomp="disabled")
    assert r.status is Status.OK, r


def test_the_single_program_policy_kills_a_second_exec(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_exec", "none", seccomp="single-program")
    assert (r.status, r.stdout) == (Status.OK, b"ran\n"), r
    for mode in ("execve", "execveat"):
        r = guarded(box, host_ns, "hostile_exec", mode, seccomp="single-program")
        assert r.status is Status.DISALLOWED_SYSCALL, (mode, r)
        assert r.signal == signal.SIGSYS and r.stdout == b"ran\n", (mode, r)
        # The default policy lets the same exec through.
        r = guarded(box, host_ns, "hostile_exec", mode)
        assert (r.status, r.stdout) == (Status.OK, b"ran\n"), (mode, r)


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def _on_socket(action: int) -> bytes:
    """A classic BPF program: `action` for socket(2), allow the rest."""
    return b"".join([
        _insn(0x20, 0, 0, 0),    # ld [nr]
        _insn(0x15, 0, 1, 41),   # jeq socket (x86_64)
        _insn(0x06, 0, 0, action),
        _insn(0x06, 0, 0, 0x7fff0000),  # ret ALLOW
    ])


def test_a_custom_bpf_program_kills_or_fails_a_call(box, host_ns) -> None:
    r = guarded(box, host_ns, "hostile_sys", "socket", seccomp=_on_socket(0x80000000))
    assert r.status is Status.DISALLOWED_SYSCALL, r
    assert r.signal == signal.SIGSYS and r.stdout == b"", r
    program = bytearray(_on_socket(0x00050000 | errno.EACCES))
    r = guarded(box, host_ns, "hostile_sys", "socket", seccomp=program)
    assert (r.status, r.stdout) == (Status.OK, f"socket err {errno.EACCES}\n".encode()), r
    # Everything else is allowed by it.
    r = guarded(box, host_ns, "hostile_sys", "fork", seccomp=program)
    assert (r.status, r.stdout) == (Status.OK, b"fork ok\n"), r


def test_rlimits_reach_the_program(box) -> None:
    r = box.run(["/bin/sh", "-c", "ulimit -n; ulimit -s; ulimit -f; ulimit -c"],
                open_files=64, stack=8 * MIB, output_limit=MIB, env=[PATH_ENV])
    assert r.status is Status.OK, r
    # sh reports KiB for -s and 512-byte blocks for -f.
    assert r.stdout == b"64\n8192\n2048\n0\n", r.stdout


def test_a_cpu_rate_throttles_without_killing(box, host_ns) -> None:
    # 0.2 s of CPU at a quarter of a core needs at least 0.8 s of wall time.
    r = guarded(box, host_ns, "hostile_spin", "cpu", "0.2", cpu_rate=0.25)
    assert r.status is Status.OK, r
    assert r.wall_time >= 0.6, r


def _own_cpus() -> str:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split(":", 1)[1].strip()
    raise AssertionError("no Cpus_allowed_list")


def test_a_cpu_set_confines_the_run_and_the_next_run_has_every_cpu(box) -> None:
    show = ["/bin/sh", "-c", "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status"]
    r = box.run(show, env=[PATH_ENV], cpu_set="0")
    assert (r.status, r.stdout) == (Status.OK, b"0\n"), r
    r = box.run(show, env=[PATH_ENV])
    assert r.stdout == (_own_cpus() + "\n").encode(), r
    for bad, says in [("", "empty"), ("x", '"x"'), ("1-0", "backwards"), ("4095", "not among")]:
        try:
            box.run(["/bin/true"], cpu_set=bad)
        except scpool.InvalidArgument as e:
            assert says in str(e), e
        else:
            raise AssertionError(f"cpu_set={bad!r} was accepted")
    try:
        box.run(["/bin/true"], cpu_set=0)
    except TypeError as e:
        assert "cpu_set" in str(e), e
    else:
        raise AssertionError("cpu_set=0 was accepted")
    assert_still_works(box)
