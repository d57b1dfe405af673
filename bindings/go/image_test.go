package scpool

import (
	"errors"
	"strings"
	"testing"
)

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
