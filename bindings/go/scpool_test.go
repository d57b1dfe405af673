package scpool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// Shared by the tests: a pool whose containers see the compiled test programs at
// /progs, and the host's namespace identities that the guarded programs check.
var (
	pool     *Pool
	progDir  string
	hostPid  string
	hostMnt  string
	shPath   = []string{"PATH=/usr/bin:/bin"}
	mib      = uint64(1 << 20)
	testTime = 10 * time.Second
)

// The hostile programs are built from tests/progs, statically so that they run
// whatever the container holds.
var progs = []string{"hostile_forkbomb", "hostile_memory", "hostile_sys", "hostile_spin", "hostile_exec"}

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	if progDir, err = os.MkdirTemp("", "scpool-go-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(progDir)
	// The programs run as an unprivileged user inside.
	if err := os.Chmod(progDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, p := range progs {
		src := filepath.Join("..", "..", "tests", "progs", p+".c")
		out, err := exec.Command("cc", "-O2", "-static", "-pthread", "-o",
			filepath.Join(progDir, p), src).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "building %s: %v\n%s", p, err, out)
			return 1
		}
	}
	hostPid, _ = os.Readlink("/proc/self/ns/pid")
	hostMnt, _ = os.Readlink("/proc/self/ns/mnt")

	fdsBefore := openFds()
	pool, err = NewPool(PoolConfig{
		MinIdle: 2, MaxIdle: 2, MaxSize: 4,
		Mounts: []Mount{{Source: progDir, Target: "/progs"}},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "NewPool:", err)
		return 1
	}
	code := m.Run()
	if err := pool.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "Close:", err)
		code = 1
	}
	// Everything the tests made must be gone once every pool is closed.
	if leaks := leaksSince(fdsBefore); leaks != "" {
		fmt.Fprintln(os.Stderr, "LEAK after all tests:", leaks)
		code = 1
	}
	return code
}

// openFds maps this process's descriptors to what they are. The library keeps the
// container init image (a memfd, or its cached copy in /run/scpool) and the
// container-id lock file for the life of the process, made with the first
// container: those are not leaks. Nor is the
// listing's own descriptor, closed by the time its link is read.
func openFds() map[string]string {
	ents, _ := os.ReadDir("/proc/self/fd")
	fds := map[string]string{}
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil || strings.HasPrefix(target, "/memfd:scpool-init") ||
			strings.HasPrefix(target, "/run/scpool/init-") || target == "/run/scpool/ids.lock" {
			continue
		}
		fds[e.Name()] = target
	}
	return fds
}

// children lists the live and zombie child processes of this process.
func children() []string {
	me := strconv.Itoa(os.Getpid())
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the parenthesized command: state, ppid, ...
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == me {
			out = append(out, e.Name()+" "+s[:strings.LastIndexByte(s, ')')+1])
		}
	}
	return out
}

// ourCgroups finds cgroup directories made for this process's containers.
func ourCgroups() []string {
	prefix := fmt.Sprintf("scpool-%d-", os.Getpid())
	var out []string
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if strings.HasPrefix(d.Name(), prefix) {
			out = append(out, path)
			return filepath.SkipDir
		}
		return nil
	})
	return out
}

// leaksSince reports descriptors opened since before, child processes and cgroups;
// "" when there are none. Destruction is synchronous, the short retry only absorbs
// the Go runtime's own lazy descriptors settling.
func leaksSince(before map[string]string) string {
	var msg string
	for try := 0; try < 20; try++ {
		msg = ""
		now := openFds()
		var extra []string
		for fd, what := range now {
			if _, ok := before[fd]; !ok {
				extra = append(extra, fd+"->"+what)
			}
		}
		sort.Strings(extra)
		if len(extra) > 0 {
			msg += fmt.Sprintf("fds %v; ", extra)
		}
		if kids := children(); len(kids) > 0 {
			msg += fmt.Sprintf("children %v; ", kids)
		}
		if cgs := ourCgroups(); len(cgs) > 0 {
			msg += fmt.Sprintf("cgroups %v; ", cgs)
		}
		if msg == "" {
			return ""
		}
		time.Sleep(50 * time.Millisecond)
	}
	return msg
}

func acquire(t *testing.T, p *Pool) *Container {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTime)
	defer cancel()
	c, err := p.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	t.Cleanup(func() { c.Release() })
	return c
}

func show(r *Result) string {
	return fmt.Sprintf("status %v exit %d signal %d cpu %v wall %v mem %d setup %v msg %q stdout %q stderr %q",
		r.Status, r.ExitCode, r.Signal, r.CPUTime, r.WallTime, r.Memory, r.SetupTime,
		r.Message, r.Stdout, r.Stderr)
}

func run(t *testing.T, c *Container, p RunParam) *Result {
	t.Helper()
	if p.Env == nil {
		p.Env = shPath
	}
	r, err := c.Run(p)
	if err != nil {
		t.Fatalf("Run %v: %v", p.Args, err)
	}
	return r
}

// stillWorks checks a container answers and runs a program after whatever the
// test did to it.
func stillWorks(t *testing.T, c *Container) {
	t.Helper()
	if err := c.Ping(); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	r := run(t, c, RunParam{Args: []string{"/bin/echo", "alive"}})
	if r.Status != StatusOK || string(r.Stdout) != "alive\n" {
		t.Fatalf("container no longer works: %s", show(r))
	}
}

func guarded(prog string, args ...string) []string {
	return append([]string{"/progs/" + prog, hostPid, hostMnt}, args...)
}

// The seed scenario: files opened inside the container, input written through the
// host's descriptor, a host program copied into a memfd and executed by descriptor
// with the files as its stdin and stdout, output read back.
func TestSeedScenario(t *testing.T) {
	c := acquire(t, pool)
	files, err := c.Open([]OpenCmd{
		{Path: "/w/input.txt", Flags: os.O_RDWR | os.O_CREATE | os.O_TRUNC, Mode: 0o644},
		{Path: "/w/output.txt", Flags: os.O_RDWR | os.O_CREATE | os.O_TRUNC, Mode: 0o644},
	})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	in, out := files[0], files[1]
	defer in.Close()
	defer out.Close()
	input := []byte("3\n1\n2\n")
	if _, err := in.Write(input); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}

	sortProg, err := MemfdCopy("/usr/bin/sort")
	if err != nil {
		t.Fatalf("MemfdCopy: %v", err)
	}
	defer sortProg.Close()
	r, err := c.Execve(ExecveParam{
		Args:     []string{"sort", "-n"},
		Env:      shPath,
		Files:    []*os.File{in, out},
		ExecFile: sortProg,
		Limits:   Limits{CPUTime: time.Second, WallTime: 5 * time.Second, Memory: 256 * mib},
	})
	if err != nil {
		t.Fatalf("Execve: %v", err)
	}
	if r.Status != StatusOK || r.ExitCode != 0 || r.Stdout != nil {
		t.Fatalf("sort: %s", show(r))
	}
	got, err := io.ReadAll(io.NewSectionReader(out, 0, 1<<20))
	if err != nil || string(got) != "1\n2\n3\n" {
		t.Fatalf("output through the descriptor: %q %v", got, err)
	}

	// The same with arguments naming the files: cp from the host, by descriptor.
	cp, err := MemfdCopy("/usr/bin/cp")
	if err != nil {
		t.Fatalf("MemfdCopy: %v", err)
	}
	defer cp.Close()
	r, err = c.Execve(ExecveParam{
		Args: []string{"cp", "/w/input.txt", "/w/copy.txt"}, ExecFile: cp,
		Limits: Limits{WallTime: 5 * time.Second},
	})
	if err != nil || r.Status != StatusOK {
		t.Fatalf("cp: %v %+v", err, r)
	}
	if got, err := c.ReadFile("/w/copy.txt"); err != nil || !bytes.Equal(got, input) {
		t.Fatalf("ReadFile: %q %v", got, err)
	}
	// The memfd is not visible inside: it ran from the host's copy.
	if r.WallTime <= 0 || r.WallTime > testTime || r.SetupTime <= 0 {
		t.Fatalf("figures: %s", show(r))
	}
}

func TestRunStdinStdout(t *testing.T) {
	c := acquire(t, pool)
	r := run(t, c, RunParam{
		Args:   []string{"/bin/sh", "-c", "read a b; echo $((a+b)); echo to-stderr >&2; pwd"},
		Stdin:  []byte("1 2\n"),
		Limits: Limits{CPUTime: 2 * time.Second, WallTime: 5 * time.Second, Memory: 256 * mib},
	})
	if r.Status != StatusOK || r.ExitCode != 0 || r.Signal != 0 {
		t.Fatalf("%s", show(r))
	}
	if string(r.Stdout) != "3\n/w\n" || string(r.Stderr) != "to-stderr\n" {
		t.Fatalf("%s", show(r))
	}
	if r.WallTime <= 0 || r.WallTime > testTime || r.CPUTime > 2*time.Second ||
		r.Memory == 0 || r.Memory > 256*mib || r.SetupTime <= 0 || r.SetupTime > testTime {
		t.Fatalf("figures out of range: %s", show(r))
	}

	// WriteFile / ReadFile / Cwd / Env passed exactly.
	if err := c.WriteFile("/tmp/data", []byte("payload")); err != nil {
		t.Fatal(err)
	}
	r = run(t, c, RunParam{
		Args: []string{"/bin/sh", "-c", "cat data > /w/copied; env"},
		Cwd:  "/tmp", Env: []string{"PATH=/usr/bin:/bin", "ONLY=1"},
	})
	if r.Status != StatusOK || !strings.Contains(string(r.Stdout), "ONLY=1") ||
		strings.Contains(string(r.Stdout), "HOME=") {
		t.Fatalf("%s", show(r))
	}
	if got, err := c.ReadFile("/w/copied"); err != nil || string(got) != "payload" {
		t.Fatalf("ReadFile: %q %v", got, err)
	}
	if got, err := c.ReadFile("/w/empty-after"); !errors.Is(err, ErrOpen) || got != nil {
		t.Fatalf("missing file: %q %v", got, err)
	}
	if err := c.WriteFile("/w/empty", nil); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadFile("/w/empty"); err != nil || got == nil || len(got) != 0 {
		t.Fatalf("empty file: %q %v", got, err)
	}

	// Reset empties /w.
	if err := c.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadFile("/w/copied"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after Reset: %v", err)
	}
}

func TestStatuses(t *testing.T) {
	c := acquire(t, pool)
	cases := []struct {
		name   string
		param  RunParam
		want   Status
		verify func(r *Result) string
	}{
		{"ok", RunParam{Args: []string{"/bin/true"}}, StatusOK, func(r *Result) string {
			if r.ExitCode != 0 || r.Signal != 0 {
				return "exit code"
			}
			return ""
		}},
		{"nonzero", RunParam{Args: []string{"/bin/sh", "-c", "exit 3"}}, StatusNonzeroExit, func(r *Result) string {
			if r.ExitCode != 3 {
				return "exit code"
			}
			return ""
		}},
		{"signalled", RunParam{Args: []string{"/bin/sh", "-c", "kill -SEGV $$"}}, StatusSignalled, func(r *Result) string {
			if r.Signal != int(syscall.SIGSEGV) || r.ExitCode != -1 {
				return "signal"
			}
			return ""
		}},
		{"tle", RunParam{
			Args:   guarded("hostile_spin", "forever"),
			Limits: Limits{CPUTime: 300 * time.Millisecond, WallTime: testTime},
		}, StatusTimeLimitExceeded, func(r *Result) string {
			if r.CPUTime < 250*time.Millisecond || r.CPUTime > 3*time.Second || r.WallTime > 5*time.Second {
				return "cpu time"
			}
			return ""
		}},
		{"wtle", RunParam{
			Args:   []string{"/bin/sleep", "30"},
			Limits: Limits{WallTime: 300 * time.Millisecond},
		}, StatusWallTimeLimitExceeded, func(r *Result) string {
			if r.WallTime < 250*time.Millisecond || r.WallTime > 5*time.Second || r.CPUTime > 200*time.Millisecond {
				return "wall time"
			}
			return ""
		}},
		{"mle", RunParam{
			Args:   guarded("hostile_memory", "bomb"),
			Limits: Limits{Memory: 64 * mib, WallTime: testTime},
		}, StatusMemoryLimitExceeded, func(r *Result) string {
			if r.Memory < 32*mib || r.Memory > 80*mib {
				return "peak memory"
			}
			return ""
		}},
		{"ole", RunParam{
			Args:   []string{"/usr/bin/yes"},
			Limits: Limits{Output: 4096, WallTime: testTime},
		}, StatusOutputLimitExceeded, func(r *Result) string {
			if len(r.Stdout) > 4096 || len(r.Stdout) == 0 {
				return "captured output"
			}
			return ""
		}},
		{"disallowed", RunParam{
			Args:    guarded("hostile_sys", "socket"),
			Limits:  Limits{WallTime: testTime},
			Seccomp: SeccompStrict,
		}, StatusDisallowedSyscall, func(r *Result) string {
			if r.Signal != int(syscall.SIGSYS) || len(r.Stdout) != 0 || r.Message == "" {
				return "signal"
			}
			return ""
		}},
		{"runner error", RunParam{Args: []string{"/no/such/program"}}, StatusRunnerError, func(r *Result) string {
			if r.Message == "" {
				return "message"
			}
			return ""
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, c, tc.param)
			if r.Status != tc.want {
				t.Fatalf("want %v, got %s", tc.want, show(r))
			}
			if what := tc.verify(r); what != "" {
				t.Fatalf("%s: %s", what, show(r))
			}
			stillWorks(t, c)
		})
	}
}

func TestStatusAndCodeNames(t *testing.T) {
	for s := StatusOK; s <= StatusRunnerError; s++ {
		if s.String() != cStatusName(s) {
			t.Errorf("%d: %q, library says %q", int(s), s.String(), cStatusName(s))
		}
	}
	for code := CodeInvalidArgument; code <= CodeCancelled; code++ {
		if "SCPOOL_ERROR_"+code.String() != cCodeName(code) {
			t.Errorf("%d: %q, library says %q", int(code), code.String(), cCodeName(code))
		}
	}
	if Status(42).String() != "Status(42)" {
		t.Error(Status(42).String())
	}
}

// A fork bomb by descriptor: the process limit holds it, the wall limit ends it, and
// nothing of it survives into the next run.
func TestForkBomb(t *testing.T) {
	c := acquire(t, pool)
	bomb, err := MemfdCopy(filepath.Join(progDir, "hostile_forkbomb"))
	if err != nil {
		t.Fatal(err)
	}
	defer bomb.Close()
	files, err := c.Open([]OpenCmd{{Path: "/w/out", Flags: os.O_RDWR | os.O_CREATE, Mode: 0o644}})
	if err != nil {
		t.Fatal(err)
	}
	defer files[0].Close()
	r, err := c.Execve(ExecveParam{
		Args: []string{"forkbomb", hostPid, hostMnt}, ExecFile: bomb,
		Files:  []*os.File{devNull(t), files[0]},
		Limits: Limits{Processes: 16, WallTime: time.Second, CPUTime: 5 * time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusWallTimeLimitExceeded && r.Status != StatusTimeLimitExceeded {
		t.Fatalf("%s", show(r))
	}
	out, _ := io.ReadAll(io.NewSectionReader(files[0], 0, 1<<20))
	var forks, errno int
	if n, _ := fmt.Sscanf(string(out), "forks %d errno %d", &forks, &errno); n != 2 ||
		forks < 1 || forks > 16 || errno != int(syscall.EAGAIN) {
		t.Fatalf("bomb said %q", out)
	}
	// Nothing survived: the next run sees only itself (a glob, no fork; the init
	// is hidden by hidepid=2).
	r = run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "echo /proc/[0-9]*"}})
	if r.Status != StatusOK || len(strings.Fields(string(r.Stdout))) != 1 {
		t.Fatalf("processes left: %s", show(r))
	}
}

func devNull(t *testing.T) *os.File {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestInvalidArguments(t *testing.T) {
	c := acquire(t, pool)
	closed, _ := os.Open(os.DevNull)
	closed.Close()
	bad := []struct {
		name string
		call func() error
	}{
		{"empty args", func() error { _, err := c.Run(RunParam{}); return err }},
		{"NUL in arg", func() error { _, err := c.Run(RunParam{Args: []string{"/bin/true\x00x"}}); return err }},
		{"NUL in env", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Env: []string{"A=\x00"}})
			return err
		}},
		{"negative limit", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{WallTime: -1}})
			return err
		}},
		{"bad cpu rate", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{CPURate: -0.5}})
			return err
		}},
		// The library's range (0.01 to 10000 cores), not a Go one, decides.
		{"cpu rate below the library's range", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{CPURate: 0.001}})
			return err
		}},
		{"cpu rate above the library's range", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{CPURate: 20000}})
			return err
		}},
		{"infinite cpu rate", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{CPURate: math.Inf(1)}})
			return err
		}},
		{"unknown seccomp", func() error {
			_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Seccomp: 99})
			return err
		}},
		{"custom seccomp without filter", func() error {
			_, err := c.Execve(ExecveParam{Args: []string{"/bin/true"}, Seccomp: SeccompCustom})
			return err
		}},
		{"nil file", func() error {
			_, err := c.Execve(ExecveParam{Args: []string{"/bin/true"}, Files: []*os.File{nil}})
			return err
		}},
		{"closed exec file", func() error {
			_, err := c.Execve(ExecveParam{Args: []string{"x"}, ExecFile: closed})
			return err
		}},
		{"relative open", func() error {
			_, err := c.Open([]OpenCmd{{Path: "w/x", Flags: os.O_RDONLY}})
			return err
		}},
		{"empty path", func() error { return c.WriteFile("", []byte("x")) }},
		{"pool sizes", func() error {
			p, err := NewPool(PoolConfig{MinIdle: 3, MaxIdle: 3, MaxSize: 2})
			if err == nil {
				p.Close()
			}
			return err
		}},
		{"negative pool timeout", func() error {
			_, err := NewPool(PoolConfig{AcquireTimeout: -time.Second})
			return err
		}},
		{"mount under /w, which the container mounts over", func() error {
			own, err := NewContainer(ContainerConfig{Mounts: []Mount{{Source: "/usr", Target: "/w/usr"}}})
			if err == nil {
				own.Discard()
			}
			return err
		}},
	}
	for _, b := range bad {
		err := b.call()
		var e *Error
		if !errors.Is(err, ErrInvalidArgument) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: want ErrInvalidArgument with a message, got %v", b.name, err)
		}
	}
	// A file that cannot be opened inside is ErrOpen with the errno.
	_, err := c.Open([]OpenCmd{{Path: "/w/ok", Flags: os.O_RDWR | os.O_CREATE, Mode: 0o600},
		{Path: "/w/missing", Flags: os.O_RDONLY}})
	var e *Error
	if !errors.Is(err, ErrOpen) || !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &e) ||
		e.Errno != syscall.ENOENT {
		t.Fatalf("want ErrOpen ENOENT, got %v", err)
	}
	if _, err := MemfdCopy("/no/such/file"); err == nil {
		t.Fatal("MemfdCopy of a missing file worked")
	}
	// The container and the pool still serve.
	stillWorks(t, c)
	c2 := acquire(t, pool)
	stillWorks(t, c2)
}

func TestAcquireTimeouts(t *testing.T) {
	p, err := NewPool(PoolConfig{MinIdle: 1, MaxIdle: 1, MaxSize: 1, AcquireTimeout: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	held := acquire(t, p)

	// An expired context: at once.
	ctx, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	start := time.Now()
	if _, err := p.Acquire(ctx); !errors.Is(err, ErrAcquireTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expired ctx: %v", err)
	}
	if time.Since(start) > time.Second {
		t.Fatal("expired ctx waited")
	}

	// A context deadline earlier than the pool's timeout.
	ctx, cancel = context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := p.Acquire(ctx); !errors.Is(err, ErrAcquireTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx deadline: %v", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > 3*time.Second {
		t.Fatalf("ctx deadline waited %v", d)
	}

	// No deadline: the pool's AcquireTimeout, in one C call.
	start = time.Now()
	if _, err := p.Acquire(context.Background()); !errors.Is(err, ErrAcquireTimeout) ||
		errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("pool timeout: %v", err)
	}
	if d := time.Since(start); d < 350*time.Millisecond || d > 3*time.Second {
		t.Fatalf("pool timeout waited %v", d)
	}

	// Cancellation while waiting.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start = time.Now()
	if _, err := p.Acquire(ctx); !errors.Is(err, ErrAcquireTimeout) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("cancel took %v", d)
	}

	// Only the two waits that ran out count as timeouts: the context deadline's (the
	// C timeout and the context end together; either may come first) and the pool's.
	// Cancellation is not polled.
	s, err := p.Stats()
	if err != nil || s.InUse != 1 || s.AcquireTimeouts < 1 || s.AcquireTimeouts > 2 || s.Acquires != 1 {
		t.Fatalf("stats %+v %v", s, err)
	}
	// Released, the container is reset and handed out again.
	held.Release()
	c := acquire(t, p)
	stillWorks(t, c)
	if s, _ := p.Stats(); s.Reused < 1 || s.Created != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestClose(t *testing.T) {
	p, err := NewPool(Size(1))
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// A waiter blocked in the C call is woken by Close.
	done := make(chan error, 1)
	go func() {
		_, err := p.Acquire(context.Background())
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, ErrPoolClosed) {
			t.Fatalf("waiter: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken by Close")
	}
	if _, err := p.Acquire(context.Background()); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Acquire after Close: %v", err)
	}
	if _, err := p.Stats(); !errors.Is(err, ErrPoolClosed) {
		t.Fatalf("Stats after Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// A container still out keeps working, and is destroyed on release.
	stillWorks(t, c)
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
	// Use after Release: an error, never a crash.
	if _, err := c.Run(RunParam{Args: []string{"/bin/true"}}); !errors.Is(err, ErrReleased) ||
		!errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Run after Release: %v", err)
	}
	if err := c.Ping(); !errors.Is(err, ErrReleased) {
		t.Fatalf("Ping after Release: %v", err)
	}
	if _, err := c.Open([]OpenCmd{{Path: "/w/x"}}); !errors.Is(err, ErrReleased) {
		t.Fatalf("Open after Release: %v", err)
	}
	if err := c.Release(); !errors.Is(err, ErrReleased) {
		t.Fatalf("second Release: %v", err)
	}
	if err := c.Discard(); !errors.Is(err, ErrReleased) {
		t.Fatalf("Discard after Release: %v", err)
	}
}

func TestManyGoroutines(t *testing.T) {
	p, err := NewPool(PoolConfig{MinIdle: 2, MaxIdle: 2, MaxSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	const workers, runs = 12, 5
	var wg sync.WaitGroup
	errs := make(chan error, workers*runs)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range runs {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := p.Acquire(ctx)
				cancel()
				if err != nil {
					errs <- err
					return
				}
				word := fmt.Sprintf("w%d-%d", w, i)
				r, err := c.Run(RunParam{Args: []string{"/bin/echo", word}, Limits: Limits{WallTime: testTime}})
				if i == runs-1 {
					c.Discard() // the pool must replace it
				} else {
					c.Release()
				}
				if err != nil {
					errs <- err
				} else if r.Status != StatusOK || string(r.Stdout) != word+"\n" {
					errs <- fmt.Errorf("%s: %s", word, show(r))
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s, err := p.Stats()
	if err != nil || s.Acquires != workers*runs || s.InUse != 0 || s.Created > s.Destroyed+3 ||
		s.Destroyed < workers {
		t.Fatalf("stats %+v %v", s, err)
	}
}

// Misuse from two goroutines at once is serialized, not undefined.
func TestContainerSharedByGoroutines(t *testing.T) {
	c := acquire(t, pool)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Run(RunParam{Args: []string{"/bin/echo", strconv.Itoa(i)}})
			if err != nil || r.Status != StatusOK || string(r.Stdout) != strconv.Itoa(i)+"\n" {
				t.Errorf("%d: %v %+v", i, err, r)
			}
		}()
	}
	wg.Wait()
}

func TestOwnContainer(t *testing.T) {
	uid := uint32(1234)
	c, err := NewContainer(ContainerConfig{UID: &uid, GID: &uid, Hostname: "judge"})
	if err != nil {
		t.Fatal(err)
	}
	// The name is the domain name too, as in every language.
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "id -u; hostname; domainname"}})
	if r.Status != StatusOK || string(r.Stdout) != "1234\njudge\njudge\n" {
		t.Fatalf("%s", show(r))
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
}

// A whole life cycle leaves no descriptor, process or cgroup behind.
func TestNoLeaksAfterClose(t *testing.T) {
	before := openFds()
	kidsBefore := children()
	p, err := NewPool(Size(2))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := MemfdCopy("/bin/cat")
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		c, err := p.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		fs, err := c.Open([]OpenCmd{{Path: "/w/a", Flags: os.O_RDWR | os.O_CREATE, Mode: 0o644}})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := c.Execve(ExecveParam{Args: []string{"cat"}, ExecFile: prog, Files: fs}); err != nil ||
			r.Status != StatusOK {
			t.Fatalf("%v %+v", err, r)
		}
		// A daemon left behind must die with the run.
		if r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "sleep 100 & echo started"}}); r.Status != StatusOK {
			t.Fatalf("%s", show(r))
		}
		fs[0].Close()
		c.Release()
	}
	prog.Close()
	// The check below must be able to see what it looks for.
	if len(children()) <= len(kidsBefore) {
		t.Fatalf("the pool's containers are not visible as children: %v", children())
	}
	t.Logf("cgroups while open: %d", len(ourCgroups()))
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	now := openFds()
	var extra []string
	for fd, what := range now {
		if _, ok := before[fd]; !ok {
			extra = append(extra, fd+"->"+what)
		}
	}
	if len(extra) > 0 {
		t.Errorf("descriptors left: %v", extra)
	}
	// The shared pool's containers are children too; only this pool's must go.
	for _, kid := range children() {
		if !slices.Contains(kidsBefore, kid) {
			t.Errorf("child left: %s", kid)
		}
	}
}

func TestOneShotRun(t *testing.T) {
	defer CloseDefaultPool()
	for range 2 {
		r, err := Run(RunParam{Args: []string{"/bin/echo", "hi"}})
		if err != nil || r.Status != StatusOK || string(r.Stdout) != "hi\n" {
			t.Fatalf("%v %+v", err, r)
		}
	}
	if err := CloseDefaultPool(); err != nil {
		t.Fatal(err)
	}
	// A new default pool after closing the old one.
	if r, err := Run(RunParam{Args: []string{"/bin/true"}}); err != nil || r.Status != StatusOK {
		t.Fatalf("%v %+v", err, r)
	}
}

// A classic BPF program of our own: kill on socket(2), allow the rest.
func TestCustomSeccomp(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the filter names x86_64 system call numbers")
	}
	filter := []SockFilter{
		{Code: 0x20, K: 0},                // ld [nr]
		{Code: 0x15, Jt: 0, Jf: 1, K: 41}, // jeq socket
		{Code: 0x06, K: 0x80000000},       // ret KILL_PROCESS
		{Code: 0x06, K: 0x7fff0000},       // ret ALLOW
	}
	c := acquire(t, pool)
	r := run(t, c, RunParam{Args: guarded("hostile_sys", "socket"), Seccomp: SeccompCustom,
		SeccompFilter: filter, Limits: Limits{WallTime: testTime}})
	if r.Status != StatusDisallowedSyscall {
		t.Fatalf("socket: %s", show(r))
	}
	r = run(t, c, RunParam{Args: guarded("hostile_sys", "fds"), Seccomp: SeccompCustom,
		SeccompFilter: filter, Limits: Limits{WallTime: testTime}})
	if r.Status != StatusOK || !strings.HasPrefix(string(r.Stdout), "fds 0 1 2") {
		t.Fatalf("fds: %s", show(r))
	}
	// ERRNO instead of KILL: the call fails with that errno and the run goes on.
	eacces := []SockFilter{
		{Code: 0x20, K: 0},
		{Code: 0x15, Jt: 0, Jf: 1, K: 41},
		{Code: 0x06, K: 0x00050000 | uint32(syscall.EACCES)}, // ret ERRNO(EACCES)
		{Code: 0x06, K: 0x7fff0000},
	}
	r = run(t, c, RunParam{Args: guarded("hostile_sys", "socket"), Seccomp: SeccompCustom,
		SeccompFilter: eacces, Limits: Limits{WallTime: testTime}})
	if want := fmt.Sprintf("socket err %d\n", syscall.EACCES); r.Status != StatusOK || string(r.Stdout) != want {
		t.Fatalf("socket under ERRNO: %s", show(r))
	}
	// A filter without the custom policy is refused.
	if _, err := c.Run(RunParam{Args: []string{"/bin/true"}, SeccompFilter: filter}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("filter without SeccompCustom: %v", err)
	}
}

// The single-program policy: the program runs; a second exec, its own or a
// shell's, is fatal. The default policy lets the same exec through.
func TestSingleProgramSeccomp(t *testing.T) {
	c := acquire(t, pool)
	r := run(t, c, RunParam{Args: guarded("hostile_exec", "none"), Seccomp: SeccompSingleProgram,
		Limits: Limits{WallTime: testTime}})
	if r.Status != StatusOK || string(r.Stdout) != "ran\n" {
		t.Fatalf("none: %s", show(r))
	}
	for _, mode := range []string{"execve", "execveat"} {
		r = run(t, c, RunParam{Args: guarded("hostile_exec", mode), Seccomp: SeccompSingleProgram,
			Limits: Limits{WallTime: testTime}})
		if r.Status != StatusDisallowedSyscall || r.Signal != int(syscall.SIGSYS) || string(r.Stdout) != "ran\n" {
			t.Fatalf("%s: %s", mode, show(r))
		}
		r = run(t, c, RunParam{Args: guarded("hostile_exec", mode), Limits: Limits{WallTime: testTime}})
		if r.Status != StatusOK || string(r.Stdout) != "ran\n" {
			t.Fatalf("%s under the default policy: %s", mode, show(r))
		}
	}
}

func TestGoBytes(t *testing.T) {
	src := []byte("hello")
	b, err := goBytes(unsafe.Pointer(&src[0]), uint64(len(src)))
	if err != nil || string(b) != "hello" {
		t.Fatalf("goBytes = %q, %v", b, err)
	}
	src[0] = 'j'
	if string(b) != "hello" {
		t.Fatal("goBytes did not copy")
	}
	if b, err := goBytes(unsafe.Pointer(&src[0]), 0); err != nil || b == nil || len(b) != 0 {
		t.Fatalf("goBytes of 0 bytes = %#v, %v", b, err)
	}
	// Too large for an int: refused before the pointer is read.
	if _, err := goBytes(unsafe.Pointer(&src[0]), math.MaxUint64); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("goBytes of 2^64-1 bytes: %v", err)
	}
}

// Zero MinIdle and MaxIdle take defaults that fit under a small MaxSize.
func TestPoolMaxSizeOne(t *testing.T) {
	p, err := NewPool(PoolConfig{MaxSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := acquire(t, p)
	stillWorks(t, c)
	c.Release()
	s, err := p.Stats()
	if err != nil || s.Created != 1 {
		t.Fatalf("stats %+v, %v", s, err)
	}
}

// A MinIdle given alone raises the default MaxSize to hold it (the library's rule,
// the same in every language); sizes given that contradict each other are refused.
func TestPoolSizesFollowTheLibrarysRule(t *testing.T) {
	p, err := NewPool(PoolConfig{MinIdle: 9, IdleTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s, err := p.Stats()
	if err != nil || s.Idle+s.Pending != 9 {
		t.Fatalf("stats %+v, %v", s, err)
	}
	p.Close()
	if _, err := NewPool(PoolConfig{MinIdle: 3, MaxSize: 2}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("MinIdle 3 over MaxSize 2: %v", err)
	}
}

// Passing pipe ends to Execve leaves them non-blocking, so deadlines still work.
func TestExecveKeepsFilesNonBlocking(t *testing.T) {
	c := acquire(t, pool)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	res, err := c.Execve(ExecveParam{Args: []string{"/bin/echo", "hi"}, Files: []*os.File{r, w, w}})
	if err != nil || res.Status != StatusOK {
		t.Fatalf("Execve: %v %+v", err, res)
	}
	for _, f := range []*os.File{r, w} {
		conn, err := f.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var flags uintptr
		var errno syscall.Errno
		conn.Control(func(fd uintptr) {
			flags, _, errno = syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		})
		if errno != 0 || flags&syscall.O_NONBLOCK == 0 {
			t.Fatalf("%s became blocking (flags %#x, %v)", f.Name(), flags, errno)
		}
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "hi\n" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	r.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := r.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
}
