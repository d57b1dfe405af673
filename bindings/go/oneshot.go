package scpool

import (
	"context"
	"sync"
)

var (
	defaultMu   sync.Mutex
	defaultPool *Pool
)

// Run is the one-shot run: it takes a container from a default pool (created on
// first use with the library's defaults), runs param in it and releases it.
func Run(param RunParam) (*Result, error) {
	defaultMu.Lock()
	if defaultPool == nil {
		p, err := NewPool(PoolConfig{})
		if err != nil {
			defaultMu.Unlock()
			return nil, err
		}
		defaultPool = p
	}
	p := defaultPool
	defaultMu.Unlock()
	c, err := p.Acquire(context.Background())
	if err != nil {
		return nil, err
	}
	defer c.Release()
	return c.Run(param)
}

// CloseDefaultPool closes the pool Run uses, if it was made; a later Run makes a
// new one.
func CloseDefaultPool() error {
	defaultMu.Lock()
	p := defaultPool
	defaultPool = nil
	defaultMu.Unlock()
	if p == nil {
		return nil
	}
	return p.Close()
}
