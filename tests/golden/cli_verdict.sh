#!/bin/sh
# Issue 26: one verdict engine. The same samples get the same verdict in
# the same words from analyze, leak, report and watch (soak: test_runner's
# test_soak_same_words). The input is a 20-sample `date; free -m` log of
# 19 s (used 23,029 -> 23,063 MiB with a spike to 23,471 between) and the
# same samples as a memwarden record: a window that short cannot tell a
# leak from noise, and every command says so ("too short to judge", exit
# 0) where analyze used to call it a decline (a leak, exit 3) against a
# band of 0.26 MiB and report called it stable.
. tests/lib.sh
G=tests/golden/verdict
LOG=tests/fixtures/logs/free-m-spike-19s.log
REC=tests/fixtures/records/spike-19s.jsonl
scratch
# the words each command gives (JSON where it has them, else its text)
words_json() { sed -n 's/^ *"\(trend_\)\{0,1\}words": "\(.*\)",\{0,1\}$/\2/p' | head -1; }

golden_run "verdict analyze-log" "$G/analyze-log.out" 0 "$MW_BIN" analyze "$LOG"
golden_run "verdict analyze-record" "$G/analyze-record.out" 0 "$MW_BIN" analyze "$REC"
golden_run "verdict leak-record" "$G/leak-record.out" 0 "$MW_BIN" leak --from "$REC" --system
RISE=tests/fixtures/logs/free-m-rise-19s.log
golden_run "verdict analyze-rise" "$G/analyze-rise.out" 0 "$MW_BIN" analyze "$RISE"
"$MW_BIN" analyze "$RISE" --json | words_json >"$T/analyze-rise"
"$MW_BIN" report "$RISE" -o "$T/rise.html"
sed -n "s/^<li>The log's used memory: <b[^>]*>\(.*\)<\/b><\/li>$/\1/p" "$T/rise.html" >"$T/report-rise"
check "verdict: analyze says the rise is too short to judge" grep -q '^too short to judge: ' "$T/analyze-rise"
check "verdict: report says of the rise what analyze says" cmp -s "$T/analyze-rise" "$T/report-rise"

"$MW_BIN" analyze "$LOG" --json | words_json >"$T/analyze-log"
"$MW_BIN" analyze "$REC" --json | words_json >"$T/analyze-record"
"$MW_BIN" leak --from "$REC" --system --json | words_json >"$T/leak-record"
"$MW_BIN" report "$LOG" -o "$T/log.html"
sed -n "s/^<li>The log's used memory: <b[^>]*>\(.*\)<\/b><\/li>$/\1/p" "$T/log.html" >"$T/report-log"
"$MW_BIN" report "$REC" -o "$T/rec.html"
sed -n 's/^<pre>system (used): \(.*\)$/\1/p' "$T/rec.html" >"$T/report-record"
check "verdict: analyze says too short to judge" grep -q '^too short to judge: ' "$T/analyze-log"
for w in analyze-record leak-record report-log report-record; do
    if [ -s "$T/$w" ] && cmp -s "$T/analyze-log" "$T/$w"; then
        ok "verdict: $w in the same words as analyze"
    else
        fail "verdict: $w in the same words as analyze" "analyze: $(cat "$T/analyze-log")" \
            "$w: $(cat "$T/$w")"
    fi
done

# watch: its summary says what leak says of watch's own record
H=$FIX/host-24g
"$MW_BIN" --root "$H" watch --count 3 -i 10ms --record "$T/w.jsonl" >/dev/null 2>"$T/w.err"
sed -n 's/^watch: system (used): //p' "$T/w.err" >"$T/watch"
"$MW_BIN" leak --from "$T/w.jsonl" --system --json | words_json >"$T/leak-watch"
if [ -s "$T/watch" ] && cmp -s "$T/watch" "$T/leak-watch"; then
    ok "verdict: watch in the same words as leak on its record"
else
    fail "verdict: watch in the same words as leak on its record" "watch: $(cat "$T/w.err")" \
        "leak: $(cat "$T/leak-watch")"
fi
