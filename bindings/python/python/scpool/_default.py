"""The default pool behind the one-shot `scpool.run`: created on first use (once,
whatever the number of threads), closed when the interpreter exits, and made anew in
a child process after fork (the parent's containers are not the child's to use)."""

from __future__ import annotations

import atexit
import os
import threading
from typing import Any, List, Optional, Sequence, Union

from ._scpool import Pool, Result

_lock = threading.Lock()
_pool: Optional[Pool] = None
_pid: Optional[int] = None
# Pools inherited through fork: never closed or freed in the child, since that
# would kill the parent's containers.
_inherited: List[Pool] = []


def default_pool() -> Pool:
    """The pool `scpool.run` uses (a small default pool, created on first use)."""
    global _pool, _pid
    pool = _pool
    if pool is not None and _pid == os.getpid():
        return pool
    with _lock:
        if _pool is not None and _pid != os.getpid():
            _inherited.append(_pool)
            _pool = None
        if _pool is None:
            _pool = Pool(min_idle=1)
            _pid = os.getpid()
        return _pool


def run(args: Sequence[Union[str, bytes, "os.PathLike[str]"]], **options: Any) -> Result:
    """Runs one program in a container of the default pool and returns its
    `Result`. Takes the keywords of `Container.run` (stdin, env, cwd, cpu_time_limit,
    wall_time_limit, memory_limit, output_limit, process_limit, cpu_rate,
    cpu_set, open_files, stack, address_space_limit, seccomp)."""
    return default_pool().run(args, **options)


def _close_default_pool() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None and _pid == os.getpid():
        pool.close()


def _after_fork_in_child() -> None:
    global _pool, _lock
    # The lock may have been held by a thread that does not exist in the child.
    _lock = threading.Lock()
    if _pool is not None:
        _inherited.append(_pool)
        _pool = None


atexit.register(_close_default_pool)
os.register_at_fork(after_in_child=_after_fork_in_child)
