#!/bin/sh
# Memory over time: how long leak/analyze take on big inputs and how much
# memory the sampling commands hold. Prints numbers and the commands that
# measure them; never passes or fails on a timing.
BIN=${MW_BIN:-$(pwd)/memwarden}
[ -x "$(pwd)/memwarden-static" ] && BIN=$(pwd)/memwarden-static
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
now_ms() { date +%s%3N; }
peak_kb() { # CMD...: peak RSS in kB (GNU time), or "?"
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -q -f %M -o "$TMP/peak" "$@" >/dev/null 2>&1
        cat "$TMP/peak"
    else
        "$@" >/dev/null 2>&1
        echo "?"
    fi
}

# a day of one-a-second process samples (86400 lines) with a slow leak
awk 'BEGIN { for (i = 0; i < 86400; i++)
  printf "{\"t\":%d.000,\"kind\":\"process\",\"pid\":7,\"starttime\":1,\"comm\":\"app\",\"rss\":%d,\"vms\":1,\"shared\":1,\"swap\":0,\"cpu_ticks\":%d,\"mem_total\":4294967296,\"mem_available\":%d,\"mem_used\":1,\"buff_cache\":1}\n",
    1700000000 + i, 300000000 + i * 1200 + (i % 60) * 4096, i, 3000000000 - i * 1200 }' >"$TMP/day.jsonl"
t0=$(now_ms); "$BIN" leak --from "$TMP/day.jsonl" >"$TMP/out"; t1=$(now_ms)
echo "leak --from a day of 1 s samples (86400 lines, $(du -k "$TMP/day.jsonl" | cut -f1) kB): $((t1 - t0)) ms; $(head -1 "$TMP/out")"
echo "  peak RSS: $(peak_kb "$BIN" leak --from "$TMP/day.jsonl") kB   ($BIN leak --from FILE)"

awk 'BEGIN { for (i = 0; i < 200000; i++) printf "[I]-[Mem Free Size KB:] %.4f\n", 1100 - i * 0.002 + (i % 7) * 0.5 }' >"$TMP/serial.log"
t0=$(now_ms); "$BIN" analyze "$TMP/serial.log" >"$TMP/out"; t1=$(now_ms)
echo "analyze on 200000 'Mem Free Size' lines: $((t1 - t0)) ms; $(sed -n 2p "$TMP/out" | cut -c1-60)"

echo "peak RSS of one-shot commands on this machine ($BIN):"
echo "  watch --system -n 3 -i 200ms:        $(peak_kb "$BIN" watch --system -n 3 -i 200ms) kB"
echo "  watch --system --record (slab):      $(peak_kb "$BIN" watch --system -n 3 -i 200ms --record "$TMP/rec") kB"
echo "  leak --system -d 2s -i 500ms:        $(peak_kb "$BIN" leak --system -d 2s -i 500ms) kB"
echo "  leak -p 1 -d 1s -i 200ms:            $(peak_kb "$BIN" leak -p 1 -d 1s -i 200ms) kB"
echo "  slab:                                $(peak_kb "$BIN" slab) kB"
echo "  shm:                                 $(peak_kb "$BIN" shm) kB"
t0=$(now_ms); for i in 1 2 3 4 5 6 7 8 9 10; do "$BIN" slab >/dev/null; done; t1=$(now_ms)
echo "slab (read /proc/slabinfo, sort, print): $(((t1 - t0) / 10)) ms per run"
