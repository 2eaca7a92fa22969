#!/bin/sh
# pkg_lifecycle.sh [MEMWARDEN_DEB [LIBMWPOOL_DEV_DEB]]: the package's life
# in a real systemd machine (issue 23), run as root in a throwaway guest --
# it installs, upgrades, removes and purges memwarden there. Default debs:
# deb/memwarden_*.deb and deb/libmwpool-dev_*.deb beside the working
# directory (the distro bed's job layout). From the host:
#   make deb && make distro-script SCRIPT=tests/distro/guest/pkg_lifecycle.sh \
#       DEB=build/deb/memwarden_0.1.0_amd64.deb
# Prints "ok NAME", "FAIL NAME" (the reason on the next lines) or "skip
# NAME: reason" lines as tests/lib.sh does, and "note:" lines with what it
# measured; exits 1 when a check failed. A memwarden installed before is
# purged first (the guest is thrown away after).
#
#   1. dpkg -i: the unit is enabled and active, runs the intended command
#      line with exactly the unit's capabilities (CapEff = CapBnd = the
#      CapabilityBoundingSet= line), seccomp, no_new_privs, oom_score_adj
#      -1000, its pages locked, SCHED_FIFO, a read-only / but its state,
#      log and cgroup paths, and systemd sees its WATCHDOG=1 pings.
#   2. dpkg -i again (upgrade over itself), while a poller looks every 50 ms
#      for the daemon (a memwarden process running "daemon --foreground")
#      and dpkg's status fd says which step runs when: the old daemon guards
#      through the unpack, the only gap is the restart in postinst.
#   3. apt-get remove (dpkg -r without apt): stopped, files gone, conffile
#      kept. 4. dpkg -P: nothing of the package left.
N=pkg_lifecycle
fails=0
ok() { printf 'ok   %s\n' "$N.$1"; }
fail() {
    printf 'FAIL %s\n' "$N.$1"
    shift
    for l in "$@"; do printf '  %s\n' "$l"; done
    fails=$((fails + 1))
}
skip() { printf 'skip %s: %s\n' "$N.$1" "$2"; }
note() { printf 'note: %s\n' "$*"; }
check() { _n=$1; shift; if "$@"; then ok "$_n"; else fail "$_n"; fi; }
# wait_for SECONDS CMD...: polls every 0.1 s until CMD succeeds
wait_for() {
    _w=$(($1 * 10)); shift
    while [ $_w -gt 0 ]; do "$@" && return 0; sleep 0.1; _w=$((_w - 1)); done
    return 1
}

[ "$(id -u)" = 0 ] || { skip all "not root"; exit 0; }
[ -d /run/systemd/system ] || { skip all "systemd is not PID 1 here (live_deb covers the chroot)"; exit 0; }
DEB=${1:-$(ls deb/memwarden_*.deb 2>/dev/null | head -1)}
DEV=${2:-$(ls deb/libmwpool-dev_*.deb 2>/dev/null | head -1)}
[ -f "$DEB" ] || { skip all "no memwarden .deb (give its path, or put it in ./deb/)"; exit 0; }
DEBDIR=$(cd "$(dirname "$DEB")" && pwd)
W=$(mktemp -d /var/tmp/pkg_lifecycle.XXXXXX)
POLL=
# the logs go with the job's artifacts when the bed gives a directory ($OUT)
cleanup() {
    [ -n "$POLL" ] && kill "$POLL" 2>/dev/null && wait "$POLL" 2>/dev/null
    [ -d "${OUT:-}" ] && cp -r "$W" "$OUT/pkg_lifecycle"
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
export DEBIAN_FRONTEND=noninteractive
if dpkg-query -W -f='${Status}' memwarden 2>/dev/null | grep -q installed; then
    note "memwarden $(dpkg-query -W -f='${Version}' memwarden) was installed: purged first"
    dpkg -P memwarden >/dev/null 2>&1
fi
if dpkg-query -W -f='${Status}' libmwpool-dev 2>/dev/null | grep -q installed; then
    dpkg -P libmwpool-dev >/dev/null 2>&1
fi

# ---- 1. install ----
if [ -f "$DEV" ]; then set -- "$DEB" "$DEV"; else set -- "$DEB"; fi
if dpkg -i "$@" >"$W/install.log" 2>&1; then ok install; else fail install "$(tail -20 "$W/install.log")"; fi
dpkg -L memwarden >"$W/files"
[ -f "$DEV" ] && dpkg -L libmwpool-dev >>"$W/files"
check enabled [ "$(systemctl is-enabled memwarden.service 2>&1)" = enabled ]
active() { [ "$(systemctl is-active memwarden.service)" = active ]; }
# Type=notify: dpkg's start returns at READY=1; allow for a slow guest
if wait_for 30 active; then ok active; else
    fail active "$(systemctl status --no-pager memwarden.service 2>&1 | head -20)"
fi
mainpid() { systemctl show -p MainPID --value memwarden.service; }
PID=$(mainpid)
if [ -z "$PID" ] || [ "$PID" = 0 ] || [ ! -d "/proc/$PID" ]; then
    fail main_pid "MainPID '$PID'"
    exit 1
fi
cmd=$(tr '\0' ' ' <"/proc/$PID/cmdline")
want='/usr/bin/memwarden daemon --foreground --config /etc/memwarden.conf '
if [ "$cmd" = "$want" ]; then ok command_line; else fail command_line "runs '$cmd'" "want '$want'"; fi

# The capability mask the unit names: bit numbers from linux/capability.h.
CAPS="chown dac_override dac_read_search fowner fsetid kill setgid setuid setpcap
linux_immutable net_bind_service net_broadcast net_admin net_raw ipc_lock ipc_owner
sys_module sys_rawio sys_chroot sys_ptrace sys_pacct sys_admin sys_boot sys_nice
sys_resource sys_time sys_tty_config mknod lease audit_write audit_control setfcap
mac_override mac_admin syslog wake_alarm block_suspend audit_read perfmon bpf
checkpoint_restore"
names=$(sed -n 's/^CapabilityBoundingSet=//p' /lib/systemd/system/memwarden.service)
want_caps=$(echo "$CAPS $names" | tr ' ' '\n' | awk '
    NF == 0 { next }
    /^CAP_/ { n = tolower(substr($0, 5)); if (!(n in bit)) { print "unknown-" $0; bad = 1; exit } m += 2 ^ bit[n]; next }
    { bit[$0] = i++ }
    END { if (bad) exit 1; hi = int(m / 4294967296); printf "%08x%08x\n", hi, m - hi * 4294967296 }') # mawk: %x <= 32 bits
st=/proc/$PID/status
capeff=$(awk '/^CapEff:/ { print $2 }' "$st") capbnd=$(awk '/^CapBnd:/ { print $2 }' "$st")
note "CapabilityBoundingSet=$names -> $want_caps; CapEff $capeff CapBnd $capbnd"
check caps_effective [ "$capeff" = "$want_caps" ]
check caps_bounding [ "$capbnd" = "$want_caps" ]
check no_new_privs grep -q '^NoNewPrivs:[[:space:]]*1$' "$st"
check seccomp grep -q '^Seccomp:[[:space:]]*2$' "$st"
check oom_score_adj [ "$(cat "/proc/$PID/oom_score_adj")" = -1000 ]
vmlck=$(awk '/^VmLck:/ { print $2 }' "$st")
note "VmLck ${vmlck} kB, VmRSS $(awk '/^VmRSS:/ { print $2 }' "$st") kB"
check pages_locked [ "${vmlck:-0}" -gt 0 ]
# field 41 of stat, after the command name's closing parenthesis: policy
policy=$(sed 's/.*) //' "/proc/$PID/stat" | awk '{ print $39 }')
check sched_fifo [ "$policy" = 1 ]
# the sandbox, seen from inside: / read-only; state, log and cgroup writable
mnt() { awk -v p="$1" '$5 == p { split($6, o, ","); print o[1] }' "/proc/$PID/mountinfo" | tail -1; }
check root_read_only [ "$(mnt /)" = ro ]
for p in /run/memwarden /var/log/memwarden /sys/fs/cgroup; do
    n=$(echo "$p" | tr / _)
    check "writable$n" [ "$(mnt "$p")" = rw ]
done
check state_file [ -s /run/memwarden/state.json ]
# why CAP_DAC_OVERRIDE: cgroup.kill inside a user's delegated subtree is
# the user's file
ck=$(find /sys/fs/cgroup/user.slice -mindepth 4 -name cgroup.kill 2>/dev/null | head -1)
[ -n "$ck" ] && note "$(stat -c '%U %a' "$ck") $ck"
# what the daemon says at start when a capability or a limit is missing
journalctl -b -u memwarden.service --no-pager -o cat >"$W/journal" 2>&1
check journal_started grep -q 'started: whole machine' "$W/journal"
if grep -E 'mlockall:|cannot set own oom_score_adj|SCHED_FIFO refused|kernel refused a|sd_notify' "$W/journal" >"$W/complaints"; then
    fail nothing_refused "$(head -5 "$W/complaints")"
else
    ok nothing_refused
fi
# WatchdogSec=: systemd stamps every WATCHDOG=1; a second stamp within the
# timeout shows the pings repeat (every half WatchdogSec)
wd() { systemctl show -p WatchdogTimestampMonotonic --value memwarden.service; }
check watchdog_armed [ "$(systemctl show -p WatchdogUSec --value memwarden.service)" != 0 ]
w1=$(wd)
if wait_for 35 sh -c '[ "$(systemctl show -p WatchdogTimestampMonotonic --value memwarden.service)" != "$1" ]' sh "$w1"; then
    w2=$(wd)
    note "WATCHDOG=1 pings $(( (w2 - w1) / 1000 )) ms apart (WatchdogSec $(systemctl show -p WatchdogUSec --value memwarden.service))"
    ok watchdog_pings
else
    fail watchdog_pings "WatchdogTimestamp stayed at '$w1' for 35 s"
fi
check no_restarts [ "$(systemctl show -p NRestarts --value memwarden.service)" = 0 ]

# ---- 2. upgrade over itself, watched ----
# up: 1 when the unit's cgroup holds a "memwarden daemon --foreground"
# (ExecStartPre or a hook is not a guardian). Shell builtins only (dash's
# read drops the NULs of cmdline), one sleep a turn: a pidof poller forked
# too much to look more often than every 290 ms under TCG.
CG=/sys/fs/cgroup$(systemctl show -p ControlGroup --value memwarden.service)/cgroup.procs
poll() {
    while [ ! -e "$W/stop" ]; do
        up=0
        if [ -r "$CG" ]; then
            while read -r p; do
                c=
                read -r c <"/proc/$p/cmdline" 2>/dev/null
                case $c in *memwardendaemon--foreground*) up=1 ;; esac
            done <"$CG" 2>/dev/null
        fi
        read -r t _ </proc/uptime
        echo "$t $up"
        sleep 0.05
    done >"$W/poll"
}
poll &
POLL=$!
wait_for 5 test -s "$W/poll"
# dpkg's steps, stamped with the same clock as the poller
dpkg --status-fd 3 -i "$DEB" 3>&1 >"$W/upgrade.log" 2>&1 |
    while read -r l; do echo "$(cut -d' ' -f1 /proc/uptime) $l"; done >"$W/status"
sleep 0.3
touch "$W/stop"
wait "$POLL"
POLL=
check upgrade_installed [ "$(dpkg-query -W -f='${Status}' memwarden)" = "install ok installed" ]
check upgrade_active active
NEWPID=$(mainpid)
check upgrade_restarted [ "$NEWPID" != "$PID" ]
check upgrade_no_crash_restarts [ "$(systemctl show -p NRestarts --value memwarden.service)" = 0 ]
# the gaps: runs of samples with no daemon, from the first such sample to
# the next one that sees it again
sed 's/^/  status /' "$W/status" >"$W/steps"
# dpkg marks the package half-configured for the old prerm too: postinst is
# the half-configured after unpacked
t_unpack=$(awk '/status: memwarden: half-installed/ { print $1; exit }' "$W/status")
t_conf=$(awk '/status: memwarden: unpacked/ { u = 1 } u && /status: memwarden: half-configured/ { print $1; exit }' "$W/status")
t_done=$(awk '/status: memwarden: installed/ { t = $1 } END { print t }' "$W/status")
awk -v tu="${t_unpack:-0}" -v tc="${t_conf:-0}" '
    NR == 1 { first = $1 }
    { n++; last = $1 }
    $2 == 0 && !down { down = 1; from = $1 }
    $2 == 1 && down { down = 0; gaps++; g = $1 - from; if (g > max) max = g
                      if (from < tc) early++ }
    END { if (down) { gaps++; early += 0 }
          printf "%d %.0f %d %.0f %d\n", gaps, max * 1000, early, (last - first) * 1000 / (n > 1 ? n - 1 : 1), down }
' "$W/poll" >"$W/gaps"
read -r gaps max_ms early every_ms still_down <"$W/gaps"
note "upgrade: unpack at ${t_unpack} s, postinst at ${t_conf} s, done at ${t_done} s (uptime); daemon polled every ${every_ms} ms; $gaps gap(s), the longest ${max_ms} ms"
check upgrade_steps_seen sh -c '[ -n "$1" ] && [ -n "$2" ]' sh "$t_unpack" "$t_conf"
if [ "$early" = 0 ] && [ "$still_down" = 0 ]; then
    ok upgrade_guarded_through_unpack
else
    fail upgrade_guarded_through_unpack "a gap began before postinst ($early) or never ended ($still_down)" \
        "$(cat "$W/steps")"
fi
if [ "$gaps" -le 1 ]; then ok upgrade_one_restart_gap; else
    fail upgrade_one_restart_gap "$gaps gaps: $(awk '$2 == 0' "$W/poll" | head -10 | tr '\n' ' ')"
fi

# ---- 3. remove ----
if command -v apt-get >/dev/null 2>&1; then
    apt-get remove -y -q memwarden >"$W/remove.log" 2>&1
else
    dpkg -r memwarden >"$W/remove.log" 2>&1
fi
[ -f "$DEV" ] && dpkg -r libmwpool-dev >>"$W/remove.log" 2>&1
check remove_config_files [ "$(dpkg-query -W -f='${Status}' memwarden)" = "deinstall ok config-files" ]
check remove_stopped sh -c '! systemctl -q is-active memwarden.service'
check remove_no_daemon sh -c '! pidof memwarden >/dev/null'
check remove_runtime_dir_gone [ ! -e /run/memwarden ]
check remove_files_gone sh -c '[ ! -e /usr/bin/memwarden ] && [ ! -e /lib/systemd/system/memwarden.service ]'
check remove_keeps_conffile [ -f /etc/memwarden.conf ]

# ---- 4. purge ----
dpkg -P memwarden >"$W/purge.log" 2>&1
[ -f "$DEV" ] && dpkg -P libmwpool-dev >>"$W/purge.log" 2>&1
check purge_forgotten [ -z "$(dpkg-query -W -f='${Status}' memwarden 2>/dev/null)" ]
systemctl daemon-reload
check purge_unit_unknown sh -c '[ -z "$(systemctl list-unit-files --no-legend memwarden.service)" ]'
left=
for p in /etc/memwarden.conf /etc/memwarden.conf.dpkg-dist /etc/memwarden.conf.dpkg-old \
    /var/lib/memwarden /var/log/memwarden /run/memwarden \
    /etc/systemd/system/multi-user.target.wants/memwarden.service; do
    [ -e "$p" ] || [ -L "$p" ] && left="$left $p"
done
# every path the packages had (dpkg -L): gone, or a directory another
# package owns
while read -r p; do
    [ "$p" = /. ] && continue
    [ -e "$p" ] || continue
    [ -d "$p" ] && dpkg -S "$p" >/dev/null 2>&1 && continue
    left="$left $p"
done <"$W/files"
# and no other file of that name anywhere (but the debs brought in)
find / -xdev \( -path /proc -o -path /sys -o -path "$W" -o -path "$DEBDIR" \) -prune -o \
    -name '*memwarden*' -print 2>/dev/null | grep -v '\.deb$' >"$W/named"
left="$left $(tr '\n' ' ' <"$W/named")"
left=$(echo $left)
if [ -z "$left" ]; then ok purge_leaves_nothing; else fail purge_leaves_nothing "left:$left"; fi
[ $fails -eq 0 ]
