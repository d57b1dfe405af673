"""Type stubs of the native module scpool._scpool (see scpool/__init__.py)."""

import os
from types import TracebackType
from typing import IO, Any, Dict, Mapping, List, Literal, Optional, Sequence, SupportsIndex, Tuple, Type, Union

from ._status import Status

_Str = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
_Fd = Union[int, IO[Any]]
_Mount = Union[_Str, Tuple[_Str, _Str], Tuple[_Str, _Str, bool], Tuple[_Str, _Str, bool, bool]]
# A built-in policy by name, or a custom classic-BPF program: the raw bytes of a
# struct sock_filter array (8 bytes per instruction, native byte order, e.g.
# b"".join(struct.pack("=HBBI", code, jt, jf, k) for ...)). "single-program" is
# "default" plus: any exec after the run's own kills the process that makes it.
# A custom program runs behind the library's guard (other architectures killed,
# x32 refused, clone3 ENOSYS); a process it kills makes the run DISALLOWED_SYSCALL.
_Seccomp = Union[
    Literal["default", "strict", "single-program", "disabled", "off"], bytes, bytearray
]

DEFAULT_MOUNTS: Tuple[str, ...]
DEFAULT_CWD: str
DEFAULT_ID_RANGE: Tuple[int, int]
# Limits a run gets when the keyword is left out, by keyword.
DEFAULT_LIMITS: Mapping[str, int]
# The smallest memory_limit accepted, bytes.
MIN_MEMORY: int

class Result:
    """What one run did. Times are seconds, memory is bytes."""

    @property
    def status(self) -> Status: ...
    @property
    def ok(self) -> bool: ...
    exit_code: Optional[int]
    signal: Optional[int]
    cpu_time: float
    user_time: float
    system_time: float
    accounting: Literal["none", "cgroup-v1", "cgroup-v2"]
    wall_time: float
    setup_time: float
    memory: int
    peak_processes: Optional[int]
    @property
    def stdout(self) -> bytes: ...
    @property
    def stderr(self) -> bytes: ...
    message: str

class PoolStats:
    idle: int
    in_use: int
    pending: int
    created: int
    destroyed: int
    reused: int
    acquires: int
    acquire_waits: int
    acquire_timeouts: int
    acquire_latency_mean: float
    acquire_latency_max: float
    def as_dict(self) -> Dict[str, Union[int, float]]: ...

class Container:
    """A container on loan from a pool; a context manager that releases it."""

    def run(
        self,
        args: Sequence[_Str],
        *,
        stdin: Union[bytes, bytearray] = b"",
        env: Sequence[_Str] = (),
        cwd: _Str = "/w",
        cpu_time_limit: Optional[float] = None,
        time_limit: Optional[float] = None,  # the old spelling of cpu_time_limit
        wall_time_limit: Optional[float] = None,
        memory_limit: Optional[int] = None,
        output_limit: Optional[int] = None,
        process_limit: Optional[int] = None,
        cpu_rate: Optional[float] = None,
        cpu_set: Optional[str] = None,
        open_files: Optional[int] = None,
        stack: Optional[int] = None,
        address_space_limit: Optional[int] = None,
        seccomp: _Seccomp = "default",
    ) -> Result: ...
    def execve(
        self,
        args: Sequence[_Str],
        *,
        env: Sequence[_Str] = (),
        cwd: _Str = "/w",
        files: Sequence[_Fd] = (),
        exec_file: Optional[_Fd] = None,
        cpu_time_limit: Optional[float] = None,
        time_limit: Optional[float] = None,  # the old spelling of cpu_time_limit
        wall_time_limit: Optional[float] = None,
        memory_limit: Optional[int] = None,
        output_limit: Optional[int] = None,
        process_limit: Optional[int] = None,
        cpu_rate: Optional[float] = None,
        cpu_set: Optional[str] = None,
        open_files: Optional[int] = None,
        stack: Optional[int] = None,
        address_space_limit: Optional[int] = None,
        seccomp: _Seccomp = "default",
    ) -> Result: ...
    def open(
        self, entries: Sequence[Union[Tuple[_Str, int], Tuple[_Str, int, int]]]
    ) -> List[Union[IO[bytes], int]]: ...
    def read_file(self, path: _Str, max_size: Optional[int] = None) -> bytes: ...
    def write_file(
        self, path: _Str, data: Union[bytes, bytearray], mode: int = 0o644
    ) -> None: ...
    def mkdir(self, path: _Str, mode: int = 0o755) -> None: ...
    def symlink(self, target: _Str, link: _Str) -> None: ...
    def listdir(self, path: _Str) -> List[Tuple[str, str, int, int]]: ...
    def copy_in(
        self,
        host_dir: _Str,
        container_dir: _Str,
        max_bytes: Optional[int] = None,
        max_entries: Optional[int] = None,
    ) -> Tuple[int, int]: ...
    def copy_out(
        self,
        container_dir: _Str,
        host_dir: _Str,
        max_bytes: Optional[int] = None,
        max_entries: Optional[int] = None,
    ) -> Tuple[int, int]: ...
    def ping(self) -> None: ...
    def reset(self) -> None: ...
    def release(self) -> None: ...
    def discard(self) -> None: ...
    @property
    def released(self) -> bool: ...
    @property
    def broken(self) -> bool: ...
    @property
    def init_pid(self) -> int: ...
    @property
    def program_ids(self) -> Tuple[int, int]: ...
    def __enter__(self) -> "Container": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

class Pool:
    """A pool of pre-created sandbox containers; a context manager that closes it."""

    def __init__(
        self,
        *,
        size: Optional[SupportsIndex] = None,
        min_idle: Optional[SupportsIndex] = None,
        max_idle: Optional[SupportsIndex] = None,
        max_size: Optional[SupportsIndex] = None,
        acquire_timeout: Optional[float] = None,
        health_check_interval: Optional[float] = None,
        idle_timeout: Optional[float] = None,
        ping_on_acquire: Optional[bool] = None,
        mounts: Optional[Sequence[_Mount]] = None,
        extra_mounts: Optional[Sequence[_Mount]] = None,
        rootfs: Optional[_Str] = None,
        image_layers: Optional[Sequence[_Str]] = None,
        root_size: Optional[SupportsIndex] = None,
        image: Optional[str] = None,
        hostname: Optional[str] = None,
        work_size: Optional[SupportsIndex] = None,
        tmp_size: Optional[SupportsIndex] = None,
        uid: Optional[SupportsIndex] = None,
        gid: Optional[SupportsIndex] = None,
        id_range: Optional[Tuple[SupportsIndex, SupportsIndex]] = None,
        user_namespace: Optional[bool] = None,
        setup_timeout: Optional[float] = None,
        cgroup: Optional[Literal["auto", "required", "off"]] = None,
        cgroup_parent: Optional[_Str] = None,
        process_peak: Optional[bool] = None,
    ) -> None: ...
    def acquire(self, timeout: Optional[float] = None) -> Container: ...
    def run(self, args: Sequence[_Str], **options: Any) -> Result: ...
    def stats(self) -> PoolStats: ...
    def close(self) -> None: ...
    @property
    def closed(self) -> bool: ...
    def __enter__(self) -> "Pool": ...
    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> bool: ...

def memfd_copy(path: _Str) -> IO[bytes]: ...
def sealed_memfd(data: Union[bytes, bytearray]) -> IO[bytes]: ...
