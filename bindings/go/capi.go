package scpool

/*
#cgo pkg-config: scpool
#include "scpool_go.h"
*/
import "C"

import (
	"strings"
	"syscall"
	"unsafe"
)

const (
	cSeccompDefault  = C.SCPOOL_SECCOMP_POLICY_DEFAULT
	cSeccompStrict   = C.SCPOOL_SECCOMP_POLICY_STRICT
	cSeccompDisabled = C.SCPOOL_SECCOMP_POLICY_DISABLED
	cSeccompCustom   = C.SCPOOL_SECCOMP_POLICY_CUSTOM
	cSeccompSingle   = C.SCPOOL_SECCOMP_POLICY_SINGLE_PROGRAM
	cCgroupAuto      = C.SCPOOL_CGROUP_MODE_AUTO
	cCgroupRequired  = C.SCPOOL_CGROUP_MODE_REQUIRED
	cCgroupOff       = C.SCPOOL_CGROUP_MODE_OFF
)

// The library's values for limits left at zero, and its smallest memory limit
// (from scpool.h, where the core's own values are checked at build time).
const (
	DefaultProcesses uint32 = C.SCPOOL_DEFAULT_PROCESSES
	DefaultOpenFiles uint64 = C.SCPOOL_DEFAULT_OPEN_FILES
	DefaultStack     uint64 = C.SCPOOL_DEFAULT_STACK_BYTES
	MinMemory        uint64 = C.SCPOOL_MIN_MEMORY_BYTES
)

// DefaultCwd is the working directory of a run whose Cwd is "".
const DefaultCwd = C.SCPOOL_DEFAULT_CWD

// DefaultIDRange is where containers' own ids come from when
// ContainerConfig.IDRange is nil (the library's default, from scpool.h).
var DefaultIDRange = IDRange{First: C.SCPOOL_DEFAULT_ID_RANGE_FIRST, Count: C.SCPOOL_DEFAULT_ID_RANGE_COUNT}

// Accounting is what measured a run's figures and enforced its cgroup limits.
type Accounting uint32

const (
	AccountingNone     Accounting = C.SCPOOL_ACCOUNTING_NONE // no cgroup: per-process figures, rlimits
	AccountingCgroupV1 Accounting = C.SCPOOL_ACCOUNTING_CGROUP_V1
	AccountingCgroupV2 Accounting = C.SCPOOL_ACCOUNTING_CGROUP_V2
)

// String gives the name every language uses ("none", "cgroup-v1", "cgroup-v2").
func (a Accounting) String() string {
	return C.GoString(C.scpool_accounting_name(C.uint32_t(a)))
}

// takeErr turns a filled gosp_err into a Go error and frees its message.
func takeErr(e *C.gosp_err) error {
	msg := ""
	if e.msg != nil {
		msg = C.GoString(e.msg)
		C.free(unsafe.Pointer(e.msg))
		e.msg = nil
	}
	return &Error{Code: Code(e.code), Message: msg, Errno: syscall.Errno(e.err_no)}
}

// arena holds the C memory of one call's arguments: C may not be handed Go memory
// that holds Go pointers, so argv, envp, structs with pointers and their targets all
// live here and are freed together after the call.
type arena struct {
	ptrs []unsafe.Pointer
}

func (a *arena) free() {
	for _, p := range a.ptrs {
		C.free(p)
	}
	a.ptrs = nil
}

func (a *arena) calloc(n int, size C.size_t) unsafe.Pointer {
	if n == 0 {
		n = 1
	}
	p := C.calloc(C.size_t(n), size)
	if p == nil {
		panic("scpool: out of memory")
	}
	a.ptrs = append(a.ptrs, p)
	return p
}

// cstr copies s; a NUL inside cannot be passed to C, so it is an argument error.
func (a *arena) cstr(s, what string) (*C.char, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return nil, invalidf("%s contains a NUL byte", what)
	}
	p := C.CString(s)
	a.ptrs = append(a.ptrs, unsafe.Pointer(p))
	return p, nil
}

// optCstr is NULL for "".
func (a *arena) optCstr(s, what string) (*C.char, error) {
	if s == "" {
		return nil, nil
	}
	return a.cstr(s, what)
}

// strv builds a NULL-terminated list.
func (a *arena) strv(list []string, what string) (**C.char, error) {
	p := (**C.char)(a.calloc(len(list)+1, C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	v := unsafe.Slice(p, len(list)+1)
	for i, s := range list {
		c, err := a.cstr(s, what)
		if err != nil {
			return nil, err
		}
		v[i] = c
	}
	return p, nil
}

func (a *arena) bytes(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	p := C.CBytes(b)
	a.ptrs = append(a.ptrs, p)
	return (*C.uint8_t)(p)
}

// Version is the loaded library's version string.
func Version() string { return C.GoString(C.scpool_version()) }

// ABIMajor is the ABI major version of the loaded library.
func ABIMajor() int { return int(C.scpool_abi_major()) }

// cStatusName and cCodeName give the library's own names, to check ours against.
func cStatusName(s Status) string { return C.GoString(C.scpool_status_name(C.int(s))) }
func cCodeName(c Code) string     { return C.GoString(C.scpool_error_name(C.int(c))) }
