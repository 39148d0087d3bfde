#!/usr/bin/env bash
# Builds and runs one libFuzzer target for a given time.
#   tests/fuzz/run-fuzz.sh TARGET [SECONDS] [extra libFuzzer flags...]
#   TARGET: image | gif | npy | settings        SECONDS: default 60
# Builds with clang -fsanitize=fuzzer,address,undefined into build-fuzz/ (the
# core and the stb decoders instrumented, see stb-impl.c), runs on a scratch
# copy of tests/fuzz/corpus/TARGET (new inputs land in build-fuzz/corpus-TARGET;
# merge interesting ones back with -merge=1 by hand), writes crashes to
# build-fuzz/crashes/TARGET/ and prints the final libFuzzer statistics.
# Environment: FUZZ_JOBS (default 1), CC (default clang), TS_FUZZ_BUILD_ONLY=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
target=${1:?usage: run-fuzz.sh TARGET [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
shift; shift || true
src="$here/fuzz-$target.c"
[ -f "$src" ] || { echo "run-fuzz.sh: no target '$target' ($src)" >&2; exit 1; }

cc=${CC:-clang}
out="$root/build-fuzz"
mkdir -p "$out/obj" "$out/crashes/$target" "$out/corpus-$target"
pkgs="glib-2.0 gio-2.0 json-glib-1.0 openblas stb"
cflags=(-g -O1 -std=c11 -D_GNU_SOURCE -DPACKAGE_VERSION=\"fuzz\" -DG_LOG_DOMAIN=\"TokenScope\"
        -DGLIB_VERSION_MIN_REQUIRED=GLIB_VERSION_2_74 -fno-omit-frame-pointer
        -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
        -I"$root/core" -I"$here" $(pkg-config --cflags $pkgs))

# compile what changed (one object per source, newer-than check)
objs=()
for c in "$root"/core/*.c "$here/stb-impl.c"; do
  o="$out/obj/$(basename "${c%.c}").o"
  if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ -n "$(find "$root/core" -name '*.h' -newer "$o" | head -1)" ]; then
    "$cc" "${cflags[@]}" -c "$c" -o "$o"
  fi
  objs+=("$o")
done
bin="$out/fuzz-$target"
libs=$(pkg-config --libs $pkgs | sed 's/-lstb//')
"$cc" "${cflags[@]}" -fsanitize=fuzzer "$src" "${objs[@]}" $libs -lm -o "$bin"
[ "${TS_FUZZ_BUILD_ONLY:-}" = 1 ] && { echo "built $bin"; exit 0; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export OPENBLAS_NUM_THREADS=1
dict=()
[ -f "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
cd "$out"
exec "$bin" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix="$out/crashes/$target/" "${dict[@]}" "$@" \
  "$out/corpus-$target" "$here/corpus/$target"
