"""Results a judge can trust in a reused container, from Python: the memory of a run
is its own after an earlier run read a large uncached file, a wall-time verdict never
reports less than its limit, and mount targets the container would hide are refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import scpool
from conftest import PATH_ENV


def test_memory_of_a_run_is_its_own_after_a_big_read(tmp_path: Path) -> None:
    data = tmp_path / "big"
    with open(data, "wb") as f:
        for _ in range(64):
            f.write(b"\x07" * (1 << 20))
        f.flush()
        os.fsync(f.fileno())
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    with scpool.Pool(size=1, extra_mounts=[(str(data), "/data")]) as pool:
        with pool.acquire() as c:
            fresh = c.run(["/bin/true"], env=[PATH_ENV]).memory
            read = c.run(["/bin/cat", "/data"], env=[PATH_ENV])
            assert read.memory > 32 << 20, read
            same_loan = c.run(["/bin/true"], env=[PATH_ENV]).memory
            limited = c.run(["/bin/true"], env=[PATH_ENV], memory_limit=32 << 20)
            assert limited.status == scpool.Status.OK, limited
        with pool.acquire() as c:
            next_loan = c.run(["/bin/true"], env=[PATH_ENV]).memory
    slack = fresh // 10 + (512 << 10)
    for what, m in [("same loan", same_loan), ("32 MiB limit", limited.memory),
                    ("next loan", next_loan)]:
        assert m <= fresh + slack, f"{what}: {m} against {fresh} fresh"


def test_a_wall_time_verdict_never_reports_less_than_its_limit(box) -> None:
    for _ in range(10):
        r = box.run(["/bin/sleep", "5"], env=[PATH_ENV], wall_time_limit=0.2)
        assert r.status == scpool.Status.WALL_TIME_LIMIT_EXCEEDED, r
        assert 0.2 <= r.wall_time < 2.0, r


@pytest.mark.parametrize("target", ["/w/data", "/tmp/x", "/proc/x", "/dev/x"])
def test_mount_targets_the_container_would_hide_are_refused(target: str) -> None:
    with pytest.raises(scpool.InvalidArgument, match="reserved"):
        scpool.Pool(size=1, extra_mounts=[("/usr", target)])
