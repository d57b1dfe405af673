"""Shared fixtures of the Python suite: test programs compiled from tests/progs/*.c,
the host's namespace identities for the hostile programs' guard, and a pool whose
containers see the programs at /opt/progs.

Everything the suite writes lives under target/pytest-<pid>/ of the repository and
is removed at the end; nothing is written to /tmp. Must run as root (CI does): the
tests create real containers."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

import scpool

REPO = Path(__file__).resolve().parents[3]
PROGS_SOURCE = REPO / "tests" / "progs"
PROGS_TARGET = "/opt/progs"
PATH_ENV = "PATH=/usr/bin:/bin"
GUARD_REFUSED = 99
MIB = 1 << 20
# A safety net for runs that should end by themselves: a broken sandbox fails a
# test instead of hanging it.
SAFETY_WALL_TIME = 60.0

HOSTILE = [
    "hostile_spin",
    "hostile_memory",
    "hostile_forkbomb",
    "hostile_flood",
    "hostile_kill",
    "hostile_sys",
    "hostile_hello",
    "hostile_exec",
    "daemon",
    "copy",
    "fds",
    "pids",
]


def pytest_configure(config: pytest.Config) -> None:
    if os.geteuid() != 0:
        raise pytest.UsageError("the scpool tests create real containers: run them as root")


@pytest.fixture(scope="session")
def scratch() -> Iterator[Path]:
    """This session's directory under the repository's target/ (not /tmp: a
    container's /tmp is its own, and tests leave nothing behind there)."""
    path = REPO / "target" / f"pytest-{os.getpid()}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    # Bound into containers whose programs run as nobody.
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _extra_cflags(source: Path) -> List[str]:
    match = re.search(r"scpool-test-cflags:(.*)", source.read_text())
    if not match:
        return []
    return match.group(1).replace("*/", "").split()


@pytest.fixture(scope="session")
def progs(scratch: Path) -> Dict[str, Path]:
    """Host paths of the test programs, compiled statically with -O2 -Werror."""
    out = scratch / "progs"
    out.mkdir()
    out.chmod(0o755)
    built = {}
    for name in HOSTILE:
        source = PROGS_SOURCE / f"{name}.c"
        target = out / name
        subprocess.run(
            ["cc", "-O2", "-Wall", "-Werror", "-static", *_extra_cflags(source),
             "-I", str(PROGS_SOURCE), "-o", str(target), str(source)],
            check=True,
            env={**os.environ, "TMPDIR": str(scratch)},
        )
        built[name] = target
    return built


@pytest.fixture(scope="session")
def noop(scratch: Path) -> Path:
    """A static program that does nothing."""
    target = scratch / "noop"
    subprocess.run(
        ["cc", "-O2", "-static", "-x", "c", "-", "-o", str(target)],
        input=b"int main(void){return 0;}\n",
        check=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    return target


@pytest.fixture(scope="session")
def host_ns() -> List[str]:
    """The host's PID and mount namespace identities: the first two arguments of
    every guarded program (tests/progs/guard.h)."""
    return [os.readlink("/proc/self/ns/pid"), os.readlink("/proc/self/ns/mnt")]


@pytest.fixture(scope="module")
def pool(progs: Dict[str, Path]) -> Iterator[scpool.Pool]:
    """A pool of two containers that see the test programs at /opt/progs."""
    progs_dir = next(iter(progs.values())).parent
    with scpool.Pool(size=2, extra_mounts=[(str(progs_dir), PROGS_TARGET)]) as p:
        yield p


@pytest.fixture
def box(pool: scpool.Pool) -> Iterator[scpool.Container]:
    """A container of the module's pool, released after the test."""
    with pool.acquire(timeout=30) as c:
        yield c


def guarded(c: scpool.Container, host_ns: List[str], name: str, *args: str,
            **options) -> scpool.Result:
    """Runs guarded test program NAME with the host's namespaces as its first two
    arguments and a wall-time safety net; it must not have refused to act."""
    options.setdefault("wall_time_limit", SAFETY_WALL_TIME)
    options.setdefault("env", [PATH_ENV])
    r = c.run([f"{PROGS_TARGET}/{name}", *host_ns, *args], **options)
    assert r.exit_code != GUARD_REFUSED, f"{name} refused to act: {r!r}"
    return r


def assert_still_works(c: scpool.Container) -> None:
    c.ping()
    r = c.run(["/bin/echo", "alive"], wall_time_limit=SAFETY_WALL_TIME)
    assert r.status is scpool.Status.OK, r
    assert r.stdout == b"alive\n"
