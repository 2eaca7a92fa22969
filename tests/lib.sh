# Shell helpers for golden, CLI and live tests. Each test prints one line:
# "ok   NAME", "FAIL NAME" or "skip NAME: reason" (tests/run.sh counts them).
MW_BIN=${MW_BIN:-$(pwd)/memwarden}
FIX=${FIX:-$(pwd)/tests/fixtures}
ok()   { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@" >&2; return 0; }
skip() { printf 'skip %s: %s\n' "$1" "$2"; }
# stop_pids [-SIGNAL] PID...: ends the processes this test started, by the
# PIDs it recorded (never by name), SIGTERM unless told, and reaps them.
# (sh has no locals: the _sp_ names keep off the callers' variables.)
stop_pids() {
    _sp_sig=-TERM
    case $1 in -*) _sp_sig=$1; shift ;; esac
    for _sp_p in "$@"; do kill "$_sp_sig" "$_sp_p" 2>/dev/null; done
    for _sp_p in "$@"; do wait "$_sp_p" 2>/dev/null; done
}
# check NAME CMD...: ok when CMD succeeds.
check() { n=$1; shift; if "$@"; then ok "$n"; else fail "$n"; fi; }
