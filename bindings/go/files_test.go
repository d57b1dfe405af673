package scpool

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// What a program leaves in /w fails the file calls at once with the right errno,
// and the container keeps working.
func TestFileCallsRefuseWhatAProgramLeaves(t *testing.T) {
	c := acquire(t, pool)
	r := run(t, c, RunParam{
		Args: []string{"/bin/sh", "-c", "mkfifo /w/fifo && mkdir /w/dir && ln -s /etc/passwd /w/link && printf 0123456789 > /w/ten"},
		Env:  []string{"PATH=/usr/bin:/bin"},
	})
	if r.Status != StatusOK {
		t.Fatalf("%s", show(r))
	}
	for _, tc := range []struct {
		path  string
		max   uint64
		errno syscall.Errno
	}{
		{"/w/fifo", 0, syscall.EINVAL},
		{"/w/dir", 0, syscall.EISDIR},
		{"/w/link", 0, syscall.ELOOP},
		{"/w/ten", 9, syscall.EFBIG},
	} {
		got, err := c.ReadFileMax(tc.path, tc.max)
		if !errors.Is(err, ErrOpen) || !errors.Is(err, tc.errno) || got != nil {
			t.Fatalf("ReadFileMax(%s, %d): %q %v, want errno %v", tc.path, tc.max, got, err, tc.errno)
		}
	}
	if err := c.WriteFileMode("/w/fifo", []byte("x"), 0o644); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("writing a FIFO: %v", err)
	}
	if got, err := c.ReadFileMax("/w/ten", 10); err != nil || string(got) != "0123456789" {
		t.Fatalf("ReadFileMax at the maximum: %q %v", got, err)
	}
	if err := c.Ping(); err != nil {
		t.Fatal(err)
	}
}

func TestMkdirListDirWriteFileModeAndTrees(t *testing.T) {
	c := acquire(t, pool)
	if err := c.Mkdir("/w/d", 0o750); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFileMode("/w/d/x", []byte("abc"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := c.Mkdir("/w/d", 0o750); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second Mkdir: %v", err)
	}
	entries, err := c.ListDir("/w/d")
	if err != nil || len(entries) != 1 || entries[0] != (DirEntry{Name: "x", Kind: KindFile, Mode: 0o600, Size: 3}) {
		t.Fatalf("ListDir: %+v %v", entries, err)
	}
	// Owned by the program's user: the container's own uid, as id -u prints it.
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "/usr/bin/stat -c '%a %u' /w/d /w/d/x; /usr/bin/id -u"}})
	lines := strings.Split(strings.TrimSpace(string(r.Stdout)), "\n")
	if len(lines) != 3 || lines[0] != "750 "+lines[2] || lines[1] != "600 "+lines[2] {
		t.Fatalf("%s", show(r))
	}

	// A symlink, stored as given and followed inside the container, owned likewise.
	if err := c.Symlink("d/x", "/w/ln"); err != nil {
		t.Fatal(err)
	}
	if err := c.Symlink("d/x", "/w/ln"); !errors.Is(err, ErrOpen) || !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second Symlink: %v", err)
	}
	if err := c.Symlink("d/x", "/w/ln/under"); !errors.Is(err, ErrOpen) {
		t.Fatalf("Symlink under a symlink: %v", err)
	}
	if err := c.Symlink("d/x", "/w/ln\x00"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Symlink with a NUL: %v", err)
	}
	r = run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "/bin/readlink /w/ln; /bin/cat /w/ln; echo; /usr/bin/stat -c %u /w/ln; /usr/bin/id -u"}})
	lines = strings.Split(strings.TrimSpace(string(r.Stdout)), "\n")
	if len(lines) != 4 || lines[0] != "d/x" || lines[1] != "abc" || lines[2] != lines[3] {
		t.Fatalf("%s", show(r))
	}

	host := t.TempDir()
	in := filepath.Join(host, "in")
	if err := os.MkdirAll(filepath.Join(in, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "sub", "f"), []byte("tree\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	copied, err := c.CopyIn(in, "/w/t", TreeLimits{})
	if err != nil || copied != (TreeCopied{Entries: 2, Bytes: 5}) {
		t.Fatalf("CopyIn: %+v %v", copied, err)
	}
	r = run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "echo more >> /w/t/sub/f"}})
	if r.Status != StatusOK {
		t.Fatalf("%s", show(r))
	}
	out := filepath.Join(host, "out")
	if _, err := c.CopyOut("/w/t", out, TreeLimits{MaxEntries: 1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("CopyOut over its entry cap: %v", err)
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused copy wrote: %v", err)
	}
	if _, err := c.CopyOut("/w/t", out, TreeLimits{}); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(out, "sub", "f")); err != nil || string(got) != "tree\nmore\n" {
		t.Fatalf("copied out: %q %v", got, err)
	}
}

// A sealed memfd as stdin: the program reads it but cannot write it, and its
// descriptor names no host path.
func TestSealedMemfdAsInput(t *testing.T) {
	c := acquire(t, pool)
	in, err := SealedMemfd([]byte("input\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	if _, err := in.Write([]byte("x")); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("writing a sealed memfd on the host: %v", err)
	}
	out, err := SealedMemfd(nil)
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	capture, err := os.CreateTemp(t.TempDir(), "capture")
	if err != nil {
		t.Fatal(err)
	}
	defer capture.Close()
	r, err := c.Execve(ExecveParam{
		Args:   []string{"/bin/sh", "-c", "cat; readlink /proc/self/fd/0; echo x >&0 2>/dev/null || echo refused"},
		Env:    []string{"PATH=/usr/bin:/bin"},
		Files:  []*os.File{in, capture, capture},
		Limits: Limits{WallTime: 5 * time.Second},
	})
	if err != nil || r.Status != StatusOK {
		t.Fatalf("%v %+v", err, r)
	}
	got, err := os.ReadFile(capture.Name())
	if err != nil || !strings.HasPrefix(string(got), "input\n/memfd:scpool-data") || !strings.HasSuffix(string(got), "refused\n") {
		t.Fatalf("program saw: %q %v", got, err)
	}
}
