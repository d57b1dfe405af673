"""The exceptions of scpool.

A failing *program* is not an exception: it is a `Result` with a `Status`. An
exception means the request could not be carried out.
"""

from __future__ import annotations


class Error(Exception):
    """Base class of every scpool error."""


class InvalidArgument(Error, ValueError):
    """The caller passed something unusable; nothing changed and the container works."""


class UnsupportedError(Error):
    """The request needs something this host or container cannot do (e.g. a process
    limit without a cgroup)."""


class OpenError(Error, OSError):
    """A file could not be opened inside the container (the container still works).

    ``errno`` and ``strerror`` are set as for any OSError; ``filename`` is the path
    inside the container."""


class NotRegularFileError(OpenError):
    """The path in the container is a FIFO, socket, device or directory where a
    regular file was needed (``errno`` is EISDIR for a directory, EINVAL else).
    Raised at once; the container still works."""


class FileTooLargeError(OpenError):
    """A file or tree in the container is larger than the maximum allowed
    (``errno`` is EFBIG); nothing beyond the maximum was read or written."""


class SetupError(Error):
    """Creating a container failed; everything partly created was removed."""


class ContainerBroken(Error):
    """The container's init died or stopped answering; the container is useless and
    its pool replaces it once it is released. Also raised when a call failed inside
    scpool itself (a bug): the container, in an unknown state, was discarded at once
    and every later call on it raises this."""


class AcquireTimeout(Error, TimeoutError):
    """No container became free within the acquire timeout."""


class PoolClosed(Error):
    """The pool was closed."""


class ContainerReleased(Error):
    """The container was already released or discarded back to its pool."""


class HostError(Error, OSError):
    """A system call of the host side failed (``errno`` tells which error; None when
    the failure has no errno)."""


__all__ = [
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

# Shown and pickled as scpool.<Name>, where users import them from.
for _name in __all__:
    globals()[_name].__module__ = "scpool"
del _name
