#!/bin/sh
# Golden outputs of `memwarden oom` over the kernel-log fixtures of
# tests/fixtures/oom (README there: which kernel, which form, where from):
# every fixture in text, five in --json, and the exit statuses (3 events
# found, 0 none, 1 unreadable, 2 usage). MW_UPDATE_GOLDEN=1 rewrites them.
. tests/lib.sh
G=tests/golden/oom
D=tests/fixtures/oom
export TZ=UTC0 # dmesg -T and syslog times are local time
n=0
for f in "$D"/*; do
    case $f in *README*) continue ;; esac
    name=$(basename "$f")
    golden_run "oom $name" "$G/$name.txt" 3 "$MW_BIN" oom --page-size 4K "$f"
    n=$((n + 1))
done
[ $n -ge 14 ] && ok "oom: $n fixtures" || fail "oom: $n fixtures" "want at least 14 in $D"
for name in 6.1-global-swap.kmsg 4.9-global-child.kern.log 5.14-memcg-v2.journal \
    interleaved-hosts.syslog 6.18-memcg-v1.dmesg-T; do
    golden_run "oom --json $name" "$G/$name.json" 3 "$MW_BIN" oom --page-size 4K --json "$D/$name"
done
# several files are one stream, oldest first; stdin; --last
golden_run "oom two files" "$G/two-files.txt" 3 "$MW_BIN" oom --page-size 4K --last 2 \
    "$D/3.10-rhel7-loop.syslog" "$D/6.18-memcg-loop.dmesg"
out=$("$MW_BIN" oom --page-size 4K - < "$D/6.1-memcg-v2.dmesg"); st=$?
case $st:$out in 3:*"(stdin)"*"cgroup /fxapp"*) ok "oom stdin" ;; *) fail "oom stdin" "rc $st" ;; esac
# --since: dmesg's boot times are no dates (left out, counted); 2021's events are older
out=$("$MW_BIN" oom --since 24h "$D/6.1-memcg-v2.dmesg"); st=$?
case $st:$out in 0:*"OOM events: 0"*"1 without a date left out"*) ok "oom --since undated" ;;
*) fail "oom --since undated" "rc $st: $out" ;; esac
out=$("$MW_BIN" oom --since 7d --json "$D/5.4-global.journal-iso"); st=$?
case $st:$out in 0:*'"left_out_older": 1'*) ok "oom --since older" ;; *) fail "oom --since older" "rc $st" ;; esac
# a 64K-page machine's log read with 4K pages: the kill line and the row disagree
out=$("$MW_BIN" oom --page-size 64K "$D/6.1-global-swap.kmsg")
case $out in *"WARNING: the kill lines of 1 victim against their rows say 4.0 KiB pages"*)
    ok "oom page size checked against the log" ;;
*) fail "oom page size checked against the log" "$out" ;; esac
# no events: 0; unreadable: 1; usage: 2
printf 'Dec  1 00:00:00 h kernel: hello\n' > "${TMPDIR:-/tmp}/mw-oom-none.$$"
"$MW_BIN" oom "${TMPDIR:-/tmp}/mw-oom-none.$$" >/dev/null; st=$?
rm -f "${TMPDIR:-/tmp}/mw-oom-none.$$"
[ $st -eq 0 ] && ok "oom no events: exit 0" || fail "oom no events: exit 0" "rc $st"
"$MW_BIN" oom /nonexistent/kern.log >/dev/null 2>&1; st=$?
[ $st -eq 1 ] && ok "oom missing file: exit 1" || fail "oom missing file: exit 1" "rc $st"
"$MW_BIN" oom "$D" >/dev/null 2>&1; st=$?
[ $st -eq 1 ] && ok "oom directory: exit 1" || fail "oom directory: exit 1" "rc $st"
for bad in "--last 0" "--since soon" "--page-size 3000" "--bogus"; do
    # shellcheck disable=SC2086
    "$MW_BIN" oom $bad "$D/6.1-memcg-v2.dmesg" >/dev/null 2>&1; st=$?
    [ $st -eq 2 ] && ok "oom $bad: usage" || fail "oom $bad: usage" "rc $st"
done
# a captured root's dev/kmsg (a saved copy) is read as the kernel's log
R=$(mktemp -d); mkdir -p "$R/dev" "$R/proc"
cp "$D/6.18-memcg-v1.kmsg" "$R/dev/kmsg"
out=$("$MW_BIN" --root "$R" oom); st=$?
rm -rf "$R"
case $st:$out in 3:*"cgroup /mwfx-oom-20929"*) ok "oom --root: its dev/kmsg" ;; *) fail "oom --root: its dev/kmsg" "rc $st: $out" ;; esac
# analyze points to oom when it is given a kernel log
out=$("$MW_BIN" analyze "$D/6.1-memcg-v2.dmesg" 2>&1)
case $out in *"memwarden oom"*) ok "analyze points to oom" ;; *) fail "analyze points to oom" "$out" ;; esac
# doctor's "kills" check suggests a command: it is this one, and it runs
fix=$("$MW_BIN" --root "$FIX/doctor-5g6-swap98" doctor --json | sed -n 's/^ *"fix": "\(memwarden oom[^"#]*\).*/\1/p' | head -n1)
set -- $fix
if [ "$1 $2" != "memwarden oom" ]; then
    fail "doctor's kills fix is memwarden oom" "fix: '$fix'"
else
    shift 2
    "$MW_BIN" oom "$@" >/dev/null 2>"${TMPDIR:-/tmp}/mw-oom-doc.$$"; st=$?
    err=$(cat "${TMPDIR:-/tmp}/mw-oom-doc.$$"); rm -f "${TMPDIR:-/tmp}/mw-oom-doc.$$"
    if [ $st -eq 0 ] || [ $st -eq 3 ]; then
        ok "doctor's fix '$fix' runs (exit $st)"
    elif [ $st -eq 1 ] && [ "$(id -u)" != 0 ] && [ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ]; then
        case $err in *dmesg_restrict*"memwarden oom /var/log/kern.log"*)
            ok "doctor's fix '$fix' says why it cannot read (not root, dmesg_restrict)" ;;
        *) fail "doctor's fix '$fix'" "rc $st: $err" ;; esac
    else
        fail "doctor's fix '$fix'" "rc $st: $err"
    fi
fi
