package scpool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// busyboxLayer is one image layer made by hand: busybox as /bin/sh and a file in a
// directory every program may write to.
func busyboxLayer(t *testing.T) string {
	t.Helper()
	layer := t.TempDir()
	for _, dir := range []string{"bin", "data"} {
		if err := os.Mkdir(filepath.Join(layer, dir), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(filepath.Join(layer, "data"), 0o777); err != nil {
		t.Fatal(err)
	}
	busybox, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skipf("no static busybox to build a layer from: %v", err)
	}
	if err := os.WriteFile(filepath.Join(layer, "bin/busybox"), busybox, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, applet := range []string{"sh", "cat"} {
		if err := os.Symlink("busybox", filepath.Join(layer, "bin", applet)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(layer, "data/f"), []byte("image\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(layer, "data/f"), 0o666); err != nil {
		t.Fatal(err)
	}
	return layer
}

func TestImageLayers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the layer's files must be owned by an id the container maps")
	}
	userns := false
	cfg := Size(1)
	cfg.Container = ContainerConfig{
		ImageLayers:          []string{busyboxLayer(t)},
		ReplaceDefaultMounts: true,
		RootSize:             1 << 20,
		UserNamespace:        &userns,
	}
	p, err := NewPool(cfg)
	if err != nil {
		t.Fatalf("NewPool on image layers: %v", err)
	}
	defer p.Close()
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	r := run(t, c, RunParam{Args: []string{"/bin/sh", "-c", "cat /data/f; echo changed > /data/f; cat /data/f"}})
	if r.Status != StatusOK || string(r.Stdout) != "image\nchanged\n" {
		t.Fatalf("first run: %s", show(r))
	}
	c.Release()
	// The next borrower sees the image as it was.
	c = acquire(t, p)
	r = run(t, c, RunParam{Args: []string{"/bin/cat", "/data/f"}})
	if r.Status != StatusOK || string(r.Stdout) != "image\n" {
		t.Fatalf("after reset: %s", show(r))
	}

	_, err = NewPool(PoolConfig{Container: ContainerConfig{ImageLayers: []string{"relative"}}})
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("a relative layer: %v", err)
	}
}

// An image name is looked up in the default image store ($SCPOOL_STORE here, an
// empty temporary directory): an unknown one fails naming it, a malformed one as
// an invalid argument too.
func TestImageNameIsResolvedInTheStore(t *testing.T) {
	t.Setenv("SCPOOL_STORE", t.TempDir())
	_, err := NewContainer(ContainerConfig{Image: "gcc:13"})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "no image named gcc:13 in the store") {
		t.Fatalf("unknown image: got %v", err)
	}
	_, err = NewContainer(ContainerConfig{Image: "Not A Name"})
	if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "invalid image name") {
		t.Fatalf("malformed name: got %v", err)
	}
}
