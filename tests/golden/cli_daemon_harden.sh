#!/bin/sh
# Hostile input to the daemon's readers (issue 17): configs that are not
# text files, FIFOs in a captured tree, a cgroup.procs larger than any
# fixed buffer. Each case hung or silently misread before.
. tests/lib.sh
T0=cli_daemon_harden
scratch

# --check-config: a NUL byte (the text: exit 3), a directory, a FIFO and a
# read error (the file: exit 1) are errors with a reason, never the
# defaults; a FIFO does not hang.
printf 'protect = *sshd*\n\000\n' >"$T/nul.conf"
mkdir "$T/dir.conf"
mkfifo "$T/fifo.conf"
config_refused() { # NAME FILE EXIT REASON
    timeout 10 "$MW_BIN" daemon --check-config "$2" >"$T/out" 2>&1
    _st=$?
    if [ $_st -eq "$3" ] && grep -q "$4" "$T/out"; then ok "$1"; else fail "$1" "exit $_st" "$(cat "$T/out")"; fi
}
config_refused $T0.config_nul "$T/nul.conf" 3 'nul.conf: line 2: a NUL byte'
config_refused $T0.config_dir "$T/dir.conf" 1 'dir.conf: is a directory'
config_refused $T0.config_fifo "$T/fifo.conf" 1 'fifo.conf: not a regular file'
config_refused $T0.config_read_error /proc/self/mem 1 '/proc/self/mem: Input/output error'

# Scope mode read cgroup.procs into 64 KiB and took the cut last number as
# a PID: member 40051234 straddles byte 65535, so its head "4005" (a
# process outside the cgroup) became the victim. Every number in the file
# is read, and only whole numbers are PIDs.
R="$T/root"
mkdir -p "$R"
cp -r "$FIX/daemon-procs/." "$R/"
cp -r "$FIX/daemon-scope-v1/sys" "$R/"
fake_proc() { # NEWPID: a copy of proc/4302 (adj 900) under a new PID
    mkdir "$R/proc/$1"
    cp "$R/proc/4302/"* "$R/proc/$1/"
    sed -i "s/^4302 /$1 /" "$R/proc/$1/stat"
    sed -i "s/^\(Tgid\|Pid\):\t4302/\1:\t$1/" "$R/proc/$1/status"
}
fake_proc 4005
fake_proc 40051234
# 8191 lines of "1000000\n" (PIDs absent from the tree) are 65528 bytes,
# "12\n" brings it to 65531: "40051234" then fills bytes 65531..65538.
awk 'BEGIN { for (i = 0; i < 8191; i++) print 1000000; print 12; print 40051234;
             for (i = 0; i < 2000; i++) print 2000000 }' >"$R/sys/fs/cgroup/memory/app/cgroup.procs"
timeout 20 "$MW_BIN" --root "$R" daemon --choose-once --scope /sys/fs/cgroup/memory/app >"$T/out" 2>&1
check $T0.scope_procs_straddle grep -q "^victim pid=40051234 " "$T/out"
check $T0.scope_procs_all_read grep -q '^scanned 10193 processes' "$T/out"

# A FIFO in a captured tree hung `status` for ever; now it is an error.
F="$T/fifo-root"
mkdir -p "$F"
cp -r "$FIX/daemon-procs/." "$F/"
rm "$F/proc/meminfo"
mkfifo "$F/proc/meminfo"
timeout 10 "$MW_BIN" --root "$F" status >"$T/out" 2>&1
st=$?
check $T0.root_fifo_status_no_hang [ $st -ne 124 -a $st -ne 0 ]
# ... that says what is wrong with the file (not libc's "File descriptor in bad state")
check $T0.root_fifo_status_says_why grep -q 'meminfo: not a regular file' "$T/out"

# --choose-once printed the victim's name raw (issue 24): a process named
# with ESC[2J, a newline and a byte that is not UTF-8 reached root's
# terminal. Text goes through the one sanitiser (base/text.c: each becomes
# '?'); JSON escapes the same bytes.
N="$T/name-root"
mkdir -p "$N"
cp -r "$FIX/daemon-procs/." "$N/"
printf '4303 (ev\033[2Jil\n\377x) S 1 4303 4303 0 -1 4194560 120 0 0 0 5 3 0 0 20 0 1 0 6000 5459968 1000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n' \
    >"$N/proc/4303/stat"
sed -i "1s/.*/Name:\tev\\\\033[2Jil\\\\n\\\\377x/" "$N/proc/4303/status"
timeout 10 "$MW_BIN" --root "$N" daemon --choose-once >"$T/out" 2>&1
check $T0.choose_once_name_clean grep -q '^victim pid=4303 .* prog=ev?\[2Jil??x rss=' "$T/out"
check $T0.choose_once_no_escape sh -c '! grep -q "$(printf "\033")" "$1"' sh "$T/out"
timeout 10 "$MW_BIN" --root "$N" daemon --choose-once --json >"$T/out" 2>&1
check $T0.choose_once_name_json grep -q '"prog":"ev\\u001b\[2Jil\\n\\ufffdx"' "$T/out"
