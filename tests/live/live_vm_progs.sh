#!/bin/sh
# Live test of the VM test bed's programs (tests/progs/) on the host, at tiny
# sizes only: a few MiB, a second or less. The real storms run inside the VM.
. tests/lib.sh
P=${MW_BUILD:-build}/progs
for p in hog heartbeat leaker restarter streamer; do
    if ! [ -x "$P/$p" ]; then fail "progs_$p" "missing $P/$p"; exit 0; fi
done
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
trap 'exit 1' INT TERM
export MW_REGISTRY=$t/registry

out=$("$P/hog" --max 4M --exit --name tiny 2>/dev/null)
check hog_max_exit [ "$out" = "{\"prog\":\"hog\",\"name\":\"tiny\",\"pid\":$(sed -n 's/ .* tiny$//p' "$t/registry"),\"allocated_mib\":4}" ]
out=$("$P/hog" --procs 3 --max 1M --duration 0.5 2>/dev/null)
check hog_storm_summary sh -c "echo '$out' | grep -q '\"procs\":3,\"reached\":3,\"died\":0'"
check hog_registry [ "$(grep -c ' hog$' "$t/registry")" -eq 3 ]
out=$("$P/heartbeat" --ws 2M --duration 0.5 --adj 0 --out "$t/hb.json")
check heartbeat_json sh -c "echo '$out' | grep -q '\"final\":true.*\"ticks\":[1-9]'"
check heartbeat_out_file grep -q '"prog":"heartbeat"' "$t/hb.json"
out=$("$P/leaker" --start 1M --rate 4M/s --duration 0.5)
check leaker_rate sh -c "echo '$out' | grep -Eq '\"leaked_mib\":(1|2)\\.'"
out=$("$P/restarter" --max-restarts 2 -- sh -c 'exit 3' 2>/dev/null)
check restarter_restarts sh -c "echo '$out' | grep -q '\"starts\":3,\"deaths\":3'"
out=$("$P/restarter" --duration 0.3 -- sleep 30 2>/dev/null)
check restarter_stops_child sh -c "echo '$out' | grep -q '\"starts\":1,\"deaths\":0'"
printf 'hello\n' > "$t/f"
out=$("$P/streamer" --passes 3 "$t/f")
check streamer_passes sh -c "echo '$out' | grep -q '\"passes\":3'"
for p in hog heartbeat leaker restarter streamer; do
    check "${p}_help" sh -c "'$P/$p' --help | grep -q Usage"
done
"$P/hog" --rate nonsense >/dev/null 2>&1
check hog_bad_rate_exit_2 [ $? -eq 2 ]
"$P/heartbeat" --adj 5000 >/dev/null 2>&1
check heartbeat_bad_adj_exit_2 [ $? -eq 2 ]
