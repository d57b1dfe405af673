package scpool

/*
#include "scpool_go.h"
*/
import "C"

import (
	"os"
	"unsafe"
)

// FileKind is the type of an entry in the container (the C ABI's scpool_file_kind).
type FileKind uint32

// The kinds, with the values of the C ABI.
const (
	KindFile        FileKind = 0
	KindDirectory   FileKind = 1
	KindSymlink     FileKind = 2
	KindFifo        FileKind = 3
	KindSocket      FileKind = 4
	KindCharDevice  FileKind = 5
	KindBlockDevice FileKind = 6
)

// DirEntry is one entry of ListDir (symlinks are reported, never followed).
type DirEntry struct {
	Name string
	Kind FileKind
	Mode uint32 // permission bits
	Size uint64 // bytes, as stat reports them
}

// TreeLimits caps a tree copy; a zero field takes the container's default (its
// read maximum in bytes, 10000 entries).
type TreeLimits struct {
	MaxBytes   uint64
	MaxEntries uint64
}

// TreeCopied says what a tree copy copied.
type TreeCopied struct {
	Entries uint64
	Bytes   uint64
}

// ReadFileMax reads the regular file at path inside the container, refusing one
// larger than max bytes (0: the container's default, the larger size cap of /w and
// /tmp) with CodeOpen and errno EFBIG. Anything but a regular file is refused at
// once (EISDIR for a directory, EINVAL for a FIFO, socket or device).
func (c *Container) ReadFileMax(path string, max uint64) ([]byte, error) {
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
		if C.gosp_read_file_max(p, cpath, C.uint64_t(max), &d, &n, &e) != 0 {
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

// WriteFileMode writes data to path inside the container, created (owned by the
// program's user) or truncated, with exactly the permission bits mode (0..07777).
func (c *Container) WriteFileMode(path string, data []byte, mode uint32) error {
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
		if C.gosp_write_file_mode(p, cpath, d, C.size_t(len(data)), C.uint32_t(mode), &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// Mkdir makes the directory path inside the container with exactly mode, owned by
// the program's user; its parent must exist and be writable by the program.
func (c *Container) Mkdir(path string, mode uint32) error {
	return c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cpath, err := a.cstr(path, "path")
		if err != nil {
			return err
		}
		var e C.gosp_err
		if C.gosp_mkdir(p, cpath, C.uint32_t(mode), &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// Symlink makes the symbolic link link inside the container, pointing at target,
// owned by the program's user. Target is stored as given, never resolved here (the
// kernel resolves it inside the container when the program follows the link). The
// link's parent must exist and be writable by the program, no component of link
// may be a symlink, and an entry already at link is not replaced (ErrOpen, EEXIST).
func (c *Container) Symlink(target, link string) error {
	return c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		ctarget, err := a.cstr(target, "target")
		if err != nil {
			return err
		}
		clink, err := a.cstr(link, "link")
		if err != nil {
			return err
		}
		var e C.gosp_err
		if C.gosp_symlink(p, ctarget, clink, &e) != 0 {
			return takeErr(&e)
		}
		return nil
	})
}

// ListDir lists the directory path inside the container, sorted by name.
func (c *Container) ListDir(path string) ([]DirEntry, error) {
	var out []DirEntry
	err := c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cpath, err := a.cstr(path, "path")
		if err != nil {
			return err
		}
		var entries *C.scpool_dir_entry
		var n C.size_t
		var e C.gosp_err
		if C.gosp_list_dir(p, cpath, &entries, &n, &e) != 0 {
			return takeErr(&e)
		}
		defer C.scpool_dir_entries_free(entries, n)
		out = []DirEntry{}
		if entries == nil {
			return nil
		}
		for _, entry := range unsafe.Slice(entries, int(n)) {
			out = append(out, DirEntry{
				Name: C.GoString(entry.name),
				Kind: FileKind(entry.kind),
				Mode: uint32(entry.mode),
				Size: uint64(entry.size),
			})
		}
		return nil
	})
	return out, err
}

// CopyIn copies the host directory hostDir into containerDir (made if missing).
// Symlinks are copied as links and must stay inside the tree, special files are
// refused, nothing is overwritten, and nothing is written unless the whole tree
// fits the limits. Entries belong to the program's user.
func (c *Container) CopyIn(hostDir, containerDir string, limits TreeLimits) (TreeCopied, error) {
	return c.copyTree(hostDir, containerDir, limits, true)
}

// CopyOut copies the container directory containerDir to hostDir (made if
// missing) under the same rules; files keep their permission bits without set-id
// bits.
func (c *Container) CopyOut(containerDir, hostDir string, limits TreeLimits) (TreeCopied, error) {
	return c.copyTree(containerDir, hostDir, limits, false)
}

func (c *Container) copyTree(from, to string, limits TreeLimits, in bool) (TreeCopied, error) {
	var copied TreeCopied
	err := c.with(func(p *C.scpool_container) error {
		var a arena
		defer a.free()
		cfrom, err := a.cstr(from, "from")
		if err != nil {
			return err
		}
		cto, err := a.cstr(to, "to")
		if err != nil {
			return err
		}
		var entries, bytes C.uint64_t
		var e C.gosp_err
		maxBytes, maxEntries := C.uint64_t(limits.MaxBytes), C.uint64_t(limits.MaxEntries)
		var rc C.int
		if in {
			rc = C.gosp_copy_in(p, cfrom, cto, maxBytes, maxEntries, &entries, &bytes, &e)
		} else {
			rc = C.gosp_copy_out(p, cfrom, cto, maxBytes, maxEntries, &entries, &bytes, &e)
		}
		if rc != 0 {
			return takeErr(&e)
		}
		copied = TreeCopied{Entries: uint64(entries), Bytes: uint64(bytes)}
		return nil
	})
	return copied, err
}

// SealedMemfd returns a sealed memfd holding data, positioned at its start: the
// safe way to give a program input through ExecveParam.Files. Any descriptor in
// Files exposes its open file: the program can read it, write it if it is open for
// writing, seek it (sharing the offset with the host), fstat it, read its
// /proc/self/fd link (the host path of a host file) and reopen it through that
// link. A sealed memfd shows only its bytes: nobody can write, truncate or grow it,
// and its link names no host path.
func SealedMemfd(data []byte) (*os.File, error) {
	var d *C.uint8_t
	if len(data) > 0 {
		// data holds no pointers, so C may read it in place during the call.
		d = (*C.uint8_t)(unsafe.Pointer(&data[0]))
	}
	var fd C.int
	var e C.gosp_err
	if C.gosp_memfd_sealed(d, C.size_t(len(data)), &fd, &e) != 0 {
		return nil, takeErr(&e)
	}
	return os.NewFile(uintptr(fd), "memfd:scpool-data"), nil
}
