#!/usr/bin/env bash
# TokenScope set-up: installs what is missing (Debian 12), builds, then runs.
#   ./bootstrap.sh run    build and open the GUI on an embedded sample
#   ./bootstrap.sh test   build and run every test; the last line is "N passed, N failed"
#   ./bootstrap.sh build  only install and build
# Idempotent: packages already present are not touched, the build is incremental.
set -euo pipefail
cd "$(dirname "$0")"

mode=${1:-run}
shift || true
build=${TS_BUILD_DIR:-build}

packages=(
  gcc pkg-config meson ninja-build valgrind
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libepoxy-dev libcairo2-dev libstb-dev libopenblas-dev libjson-glib-dev
  xvfb xauth xdotool imagemagick x11-utils
)

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "bootstrap: installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

configure_and_build() {
  if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" --buildtype=debugoptimized
  fi
  meson compile -C "$build"
}

# Counts individual test cases (TAP lines of every GTest suite) in meson's logs.
# A suite that failed without a "not ok" line (a crash, a timeout) counts as one failure.
count_cases() {
  awk '
    FNR == 1 { if (name != "") flush(); name = "" }
    /^test:/ { if (name != "") flush(); name = $2; bad = 0; nok = 0 }
    /^result:/ { bad = ($0 !~ /exit status 0/ && $0 !~ /^result: +(ok|OK)/) }
    /^ok [0-9]/ { if ($0 ~ /# [Ss][Kk][Ii][Pp]/) skip++; else pass++ }
    /^not ok [0-9]/ { if ($0 ~ /# TODO/) pass++; else { fail++; nok++ } }
    function flush() { if (bad && nok == 0) fail++ }
    END { if (name != "") flush(); printf "%d %d %d\n", pass, fail, skip }
  ' "$@"
}

# The sanitizer build: the core and CLI suites again under AddressSanitizer
# (with LeakSanitizer) and UndefinedBehaviorSanitizer, every finding fatal.
# No GUI there, to keep it fast. TS_NO_ASAN=1 skips it.
asan_build=${TS_ASAN_BUILD_DIR:-build-asan}
run_asan_tests() {
  if [ ! -f "$asan_build/build.ninja" ]; then
    meson setup "$asan_build" --buildtype=debugoptimized -Db_sanitize=address,undefined \
      -Db_lundef=false -Dgui=disabled >/dev/null
  fi
  meson compile -C "$asan_build" >/dev/null
  ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=1:allocator_may_return_null=1 \
  LSAN_OPTIONS=suppressions="$PWD/tests/lsan.supp":print_suppressions=0 \
  UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
  OPENBLAS_NUM_THREADS=1 \
    meson test -C "$asan_build" --print-errorlogs --num-processes 2 --suite core --suite cli \
      --suite fuzz-replay "$@"
}

run_tests() {
  local status=0 counts pass fail skip logs=("$build/meson-logs/testlog.txt")
  export GDK_BACKEND=x11 GTK_A11Y=none NO_AT_BRIDGE=1
  xvfb-run -a -s "-screen 0 1600x1000x24" \
    meson test -C "$build" --print-errorlogs --num-processes 2 "$@" || status=$?
  if [ "${TS_NO_ASAN:-}" != 1 ]; then
    echo "bootstrap: sanitizer build ($asan_build: address, leak, undefined behaviour)"
    rm -f "$asan_build/meson-logs/testlog.txt"
    run_asan_tests || status=$?
    [ -f "$asan_build/meson-logs/testlog.txt" ] && logs+=("$asan_build/meson-logs/testlog.txt")
  fi
  counts=$(count_cases "${logs[@]}")
  read -r pass fail skip <<<"$counts"
  if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  if [ "$skip" -gt 0 ]; then
    echo "$pass passed, $fail failed, $skip skipped"
  else
    echo "$pass passed, $fail failed"
  fi
  [ "$fail" -eq 0 ]
}

install_missing
configure_and_build

case "$mode" in
  build) ;;
  test) run_tests "$@" ;;
  run)
    if [ -x "$build/app/tokenscope" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
      exec "$build/app/tokenscope" "$@"
    elif [ -x "$build/app/tokenscope" ] && [ "${CI:-}" != "true" ]; then
      echo "bootstrap: no display; opening the GUI under Xvfb is pointless, showing the CLI report instead"
      exec "$build/app/tokenscope-cli" report "$@"
    else
      exec "$build/app/tokenscope-cli" report "$@"
    fi
    ;;
  *) echo "usage: $0 run|test|build" >&2; exit 1 ;;
esac
