# Shell helpers for golden, CLI and live tests. Each test prints one line:
# "ok   NAME", "FAIL NAME" or "skip NAME: reason" (tests/run.sh counts them).
MW_BIN=${MW_BIN:-$(pwd)/memwarden}
FIX=${FIX:-$(pwd)/tests/fixtures}
ok()   { printf 'ok   %s\n' "$1"; }
fail() { printf 'FAIL %s\n' "$1"; shift; [ $# -gt 0 ] && printf '  %s\n' "$@" >&2; return 0; }
skip() { printf 'skip %s: %s\n' "$1" "$2"; }
# check NAME CMD...: ok when CMD succeeds.
check() { n=$1; shift; if "$@"; then ok "$n"; else fail "$n"; fi; }
