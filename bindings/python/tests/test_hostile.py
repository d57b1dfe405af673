"""Hostile programs from tests/progs against the container, through Python: every
dangerous one gets the host's namespaces as argv[1], argv[2] and refuses to act
outside a sandbox (tests/progs/guard.h)."""

from __future__ import annotations

import errno
import os
import subprocess

import scpool
from conftest import GUARD_REFUSED, assert_still_works, guarded

Status = scpool.Status


def outcomes(stdout: bytes) -> dict:
    """What hostile_sys printed: action name to "ok" or "err ERRNO"."""
    result = {}
    for line in stdout.decode().splitlines():
        name, _, rest = line.partition(" ")
        if rest == "ok" or rest.startswith("err "):
            result[name] = rest
    return result


def test_the_hostile_programs_refuse_to_act_on_the_host(progs, host_ns) -> None:
    for name, args in [("hostile_sys", ["fds"]), ("hostile_spin", ["cpu", "0.01"]),
                       ("hostile_memory", ["touch", "1"])]:
        done = subprocess.run([progs[name], *host_ns, *args], capture_output=True)
        assert done.returncode == GUARD_REFUSED, name
        assert done.stdout == b"", name


def test_escape_calls_fail_under_the_default_policy(box, host_ns) -> None:
    eperm = f"err {errno.EPERM}"
    expected = {name: eperm for name in [
        "ptrace_attach", "ptrace_traceme", "mount", "umount", "unshare", "unshare_ns",
        "chroot", "pivot_root", "sethostname", "setuid0", "setns", "clone_ns",
    ]}
    expected["clone3"] = f"err {errno.ENOSYS}"
    expected["clone3_ns"] = f"err {errno.ENOSYS}"
    # The init is hidden (/proc mounted hidepid=2): its namespaces cannot even be
    # named.
    expected["setns_init"] = f"err {errno.ENOENT}"
    expected["x32"] = eperm
    r = guarded(box, host_ns, "hostile_sys", *expected)
    assert r.status is Status.OK, r
    got = outcomes(r.stdout)
    wrong = {k: (v, got.get(k)) for k, v in expected.items() if got.get(k) != v}
    assert not wrong, f"expected vs got: {wrong}"
    # Ordinary processes still work.
    assert outcomes(guarded(box, host_ns, "hostile_sys", "fork").stdout) == {"fork": "ok"}
    assert box.run(["/bin/hostname"]).stdout == b"scpool\n"
    assert_still_works(box)


def test_the_strict_policy_kills_escape_attempts(box, host_ns) -> None:
    for action in ["socket", "fork", "ptrace_attach", "mount", "x32"]:
        r = guarded(box, host_ns, "hostile_sys", action, seccomp="strict")
        assert r.status is Status.DISALLOWED_SYSCALL, (action, r)
        assert r.stdout == b"", action
    assert_still_works(box)


def test_killing_everything_harms_nobody_else(pool, box, host_ns) -> None:
    with pool.acquire(timeout=30) as other:
        before = other.run(["/bin/true"])
        assert before.ok
        r = guarded(box, host_ns, "hostile_kill")
        assert r.status is Status.OK, r
        lines = r.stdout.decode().splitlines()
        # kill(-1) reached only the program's own child; the sweep found nothing
        # but the fresh child it made; the init (pid 1) survived, so did we.
        assert lines[0] == "kill -1 ok", lines
        assert lines[1] == "child signal 9", lines
        assert lines[-1] == "survived", lines
        assert any(line.startswith("sweep killed 1") for line in lines), lines
        assert_still_works(box)
        assert_still_works(other)


def comm(pid: str) -> str:
    """The name of a process ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def test_a_double_forked_daemon_dies_with_its_run(box, host_ns) -> None:
    r = guarded(box, host_ns, "daemon", wall_time_limit=20.0)
    assert r.status is Status.OK, r
    assert r.stdout.startswith(b"daemon "), r
    # Nothing of the run is left: on the host the init has no child but the
    # standby runner it may keep for the next run, and the next program sees only
    # itself (the init is hidden by hidepid=2).
    children = open(f"/proc/{box.init_pid}/task/{box.init_pid}/children").read()
    assert [pid for pid in children.split() if comm(pid) != "scpool-standby"] == [], children
    r = box.run(["/opt/progs/pids"])
    own = r.stdout.split(b"\n")[0].removeprefix(b"self=")
    assert r.stdout.split(b"\n")[1] == b"procs=" + own, r.stdout


def test_the_program_sees_only_its_three_descriptors(box, host_ns) -> None:
    # Descriptors the host has open (a pipe here) never reach the program.
    read_end, write_end = os.pipe()
    try:
        r = guarded(box, host_ns, "hostile_sys", "fds")
        assert r.stdout.startswith(b"fds 0 1 2\n"), r.stdout
    finally:
        os.close(read_end)
        os.close(write_end)
