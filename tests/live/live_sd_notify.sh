#!/bin/sh
# Live: the daemon (--dry-run: it kills nothing) under a stand-in for
# systemd's notify socket with WatchdogSec=2s: READY=1 first, then WATCHDOG=1
# once a second (half the timeout), never two seconds apart -- the gap after
# which systemd would kill and restart it -- and never faster than the period.
. tests/lib.sh
N=sd_notify
command -v python3 >/dev/null 2>&1 || { skip $N "python3 missing (the notify socket's listener)"; exit 0; }
scratch
# A pipe closed on the output (| head) ends the script too: clean up then.
# The listener and the daemon also end on their own after 120 s, should
# this script die unclean (they hold the lock's descriptor, as children of
# flock: a leftover pair once held /tmp/mw-live.lock for 45 minutes).
trap 'exit 1' INT TERM HUP PIPE
cat >"$T/listen.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(5)
end = time.monotonic() + 120
with open(sys.argv[2], "w", buffering=1) as f:
    while time.monotonic() < end:
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        for m in data.decode(errors="replace").split("\n"):
            f.write("%.3f %s\n" % (time.monotonic(), m))
PY
python3 "$T/listen.py" "$T/notify" "$T/got" &
PIDS="$PIDS $!"
wait_for 10 test -S "$T/notify" || { fail $N.listener "no socket at $T/notify"; exit 0; }
printf '[killer]\nrealtime = false\n' >"$T/c.conf"
# WATCHDOG_PID: systemd names the main pid; exec keeps it the daemon's
# (timeout's child)
NOTIFY_SOCKET="$T/notify" WATCHDOG_USEC=2000000 timeout 120 sh -c 'WATCHDOG_PID=$$ exec "$@"' sh \
    "$MW_BIN" daemon --foreground --dry-run --config "$T/c.conf" --state-file "$T/state.json" \
    2>"$T/log" &
PIDS="$PIDS $!"
pings() { grep -c ' WATCHDOG=1$' "$T/got"; }
if wait_for 20 sh -c '[ "$(grep -c " WATCHDOG=1$" "$1")" -ge 5 ]' sh "$T/got"; then
    ok $N.pings_arrive
else
    fail $N.pings_arrive "$(pings) WATCHDOG=1 in 20 s" "$(cat "$T/got")" "$(tail -5 "$T/log")"
fi
check $N.ready_first sh -c 'head -1 "$1" | grep -q " READY=1$"' sh "$T/got"
gaps=$(awk '/ WATCHDOG=1$/ { if (n++) { g = $1 - t; if (g > max) max = g; if (!min || g < min) min = g } t = $1 }
            END { printf "%.3f %.3f\n", min, max }' "$T/got")
set -- $gaps
if awk -v min="$1" -v max="$2" 'BEGIN { exit !(max < 2.0 && min >= 0.95) }'; then
    ok $N.ping_gaps_within_the_timeout
else
    fail $N.ping_gaps_within_the_timeout "gaps between pings $1..$2 s, want 1..2 s" "$(cat "$T/got")"
fi
