"""Files between the host and a container: what a program leaves in /w fails the
file calls at once, bounded reads, mkdir/listdir/write_file modes and owners, tree
copies, and sealed memfds as input."""

from __future__ import annotations

import errno
import os
import resource
from pathlib import Path

import pytest

import scpool
from conftest import PATH_ENV, SAFETY_WALL_TIME, assert_still_works



def program_ids(box) -> str:
    """The program's "uid:gid": the container's own ids."""
    return sh(box, "echo $(id -u):$(id -g)").stdout.decode().strip()


def sh(c: scpool.Container, script: str, **options) -> scpool.Result:
    options.setdefault("wall_time_limit", SAFETY_WALL_TIME)
    r = c.run(["/bin/sh", "-c", script], env=[PATH_ENV], **options)
    assert r.status is scpool.Status.OK, r
    return r


def test_what_a_program_leaves_in_w_fails_at_once_and_the_container_works(box) -> None:
    sh(box, "mkfifo /w/fifo && mkdir /w/dir && ln -s /etc/passwd /w/link && "
            "truncate -s 1G /w/sparse", output_limit=2 << 30)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(scpool.NotRegularFileError) as fifo:
        box.read_file("/w/fifo")
    assert fifo.value.errno == errno.EINVAL
    with pytest.raises(scpool.NotRegularFileError):
        box.write_file("/w/fifo", b"x")
    with pytest.raises(scpool.NotRegularFileError) as directory:
        box.read_file("/w/dir")
    assert directory.value.errno == errno.EISDIR
    with pytest.raises(scpool.OpenError) as link:
        box.read_file("/w/link")
    assert link.value.errno == errno.ELOOP
    with pytest.raises(scpool.FileTooLargeError) as big:
        box.read_file("/w/sparse")
    assert big.value.errno == errno.EFBIG
    with pytest.raises(scpool.FileTooLargeError):
        box.read_file("/w/sparse", max_size=1 << 20)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kib < 32 << 10, f"peak memory grew by {grown_kib} KiB"
    assert_still_works(box)


def test_read_file_stops_at_max_size_exactly(box) -> None:
    box.write_file("/w/ten", b"0123456789")
    assert box.read_file("/w/ten", max_size=10) == b"0123456789"
    with pytest.raises(scpool.FileTooLargeError):
        box.read_file("/w/ten", max_size=9)


def test_mkdir_write_file_mode_and_listdir(box) -> None:
    box.mkdir("/w/d", 0o750)
    box.write_file("/w/d/run.sh", b"#!/bin/sh\necho ran\n", mode=0o755)
    box.write_file("/w/d/secret", b"s", 0o600)
    with pytest.raises(scpool.OpenError) as again:
        box.mkdir("/w/d")
    assert again.value.errno == errno.EEXIST
    with pytest.raises(scpool.InvalidArgument):
        box.write_file("/w/d/x", b"", mode=0o100000)
    assert box.listdir("/w/d") == [
        ("run.sh", "file", 19, 0o755),
        ("secret", "file", 1, 0o600),
    ]
    r = sh(box, "stat -c '%a %u:%g' /w/d /w/d/run.sh /w/d/secret && /w/d/run.sh")
    ids = program_ids(box)
    assert r.stdout.decode() == f"750 {ids}\n755 {ids}\n600 {ids}\nran\n"


def test_symlink_is_stored_as_given_and_followed_inside(box) -> None:
    box.mkdir("/w/d")
    box.write_file("/w/d/x", b"abc")
    box.symlink("d/x", "/w/ln")
    with pytest.raises(scpool.OpenError) as again:
        box.symlink("d/x", "/w/ln")
    assert again.value.errno == errno.EEXIST
    with pytest.raises(scpool.OpenError):
        box.symlink("d/x", "/w/ln/under")
    with pytest.raises(scpool.OpenError) as nul:
        box.symlink("d/x", "/w/nul\0")
    assert nul.value.errno == errno.EINVAL
    with pytest.raises(TypeError):
        box.symlink(1, "/w/other")
    assert ("ln", "symlink") in [(name, kind) for name, kind, _, _ in box.listdir("/w")]
    r = sh(box, "readlink /w/ln && cat /w/ln && echo && stat -c '%u' /w/ln")
    uid = program_ids(box).split(":")[0]
    assert r.stdout.decode() == f"d/x\nabc\n{uid}\n"



def test_copy_in_and_copy_out_round_trip_a_tree(box, tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "data").write_bytes(b"x" * 1000)
    (src / "tool").write_bytes(b"#!/bin/sh\necho tool\n")
    (src / "tool").chmod(0o755)
    os.symlink("sub/data", src / "link")
    assert box.copy_in(src, "/w/t") == (4, 1020)
    r = sh(box, "cd /w/t && ./tool && stat -c '%u' sub/data && readlink link && "
                "echo made > sub/new")
    uid = program_ids(box).split(":")[0]
    assert r.stdout.decode() == f"tool\n{uid}\nsub/data\n"
    out = tmp_path / "out"
    with pytest.raises(scpool.FileTooLargeError):
        box.copy_out("/w/t", out, max_bytes=1000)
    assert not out.exists()
    assert box.copy_out("/w/t", out) == (5, 1025)
    assert (out / "sub" / "new").read_bytes() == b"made\n"
    assert os.readlink(out / "link") == "sub/data"
    assert (out / "tool").stat().st_mode & 0o7777 == 0o755

    os.symlink("/etc", src / "escape")
    with pytest.raises(scpool.InvalidArgument):
        box.copy_in(src, "/w/t2")
    with pytest.raises(scpool.OpenError):
        box.listdir("/w/t2")


def test_a_sealed_memfd_is_input_a_program_cannot_write_or_trace_to_the_host(box) -> None:
    (out,) = box.open([("/w/probe", os.O_WRONLY | os.O_CREAT, 0o644)])
    with scpool.sealed_memfd(b"input\n") as data, out:
        r = box.execve(
            ["/bin/sh", "-c", "cat; readlink /proc/self/fd/0; "
                              "echo x >&0 2>/dev/null || echo refused"],
            env=[PATH_ENV], files=[data, out, out], wall_time_limit=SAFETY_WALL_TIME)
        assert r.status is scpool.Status.OK, r
        with pytest.raises(OSError) as write:
            os.write(data.fileno(), b"x")
        assert write.value.errno == errno.EPERM
        # The offset is shared: the program read to the end. The bytes are intact.
        assert data.read() == b""
        assert os.pread(data.fileno(), 100, 0) == b"input\n"
    assert box.read_file("/w/probe") == b"input\n/memfd:scpool-data (deleted)\nrefused\n"
