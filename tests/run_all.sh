#!/usr/bin/env bash
# Runs every test suite of the project. Needs root (or a user allowed to create user
# namespaces, for the rootless tests only): the tests create real containers.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== Rust: core, init, CLI, C ABI (header freshness included), examples"
cargo test --workspace --locked

echo "== C: tests/c against the installed libscpool (plain and under ASan), examples/c"
bash tests/c/run.sh

echo "== Go: bindings/go (go vet, go test) and examples/go/judge"
[ -d /usr/local/go/bin ] && PATH="/usr/local/go/bin:$PATH"
bash tests/go.sh

# --- Python (issue #6) -------------------------------------------------------------
echo "== Python: the scpool module built and installed into target/python-venv, its pytest suite (examples/python included)"
venv=$PWD/target/python-venv
bash tests/python-venv.sh # maturin and pytest in the venv (a no-op after .ci/run)
# The build backend runs the `maturin` command: it must find the venv's.
PATH="$venv/bin:$PATH" "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --no-build-isolation --no-deps --force-reinstall ./bindings/python
pytest_status=0
"$venv/bin/python" -m pytest bindings/python/tests || pytest_status=$?
if [ "$pytest_status" -eq 5 ]; then
    echo "pytest collected no tests: bindings/python/tests went missing" >&2
    exit 1
fi
[ "$pytest_status" -eq 0 ] || exit "$pytest_status"
# --- end of Python ------------------------------------------------------------------
