#!/bin/sh
# Golden outputs of `memwarden status` on captured trees, and its handling
# of bad input. MW_UPDATE_GOLDEN=1 rewrites the golden files.
. tests/lib.sh
G=tests/golden

golden() { # NAME CMD...: compare CMD's stdout with $G/NAME
    name=$1; shift
    out=$("$@" 2>&1); st=$?
    if [ -n "$MW_UPDATE_GOLDEN" ]; then printf '%s\n' "$out" > "$G/$name"; fi
    if [ $st -ne 0 ]; then fail "golden $name" "exit status $st"; return; fi
    if printf '%s\n' "$out" | cmp -s - "$G/$name"; then ok "golden $name"
    else fail "golden $name" "$(printf '%s\n' "$out" | diff "$G/$name" - | head -20)"; fi
}

for fx in host-24g seed-5g6-lowswap seed-480m-slab old-kernel-3.10 vm-512m arm64-64k daemon-systemd; do
    [ -d "$FIX/$fx" ] || { fail "golden status-$fx" "fixture $FIX/$fx missing"; continue; }
    golden "status-$fx.txt" "$MW_BIN" --root "$FIX/$fx" status
    golden "status-$fx.json" "$MW_BIN" --root "$FIX/$fx" status --json
done
golden status-cgroup-v1.txt "$MW_BIN" --root "$FIX/cgroup-v1" status --scope /sys/fs/cgroup/memory/app
golden status-cgroup-v2.json "$MW_BIN" --root "$FIX/cgroup-v2" status --json \
    --scope /sys/fs/cgroup/system.slice/app.service
# memory.max 64 GiB on a 23.5 GiB host, memory.swap.max 2 GiB: the total is
# the host's RAM (tests/unit/test_policy.c checks the daemon sees the same).
golden status-cgroup-v2-above-ram.txt "$MW_BIN" --root "$FIX/cgroup-v2-above-ram" status \
    --scope /sys/fs/cgroup/system.slice/app.service

# arm64-64k is vm-512m on a 64 KiB-page kernel (its zoneinfo counts 1/16 as
# many pages; memwarden-snapshot.json says 65536): the same watermarks in
# bytes as vm-512m, and 16x what the same tree gives read as 4 KiB pages.
wm_min() { "$MW_BIN" --root "$1" status --json | sed -n '/"watermarks"/,/}/s/.*"min": \([0-9]*\).*/\1/p'; }
t64=$(mktemp -d); cp -r "$FIX/arm64-64k/." "$t64"; rm -f "$t64/memwarden-snapshot.json"
m64=$(wm_min "$FIX/arm64-64k"); m4=$(wm_min "$t64"); rm -rf "$t64"
if [ "${m4:-0}" -gt 0 ] && [ "${m64:-0}" -eq $((${m4:-0} * 16)) ]; then
    ok "64 KiB pages: watermarks 16x a 4 KiB reading ($m64 vs $m4)"
else fail "64 KiB pages: watermarks 16x a 4 KiB reading" "$m64 vs $m4"; fi

# The verdicts the seeds' devices should get.
v=$("$MW_BIN" --root "$FIX/seed-5g6-lowswap" status --json | grep '"level"')
case "$v" in *'"low"'*) ok "seed 5.6 GB device is low";; *) fail "seed 5.6 GB device is low" "$v";; esac
v=$("$MW_BIN" --root "$FIX/seed-480m-slab" status --json | grep '"level"')
case "$v" in *'"ok"'*) ok "seed 480 MB device is ok";; *) fail "seed 480 MB device is ok" "$v";; esac

# JSON is byte-identical run after run on a captured tree.
a=$("$MW_BIN" --root "$FIX/host-24g" status --json); b=$("$MW_BIN" --root "$FIX/host-24g" status --json)
check "captured json is deterministic" [ "$a" = "$b" ]

# Bad input.
"$MW_BIN" status --bogus >/dev/null 2>&1; check "unknown option exits 2" [ $? -eq 2 ]
"$MW_BIN" nosuchcommand >/dev/null 2>&1; check "unknown command exits 2" [ $? -eq 2 ]
"$MW_BIN" status extra >/dev/null 2>&1; check "stray argument exits 2" [ $? -eq 2 ]
"$MW_BIN" --root /nonexistent status >/dev/null 2>&1; check "missing root exits 1" [ $? -eq 1 ]
err=$("$MW_BIN" --root "$FIX/hostile-truncated" status 2>&1); st=$?
check "truncated meminfo exits 1" [ $st -eq 1 ]
case "$err" in *"/proc/meminfo line 4: malformed"*) ok "truncated meminfo names file and line";;
    *) fail "truncated meminfo names file and line" "$err";; esac
err=$("$MW_BIN" --root "$FIX/hostile-empty" status 2>&1)
case "$err" in *"/proc/meminfo: no usable data"*) ok "empty meminfo is explained";;
    *) fail "empty meminfo is explained" "$err";; esac
out=$("$MW_BIN" --root "$FIX/hostile-malformed" status 2>&1); st=$?
check "malformed sections still print the rest" [ $st -eq 0 ]
case "$out" in *"unavailable: /proc/swaps line 2: malformed"*) ok "malformed swaps names line";;
    *) fail "malformed swaps names line" "$out";; esac
case "$out" in *"memory          unavailable: /proc/pressure/memory line 1: malformed"*)
    ok "malformed psi names line";; *) fail "malformed psi names line" "$out";; esac
case "$out" in *"Verdict: "*) ok "verdict despite broken sections";;
    *) fail "verdict despite broken sections" "$out";; esac
"$MW_BIN" --root "$FIX/host-24g" status --scope /sys/fs/cgroup/memory/none >/dev/null 2>&1
check "bad scope exits 1" [ $? -eq 1 ]
"$MW_BIN" status --help | grep -q "EXIT STATUS"; check "status --help has exit codes" [ $? -eq 0 ]
"$MW_BIN" --help | grep -q "status"; check "global --help lists commands" [ $? -eq 0 ]
