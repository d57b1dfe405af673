#!/usr/bin/env bash
# Builds libscpool into target/prefix, compiles the C tests against the installed
# header with -Wall -Wextra -Werror, runs them, runs them again under AddressSanitizer
# (leaks included), checks the header compiles as C++, and builds and runs the C
# examples: the README's quickstart linked dynamically and statically (with the
# README's commands), the judge statically. Needs root (real containers).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
prefix=$root/target/prefix
out=$root/target/c-tests
mkdir -p "$out/progs"

make -s -C ffi install PREFIX="$prefix"
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export LD_LIBRARY_PATH=$prefix/lib

for p in hostile_hello hostile_memory hostile_forkbomb hostile_sys hostile_exec; do
    cc -O2 -static -Wall -o "$out/progs/$p" "tests/progs/$p.c"
done

warn=(-std=c11 -Wall -Wextra -Werror -Wpedantic -Wshadow -Wstrict-prototypes)
cflags=$(pkg-config --cflags scpool)
libs=$(pkg-config --libs scpool)

echo "== C tests"
cc "${warn[@]}" -O1 -g $cflags tests/c/test_scpool.c $libs -pthread -o "$out/test_scpool"
"$out/test_scpool" "$out/progs"

echo "== C tests under AddressSanitizer and LeakSanitizer"
cc "${warn[@]}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer $cflags \
    tests/c/test_scpool.c $libs -pthread -o "$out/test_scpool_asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23 \
    UBSAN_OPTIONS=halt_on_error=1 "$out/test_scpool_asan" "$out/progs"

echo "== the header as C++"
echo '#include <scpool.h>' | c++ -std=c++17 -Wall -Wextra -Werror -x c++ -fsyntax-only $cflags -

# The README's static link line, for the quickstart and the judge.
static_link() {
    cc "${warn[@]}" -O2 "$1" $cflags $(pkg-config --libs-only-L scpool) \
        -Wl,-Bstatic -lscpool -Wl,-Bdynamic \
        $(pkg-config --static --libs-only-l scpool | sed 's/-lscpool//') -o "$2"
}

echo "== examples/c/quickstart.c (the README's), linked dynamically and statically"
cc "${warn[@]}" -O2 examples/c/quickstart.c $cflags $libs -o "$out/quickstart"
"$out/quickstart"
static_link examples/c/quickstart.c "$out/quickstart-static"
if readelf -d "$out/quickstart-static" | grep -q 'libscpool'; then
    echo "quickstart-static needs libscpool.so" >&2
    exit 1
fi
env -u LD_LIBRARY_PATH "$out/quickstart-static"

echo "== examples/c/judge.c, linked statically against libscpool.a"
static_link examples/c/judge.c "$out/judge"
env -u LD_LIBRARY_PATH "$out/judge"
# A wrong solution is judged, not accepted: /bin/true writes nothing.
if env -u LD_LIBRARY_PATH "$out/judge" /bin/true >"$out/judge-wrong.txt"; then
    echo "the judge accepted /bin/true" >&2
    exit 1
fi
grep -q '^1 *WA' "$out/judge-wrong.txt" && grep -q '^3 *AC' "$out/judge-wrong.txt"
echo "C tests: all passed"
