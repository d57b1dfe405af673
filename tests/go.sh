#!/usr/bin/env bash
# The Go part: installs the C library into target/prefix, then vets and tests the Go
# binding (real containers: run as root) and builds and runs the Go judge example.
# Needs no network: the binding and the example use the standard library only.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

make -C ffi install PREFIX="$root/target/prefix" >/dev/null

export PKG_CONFIG_PATH="$root/target/prefix/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export LD_LIBRARY_PATH="$root/target/prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off CGO_ENABLED=1

unformatted=$(gofmt -l bindings/go examples/go)
if [ -n "$unformatted" ]; then
	echo "gofmt: not formatted: $unformatted" >&2
	exit 1
fi

(cd bindings/go && go vet ./... && go test -count=1 ./...)

bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd examples/go/judge && go vet ./... && go build -o "$bin/judge" .)
out=$("$bin/judge")
echo "$out"
# The default solution passes every built-in case.
grep -q '^4/4 accepted' <<<"$out"
echo "go: ok"
