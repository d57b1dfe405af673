"""The keywords of scpool.Pool reach the containers."""

from __future__ import annotations

import scpool
from conftest import MIB, PATH_ENV


def test_hostname_mounts_and_sizes() -> None:
    mounts = ["/bin", "/lib", "/usr", ("/lib64", "/lib64", False, True)]
    with scpool.Pool(size=1, hostname="judge", mounts=mounts, work_size=2 * MIB,
                     tmp_size=MIB, cgroup="required") as pool, pool.acquire() as c:
        # The name is the domain name too, as in every language.
        r = c.run(["/bin/sh", "-c", "hostname; domainname"], env=[PATH_ENV])
        assert r.stdout == b"judge\njudge\n", r
        # mounts replaced the default list: no /sbin, /etc/alternatives...
        r = c.run(["/bin/ls", "/"])
        assert set(r.stdout.split()) >= {b"bin", b"lib", b"usr", b"w", b"tmp"}
        assert b"sbin" not in r.stdout.split()
        # /w holds 2 MiB at most.
        r = c.run(["/bin/sh", "-c", "head -c 3145728 /dev/zero > /w/big"], env=[PATH_ENV])
        assert r.status is scpool.Status.NONZERO_EXIT and b"No space left" in r.stderr, r
        assert scpool.DEFAULT_MOUNTS[0] == "/bin"


def test_a_writable_extra_mount(scratch) -> None:
    shared = scratch / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    with scpool.Pool(size=1, extra_mounts=[(str(shared), "/data", True)]) as pool:
        r = pool.run(["/bin/sh", "-c", "echo out > /data/file"],
                     env=[PATH_ENV])
        assert r.status is scpool.Status.OK, r
    assert (shared / "file").read_bytes() == b"out\n"


def test_a_user_namespace_on_a_root_host() -> None:
    with scpool.Pool(size=1, user_namespace=True) as pool:
        r = pool.run(["/usr/bin/id", "-u"])
        assert (r.status, r.stdout) == (scpool.Status.OK, b"0\n")


def test_containers_without_a_cgroup() -> None:
    with scpool.Pool(size=1, cgroup="off") as pool:
        # CPU time falls back to RLIMIT_CPU, memory to RLIMIT_AS: still enforced.
        r = pool.run(["/bin/sh", "-c", "while :; do :; done"], cpu_time_limit=1.0,
                     wall_time_limit=10.0)
        assert r.status is scpool.Status.TIME_LIMIT_EXCEEDED, r


def test_image_layers_are_the_root_and_reset_restores_them(scratch) -> None:
    import os
    import shutil

    layer = scratch / "layer"
    (layer / "bin").mkdir(parents=True)
    (layer / "data").mkdir()
    (layer / "data").chmod(0o777)
    shutil.copy("/bin/busybox", layer / "bin" / "busybox")
    for applet in ("sh", "cat"):
        os.symlink("busybox", layer / "bin" / applet)
    (layer / "data" / "f").write_bytes(b"image\n")
    (layer / "data" / "f").chmod(0o666)
    with scpool.Pool(size=1, mounts=[], image_layers=[str(layer)], root_size=MIB,
                     user_namespace=False) as pool:
        with pool.acquire() as c:
            r = c.run(["/bin/sh", "-c", "echo changed > /data/f; cat /data/f; ls /usr"],
                      env=["PATH=/bin"])
            # Only the image is there: no host /usr.
            assert r.stdout == b"changed\n" and r.status is scpool.Status.NONZERO_EXIT, r
        with pool.acquire() as c:
            assert c.run(["/bin/cat", "/data/f"]).stdout == b"image\n"
    try:
        scpool.Pool(size=1, image_layers=["relative"])
    except scpool.InvalidArgument:
        pass
    else:
        raise AssertionError("a relative layer was accepted")


def test_sizes_not_given_fit_those_given() -> None:
    # min_idle alone raises the default max_idle and max_size to hold it (the
    # library's rule, the same in C and Go).
    with scpool.Pool(min_idle=9, idle_timeout=3600) as pool:
        assert "max_size=" in repr(pool)
        stats = pool.stats()
        assert stats.idle + stats.pending == 9, stats
