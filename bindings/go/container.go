package scpool

/*
#include "scpool_go.h"
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Container is one sandbox container, from Pool.Acquire or NewContainer. Use it
// from one goroutine at a time; overlapping calls are serialized by a mutex. Give it
// back with Release (or Discard); any call after that fails with ErrReleased.
type Container struct {
	mu      sync.Mutex
	ptr     *C.scpool_container
	cleanup runtime.Cleanup
	// Fixed for the container's life.
	initPID  int
	uid, gid uint32
}

func newContainer(ptr *C.scpool_container) *Container {
	c := &Container{ptr: ptr, initPID: int(C.scpool_container_init_pid(ptr))}
	var uid, gid C.uint32_t
	if C.scpool_container_program_ids(ptr, &uid, &gid) == C.SCPOOL_ERROR_OK {
		c.uid, c.gid = uint32(uid), uint32(gid)
	}
	// A safety net only: a forgotten Container goes back to its pool when collected.
	// Releasing an own container destroys it (blocking), so it runs off the
	// runtime's single cleanup goroutine.
	c.cleanup = runtime.AddCleanup(c, func(p *C.scpool_container) {
		go C.scpool_container_release(p)
	}, ptr)
	return c
}

// NewContainer creates a container of its own, outside any pool (a few ms).
// Release destroys it.
func NewContainer(cfg ContainerConfig) (*Container, error) {
	var a arena
	defer a.free()
	cc, err := cContainerConfig(&a, &cfg, nil)
	if err != nil {
		return nil, err
	}
	var e C.gosp_err
	var ptr *C.scpool_container
	if C.gosp_container_new(cc, &ptr, &e) != 0 {
		return nil, takeErr(&e)
	}
	return newContainer(ptr), nil
}

// with runs f on the live handle under the mutex.
func (c *Container) with(f func(p *C.scpool_container) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return ErrReleased
	}
	return f(c.ptr)
}

func (c *Container) free(discard bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ptr == nil {
		return ErrReleased
	}
	c.cleanup.Stop()
	if discard {
		C.scpool_container_discard(c.ptr)
	} else {
		C.scpool_container_release(c.ptr)
	}
	c.ptr = nil
	return nil
}

// Release gives a pooled container back (it is reset off the caller's path) or
// destroys a container of its own. A second call returns ErrReleased.
func (c *Container) Release() error { return c.free(false) }

// Discard destroys the container instead of giving it back; the pool makes a new
// one.
func (c *Container) Discard() error { return c.free(true) }

// InitPID is the host pid of the container's init.
func (c *Container) InitPID() int { return c.initPID }

// ProgramIDs are the uid and gid the container's programs run as, as the host sees
// them: the container's own from ContainerConfig.IDRange unless UID or GID fix them.
func (c *Container) ProgramIDs() (uid, gid uint32) { return c.uid, c.gid }

// Broken reports whether the container can no longer be used: its init died (seen
// at once, without asking it) or misbehaved. Release it; its pool replaces it. A
// released container is not broken. It waits for a call in progress.
func (c *Container) Broken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ptr != nil && C.scpool_container_is_broken(c.ptr) != 0
}

// Ping checks that the container's init answers.
func (c *Container) Ping() error {
	return c.with(func(p *C.scpool_container) error {
		var e C.gosp_err
		if C.gosp_ping(p, &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// Reset kills every process but the init and empties /w and /tmp.
func (c *Container) Reset() error {
	return c.with(func(p *C.scpool_container) error {
		var e C.gosp_err
		if C.gosp_reset(p, &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// OpenCmd is one file to open inside the container, as open(2) takes it.
type OpenCmd struct {
	Path  string // absolute, inside the container; no symlink is followed
	Flags int    // os.O_RDONLY, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, ...
	Mode  uint32 // permission bits of a created file
}

// Open opens files inside the container (all or nothing) and returns them; the
// caller closes them. A failure inside the container is ErrOpen with the errno, so
// errors.Is(err, fs.ErrNotExist) works.
func (c *Container) Open(cmds []OpenCmd) ([]*os.File, error) {
	var files []*os.File
	err := c.with(func(p *C.scpool_container) error {
		if len(cmds) == 0 {
			return nil
		}
		var a arena
		defer a.free()
		cc := unsafe.Slice((*C.scpool_open_cmd)(a.calloc(len(cmds), C.sizeof_scpool_open_cmd)), len(cmds))
		for i, cmd := range cmds {
			path, err := a.cstr(cmd.Path, "OpenCmd.Path")
			if err != nil {
				return err
			}
			cc[i].path = path
			cc[i].flags = C.int(cmd.Flags)
			cc[i].mode = C.uint32_t(cmd.Mode)
		}
		fds := make([]C.int, len(cmds))
		var e C.gosp_err
		if C.gosp_open(p, &cc[0], C.size_t(len(cmds)), &fds[0], &e) != 0 {
			return takeErr(&e)
		}
		files = make([]*os.File, len(cmds))
		for i, fd := range fds {
			files[i] = os.NewFile(uintptr(fd), cmds[i].Path)
		}
		return nil
	})
	return files, err
}

// MemfdCopy copies the host file at path into a sealed memfd (close-on-exec), to be
// run by ExecveParam.ExecFile in a container where the file is not visible.
func MemfdCopy(path string) (*os.File, error) {
	var a arena
	defer a.free()
	cpath, err := a.cstr(path, "path")
	if err != nil {
		return nil, err
	}
	var fd C.int
	var e C.gosp_err
	if C.gosp_memfd_copy(cpath, &fd, &e) != 0 {
		return nil, takeErr(&e)
	}
	return os.NewFile(uintptr(fd), "memfd:"+path), nil
}

// WriteFile writes data to path inside the container (created or truncated, 0644).
func (c *Container) WriteFile(path string, data []byte) error {
	return c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cpath, err := a.cstr(path, "path")
		if err != nil {
			return err
		}
		var d *C.uint8_t
		if len(data) > 0 {
			// data holds no pointers, so C may read it in place during the call.
			d = (*C.uint8_t)(unsafe.Pointer(&data[0]))
		}
		var e C.gosp_err
		if C.gosp_write_file(p, cpath, d, C.size_t(len(data)), &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// ReadFile reads the whole file at path inside the container.
func (c *Container) ReadFile(path string) ([]byte, error) {
	var out []byte
	err := c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cpath, err := a.cstr(path, "path")
		if err != nil {
			return err
		}
		var d *C.uint8_t
		var n C.size_t
		var e C.gosp_err
		if C.gosp_read_file(p, cpath, &d, &n, &e) != 0 {
			return takeErr(&e)
		}
		defer C.scpool_buffer_free(d)
		out = []byte{}
		if d != nil {
			out, err = goBytes(unsafe.Pointer(d), uint64(n))
		}
		return err
	})
	return out, err
}

// goBytes copies n bytes at p into Go memory. Unlike C.GoBytes, whose C int length
// overflows at 2 GiB, it takes any size_t.
func goBytes(p unsafe.Pointer, n uint64) ([]byte, error) {
	if n > math.MaxInt {
		return nil, &Error{Code: CodeUnsupported, Message: fmt.Sprintf("%d bytes do not fit in a Go slice", n)}
	}
	b := make([]byte, int(n))
	copy(b, unsafe.Slice((*byte)(p), int(n)))
	return b, nil
}

// ExecveParam is the raw run.
type ExecveParam struct {
	Args []string // Args[0] is required; it is the path run unless ExecFile is set
	Env  []string // exactly the environment (nil: empty)
	Cwd  string   // "" means DefaultCwd (/w)
	// Files become the program's descriptors 0, 1, 2, ...; slots 0-2 not given
	// are /dev/null. A nil or closed file is ErrInvalidArgument.
	Files []*os.File
	// ExecFile is run instead of Args[0] (e.g. from MemfdCopy).
	ExecFile      *os.File
	Limits        Limits
	Seccomp       Seccomp
	SeccompFilter []SockFilter // for SeccompCustom
}

// RunParam is the convenience run: stdin from bytes, stdout and stderr captured
// (each capped at Limits.Output, 64 MiB when 0).
type RunParam struct {
	Args          []string // Args[0] is run as a path inside the container
	Env           []string
	Cwd           string
	Stdin         []byte
	Limits        Limits
	Seccomp       Seccomp
	SeccompFilter []SockFilter
}

func cLimits(a *arena, l *Limits) (*C.scpool_limits, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	cl := (*C.scpool_limits)(a.calloc(1, C.sizeof_scpool_limits))
	C.scpool_limits_init(cl)
	cl.processes = C.uint32_t(l.Processes)
	cl.cpu_time_ns = C.uint64_t(l.CPUTime)
	cl.wall_time_ns = C.uint64_t(l.WallTime)
	cl.memory_bytes = C.uint64_t(l.Memory)
	cl.output_bytes = C.uint64_t(l.Output)
	cl.cpu_rate = C.double(l.CPURate)
	cl.open_files = C.uint64_t(l.OpenFiles)
	cl.stack_bytes = C.uint64_t(l.Stack)
	cl.address_space_bytes = C.uint64_t(l.AddressSpace)
	cpus, err := a.optCstr(l.CPUSet, "CPUSet")
	if err != nil {
		return nil, err
	}
	cl.cpu_set = cpus
	return cl, nil
}

func cFilter(a *arena, f []SockFilter) (*C.scpool_sock_filter, C.size_t) {
	if len(f) == 0 {
		return nil, 0
	}
	cf := unsafe.Slice((*C.scpool_sock_filter)(a.calloc(len(f), C.sizeof_scpool_sock_filter)), len(f))
	for i, ins := range f {
		cf[i].code = C.uint16_t(ins.Code)
		cf[i].jt = C.uint8_t(ins.Jt)
		cf[i].jf = C.uint8_t(ins.Jf)
		cf[i].k = C.uint32_t(ins.K)
	}
	return &cf[0], C.size_t(len(f))
}

// withFds runs call with the descriptors of files in fds (-1 for a nil or closed
// file). Each file is held through SyscallConn, so a concurrent Close waits for
// call and the file keeps its mode (File.Fd would make it blocking).
func withFds(files []*os.File, fds []C.int, call func() error) error {
	if len(files) == 0 {
		return call()
	}
	fds[0] = -1
	next := func() error { return withFds(files[1:], fds[1:], call) }
	if files[0] == nil {
		return next()
	}
	conn, err := files[0].SyscallConn()
	if err != nil { // closed
		return next()
	}
	if cerr := conn.Control(func(fd uintptr) {
		if fd <= math.MaxInt32 {
			fds[0] = C.int(fd)
		}
		err = next()
	}); cerr != nil { // closed meanwhile: the callback did not run
		return next()
	}
	return err
}

// cProgram is what both run structs share, converted once for either.
type cProgram struct {
	argv, envp **C.char
	cwd        *C.char
	limits     *C.scpool_limits
	seccomp    C.uint32_t
	filter     *C.scpool_sock_filter
	filterLen  C.size_t
}

// program converts what every run takes: Args (Args[0] is required), Env, Cwd,
// Limits and the seccomp policy.
func program(a *arena, args, env []string, cwd string, l *Limits, s Seccomp, f []SockFilter) (cProgram, error) {
	var p cProgram
	if len(args) == 0 {
		return p, invalidf("Args is empty: Args[0] is required")
	}
	var err error
	if p.argv, err = a.strv(args, "Args"); err != nil {
		return p, err
	}
	if p.envp, err = a.strv(env, "Env"); err != nil {
		return p, err
	}
	if p.cwd, err = a.optCstr(cwd, "Cwd"); err != nil {
		return p, err
	}
	if p.limits, err = cLimits(a, l); err != nil {
		return p, err
	}
	p.seccomp = C.uint32_t(s)
	p.filter, p.filterLen = cFilter(a, f)
	return p, nil
}

// Execve runs a program in the container. A program that fails or exceeds a limit
// is a Result with its Status; an error means the run could not be carried out.
func (c *Container) Execve(param ExecveParam) (*Result, error) {
	var res *Result
	err := c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cp := (*C.scpool_execve_param)(a.calloc(1, C.sizeof_scpool_execve_param))
		C.scpool_execve_param_init(cp)
		prog, err := program(&a, param.Args, param.Env, param.Cwd, &param.Limits, param.Seccomp, param.SeccompFilter)
		if err != nil {
			return err
		}
		cp.argv, cp.envp, cp.cwd, cp.limits = prog.argv, prog.envp, prog.cwd, prog.limits
		cp.seccomp, cp.seccomp_filter, cp.seccomp_filter_len = prog.seccomp, prog.filter, prog.filterLen
		// Files then ExecFile, all held open over the call.
		files := append(param.Files[:len(param.Files):len(param.Files)], param.ExecFile)
		fds := unsafe.Slice((*C.int)(a.calloc(len(files), C.sizeof_int)), len(files))
		if len(param.Files) > 0 {
			cp.files = &fds[0] // nil or closed: -1, which the library refuses
			cp.files_len = C.size_t(len(param.Files))
		}
		var r C.scpool_result
		var e C.gosp_err
		var rc C.int
		if err := withFds(files, fds, func() error {
			// -1 means "run Args[0]": a closed ExecFile must not silently mean that.
			if cp.exec_fd = fds[len(fds)-1]; param.ExecFile != nil && cp.exec_fd < 0 {
				return invalidf("ExecFile is closed")
			}
			rc = C.gosp_execve(p, cp, &r, &e)
			return nil
		}); err != nil {
			return err
		}
		if rc != 0 {
			return takeErr(&e)
		}
		res, err = takeResult(&r)
		return err
	})
	return res, err
}

// Run runs Args[0] with Stdin as its input and captures stdout and stderr.
func (c *Container) Run(param RunParam) (*Result, error) {
	var res *Result
	err := c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cp := (*C.scpool_run_param)(a.calloc(1, C.sizeof_scpool_run_param))
		C.scpool_run_param_init(cp)
		prog, err := program(&a, param.Args, param.Env, param.Cwd, &param.Limits, param.Seccomp, param.SeccompFilter)
		if err != nil {
			return err
		}
		cp.argv, cp.envp, cp.cwd, cp.limits = prog.argv, prog.envp, prog.cwd, prog.limits
		cp.seccomp, cp.seccomp_filter, cp.seccomp_filter_len = prog.seccomp, prog.filter, prog.filterLen
		cp.stdin_data = a.bytes(param.Stdin)
		cp.stdin_len = C.size_t(len(param.Stdin))
		var r C.scpool_result
		var e C.gosp_err
		if C.gosp_run(p, cp, &r, &e) != 0 {
			return takeErr(&e)
		}
		res, err = takeResult(&r)
		return err
	})
	return res, err
}

// takeResult copies r into Go memory and frees what it owns.
func takeResult(r *C.scpool_result) (*Result, error) {
	defer C.scpool_result_free(r)
	res := &Result{
		Status:        Status(r.status),
		ExitCode:      int(r.exit_code),
		Signal:        int(r.signal),
		CPUTime:       durOf(r.cpu_time_ns),
		WallTime:      durOf(r.wall_time_ns),
		SetupTime:     durOf(r.setup_time_ns),
		Memory:        uint64(r.memory_bytes),
		UserTime:      durOf(r.user_time_ns),
		SystemTime:    durOf(r.system_time_ns),
		Accounting:    Accounting(r.accounting),
		PeakProcesses: int64(r.peak_processes),
	}
	var err error
	if r.stdout_data != nil {
		if res.Stdout, err = goBytes(unsafe.Pointer(r.stdout_data), uint64(r.stdout_len)); err != nil {
			return nil, err
		}
	}
	if r.stderr_data != nil {
		if res.Stderr, err = goBytes(unsafe.Pointer(r.stderr_data), uint64(r.stderr_len)); err != nil {
			return nil, err
		}
	}
	if r.message != nil {
		res.Message = C.GoString(r.message)
	}
	return res, nil
}

func durOf(ns C.uint64_t) time.Duration { return time.Duration(ns) }
