#!/bin/sh
# The report in a real browser: headless Chromium (Debian package chromium)
# loads pages memwarden report wrote from fixture inputs, from the file, and
# the test checks that they rendered: the page's title in the DOM, the
# expected number of SVG series (data-series attributes) and kill markers,
# no console error; and takes a screenshot (a non-empty PNG). Skips when
# Chromium is absent.
. tests/lib.sh
N=report_browser
CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
[ -n "$CHROME" ] || { skip $N "chromium not installed (apt-get install chromium)"; exit 0; }
scratch
F=tests/fixtures
# chrome NAME URL: DOM to $T/NAME.dom, console to $T/NAME.log, screenshot $T/NAME.png
chrome() {
    timeout 90 "$CHROME" --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$T/profile" --enable-logging=stderr --v=0 --dump-dom "$2" \
        >"$T/$1.dom" 2>"$T/$1.log"
    timeout 90 "$CHROME" --headless --disable-gpu --no-sandbox --no-first-run \
        --user-data-dir="$T/profile" --hide-scrollbars --window-size=1000,2400 \
        --screenshot="$T/$1.png" "$2" >/dev/null 2>&1
}
# page NAME TITLE SERIES KILLS INPUT...
page() {
    name=$1 title=$2 series=$3 kills=$4; shift 4
    want_title=$(printf '%s' "$title" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')
    "$MW_BIN" report "$@" -o "$T/$name.html" --title "$title" ||
        { fail "$N.$name" "memwarden report failed"; return; }
    chrome "$name" "file://$T/$name.html"
    got_title=$(sed -n 's|.*<title>\(.*\)</title>.*|\1|p' "$T/$name.dom" | head -1)
    got_series=$(grep -o 'data-series="' "$T/$name.dom" | wc -l)
    got_kills=$(grep -o 'data-kill="' "$T/$name.dom" | wc -l)
    errors=$(grep -E 'Uncaught|ERROR:CONSOLE|CONSOLE\(|Refused to' "$T/$name.log" | head -3)
    png=$(head -c 8 "$T/$name.png" 2>/dev/null | od -An -c | tr -d ' ')
    if [ "$got_title" = "$want_title" ] && [ "$got_series" = "$series" ] && [ "$got_kills" = "$kills" ] &&
        [ -z "$errors" ] && [ "$png" = '211PNG\r\n032\n' ]; then
        ok "$N.$name: title, $series series, $kills kill markers, no console error, screenshot"
    else
        fail "$N.$name" "title '$got_title' (want '$want_title'), series $got_series (want $series)," \
            "kill markers $got_kills (want $kills), png '$png'" "console: $errors"
    fi
}
# a record of two processes and a kill history: stacked memory (3 areas), a
# fitted used line, 2 process lines + 1 fit, the PSI chart absent, kernel
# lines absent (process-only record); 4 kills drawn on 2 charts
page record "visioncore, 2 h" 7 8 $F/records/visioncore-2h.jsonl $F/metrics/var/log/memwarden-history.jsonl
# a hostile record: its <script> must not run (an alert would be a console
# entry and change nothing else; the DOM must hold it as text). 11 series:
# its shmem (+9.5 MiB in 6 min) is too short to judge on the system's band
# (issue 26's one rule), so no shmem fit is drawn (kernel fits: warning+)
page hostile "hostile <names>" 11 0 $F/records/hostile-report.jsonl
if grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/hostile.dom" && ! grep -q '<script' "$T/hostile.dom"; then
    ok "$N.hostile: the command name stays text in the browser's DOM"
else
    fail "$N.hostile: the command name stays text in the browser's DOM"
fi
# a slab leak: 3 areas + the used fit, 4 kernel lines + 2 fits (slab, SUnreclaim)
page slab "slab leak" 10 0 $F/records/sunreclaim-1h.jsonl
[ -n "$MW_REPORT_SHOTS" ] && cp "$T"/*.png "$MW_REPORT_SHOTS"/ 2>/dev/null
exit 0
