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
# scratch: T, a temporary directory, and PIDS, the processes the test
# starts (append "$!" to it); at exit, also on INT/TERM, the processes are
# ended with stop_pids and the directory removed.
scratch() {
    T=$(mktemp -d)
    PIDS=
    trap 'stop_pids $PIDS; rm -rf "$T"' EXIT
    trap 'exit 1' INT TERM
}
# golden_run NAME GOLDEN WANT_RC CMD...: runs CMD; ok NAME when it exits
# with WANT_RC and its stdout equals the file GOLDEN, else FAIL with the
# diff and CMD's stderr. MW_UPDATE_GOLDEN=1 (any value but 0) first
# rewrites GOLDEN with the output, after a deliberate change.
golden_run() {
    _g_name=$1 _g_file=$2 _g_want=$3; shift 3
    _g_out=$(mktemp) _g_err=$(mktemp)
    "$@" >"$_g_out" 2>"$_g_err"; _g_rc=$?
    case ${MW_UPDATE_GOLDEN:-0} in 0) ;; *) cp "$_g_out" "$_g_file" ;; esac
    if [ "$_g_rc" != "$_g_want" ]; then
        fail "$_g_name" "exit status $_g_rc, want $_g_want" "$(head -20 "$_g_err")"
    elif ! cmp -s "$_g_out" "$_g_file"; then
        fail "$_g_name" "stdout differs from $_g_file:" "$(diff "$_g_file" "$_g_out" | head -20)"
    else
        ok "$_g_name"
    fi
    rm -f "$_g_out" "$_g_err"
}
# check NAME CMD...: ok when CMD succeeds.
check() { n=$1; shift; if "$@"; then ok "$n"; else fail "$n"; fi; }
