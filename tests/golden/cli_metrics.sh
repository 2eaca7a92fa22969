#!/bin/sh
# Golden outputs of `memwarden metrics` on captured trees (a machine with
# zram and PSI; the same with a daemon's state file and a kill history that
# holds hostile reasons and names), `promtool check metrics` on them when
# promtool is installed, the atomic --textfile write and its refusal of a
# symlinked directory. MW_UPDATE_GOLDEN=1 rewrites the goldens.
. tests/lib.sh
G=tests/golden/metrics
FX=$FIX/metrics
H=/var/log/memwarden-history.jsonl

golden_run "golden metrics-vm-512m" "$G/vm-512m.prom" 0 "$MW_BIN" --root "$FIX/vm-512m" metrics
golden_run "golden metrics-daemon" "$G/daemon.prom" 0 "$MW_BIN" --root "$FX" metrics --history $H
golden_run "golden metrics-old-kernel" "$G/old-kernel-3.10.prom" 0 \
    "$MW_BIN" --root "$FIX/old-kernel-3.10" metrics

# No label carries a PID or a command line (cardinality), and the hostile
# reason's quote and newline stay inside its label value.
if grep -q 'pid=\|cmdline=\|lt_hog\|<script>' "$G/daemon.prom"; then
    fail "metrics: no pid, program or command line in labels"
else
    ok "metrics: no pid, program or command line in labels"
fi

if command -v promtool >/dev/null 2>&1; then
    for f in vm-512m daemon old-kernel-3.10; do
        out=$(promtool check metrics <"$G/$f.prom" 2>&1)
        if [ $? -eq 0 ] && [ -z "$out" ]; then ok "promtool check metrics $f"; else fail "promtool check metrics $f" "$out"; fi
    done
    out=$("$MW_BIN" metrics 2>&1 | promtool check metrics 2>&1)
    if [ $? -eq 0 ] && [ -z "$out" ]; then ok "promtool check metrics (this machine)"; else fail "promtool check metrics (this machine)" "$out"; fi
    out=$(promtool check rules contrib/prometheus/memwarden.rules.yml 2>&1)
    case $? in 0) ok "promtool check rules contrib/prometheus/memwarden.rules.yml" ;;
    *) fail "promtool check rules contrib/prometheus/memwarden.rules.yml" "$out" ;; esac
else
    skip "promtool check metrics/rules" "promtool not installed (Debian package prometheus)"
fi

# --textfile: DIR/memwarden.prom, same bytes as stdout, no temporary left.
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir "$T/tf"
if "$MW_BIN" --root "$FX" metrics --history $H --textfile "$T/tf" &&
    cmp -s "$T/tf/memwarden.prom" "$G/daemon.prom" && [ "$(ls -A "$T/tf")" = memwarden.prom ]; then
    ok "metrics --textfile writes DIR/memwarden.prom, nothing else"
else
    fail "metrics --textfile writes DIR/memwarden.prom, nothing else" "$(ls -A "$T/tf")"
fi
ln -s "$T/tf" "$T/link"
out=$("$MW_BIN" --root "$FX" metrics --textfile "$T/link" 2>&1); st=$?
case "$st:$out" in
1:*"symlink: refused"*) ok "metrics --textfile refuses a symlinked directory" ;;
*) fail "metrics --textfile refuses a symlinked directory" "rc=$st $out" ;;
esac
out=$("$MW_BIN" --root "$FX" metrics --textfile "$T/none" 2>&1); st=$?
case "$st:$out" in
1:*"No such file"*) ok "metrics --textfile on a missing directory fails clearly" ;;
*) fail "metrics --textfile on a missing directory fails clearly" "rc=$st $out" ;;
esac

# The dashboard and the alert rules name only metrics memwarden writes: the
# goldens' families, plus those only the daemon's metrics process adds.
live_only="memwarden_kill_failures_total memwarden_kill_loops_total memwarden_alerts_total
memwarden_daemon_cycle_seconds memwarden_leak_verdict memwarden_leak_slope_bytes_per_second
memwarden_leak_window_seconds"
known=$(cat "$G"/*.prom | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p'; printf '%s\n' $live_only)
unknown=""
for n in $(grep -oh 'memwarden_[a-z_]*' contrib/grafana/memwarden.json contrib/prometheus/memwarden.rules.yml |
    sed 's/_bucket$//; s/_sum$//; s/_count$//' | sort -u); do
    echo "$known" | grep -qx "$n" || unknown="$unknown $n"
done
if [ -z "$unknown" ]; then ok "dashboard and rules name only memwarden's metrics"; else fail "dashboard and rules name only memwarden's metrics" "unknown:$unknown"; fi
if command -v promtool >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    # every dashboard query parses as PromQL: wrapped as recording rules for promtool
    python3 - "$T/dash.rules.yml" <<'PY'
import json, sys
d = json.load(open("contrib/grafana/memwarden.json"))
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
exprs += [a["expr"] for a in d["annotations"]["list"]]
with open(sys.argv[1], "w") as f:
    f.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, e in enumerate(exprs):
        f.write("      - record: dashboard:q%d\n        expr: %s\n" % (i, json.dumps(e.replace("$instance", "x"))))
PY
    out=$(promtool check rules "$T/dash.rules.yml" 2>&1)
    case $? in 0) ok "grafana dashboard queries parse (promtool)" ;; *) fail "grafana dashboard queries parse (promtool)" "$out" ;; esac
fi

# --history FILE names an input: a relative path is the working
# directory's (it was taken under the root, "x" as "/x", and a missing file
# was passed over in silence: issue 26), and a missing one is exit 1.
out=$(cd "$FX/var/log" && "$MW_BIN" metrics --history memwarden-history.jsonl 2>&1); st=$?
case "$st:$out" in
0:*'memwarden_kills_total{reason="low_mem_and_swap",result="exited"} 2'*) ok "metrics --history REL reads the working directory's file" ;;
*) fail "metrics --history REL reads the working directory's file" "rc=$st $(echo "$out" | grep kills_total)" ;;
esac
for h in no-such-history.jsonl /no/such/history.jsonl; do
    out=$("$MW_BIN" --root "$FX" metrics --history $h 2>&1 >/dev/null); st=$?
    case "$st:$out" in
    1:*"--history $h: No such file"*) ok "metrics --history $h (missing): exit 1, said" ;;
    *) fail "metrics --history $h (missing): exit 1, said" "rc=$st $out" ;;
    esac
done
out=$("$MW_BIN" metrics --state-file no-such.state 2>&1 >/dev/null); st=$?
case "$st:$out" in
1:*"--state-file $(pwd)/no-such.state: No such file"*) ok "metrics --state-file (missing): exit 1, said" ;;
*) fail "metrics --state-file (missing): exit 1, said" "rc=$st $out" ;;
esac

# The help says what the names are: each example of its meminfo line is a
# metric of the exposition of a tree whose meminfo has every field.
"$MW_BIN" --root "$FIX/meminfo-all" metrics >"$T/all.prom" 2>/dev/null
help=$("$MW_BIN" metrics --help | tr -s " \n" "  ")
bad=""
for n in mem_available active_file huge_pages_free huge_pages; do
    echo "$help" | grep -q -- "-> $n\b" || bad="$bad help-lacks:$n"
    grep -q "^memwarden_memory_$n\(_bytes\)\? " "$T/all.prom" || bad="$bad output-lacks:$n"
done
echo "$help" | grep -q "<Field>\|CamelCase" && bad="$bad help-says-CamelCase"
fields=$(grep -c ':' "$FIX/meminfo-all/proc/meminfo") families=$(grep -c '^# TYPE memwarden_memory_' "$T/all.prom")
[ "$fields" = "$families" ] || bad="$bad fields:$fields-families:$families"
if [ -z "$bad" ]; then ok "metrics: every meminfo field ($fields) exported, named as --help says"; else fail "metrics: every meminfo field exported, named as --help says" "$bad"; fi
if command -v promtool >/dev/null 2>&1; then
    out=$(promtool check metrics <"$T/all.prom" 2>&1)
    if [ $? -eq 0 ] && [ -z "$out" ]; then ok "promtool check metrics meminfo-all"; else fail "promtool check metrics meminfo-all" "$out"; fi
fi

# --json: the same samples as the exposition, read back (names, labels,
# values: integers exactly, others to 6 decimals), histograms included.
"$MW_BIN" --root "$FX" metrics --history $H >"$T/m.prom" 2>/dev/null
"$MW_BIN" --root "$FX" metrics --history $H --json >"$T/m.json" 2>/dev/null
if command -v python3 >/dev/null 2>&1; then
    check "metrics --json has every sample of the exposition" python3 - "$T/m.prom" "$T/m.json" <<'PY'
import json, re, sys
prom = [l for l in open(sys.argv[1]).read().splitlines() if l and not l.startswith('#')]
fams = json.load(open(sys.argv[2]))["families"]
got = [(s["name"], s["labels"], s["value"]) for f in fams for s in f["samples"]]
assert len(got) == len(prom), (len(got), len(prom))
assert any(f["type"] == "histogram" for f in fams)
for line, (name, labels, value) in zip(prom, got):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
    assert m and m.group(1) == name, (line, name)
    unesc = lambda v: re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1), v)
    want = {k: unesc(v) for k, v in re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or "")}
    assert want == labels, (line, labels)
    v = m.group(3)
    if v in ("NaN", "+Inf", "-Inf"):
        assert value is None, line
    else:
        assert abs(float(v) - value) <= 1e-6 * max(1, abs(float(v))), (line, value)
PY
else
    skip "metrics --json has every sample of the exposition" "no python3"
fi
"$MW_BIN" metrics --json --textfile "$T" >/dev/null 2>&1
[ $? -eq 2 ] && ok "metrics --json --textfile: usage" || fail "metrics --json --textfile: usage"
