"""How a run ended."""

from __future__ import annotations

import enum


class Status(enum.Enum):
    """How a run ended. When several apply, the first in this order wins:
    RUNNER_ERROR, DISALLOWED_SYSCALL, MEMORY_LIMIT_EXCEEDED, TIME_LIMIT_EXCEEDED,
    WALL_TIME_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED, SIGNALLED, NONZERO_EXIT, OK.
    The value is the name, as in every language and in the CLI's JSON."""

    OK = "OK"
    NONZERO_EXIT = "NONZERO_EXIT"
    SIGNALLED = "SIGNALLED"
    TIME_LIMIT_EXCEEDED = "TIME_LIMIT_EXCEEDED"
    WALL_TIME_LIMIT_EXCEEDED = "WALL_TIME_LIMIT_EXCEEDED"
    MEMORY_LIMIT_EXCEEDED = "MEMORY_LIMIT_EXCEEDED"
    OUTPUT_LIMIT_EXCEEDED = "OUTPUT_LIMIT_EXCEEDED"
    DISALLOWED_SYSCALL = "DISALLOWED_SYSCALL"
    RUNNER_ERROR = "RUNNER_ERROR"

    def __str__(self) -> str:
        return self.value


Status.__module__ = "scpool"
