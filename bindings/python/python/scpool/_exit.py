"""Closes this process's pools when the interpreter exits.

A pool that is still referenced at exit (a module-level pool, one held by a daemon
thread) would otherwise never be closed: its idle containers and their cgroups would
outlive the process. Every `Pool` registers itself here (weakly: registration keeps
nothing alive). `Pool.close()` does nothing in a forked child, so a child never closes
its parent's pools.

Containers still on loan at exit (e.g. in a daemon thread's hands) are destroyed only
when they are released, which a daemon thread frozen by the interpreter's shutdown
never does: release containers before exit (use `with`), or join the threads.
"""

from __future__ import annotations

import atexit
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._scpool import Pool

_pools: "weakref.WeakSet[Pool]" = weakref.WeakSet()


def register(pool: "Pool") -> None:
    """Called by every new `Pool`."""
    _pools.add(pool)


def _close_pools() -> None:
    for pool in list(_pools):
        try:
            pool.close()
        except Exception:  # an exit hook must not stop the others
            pass


atexit.register(_close_pools)
