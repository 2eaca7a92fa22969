#!/bin/sh
# Option errors (issue 16): for every command of `memwarden --help`, an
# unknown long or short option, a value given to a flag and a missing value
# give exit status 2, nothing on stdout, and one line on stderr that names
# "memwarden COMMAND" and the option.
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# expect_opterr NAME WANT CMD ARGS...: WANT is a fixed string the line holds.
expect_opterr() {
    _n=$1 _w=$2; shift 2
    "$MW_BIN" "$@" >"$T/out" 2>"$T/err"; _rc=$?
    _lines=$(wc -l <"$T/err")
    if [ "$_rc" != 2 ]; then
        fail "$_n" "exit status $_rc, want 2" "$(head -3 "$T/err")"
    elif [ -s "$T/out" ]; then
        fail "$_n" "stdout is not empty: $(head -c 200 "$T/out")"
    elif [ "$_lines" != 1 ]; then
        fail "$_n" "stderr has $_lines lines, want 1:" "$(cat "$T/err")"
    elif ! grep -qF -- "memwarden $1: " "$T/err" || ! grep -qF -- "$_w" "$T/err"; then
        fail "$_n" "want 'memwarden $1:' and '$_w' in:" "$(cat "$T/err")"
    else
        ok "$_n"
    fi
}

cmds=$("$MW_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
n=0
for c in $cmds; do
    n=$((n + 1))
    expect_opterr "opterr_${c}_long" "unknown option '--no-such-option'" "$c" --no-such-option
    expect_opterr "opterr_${c}_short" "unknown option '-Q'" "$c" -Q
    expect_opterr "opterr_${c}_flag_value" "option '--help' takes no value" "$c" --help=yes
done
check() { _n=$1; shift; if "$@"; then ok "$_n"; else fail "$_n"; fi; }
check "opterr_covers_every_command ($n)" [ "$n" -ge 11 ]
expect_opterr opterr_missing_short "option '-p' needs a value" leak -p
expect_opterr opterr_missing_long "option '--interval' needs a value" slab --interval
expect_opterr opterr_missing_daemon "option '--config' needs a value" daemon --config
expect_opterr opterr_in_cluster "unknown option '-Q'" top -jQ
expect_opterr opterr_prio_sub "unknown option '--no-such-option'" prio set --no-such-option 900 1
expect_opterr opterr_root_after "unknown option '--bogus'" status --root / --bogus
