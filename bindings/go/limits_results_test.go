package scpool

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
)

// hostAccounting is what a container with a cgroup uses on this host: v2 when the
// unified hierarchy is mounted at /sys/fs/cgroup, else v1.
func hostAccounting() Accounting {
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err == nil {
		return AccountingCgroupV2
	}
	return AccountingCgroupV1
}

const ulimits = "ulimit -n; ulimit -s; ulimit -v"

// Limits left at zero are the library's defaults (the binding adds none of its
// own); AddressSpace is each process's RLIMIT_AS.
func TestDefaultLimitsAndAddressSpace(t *testing.T) {
	c := acquire(t, pool)
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", ulimits}})
	want := fmt.Sprintf("%d\n%d\nunlimited\n", DefaultOpenFiles, DefaultStack/1024)
	if r.Status != StatusOK || string(r.Stdout) != want {
		t.Fatalf("want %q: %s", want, show(r))
	}
	r = run(t, c, RunParam{Args: []string{"/bin/sh", "-c", ulimits}, Limits: Limits{AddressSpace: 64 * mib}})
	want = fmt.Sprintf("%d\n%d\n65536\n", DefaultOpenFiles, DefaultStack/1024)
	if r.Status != StatusOK || string(r.Stdout) != want {
		t.Fatalf("want %q: %s", want, show(r))
	}
}

// CPUSet confines the run to its CPUs; the next run has every CPU again; bad lists
// and CPUs the host lacks are the library's ErrInvalidArgument.
func TestCPUSet(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			all = strings.TrimSpace(rest) + "\n"
		}
	}
	cpus := []string{"/bin/sh", "-c", "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status"}
	c := acquire(t, pool)
	r := run(t, c, RunParam{Args: cpus, Limits: Limits{CPUSet: "0"}})
	if r.Status != StatusOK || string(r.Stdout) != "0\n" {
		t.Fatalf("CPUSet 0: %s", show(r))
	}
	r = run(t, c, RunParam{Args: cpus})
	if r.Status != StatusOK || string(r.Stdout) != all {
		t.Fatalf("want %q: %s", all, show(r))
	}
	for _, bad := range []string{"x", "1-0", "4095", "0\x00"} {
		_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{CPUSet: bad}})
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("CPUSet %q: %v", bad, err)
		}
	}
}

// A memory limit below the core's minimum is refused by the core, with its number.
func TestMemoryLimitBelowMinimum(t *testing.T) {
	c := acquire(t, pool)
	_, err := c.Run(RunParam{Args: []string{"/bin/true"}, Limits: Limits{Memory: 64 << 10}})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), strconv.FormatUint(MinMemory, 10)) {
		t.Fatalf("64K memory limit: %v", err)
	}
	// The smallest accepted limit ends in a verdict, never a broken container.
	r := run(t, c, RunParam{Args: []string{"/bin/true"}, Limits: Limits{Memory: MinMemory}})
	if r.Status != StatusOK && r.Status != StatusMemoryLimitExceeded {
		t.Fatalf("%s", show(r))
	}
	if c.Broken() {
		t.Fatal("the container broke at the minimum memory limit")
	}
}

const spin = "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done"

// CPU time splits exactly into user and system time; the result says what measured
// it, with cgroups and without.
func TestCPUSplitAndAccounting(t *testing.T) {
	c := acquire(t, pool)
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", spin}})
	if r.Status != StatusOK || r.UserTime <= r.SystemTime || r.UserTime+r.SystemTime != r.CPUTime {
		t.Fatalf("user %v system %v: %s", r.UserTime, r.SystemTime, show(r))
	}
	if r.Accounting != hostAccounting() || r.Accounting.String() != hostAccounting().String() {
		t.Fatalf("accounting %v, want %v", r.Accounting, hostAccounting())
	}
	own, err := NewContainer(ContainerConfig{CgroupMode: CgroupOff})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Release()
	r = run(t, own, RunParam{Args: []string{"/bin/sh", "-c", spin}})
	if r.Status != StatusOK || r.Accounting != AccountingNone || r.Accounting.String() != "none" ||
		r.UserTime == 0 || r.UserTime+r.SystemTime != r.CPUTime {
		t.Fatalf("without cgroups: accounting %v user %v system %v: %s", r.Accounting, r.UserTime, r.SystemTime, show(r))
	}
	names := map[Accounting]string{AccountingNone: "none", AccountingCgroupV1: "cgroup-v1", AccountingCgroupV2: "cgroup-v2"}
	for a, name := range names {
		if a.String() != name {
			t.Errorf("%d is %q, want %q", uint32(a), a.String(), name)
		}
	}
}

// kernelAtLeast says whether the running kernel is major.minor or later.
func kernelAtLeast(major, minor int) bool {
	release, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return false
	}
	var got [2]int
	for i, part := range strings.SplitN(strings.TrimSpace(string(release)), ".", 3)[:2] {
		got[i], _ = strconv.Atoi(strings.TrimRightFunc(part, func(r rune) bool { return r < '0' || r > '9' }))
	}
	return got[0] > major || (got[0] == major && got[1] >= minor)
}

// ProcessPeak: each run reports its own most processes at once, never an earlier
// run's; -1 where no counter of the run alone exists.
func TestProcessPeak(t *testing.T) {
	c, err := NewContainer(ContainerConfig{ProcessPeak: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	children := "sleep 1000 & a=$!; sleep 1000 & b=$!; sleep 1000 & c=$!; kill $a $b $c; wait; true"
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", children}})
	if r.Status != StatusOK {
		t.Fatalf("%s", show(r))
	}
	// A cgroup of the run's own on a kernel that keeps pids.peak (6.1+).
	counted := r.Accounting != AccountingNone && kernelAtLeast(6, 1)
	if counted && (r.PeakProcesses < 4 || r.PeakProcesses > 5) || !counted && r.PeakProcesses != -1 {
		t.Fatalf("peak %d (counted %v) for a shell with 3 children", r.PeakProcesses, counted)
	}
	want := int64(-1)
	if counted {
		want = 1
	}
	if r = run(t, c, RunParam{Args: []string{"/bin/true"}}); r.Status != StatusOK || r.PeakProcesses != want {
		t.Fatalf("peak %d, want %d: %s", r.PeakProcesses, want, show(r))
	}
}
