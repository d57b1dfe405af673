#!/usr/bin/env bash
# Runs every test suite of the project. Needs root (or a user allowed to create user
# namespaces, for the rootless tests only): the tests create real containers.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace --locked
