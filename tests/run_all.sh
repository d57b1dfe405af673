#!/usr/bin/env bash
# Runs every test suite of the project. Needs root (or a user allowed to create user
# namespaces, for the rootless tests only): the tests create real containers.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust: core, init, CLI, C ABI (header freshness included), examples"
cargo test --workspace --locked

echo "== C: tests/c against the installed libscpool (plain and under ASan), examples/c"
bash tests/c/run.sh
