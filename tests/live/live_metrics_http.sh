#!/bin/sh
# Live test of the daemon's metrics process: `memwarden daemon --scope` on a
# v1 memory cgroup this test creates (256 MiB, no swap use), with
# metrics_listen on 127.0.0.1 (a random port) and a textfile. While a hog in
# the cgroup grows until the daemon kills it, the endpoint is scraped 1000
# times with curl and abused: a malformed request, a wrong path and method,
# an over-long request, 40 slow clients that never finish (more than the 32
# slots), 100 parallel connections. Checks correctness only: every scrape
# 200 with a valid exposition (promtool on a sample when installed), the
# abusers answered or cut, the hog killed by memwarden (not the memcg OOM
# killer), the daemon alive after. Scrape times are printed (max, p99) as
# information: timing goals are for `make bench`, not pass/fail.
# Changes the system (a cgroup) and restores it on any exit.
. tests/lib.sh
BUILD=${MW_BUILD:-build}
T=metrics_http
CGROOT=/sys/fs/cgroup/memory

[ "$(id -u)" -eq 0 ] || { skip $T "needs root"; exit 0; }
[ -f $CGROOT/memory.limit_in_bytes ] || { skip $T "no cgroup v1 memory controller"; exit 0; }
[ -x "$BUILD/progs/lt_hog" ] || { skip $T "build/progs/lt_hog not built"; exit 0; }
command -v curl >/dev/null || { skip $T "curl not installed"; exit 0; }
command -v python3 >/dev/null || { skip $T "python3 not installed (the raw-socket clients)"; exit 0; }

CG=$CGROOT/memwarden-metrics-test-$$
TMP=$(mktemp -d)
PIDS=""
cleanup() {
    stop_pids -9 $PIDS
    cg_remove "$CG"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

cg_v1_make $T "$CG" 256M 256M || exit 0
mkdir "$TMP/tf"
cat >"$TMP/mw.conf" <<EOF2
[files]
history_file = $TMP/hist.jsonl
[metrics]
metrics_textfile = $TMP/tf
metrics_interval = 1s
metrics_listen = 127.0.0.1:0
EOF2
: >"$TMP/log"
"$MW_BIN" daemon --foreground --scope "$CG" --config "$TMP/mw.conf" \
    --state-file "$TMP/state.json" 2>"$TMP/log" &
mw_pid=$!
PIDS="$PIDS $mw_pid"
wait_for 10 grep -q 'serving http://' "$TMP/log" ||
    { fail "$T" "daemon did not start its metrics server"; cat "$TMP/log" >&2; exit 0; }
port=$(sed -n 's|.*serving http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$TMP/log" | head -1)
URL=http://127.0.0.1:$port/metrics
echo "metrics at $URL" >&2

# Only what it needs (issue 24): the metrics process (the daemon's child)
# keeps the root's descriptor and a socketpair, CAP_DAC_OVERRIDE,
# CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (0x80006), no_new_privs; the HTTP
# server (its child) runs as the overflow uid with no capability and holds
# the listener and the socketpair only.
st() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
nfds() { ls "/proc/$1/fd" | wc -l; }
gath=$(ps -o pid= --ppid "$mw_pid" | tr -d ' ' | head -1)
srv=$(ps -o pid= --ppid "${gath:-0}" 2>/dev/null | tr -d ' ' | head -1)
if [ -n "$gath" ] && [ -n "$srv" ] && [ "$(st "$gath" CapEff)" = 0000000000080006 ] &&
    [ "$(st "$gath" CapBnd)" = 0000000000080006 ] && [ "$(st "$gath" NoNewPrivs)" = 1 ] &&
    [ "$(nfds "$gath")" -eq 5 ]; then
    ok "$T: the metrics process keeps 3 capabilities and 2 descriptors (+ stdio)"
else
    fail "$T: the metrics process keeps 3 capabilities and 2 descriptors (+ stdio)" \
        "gatherer '$gath' server '$srv'" "$(grep -E '^(Uid|Cap|NoNew)' /proc/"$gath"/status 2>&1)" \
        "$(ls -l /proc/"$gath"/fd 2>&1)"
fi
ovf=$(cat /proc/sys/kernel/overflowuid)
if [ -n "$srv" ] && [ "$(st "$srv" Uid | awk '{print $1 $2 $3 $4}')" = "$ovf$ovf$ovf$ovf" ] &&
    [ "$(st "$srv" CapEff)" = 0000000000000000 ] && [ "$(st "$srv" CapBnd)" = 0000000000000000 ] &&
    [ "$(st "$srv" NoNewPrivs)" = 1 ] && [ "$(st "$srv" Groups)" = "" ] && [ "$(nfds "$srv")" -eq 5 ] &&
    [ "$(ls -l /proc/"$srv"/fd | grep -c 'socket:')" -eq 2 ]; then
    ok "$T: the HTTP server runs as uid $ovf, no capability, listener + link only"
else
    fail "$T: the HTTP server runs as uid $ovf, no capability, listener + link only" \
        "$(grep -E '^(Uid|Gid|Groups|Cap|NoNew)' /proc/"$srv"/status 2>&1)" "$(ls -l /proc/"$srv"/fd 2>&1)"
fi

# raw CLIENT-KIND: one request over a plain socket, prints the status line
raw() {
    python3 - "$port" "$1" <<'PY'
import socket, sys, time
port, kind = int(sys.argv[1]), sys.argv[2]
reqs = {"malformed": b"GARBAGE\r\n\r\n", "path": b"GET /etc/passwd HTTP/1.1\r\n\r\n",
        "method": b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
        "long": b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 8192 + b"\r\n\r\n",
        "nul": b"GET /metrics\x00 HTTP/1.1\r\n\r\n"}
s = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    s.sendall(reqs[kind])
except OSError:
    pass
try:
    print(s.recv(200).split(b"\r\n")[0].decode())
except OSError as e:
    print("error", e)
PY
}
for k in malformed:400 path:404 method:405 long:431 nul:400; do
    got=$(raw "${k%%:*}")
    case $got in "HTTP/1.1 ${k#*:} "*) ok "$T: ${k%%:*} request -> ${k#*:}" ;;
    *) fail "$T: ${k%%:*} request -> ${k#*:}" "got '$got'" ;; esac
done

# 40 slow clients: connect, send half a request line, never finish (held 8 s)
python3 - "$port" "$TMP/slow.connected" >"$TMP/slow.out" 2>&1 <<'PY' &
import socket, sys, time
socks = []
for i in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /met")
    socks.append(s)
open(sys.argv[2], "w").write("40\n")
time.sleep(8)
closed = 0
for s in socks:
    s.settimeout(0.1)
    try:
        closed += s.recv(10) == b""
    except OSError:
        closed += 1
print("slow clients cut by the server:", closed)
PY
slow_pid=$!
PIDS="$PIDS $slow_pid"
wait_for 10 test -s "$TMP/slow.connected" || echo "note: the slow clients did not all connect in 10 s" >&2

# 1000 scrapes in the background while the hog grows and dies
scrape_loop() {
    i=0
    while [ $i -lt 1000 ]; do
        curl -s -o "$TMP/body" -w '%{http_code} %{time_total}\n' --max-time 10 "$URL" >>"$TMP/scrapes"
        if [ $((i % 100)) = 0 ]; then cp "$TMP/body" "$TMP/sample.$i"; fi
        grep -q '^memwarden_daemon_up 1$' "$TMP/body" || echo "bad body at $i" >>"$TMP/bad"
        i=$((i + 1))
    done
}
: >"$TMP/scrapes"
scrape_loop &
scr_pid=$!
PIDS="$PIDS $scr_pid"

# 100 parallel connections, each a full scrape
python3 - "$port" >"$TMP/par.out" 2>&1 <<'PY' &
import socket, sys, threading
port, res = int(sys.argv[1]), []
def one():
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=15)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
        res.append(data.startswith(b"HTTP/1.1 200 ") and b"memwarden_memory_mem_total_bytes" in data)
    except OSError:
        res.append(False)
ts = [threading.Thread(target=one) for _ in range(100)]
[t.start() for t in ts]
[t.join() for t in ts]
print("parallel ok:", sum(res), "of", len(res))
PY
par_pid=$!
PIDS="$PIDS $par_pid"

oom_before=$(awk '/^oom_kill /{print $2}' "$CG/memory.oom_control")
"$BUILD/progs/lt_hog" "$CG" 900 >"$TMP/hog" 2>&1 &
hog_pid=$!
PIDS="$PIDS $hog_pid"
wait_for 60 sh -c "! kill -0 $hog_pid 2>/dev/null || grep -q '^State:.*Z' /proc/$hog_pid/status 2>/dev/null"
wait "$hog_pid" 2>/dev/null
oom_after=$(awk '/^oom_kill /{print $2}' "$CG/memory.oom_control")
line=$(grep "kill pid=$hog_pid " "$TMP/log" | head -1)
if [ -n "$line" ] && [ "$oom_before" = "$oom_after" ]; then
    ok "$T: the hog was killed by memwarden during the scrapes"
else
    fail "$T: the hog was killed by memwarden during the scrapes" \
        "kill line '$line', memcg oom_kill $oom_before -> $oom_after, hog reached $(tail -1 "$TMP/hog") MiB"
fi
echo "${line#<?>}" >&2

wait "$scr_pid" "$par_pid" "$slow_pid" 2>/dev/null
n=$(wc -l <"$TMP/scrapes")
n200=$(grep -c '^200 ' "$TMP/scrapes")
if [ "$n" = 1000 ] && [ "$n200" = 1000 ] && [ ! -s "$TMP/bad" ]; then
    ok "$T: 1000 scrapes, all 200 with memwarden_daemon_up 1"
else
    fail "$T: 1000 scrapes, all 200 with memwarden_daemon_up 1" "$n scrapes, $n200 with 200" "$(head -3 "$TMP/bad" 2>/dev/null)"
fi
sort -k2 -n "$TMP/scrapes" | awk '{t[NR]=$2} END {printf "scrape time (info): median %.1f ms, p99 %.1f ms, max %.1f ms over %d\n", t[int(NR/2)]*1000, t[int(NR*0.99)]*1000, t[NR]*1000, NR}' >&2
case $(cat "$TMP/par.out") in "parallel ok: 100 of 100") ok "$T: 100 parallel connections all served" ;;
*) fail "$T: 100 parallel connections all served" "$(cat "$TMP/par.out")" ;; esac
case $(cat "$TMP/slow.out") in "slow clients cut by the server: 40") ok "$T: 40 slow clients cut (2 s, sooner when all slots are taken)" ;;
*) fail "$T: 40 slow clients cut (2 s, sooner when all slots are taken)" "$(cat "$TMP/slow.out")" ;; esac

# after all that: the exposition is valid, shows the kill, the daemon lives
curl -s "$URL" >"$TMP/final"
if command -v promtool >/dev/null; then
    bad=""
    for f in "$TMP"/sample.* "$TMP/final"; do
        out=$(promtool check metrics <"$f" 2>&1) || bad="$bad $(basename "$f"): $out"
    done
    if [ -z "$bad" ]; then ok "$T: promtool check metrics on 11 scrapes"; else fail "$T: promtool check metrics on 11 scrapes" "$bad"; fi
else
    skip "$T: promtool check metrics" "promtool not installed (Debian package prometheus)"
fi
if grep -q '^memwarden_kills_total{reason="[a-z_]*",result="exited"} 1$' "$TMP/final" &&
    grep -q '^memwarden_kill_signal_latency_seconds_count 1$' "$TMP/final" &&
    [ -s "$TMP/tf/memwarden.prom" ] && alive "$mw_pid"; then
    ok "$T: the kill shows in /metrics and the textfile is written; daemon alive"
else
    fail "$T: the kill shows in /metrics and the textfile is written; daemon alive" \
        "$(grep -E '^memwarden_kills_total|signal_latency_seconds_count' "$TMP/final")" \
        "textfile: $(ls "$TMP/tf")" "alive: $(alive "$mw_pid" && echo yes || echo no)"
fi

# and the daemon still kills: a second hog, scrapes and slow clients done
"$BUILD/progs/lt_hog" "$CG" 900 >"$TMP/hog2" 2>&1 &
hog2=$!
PIDS="$PIDS $hog2"
wait_for 60 sh -c "! kill -0 $hog2 2>/dev/null || grep -q '^State:.*Z' /proc/$hog2/status 2>/dev/null"
wait "$hog2" 2>/dev/null
if grep -q "kill pid=$hog2 " "$TMP/log"; then ok "$T: a second hog is killed after the abuse"; else
    fail "$T: a second hog is killed after the abuse" "$(tail -5 "$TMP/log")"; fi
stop_pids "$mw_pid"
[ -n "$srv" ] && wait_for 5 sh -c "! kill -0 $srv 2>/dev/null"
if { ps -o pid= --ppid "$mw_pid" >/dev/null 2>&1 && [ -n "$(ps -o pid= --ppid "$mw_pid")" ]; } ||
    { [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; }; then
    fail "$T: the metrics process ends with the daemon"
else
    ok "$T: the metrics process ends with the daemon"
fi
