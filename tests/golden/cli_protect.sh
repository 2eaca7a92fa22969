#!/bin/sh
# protect patterns: a name match is forged by a process that calls itself
# sshd (tests/fixtures/protect-spoof: PID 5001 runs /usr/bin/bash as uid
# 65534 with the command line "/usr/sbin/sshd -D"; 5002 is the real sshd
# (the heaviest and youngest: it dies unless protected),
# root, in ssh.service; 5003 a root postgres). The trusted forms protect
# only the real one; a name match draws a warning at load.
. tests/lib.sh
T=cli_protect
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
F="$FIX/protect-spoof"
once() { printf '%s\n' "$1" >"$TMP/c.conf"; "$MW_BIN" --root "$F" daemon --choose-once --config "$TMP/c.conf" >"$TMP/out" 2>"$TMP/err"; }

once 'protect = *sshd*'
check $T.name_match_is_forged grep -q '^victim pid=5003 ' "$TMP/out"
check $T.name_match_warns grep -q "warning: protect = \*sshd\*: a name match" "$TMP/err"
once 'protect = exe:/usr/sbin/sshd uid:0'
check $T.exe_uid_spares_only_the_real_sshd grep -q '^victim pid=5001 uid=65534 ' "$TMP/out"
check $T.trusted_no_warning [ ! -s "$TMP/err" ]
once 'protect = unit:ssh.service'
check $T.unit_spares_only_the_real_sshd grep -q '^victim pid=5001 ' "$TMP/out"
once 'protect = exe:/usr/sbin/sshd'
check $T.exe_alone_warns grep -q "without uid:, unit: or cgroup:" "$TMP/err"
once 'protect = uid:0'
check $T.uid_alone grep -q '^victim pid=5001 ' "$TMP/out"
printf 'protect = exe:/usr/sbin/sshd uid:root\n' >"$TMP/bad.conf"
"$MW_BIN" daemon --check-config "$TMP/bad.conf" >"$TMP/out" 2>&1
check $T.bad_uid_refused [ $? -eq 3 ]
check $T.bad_uid_says_why grep -q "uid: takes a number" "$TMP/out"
"$MW_BIN" daemon --check-config contrib/memwarden.conf >"$TMP/out" 2>"$TMP/err"; st=$?
check $T.shipped_config_is_trusted test "$st" -eq 0 -a ! -s "$TMP/err"
