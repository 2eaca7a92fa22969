#!/bin/sh
# Golden outputs of `memwarden slab` on captured trees (slabinfo, the
# /sys/kernel/slab fallback, hostile lines, a record's growth), its errors
# and the shape of --interval. MW_UPDATE_GOLDEN=1 rewrites the goldens.
. tests/lib.sh
G=tests/golden/slab

for fx in seed-480m-slab host-24g vm-512m slab-sysfs slab-hostile; do
    golden_run "golden slab-$fx.txt" "$G/$fx.txt" 0 "$MW_BIN" --root "$FIX/$fx" slab
    golden_run "golden slab-$fx.json" "$G/$fx.json" 0 "$MW_BIN" --root "$FIX/$fx" slab --json
done
golden_run "golden slab-host-24g-top5.txt" "$G/host-24g-top5.txt" 0 \
    "$MW_BIN" --root "$FIX/host-24g" slab --top 5
# Growth over a record (first vs last system sample); the path is relative
# so the golden does not name this checkout.
for r in dentry-1h sunreclaim-1h; do
    golden_run "golden slab-from-$r.txt" "$G/from-$r.txt" 0 \
        "$MW_BIN" slab --from tests/fixtures/records/$r.jsonl
    golden_run "golden slab-from-$r.json" "$G/from-$r.json" 0 \
        "$MW_BIN" slab --from tests/fixtures/records/$r.jsonl --json --top 4
done

# --interval on a captured tree: nothing changes, so no cache grows; the
# span is measured, so only the shape is checked.
out=$("$MW_BIN" --root "$FIX/host-24g" slab --interval 50ms --top 3 2>&1); st=$?
case "$st:$out" in
0:*"Growth over "*"cache "*"before"*"No cache grew by 1 MiB and 10 % or more."*)
    ok "slab --interval on a fixture: growth table, nothing grew" ;;
*) fail "slab --interval on a fixture: growth table, nothing grew" "rc=$st" "$out" ;;
esac
out=$("$MW_BIN" --root "$FIX/host-24g" slab --interval 50ms --top 3 --json 2>&1); st=$?
case "$st:$out" in
0:*'"span_s": '*'"growth": ['*'"growing": false'*) ok "slab --interval --json has span and growth" ;;
*) fail "slab --interval --json has span and growth" "rc=$st" "$out" ;;
esac

# Errors: no slab data (exit 1, message on stderr, nothing on stdout).
for fx in slab-empty slab-v1; do
    "$MW_BIN" --root "$FIX/$fx" slab >"${TMPDIR:-/tmp}/mw-slab.$$" 2>"${TMPDIR:-/tmp}/mw-slab-err.$$"
    st=$?
    if [ $st -eq 1 ] && [ ! -s "${TMPDIR:-/tmp}/mw-slab.$$" ] &&
        grep -q "slab: cannot read" "${TMPDIR:-/tmp}/mw-slab-err.$$"; then
        ok "slab on $fx exits 1 with a message"
    else
        fail "slab on $fx exits 1 with a message" "rc=$st"
    fi
    rm -f "${TMPDIR:-/tmp}/mw-slab.$$" "${TMPDIR:-/tmp}/mw-slab-err.$$"
done
"$MW_BIN" slab --from /nonexistent/rec >/dev/null 2>&1
check "slab --from a missing file exits 1" [ $? -eq 1 ]
"$MW_BIN" slab --interval 1s --from x >/dev/null 2>&1
check "slab --interval with --from exits 2" [ $? -eq 2 ]
"$MW_BIN" slab --top 0 >/dev/null 2>&1
check "slab --top 0 exits 2" [ $? -eq 2 ]
"$MW_BIN" slab extra >/dev/null 2>&1
check "slab stray argument exits 2" [ $? -eq 2 ]
"$MW_BIN" slab --help | grep -q "EXIT STATUS"
check "slab --help has exit codes" [ $? -eq 0 ]
