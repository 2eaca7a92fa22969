#!/bin/sh
# Golden pages of `memwarden report` on fixture inputs: a record with a kill
# history, a hostile record (a <script> command name, bytes that are not
# UTF-8, an escape sequence), two snapshots compared, an analyze log; that
# the page is the same twice (deterministic) and --stamp adds a date; the
# errors. Paths are relative so the goldens do not name this checkout.
# MW_UPDATE_GOLDEN=1 rewrites the goldens.
. tests/lib.sh
G=tests/golden/report
F=tests/fixtures
scratch

golden_run "golden report-record-history" "$G/record-history.html" 0 "$MW_BIN" report \
    $F/records/visioncore-2h.jsonl $F/metrics/var/log/memwarden-history.jsonl -o - --title "visioncore, 2 h"
golden_run "golden report-hostile" "$G/hostile.html" 0 "$MW_BIN" report \
    $F/records/hostile-report.jsonl -o - --title '<b>"title"</b>'
golden_run "golden report-snapshots" "$G/snapshots.html" 0 "$MW_BIN" report $F/diff-a $F/diff-b -o -
golden_run "golden report-log" "$G/log.html" 0 "$MW_BIN" report $F/logs/free-m-cron.log -o -
golden_run "golden report-slab-record" "$G/sunreclaim.html" 0 "$MW_BIN" report \
    $F/records/sunreclaim-1h.jsonl -o -

# hostile text: no markup or script from the inputs, no escape byte, UTF-8
h=$G/hostile.html
if ! grep -q '<script\|<b>' "$h" && grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$h" &&
    ! grep -q "$(printf '\033')" "$h" && grep -q '&lt;b&gt;&quot;title&quot;' "$h"; then
    ok "report escapes names, titles and control bytes"
else
    fail "report escapes names, titles and control bytes"
fi
if command -v python3 >/dev/null; then
    if python3 -c "import sys; open(sys.argv[1],'rb').read().decode('utf-8')" "$h" 2>/dev/null; then
        ok "report of bytes that are not UTF-8 is UTF-8"
    else
        fail "report of bytes that are not UTF-8 is UTF-8"
    fi
fi
# self-contained: nothing fetched, no script at all
if ! grep -qi 'src=\|href=\|<script\|url(' "$G"/*.html; then
    ok "report pages fetch nothing and run no script"
else
    fail "report pages fetch nothing and run no script" "$(grep -il 'src=\|href=\|<script\|url(' "$G"/*.html)"
fi

"$MW_BIN" report $F/records/visioncore-2h.jsonl -o "$T/a.html" &&
    "$MW_BIN" report $F/records/visioncore-2h.jsonl -o "$T/b.html"
check "report is deterministic" cmp -s "$T/a.html" "$T/b.html"
"$MW_BIN" report $F/records/visioncore-2h.jsonl -o "$T/c.html" --stamp
check "report --stamp says when" grep -q 'generated 20[0-9-]* [0-9:]* UTC' "$T/c.html"

out=$("$MW_BIN" report -o "$T/x.html" 2>&1); st=$?
case "$st:$out" in 2:*"at least one input"*) ok "report without input: usage error" ;;
*) fail "report without input: usage error" "rc=$st $out" ;; esac
out=$("$MW_BIN" report $F/records/visioncore-2h.jsonl 2>&1); st=$?
case "$st:$out" in 2:*"-o FILE"*) ok "report without -o: usage error" ;;
*) fail "report without -o: usage error" "rc=$st $out" ;; esac
out=$("$MW_BIN" report "$T/missing" -o "$T/x.html" 2>&1); st=$?
case "$st:$out" in 1:*"No such file"*) ok "report of a missing input fails clearly" ;;
*) fail "report of a missing input fails clearly" "rc=$st $out" ;; esac
out=$("$MW_BIN" report $F/diff-a $F/diff-b $F/diff-a -o "$T/x.html" 2>&1); st=$?
case "$st:$out" in 1:*"at most two snapshots"*) ok "report of three snapshots refused" ;;
*) fail "report of three snapshots refused" "rc=$st $out" ;; esac
printf '\000\001garbage\n' >"$T/junk"
out=$("$MW_BIN" report "$T/junk" -o "$T/x.html" 2>&1); st=$?
case "$st:$out" in 1:*"neither a record"*) ok "report of junk fails clearly" ;;
*) fail "report of junk fails clearly" "rc=$st $out" ;; esac
# A record of system samples only: no process and no kill to sort (issue 24:
# qsort(NULL, 0) is undefined; UBSan stops `make check` on it).
"$MW_BIN" report $F/records/dentry-1h.jsonl -o "$T/sys.html" 2>"$T/sys.err"; st=$?
if [ $st -eq 0 ] && [ -s "$T/sys.html" ] && ! grep -q 'runtime error' "$T/sys.err"; then
    ok "report of a system-only record"
else fail "report of a system-only record" "exit $st" "$(head -3 "$T/sys.err")"; fi
