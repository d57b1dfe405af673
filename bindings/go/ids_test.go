package scpool

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Each container's program runs as an id of its own from IDRange; a range of one
// id serves one container at a time, and a second fails with ErrSetup.
func TestIDRangeOfOneServesOneContainer(t *testing.T) {
	cfg := ContainerConfig{IDRange: &IDRange{First: 0x7ff00002, Count: 1}}
	a, err := NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	uid, gid := a.ProgramIDs()
	if uid != 0x7ff00002 || gid != 0x7ff00002 {
		t.Fatalf("ProgramIDs %d %d", uid, gid)
	}
	r := run(t, a, RunParam{Args: []string{"/bin/sh", "-c", "id -u; id -g"}})
	if want := fmt.Sprintf("%d\n%d\n", uid, gid); r.Status != StatusOK || string(r.Stdout) != want {
		t.Fatalf("want %q: %s", want, show(r))
	}
	b, err := NewContainer(cfg)
	if err == nil {
		b.Release()
		t.Fatal("a second container got an id from a range of one")
	}
	if !errors.Is(err, ErrSetup) || !strings.Contains(err.Error(), "taken") {
		t.Fatalf("want ErrSetup naming the taken range, got %v", err)
	}
	a.Release()
	// Released, its id is free again.
	b, err = NewContainer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	// The core refuses an empty range; the binding passes it on as given.
	if _, err := NewContainer(ContainerConfig{IDRange: &IDRange{First: 0x7ff00002}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty range: %v", err)
	}
}

// Without IDRange and UID/GID, programs get ids from the default range.
func TestDefaultProgramIDs(t *testing.T) {
	c := acquire(t, pool)
	uid, gid := c.ProgramIDs()
	if uid < DefaultIDRange.First || uid >= DefaultIDRange.First+DefaultIDRange.Count || gid != uid {
		t.Fatalf("ProgramIDs %d %d", uid, gid)
	}
}

// waitDead waits until process pid has exited (a zombie, or gone).
func waitDead(t *testing.T, pid int) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		s := string(stat)
		if end := strings.LastIndexByte(s, ')'); end > 0 && len(s) > end+2 && strings.ContainsAny(s[end+2:end+3], "ZX") {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("process %d did not die", pid)
}

// A pool never hands out a container whose init died while it was idle, and a held
// container whose init dies reads as broken before any call.
func TestDeadInitNeverHandedOut(t *testing.T) {
	p, err := NewPool(Size(1))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := acquire(t, p)
	pid := c.InitPID()
	if pid <= 0 || c.Broken() {
		t.Fatalf("pid %d broken %v", pid, c.Broken())
	}
	c.Release()
	for i := 0; i < 1000; i++ {
		if s, err := p.Stats(); err == nil && s.Idle == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, pid)
	c = acquire(t, p)
	if c.InitPID() == pid || c.Broken() {
		t.Fatalf("handed out init %d (dead one %d), broken %v", c.InitPID(), pid, c.Broken())
	}
	stillWorks(t, c)

	pid = c.InitPID()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDead(t, pid)
	if !c.Broken() {
		t.Fatal("a container whose init died is not broken")
	}
	if err := c.Ping(); !errors.Is(err, ErrContainerBroken) {
		t.Fatalf("Ping: %v", err)
	}
	c.Release()
	if c.Broken() {
		t.Fatal("a released container reads as broken")
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTime)
	defer cancel()
	if c, err = p.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	stillWorks(t, c)
	c.Release()
}
