#!/bin/sh
# live_top_perm: memwarden top run as an unprivileged user (nobody) shows
# what it may read: its own processes exactly, root's from statm, marked as
# estimates; nothing fails.
. tests/lib.sh
N=live_top_perm
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
    skip $N "needs root and setpriv to run as nobody"; exit 0
fi
command -v python3 >/dev/null 2>&1 || { skip $N "no python3"; exit 0; }
scratch
chmod 755 "$T"
AS_NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
sleep 876.5 & PIDS="$PIDS $!"; ROOTS=$!
$AS_NOBODY sleep 876.6 & PIDS="$PIDS $!"; MINE=$!
# each runs sleep by now (setpriv has exec'd it), not the shell or setpriv
execd() { grep -q "^sleep" "/proc/$1/cmdline" 2>/dev/null; }
wait_for 10 execd "$ROOTS" && wait_for 10 execd "$MINE" || fail $N "the two sleeps did not start in 10 s"
if ! $AS_NOBODY "$MW_BIN" --version >/dev/null 2>&1; then
    skip $N "nobody cannot run $MW_BIN (directory permissions)"; exit 0
fi
$AS_NOBODY "$MW_BIN" top --json >"$T/m.json" 2>"$T/err"; st=$?
$AS_NOBODY "$MW_BIN" top >"$T/m.txt" 2>>"$T/err"
if [ "$st" -ne 0 ] || [ -s "$T/err" ]; then
    fail $N "exit $st: $(cat "$T/err")"; exit 0
fi
python3 - "$T/m.json" "$ROOTS" "$MINE" <<'PY' >"$T/report" 2>&1
import json, sys
m = json.load(open(sys.argv[1]))
procs = {p["pid"]: p for p in m["processes"]}
root_p, mine = procs.get(int(sys.argv[2])), procs.get(int(sys.argv[3]))
bad = []
if not root_p or root_p["estimated"] != ["pss", "uss", "swap"] or root_p["rss"] == 0:
    bad.append(f"root's sleep not shown as a statm estimate: {root_p}")
if not mine or mine["estimated"] != [] or mine["pss"] == 0 or mine["user"] != "nobody":
    bad.append(f"nobody's own sleep not read exactly: {mine}")
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
if [ $? -ne 0 ]; then
    fail $N "$(cat "$T/report")"
elif ! grep -q '^~ estimate from statm' "$T/m.txt"; then
    fail $N "no '~' footnote in the table"
else
    ok $N
fi
