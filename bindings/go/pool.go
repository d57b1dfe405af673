package scpool

/*
#include "scpool_go.h"
*/
import "C"

import (
	"context"
	"errors"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// Pool keeps pre-created containers. It is safe for use by many goroutines.
type Pool struct {
	// Acquire and Stats hold mu for reading, Close for writing: scpool_pool_free
	// must not overlap any other call on the handle.
	mu             sync.RWMutex
	ptr            *C.scpool_pool
	acquireTimeout time.Duration
	cleanup        runtime.Cleanup
}

func durNs(d time.Duration, what string) (C.uint64_t, error) {
	if d < 0 {
		return 0, invalidf("%s is negative", what)
	}
	return C.uint64_t(d), nil
}

func count32(n int, what string) (C.uint32_t, error) {
	if uint64(n) > math.MaxUint32 {
		return 0, invalidf("%s %d is too large", what, n)
	}
	return C.uint32_t(n), nil
}

// cContainerConfig fills a C config in a; extra mounts come first-class from
// PoolConfig.Mounts.
func cContainerConfig(a *arena, cfg *ContainerConfig, extra []Mount) (*C.scpool_container_config, error) {
	c := (*C.scpool_container_config)(a.calloc(1, C.sizeof_scpool_container_config))
	C.scpool_container_config_init(c)
	mounts := append(append([]Mount(nil), cfg.Mounts...), extra...)
	if len(mounts) > 0 {
		m := unsafe.Slice((*C.scpool_mount)(a.calloc(len(mounts), C.sizeof_scpool_mount)), len(mounts))
		for i, mt := range mounts {
			var err error
			if m[i].source, err = a.cstr(mt.Source, "Mount.Source"); err != nil {
				return nil, err
			}
			if m[i].target, err = a.optCstr(mt.Target, "Mount.Target"); err != nil {
				return nil, err
			}
			m[i].writable = cbool(mt.Writable)
			m[i].optional = cbool(mt.Optional)
		}
		c.mounts = &m[0]
		c.mounts_len = C.size_t(len(mounts))
	}
	c.replace_default_mounts = cbool(cfg.ReplaceDefaultMounts)
	c.process_peak = cbool(cfg.ProcessPeak)
	var err error
	if c.rootfs, err = a.optCstr(cfg.Rootfs, "Rootfs"); err != nil {
		return nil, err
	}
	if len(cfg.ImageLayers) > 0 {
		if c.image_layers, err = a.strv(cfg.ImageLayers, "ImageLayers"); err != nil {
			return nil, err
		}
		c.image_layers_len = C.size_t(len(cfg.ImageLayers))
	}
	if cfg.RootSize != 0 {
		c.root_size = C.uint64_t(cfg.RootSize)
	}
	if c.image, err = a.optCstr(cfg.Image, "Image"); err != nil {
		return nil, err
	}
	if cfg.Hostname != "" {
		if c.hostname, err = a.cstr(cfg.Hostname, "Hostname"); err != nil {
			return nil, err
		}
	}
	if cfg.CgroupParent != "" {
		if c.cgroup_parent, err = a.cstr(cfg.CgroupParent, "CgroupParent"); err != nil {
			return nil, err
		}
	}
	if cfg.UID != nil {
		c.uid = C.uint32_t(*cfg.UID)
	}
	if cfg.GID != nil {
		c.gid = C.uint32_t(*cfg.GID)
	}
	if cfg.IDRange != nil {
		c.id_range_first = C.uint32_t(cfg.IDRange.First)
		c.id_range_count = C.uint32_t(cfg.IDRange.Count)
	}
	if cfg.UserNamespace != nil {
		c.user_namespace = cbool(*cfg.UserNamespace)
	}
	if cfg.WorkSize != 0 {
		c.work_size = C.uint64_t(cfg.WorkSize)
	}
	if cfg.TmpSize != 0 {
		c.tmp_size = C.uint64_t(cfg.TmpSize)
	}
	if cfg.SetupTimeout != 0 {
		if c.setup_timeout_ns, err = durNs(cfg.SetupTimeout, "SetupTimeout"); err != nil {
			return nil, err
		}
	}
	c.cgroup_mode = C.uint32_t(cfg.CgroupMode)
	return c, nil
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// NewPool creates a pool and its first MinIdle containers.
func NewPool(cfg PoolConfig) (*Pool, error) {
	var a arena
	defer a.free()
	c := (*C.scpool_pool_config)(a.calloc(1, C.sizeof_scpool_pool_config))
	C.scpool_pool_config_init(c)
	// 0 leaves a size to the library's rule; a negative idle count means none.
	sizes := []struct {
		n    int
		what string
	}{{cfg.MinIdle, "MinIdle"}, {cfg.MaxIdle, "MaxIdle"}, {cfg.MaxSize, "MaxSize"}}
	given := [3]C.uint32_t{}
	for i, s := range sizes {
		switch {
		case s.n < 0 && s.what == "MaxSize":
			return nil, invalidf("MaxSize is negative")
		case s.n < 0:
			given[i] = 0
		case s.n == 0:
			given[i] = C.SCPOOL_SIZE_UNSET
		default:
			v, err := count32(s.n, s.what)
			if err != nil {
				return nil, err
			}
			given[i] = v
		}
	}
	C.scpool_pool_config_set_sizes(c, given[0], given[1], given[2])
	durs := []struct {
		d    time.Duration
		dst  *C.uint64_t
		what string
	}{
		{cfg.AcquireTimeout, &c.acquire_timeout_ns, "AcquireTimeout"},
		{cfg.HealthCheckInterval, &c.health_check_interval_ns, "HealthCheckInterval"},
		{cfg.IdleTimeout, &c.idle_timeout_ns, "IdleTimeout"},
	}
	for _, d := range durs {
		if d.d != 0 {
			v, err := durNs(d.d, d.what)
			if err != nil {
				return nil, err
			}
			*d.dst = v
		}
	}
	if cfg.PingOnAcquire {
		c.ping_on_acquire = 1
	}
	cc, err := cContainerConfig(&a, &cfg.Container, cfg.Mounts)
	if err != nil {
		return nil, err
	}
	c.container = cc

	var e C.gosp_err
	var ptr *C.scpool_pool
	if C.gosp_pool_new(c, &ptr, &e) != 0 {
		return nil, takeErr(&e)
	}
	p := &Pool{ptr: ptr, acquireTimeout: time.Duration(c.acquire_timeout_ns)}
	// A safety net only: a Pool dropped without Close is freed by the GC.
	// scpool_pool_free joins threads: keep it off the runtime's cleanup goroutine.
	p.cleanup = runtime.AddCleanup(p, func(ptr *C.scpool_pool) { go C.scpool_pool_free(ptr) }, ptr)
	return p, nil
}

// Acquire hands out a container, waiting until ctx is done or the pool's
// AcquireTimeout passes, whichever is first; a wait that ends so fails with an error
// matching ErrAcquireTimeout (and ctx.Err() when ctx ended it). Give the container
// back with Release. A ctx that can end is watched through a cancel token: the C
// call returns as soon as ctx is done, without polling.
func (p *Pool) Acquire(ctx context.Context) (*Container, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := ctx.Err(); err != nil {
		return nil, ctxEnded(err)
	}
	wait := p.acquireTimeout
	ctxDeadline := false
	if d, ok := ctx.Deadline(); ok {
		if until := time.Until(d); until < wait {
			wait, ctxDeadline = max(until, 0), true
		}
	}
	c, err := p.acquireOnce(ctx, wait)
	var e *Error
	switch {
	case err == nil:
		return c, nil
	case errors.As(err, &e) && e.Code == CodeCancelled:
		return nil, ctxEnded(ctx.Err())
	case errors.Is(err, ErrAcquireTimeout) && ctxDeadline:
		err.(*Error).cause = context.DeadlineExceeded
	}
	return nil, err
}

// ctxEnded is the error of an acquire that its context ended.
func ctxEnded(cause error) error {
	return &Error{Code: CodeAcquireTimeout, Message: "acquire: " + cause.Error(), cause: cause}
}

// acquireOnce is one C acquire of up to wait, cancelled when ctx ends (if it can).
func (p *Pool) acquireOnce(ctx context.Context, wait time.Duration) (*Container, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, &Error{Code: CodePoolClosed, Message: "the pool was closed"}
	}
	var e C.gosp_err
	var ptr *C.scpool_container
	if ctx.Done() == nil {
		if C.gosp_pool_acquire(p.ptr, C.int64_t(wait), &ptr, &e) != 0 {
			return nil, takeErr(&e)
		}
		return newContainer(ptr), nil
	}
	var token *C.scpool_acquire_cancel
	if C.gosp_acquire_cancel_new(p.ptr, &token, &e) != 0 {
		return nil, takeErr(&e)
	}
	defer C.scpool_acquire_cancel_free(token)
	triggered := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.scpool_acquire_cancel_trigger(token)
		close(triggered)
	})
	rc := C.gosp_pool_acquire_cancellable(p.ptr, C.int64_t(wait), token, &ptr, &e)
	if !stop() {
		<-triggered // the trigger may still be running: free the token after it
	}
	if rc != 0 {
		return nil, takeErr(&e)
	}
	return newContainer(ptr), nil
}

// Stats reads the pool's counters.
func (p *Pool) Stats() (Stats, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return Stats{}, &Error{Code: CodePoolClosed, Message: "the pool was closed"}
	}
	var s C.scpool_pool_stats
	var e C.gosp_err
	if C.gosp_pool_stats(p.ptr, &s, &e) != 0 {
		return Stats{}, takeErr(&e)
	}
	return Stats{
		Idle: int(s.idle), InUse: int(s.in_use), Pending: int(s.pending),
		Created: uint64(s.created), Destroyed: uint64(s.destroyed), Reused: uint64(s.reused),
		Acquires: uint64(s.acquires), AcquireWaits: uint64(s.acquire_waits),
		AcquireTimeouts:    uint64(s.acquire_timeouts),
		AcquireLatencyMean: time.Duration(s.acquire_latency_mean_ns),
		AcquireLatencyMax:  time.Duration(s.acquire_latency_max_ns),
	}, nil
}

// Close closes the pool: waiting Acquires fail with ErrPoolClosed, idle containers
// are destroyed, containers still out stay usable and are destroyed when released.
// It waits for the pool's threads. Closing twice is harmless.
func (p *Pool) Close() error {
	// Wake waiters first (scpool_pool_close is safe alongside them), then take the
	// handle away once no call is in flight.
	p.mu.RLock()
	if p.ptr != nil {
		C.scpool_pool_close(p.ptr)
	}
	p.mu.RUnlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr == nil {
		return nil
	}
	p.cleanup.Stop()
	C.scpool_pool_free(p.ptr)
	p.ptr = nil
	return nil
}
