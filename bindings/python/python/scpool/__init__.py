"""scpool: a pool of pre-created Linux sandbox containers that run untrusted programs
with hard limits and exact accounting.

    import scpool
    with scpool.Pool(size=4) as pool, pool.acquire(timeout=5.0) as c:
        c.write_file("/w/in.txt", b"1 2\\n")
        r = c.run(["/bin/sh", "-c", "read a b < in.txt; echo $((a+b))"],
                  env=["PATH=/usr/bin:/bin"], cpu_time_limit=1.0, memory_limit=256 << 20)
        assert r.status is scpool.Status.OK and r.stdout == b"3\\n"

Times are seconds (float), memory is bytes (int). Every blocking call releases the
GIL, so threads run containers in parallel.
"""

from __future__ import annotations

from ._errors import (
    AcquireTimeout,
    ContainerBroken,
    ContainerReleased,
    Error,
    HostError,
    InvalidArgument,
    OpenError,
    NotRegularFileError,
    FileTooLargeError,
    PoolClosed,
    SetupError,
    UnsupportedError,
)
from ._status import Status
from ._scpool import (
    DEFAULT_CWD,
    DEFAULT_ID_RANGE,
    DEFAULT_LIMITS,
    DEFAULT_MOUNTS,
    MIN_MEMORY,
    Container,
    Pool,
    PoolStats,
    Result,
    memfd_copy,
    sealed_memfd,
)
from ._default import default_pool, run

__all__ = [
    "Pool",
    "Container",
    "Result",
    "PoolStats",
    "Status",
    "run",
    "default_pool",
    "memfd_copy",
    "sealed_memfd",
    "DEFAULT_MOUNTS",
    "DEFAULT_LIMITS",
    "MIN_MEMORY",
    "DEFAULT_CWD",
    "DEFAULT_ID_RANGE",
    "Error",
    "InvalidArgument",
    "UnsupportedError",
    "OpenError",
    "NotRegularFileError",
    "FileTooLargeError",
    "SetupError",
    "ContainerBroken",
    "AcquireTimeout",
    "PoolClosed",
    "ContainerReleased",
    "HostError",
]
