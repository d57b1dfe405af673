#!/usr/bin/env bash
# The core test suite and the CLI's limits on pure cgroup v2 kernels, each in a
# throw-away QEMU guest (cgroup2-vm.sh, beside the checkout in shared/tools):
#   bookworm (6.1)  from a nested delegated cgroup, /test/shell: the host's cgroup
#                   holds processes, so scpool moves them to a leaf (scpool-host);
#                   memory.peak cannot be reset, so each run gets a leaf cgroup
#   trixie (6.12)   from the root cgroup, memory.peak reset per run
# Usage: bash tests/cgroup2.sh [SUITE:CGROUP ...]   (e.g. bullseye:/ for 5.10)
# Exit status: 0 when every guest passed.
set -euo pipefail
cd "$(dirname "$0")/.."
vm=${CGROUP2_VM:-../shared/tools/cgroup2-vm.sh}
[ -f "$vm" ] || { echo "cgroup2: $vm not found" >&2; exit 1; }
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(bookworm:/test/shell trixie:/)

# Built here: the guest only runs them (it emulates, and builds would be slow).
cargo build --locked -p scpool-cli
mkdir -p target/cgroup2
cargo test --locked -p scpool-core --no-run --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["target"]["name"], m["executable"])
' > target/cgroup2/tests.txt
[ -s target/cgroup2/tests.txt ] || { echo "cgroup2: no test executables" >&2; exit 1; }

status=0
for config in "${configs[@]}"; do
    suite=${config%%:*} cgroup=${config#*:}
    echo "== cgroup v2 guest: Debian $suite kernel, from cgroup $cgroup"
    start=$SECONDS
    guest() {
        bash "$vm" --debian-kernel "$suite" --cgroup "$cgroup" --cpus 2 --timeout 2400 . \
            -- bash tests/cgroup2_guest.sh
    }
    # 125: the guest never finished the command because its kernel died. On
    # 2026-12-01 the emulated (TCG) 6.12 kernel died in three of six starts, each time
    # somewhere else (a page allocation, the scheduler's idle loop, an interrupt during
    # sendfile), each time between or inside passing test files, and the guest passed
    # when started again. So up to three starts; a crash the tests cause comes back
    # every time and fails.
    rc=0
    guest || rc=$?
    for again in 2 3; do
        [ "$rc" -eq 125 ] || break
        echo "== $suite $cgroup: the guest died before the command ended; start $again of 3"
        rc=0
        guest || rc=$?
    done
    if [ "$rc" -eq 0 ]; then
        echo "== $suite $cgroup: passed ($((SECONDS - start)) s)"
    else
        echo "== $suite $cgroup: FAILED ($((SECONDS - start)) s)"
        status=1
    fi
done
exit $status
