#!/usr/bin/env bash
# Makes the project's Python environment, target/python-venv, and installs into it what
# building and testing the Python module need: maturin (the build backend) and pytest.
# Nothing is installed into the system's Python. A no-op once they are there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'maturin>=1.9.4' pytest
