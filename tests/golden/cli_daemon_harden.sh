#!/bin/sh
# Hostile input to the daemon's readers (issue 17): configs that are not
# text files, FIFOs in a captured tree, a cgroup.procs larger than any
# fixed buffer. Each case hung or silently misread before.
. tests/lib.sh
T0=cli_daemon_harden
scratch

# --check-config: a NUL byte, a directory, a FIFO and a read error are
# errors (exit 3) with a reason, never the defaults; a FIFO does not hang.
printf 'protect = *sshd*\n\000\n' >"$T/nul.conf"
mkdir "$T/dir.conf"
mkfifo "$T/fifo.conf"
config_refused() { # NAME FILE REASON
    timeout 10 "$MW_BIN" daemon --check-config "$2" >"$T/out" 2>&1
    _st=$?
    if [ $_st -eq 3 ] && grep -q "$3" "$T/out"; then ok "$1"; else fail "$1" "exit $_st" "$(cat "$T/out")"; fi
}
config_refused $T0.config_nul "$T/nul.conf" 'nul.conf: line 2: a NUL byte'
config_refused $T0.config_dir "$T/dir.conf" 'dir.conf: is a directory'
config_refused $T0.config_fifo "$T/fifo.conf" 'fifo.conf: not a regular file'
config_refused $T0.config_read_error /proc/self/mem '/proc/self/mem: Input/output error'
