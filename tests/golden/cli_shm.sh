#!/bin/sh
# memwarden shm on fixture trees: golden outputs (MW_UPDATE_GOLDEN=1
# rewrites them after a deliberate change), text, --json and the
# --remove-orphans dry run, exit codes and messages.
#
# tests/fixtures/shm-hostile holds proc/ and etc/; its dev/shm tree is
# built here in a scratch copy: names with control characters, invalid
# UTF-8 and 200 characters, a subdirectory whose name is 200 characters
# long, a symlink and a FIFO (neither listed). The files belong to whoever
# runs the test, so the copy's etc/passwd names that uid "mwtest".
. tests/lib.sh
G=tests/golden
scratch

R=$T/root
cp -R "$FIX/shm-hostile" "$R" || { fail "shm fixture copy"; exit 0; }
rm -f "$R/README"
printf 'mwtest:x:%s:%s::/:/bin/sh\n' "$(id -u)" "$(id -g)" >>"$R/etc/passwd"
S=$R/dev/shm
mkdir -p "$S"
# mk NAME KIB: a file of KIB KiB of zeros (allocated, not sparse)
mk() { dd if=/dev/zero of="$S/$1" bs=1024 count="$2" 2>/dev/null; }
long=$(printf '%0200d' 0 | tr 0 L)
dlong=$(printf '%0200d' 0 | tr 0 D)
mk held 8
mk mapped 4
mk orphan 16
mk a 4
mk ab 4
mk "$(printf 'ctl\033[2Jname')" 4
mk "$(printf 'nl\nname')" 4
mk "$(printf 'osc\033]0;title\007')" 4
mk "$(printf 'bad\377utf8')" 4
mk "$(printf 'caf\303\251')" 4
mk "$long" 4
mkdir -p "$S/sub/deeper" "$S/$dlong"
mk sub/deep 4
mk sub/deeper/x 4
mk "$dlong/victim" 4
ln -s /etc/passwd "$S/link"
mkfifo "$S/fifo" 2>/dev/null
# Allocation is the filesystem's: the goldens assume 1 KiB of zeros takes
# two 512-byte blocks (ext4, xfs, tmpfs; not a compressing filesystem).
if [ "$(stat -c %b "$S/held")" != 16 ]; then
    skip "golden shm" "scratch filesystem allocates $(stat -c %b "$S/held") blocks for 8 KiB"
    exit 0
fi

# norm CMD...: CMD's output with the files' uid (the tester's) shown as 4005.
U=$(id -u)
norm() {
    "$@" >"$T/norm"; _nst=$?
    sed "s/\"uid\": $U,/\"uid\": 4005,/" "$T/norm"
    return $_nst
}
golden() { # NAME WANT_RC ROOT ARGS...
    _n=$1 _rc=$2 _r=$3; shift 3
    golden_run "golden $_n" "$G/$_n" "$_rc" norm env COLUMNS=40 "$MW_BIN" --root "$_r" "$@"
}
golden shm-hostile.txt 0 "$R" shm
golden shm-hostile.json 0 "$R" shm --json
golden shm-hostile-remove-dry.txt 3 "$R" shm --remove-orphans
golden shm-hostile-remove-dry-one.txt 3 "$R" shm --remove-orphans --shmid 11
golden shm-old.txt 0 tests/fixtures/shm-old shm
golden shm-old.json 0 tests/fixtures/shm-old shm --json

# Issue 26: the dry run's count is what --yes would remove. A process that
# cannot be inspected (its fd "directory" is a file) keeps every unheld
# /dev/shm file in place; the dry run said "3 orphans" for 2 segments and
# that file, where --yes removes the 2 segments only.
U2=$T/unseen
cp -R "$FIX/shm-hostile" "$U2" && rm -f "$U2/README" && mkdir -p "$U2/dev/shm" "$U2/proc/778" &&
    cp "$U2/proc/300/stat" "$U2/proc/778/" && : >"$U2/proc/778/fd" &&
    dd if=/dev/zero of="$U2/dev/shm/kept" bs=1024 count=4 2>/dev/null
"$MW_BIN" --root "$U2" shm --remove-orphans >"$T/unseen.out" 2>&1; st=$?
if [ $st = 3 ] && grep -q '^2 orphans; run again with --yes to remove them$' "$T/unseen.out" &&
    [ "$(grep -c '^would remove ' "$T/unseen.out")" = 2 ] &&
    grep -q '^left /dev/shm/kept in place: 1 process could not be inspected' "$T/unseen.out"; then
    ok "shm dry run counts what --yes removes"
else
    fail "shm dry run counts what --yes removes" "exit $st" "$(cat "$T/unseen.out")"
fi

# expect NAME STATUS PATTERN ROOT ARGS...: exit status and a word of the output
expect() {
    _n=$1 _want=$2 _pat=$3 _r=$4; shift 4
    "$MW_BIN" --root "$_r" "$@" >"$T/out" 2>"$T/err"; _st=$?
    if [ "$_st" -ne "$_want" ]; then
        fail "$_n" "exit $_st, wanted $_want: $(cat "$T/err")"
    elif [ -n "$_pat" ] && ! grep -q -- "$_pat" "$T/out" "$T/err"; then
        fail "$_n" "no '$_pat' in: $(cat "$T/out" "$T/err")"
    else
        ok "$_n"
    fi
}
expect "shm bad option" 2 "" "$R" shm --bogus
expect "shm --yes alone" 2 "go with --remove-orphans" "$R" shm --yes
expect "shm bad --shmid" 2 "shmid" "$R" shm --remove-orphans --shmid x
expect "shm --help" 0 "EXAMPLES" "$R" shm --help
expect "shm removal refused on a capture" 1 "live system only" "$R" shm --remove-orphans --yes
expect "shm unparsable sysv, no dev/shm" 1 "neither" "$FIX/shm-bad" shm
grep -q . "$T/out" && fail "shm error goes to stderr only" "$(cat "$T/out")"
# Names are cleaned in text (base/text.h): no ESC, BEL or other control byte
# reaches the terminal, whatever the file and user names hold.
for g in shm-hostile.txt shm-hostile-remove-dry.txt shm-hostile-remove-dry-one.txt; do
    check "shm text clean $g" sh -c "! LC_ALL=C grep -q '[[:cntrl:]]' '$G/$g'"
done
check "shm symlink and fifo not listed" sh -c "! grep -q -e '/link' -e '/fifo' '$G/shm-hostile.txt'"

if command -v python3 >/dev/null 2>&1; then
    check "valid json shm-old.json" python3 -m json.tool "$G/shm-old.json"
    # shm-hostile.json holds file names that are not UTF-8: the JSON writer
    # replaces invalid bytes (issue 16), so strict UTF-8 decoding must pass.
    check "valid json shm-hostile.json" python3 -c \
        'import json,sys; json.loads(open(sys.argv[1],"rb").read().decode("utf-8"))' \
        "$G/shm-hostile.json"
else
    skip "valid json" "no python3"
fi
