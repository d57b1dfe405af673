package scpool

import (
	"fmt"
	"time"
)

// Status is how a run ended.
type Status int

// The statuses, with the values of the C ABI. When several apply the first wins:
// RunnerError, DisallowedSyscall, MemoryLimitExceeded, TimeLimitExceeded,
// WallTimeLimitExceeded, OutputLimitExceeded, Signalled, NonzeroExit, OK.
const (
	StatusOK                    Status = 0
	StatusNonzeroExit           Status = 1
	StatusSignalled             Status = 2
	StatusTimeLimitExceeded     Status = 3
	StatusWallTimeLimitExceeded Status = 4
	StatusMemoryLimitExceeded   Status = 5
	StatusOutputLimitExceeded   Status = 6
	StatusDisallowedSyscall     Status = 7
	StatusRunnerError           Status = 8
)

var statusNames = [...]string{
	"OK", "NONZERO_EXIT", "SIGNALLED", "TIME_LIMIT_EXCEEDED", "WALL_TIME_LIMIT_EXCEEDED",
	"MEMORY_LIMIT_EXCEEDED", "OUTPUT_LIMIT_EXCEEDED", "DISALLOWED_SYSCALL", "RUNNER_ERROR",
}

// String gives the name every language uses ("TIME_LIMIT_EXCEEDED").
func (s Status) String() string {
	if s >= 0 && int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Limits of one run; the zero value of a field means the library's default for it
// (DefaultProcesses, DefaultOpenFiles, DefaultStack) or, for the others, no limit.
type Limits struct {
	CPUTime  time.Duration // user+system time of every process of the run
	WallTime time.Duration
	Memory   uint64 // peak bytes, all processes together; at least MinMemory
	Output   uint64 // bytes per written file and per captured stream
	// Processes and threads alive at once; fork fails with EAGAIN beyond.
	Processes uint32
	CPURate   float64 // cores (0.5 = half a core); slower, never killed
	OpenFiles uint64
	Stack     uint64 // bytes
	// AddressSpace is each process's address space in bytes (RLIMIT_AS):
	// allocations beyond it fail. Independent of Memory.
	AddressSpace uint64
	// CPUSet is the CPUs the run may use, in the kernel's list syntax ("0",
	// "0-1,3"), a hard limit (the container cgroup's cpuset); "" is every CPU.
	// The library parses it: a bad list or a CPU containers may not use is an
	// ErrInvalidArgument, no cpuset controller an ErrUnsupported.
	CPUSet string
}

// check refuses what the C struct cannot carry (a negative duration). Value
// ranges (CPURate's included) are the library's to check, one range for every
// language: its refusal comes back as an ErrInvalidArgument all the same.
func (l *Limits) check() error {
	if l.CPUTime < 0 || l.WallTime < 0 {
		return invalidf("negative time limit")
	}
	return nil
}

// Seccomp is the system-call policy of a run.
type Seccomp uint32

const (
	// SeccompDefault denies the escape channels (ptrace, mount, unshare, bpf...)
	// with EPERM.
	SeccompDefault Seccomp = cSeccompDefault
	// SeccompStrict allows what a single-process program needs and kills on
	// anything else (StatusDisallowedSyscall).
	SeccompStrict Seccomp = cSeccompStrict
	// SeccompDisabled installs no filter.
	SeccompDisabled Seccomp = cSeccompDisabled
	// SeccompCustom installs the classic BPF program in SeccompFilter.
	SeccompCustom Seccomp = cSeccompCustom
	// SeccompSingleProgram is SeccompDefault, and the run's own exec of the
	// program is its only one: any later execve/execveat (os/exec, system(), a
	// shell) kills the process that makes it (StatusDisallowedSyscall).
	SeccompSingleProgram Seccomp = cSeccompSingle
)

// SockFilter is one classic BPF instruction (the kernel's struct sock_filter).
type SockFilter struct {
	Code   uint16
	Jt, Jf uint8
	K      uint32
}

// Result is what one run did.
type Result struct {
	Status   Status
	ExitCode int // -1 when the main process did not exit normally
	Signal   int // the signal that killed it, or 0
	// CPUTime is user+system of every process and thread of the run.
	CPUTime   time.Duration
	WallTime  time.Duration // from the exec to the end of the main process
	SetupTime time.Duration // the sandbox's own cost, from the call to the exec
	Memory    uint64        // peak bytes
	// UserTime and SystemTime are the user-mode and kernel-mode parts of CPUTime
	// (they add up to it).
	UserTime, SystemTime time.Duration
	// Accounting says what measured these figures.
	Accounting Accounting
	// PeakProcesses is the most processes and threads the run had at once, or -1
	// where no counter of this run alone exists (see ContainerConfig.ProcessPeak).
	PeakProcesses int64
	// Stdout and Stderr are captured by Run; nil for Execve.
	Stdout, Stderr []byte
	// Message says why, for RunnerError and limit statuses.
	Message string
}

// IDRange is Count ids from First, each used as both uid and gid by one container.
type IDRange struct {
	First, Count uint32
}

// Mount binds a host path into the container, read-only unless Writable.
type Mount struct {
	Source string
	Target string // "" means the same as Source
	// Writable binds read-write.
	Writable bool
	// Optional skips the bind when Source does not exist.
	Optional bool
}

// CgroupMode says whether containers use a cgroup.
type CgroupMode uint32

const (
	CgroupAuto     CgroupMode = cCgroupAuto     // when the host offers them
	CgroupRequired CgroupMode = cCgroupRequired // fail creation without them
	CgroupOff      CgroupMode = cCgroupOff      // never (CPU-time, memory, process limits refused)
)

// ContainerConfig says how a container is built; zero fields take the library's
// defaults.
type ContainerConfig struct {
	// Mounts are added to the default binds (/bin /lib /lib64 /usr ...), or replace
	// them with ReplaceDefaultMounts.
	Mounts               []Mount
	ReplaceDefaultMounts bool
	// Rootfs is an unpacked image used as the root instead of host binds.
	Rootfs string
	// ImageLayers are an image's unpacked layer directories, lowest first: the root
	// is then an overlay of them with a writable upper layer of the container's
	// own, emptied at reset. Excludes Rootfs; set ReplaceDefaultMounts unless host
	// binds over the image are wanted.
	ImageLayers []string
	// RootSize caps the upper layer over ImageLayers, bytes (0 keeps 256 MiB).
	RootSize uint64
	// Image names an image of the image store (NAME[:TAG], looked up in the
	// default store: $SCPOOL_STORE, else /var/lib/scpool for root) whose layers
	// become the root; "" for none. Excludes ImageLayers. An unknown name fails
	// with ErrInvalidArgument.
	Image string
	// Hostname names the container: its host name and domain name both ("" keeps
	// "scpool").
	Hostname string
	// UID and GID of the program: nil (the default) gives the program ids of the
	// container's own from IDRange (0 inside a user namespace).
	UID, GID *uint32
	// IDRange is where containers' own ids come from; nil keeps the default
	// (DefaultIDRange: 0x70000000 and 65536 ids). When all are taken, creating a container fails
	// with ErrSetup.
	IDRange *IDRange
	// UserNamespace: nil keeps the default (on when not root).
	UserNamespace *bool
	// Size caps of /w and /tmp, bytes.
	WorkSize, TmpSize uint64
	SetupTimeout      time.Duration
	CgroupMode        CgroupMode
	// CgroupParent is where container cgroups are made; "" means this process's.
	CgroupParent string
	// ProcessPeak counts each run's processes in a cgroup of the run's own, so that
	// Result.PeakProcesses is known (kernels 6.1+, cgroup v1 or v2). Runs then
	// take the ordinary path instead of the standby runner (about 5-10% slower).
	ProcessPeak bool
}

// PoolConfig says how a pool sizes itself; zero fields take the library's defaults
// (MinIdle 2, MaxIdle cores, MaxSize 2 x cores, AcquireTimeout 30 s, ...). Sizes
// left at zero fit those given, by the library's rule (scpool_pool_config_set_sizes):
// MaxSize is raised to hold the idle counts given, MaxIdle raised to MinIdle and
// lowered to MaxSize, MinIdle lowered to MaxIdle. Sizes given that contradict
// each other are ErrInvalidArgument.
type PoolConfig struct {
	// MinIdle containers are created at start and kept ready; a negative value
	// means none (0 is the default).
	MinIdle int
	MaxIdle int // idle ones above this are destroyed (negative: none kept)
	MaxSize int // containers alive at once
	// AcquireTimeout is how long Acquire waits when its context has no earlier
	// deadline.
	AcquireTimeout      time.Duration
	HealthCheckInterval time.Duration
	IdleTimeout         time.Duration
	PingOnAcquire       bool
	// Mounts are added to Container.Mounts.
	Mounts    []Mount
	Container ContainerConfig
}

// Size is a pool of n containers, all created at start (MinIdle = MaxIdle =
// MaxSize = n), like the Rust PoolConfig::with_size.
func Size(n int) PoolConfig {
	return PoolConfig{MinIdle: n, MaxIdle: n, MaxSize: n}
}

// Stats are a pool's counters.
type Stats struct {
	Idle, InUse, Pending int
	Created, Destroyed   uint64
	Reused               uint64 // acquires served by a container used before
	Acquires             uint64
	AcquireWaits         uint64
	AcquireTimeouts      uint64
	AcquireLatencyMean   time.Duration
	AcquireLatencyMax    time.Duration
}
