#!/usr/bin/env bash
# valgrind memcheck over tokenscope-cli (meson suite 'valgrind', TAP).
# Each case must end with its normal exit status: valgrind's own status 9
# means an invalid read/write, a use of uninitialised memory or a definite
# leak. Skipped (exit 77) when valgrind is not installed.
#   tests/valgrind-cli.sh CLI SRCDIR
set -u
export OPENBLAS_NUM_THREADS=1
cli=$1
src=$2
command -v valgrind >/dev/null || { echo "1..0 # SKIP valgrind is not installed"; exit 0; }
corpus=$src/fuzz/corpus/image
bad=$src/data/bad
cases=(
  "0|report --resize pad --alpha checker $corpus/rgba.png"
  "0|report $corpus/progressive.jpg"
  "0|report --resize square --size 56 $corpus/anim.gif"
  "0|grid --resize fit --size 112 --json - $corpus/rle.tga"
  "0|report $bad/gif-dispose-previous.gif"
  "2|report --resize pad $bad/jpeg-dht-overflow.jpg"
  "2|report $bad/gif-2001-frames.gif"
)
echo "1..${#cases[@]}"
n=0
fail=0
for c in "${cases[@]}"; do
  n=$((n + 1))
  want=${c%%|*}
  args=${c#*|}
  # shellcheck disable=SC2086
  log=$(valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
        "$cli" $args 2>&1 >/dev/null)
  got=$?
  if [ "$got" -eq "$want" ]; then
    echo "ok $n - $args"
  else
    echo "not ok $n - $args (exit $got, expected $want)"
    echo "$log" | sed 's/^/# /'
    fail=1
  fi
done
exit $fail
