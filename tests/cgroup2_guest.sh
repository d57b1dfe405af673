#!/usr/bin/env bash
# Runs inside a cgroup v2 guest (see tests/cgroup2.sh): every core test executable
# listed in target/cgroup2/tests.txt, then a few CLI runs whose limits need the
# cgroup. Prints one line per executable and a total; fails when anything fails.
set -uo pipefail
cd "$(dirname "$0")/.."
export SCPOOL_EXPECT_ACCOUNTING=cgroup-v2
echo "kernel $(uname -r), cgroup $(cut -d: -f3 /proc/self/cgroup)"
passed=0 failed=0 status=0
while read -r name exe; do
    start=$SECONDS
    out=$("$exe" --test-threads=2 2>&1)
    rc=$?
    result=$(grep "^test result" <<<"$out" | tail -n 1)
    p=$(sed -n 's/.* \([0-9]*\) passed.*/\1/p' <<<"$result")
    f=$(sed -n 's/.* \([0-9]*\) failed.*/\1/p' <<<"$result")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    echo "$name: rc=$rc ${result:-no result} ($((SECONDS - start)) s)"
    if [ "$rc" -ne 0 ]; then
        status=1
        grep -E -A4 "^test .* FAILED$|panicked at" <<<"$out" | head -n 60
    fi
done < target/cgroup2/tests.txt
echo "core tests: $passed passed, $failed failed"
# The figures of a 100 MiB run and then a 10 MiB run in one container.
trust=$(awk '$1 == "trust" { print $2 }' target/cgroup2/tests.txt)
"$trust" 10_mib --nocapture 2>&1 | grep "^memory figures" || status=1

# The CLI: limits that only a cgroup enforces, and a missing parent named.
scpool=target/debug/scpool
cli() {
    local want=$1
    shift
    local json
    json=$("$scpool" run --json --cgroup required "$@" | tail -n 1)
    if grep -q "\"status\":\"$want\"" <<<"$json" && grep -q '"accounting":"cgroup-v2"' <<<"$json"; then
        echo "cli $want: ok"
    else
        echo "cli $want: FAILED: scpool run $*: $json"
        status=1
    fi
}
cli TIME_LIMIT_EXCEEDED --time-limit 0.5 -- /bin/sh -c 'while :; do :; done'
cli MEMORY_LIMIT_EXCEEDED --memory-limit 32M -- /usr/bin/python3 -c 'b = bytearray(96 << 20)'
cli OK --memory-limit 64M --process-limit 8 -- /bin/sh -c 'echo hi'
if err=$("$scpool" run --cgroup required --cgroup-parent /no-such-parent -- /bin/true 2>&1); then
    echo "cli --cgroup-parent: FAILED: a missing parent was accepted"
    status=1
elif grep -q "/no-such-parent" <<<"$err"; then
    echo "cli --cgroup-parent: ok (missing parent named)"
else
    echo "cli --cgroup-parent: FAILED: the error does not name the parent: $err"
    status=1
fi
exit $status
