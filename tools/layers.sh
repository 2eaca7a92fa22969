#!/bin/sh
# make layers: every #include "LAYER/name.h" in src/ must point to the same
# layer or one below it. The order, lowest first, is the README's "Layout":
#   base < proc < model < analysis < lmk < cli
# A quoted include without a layer folder is an error too (it would hide
# which room it comes from). Prints one line per violation; exit 1 if any.
cd "$(dirname "$0")/.." || exit 2
LAYERS="base proc model analysis lmk cli"
rank() { # LAYER -> its position, or nothing when unknown
    i=0
    for l in $LAYERS; do [ "$l" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done
}
bad=0
for f in src/*/*.c src/*/*.h; do
    layer=$(basename "$(dirname "$f")")
    own=$(rank "$layer")
    if [ -z "$own" ]; then echo "$f: folder '$layer' is not a layer ($LAYERS)"; bad=1; continue; fi
    # line number and target of every quoted include
    grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        sed 's/^\([0-9]*\):.*"\(.*\)".*/\1 \2/' > "${TMPDIR:-/tmp}/layers.$$"
    while read -r line target; do
        case "$target" in
        */*) to=${target%%/*} ;;
        *) echo "$f:$line: include \"$target\" names no layer folder"; bad=1; continue ;;
        esac
        r=$(rank "$to")
        if [ -z "$r" ]; then
            echo "$f:$line: include \"$target\": '$to' is not a layer"; bad=1
        elif [ "$r" -gt "$own" ]; then
            echo "$f:$line: $layer may not include $target ($to is above $layer)"; bad=1
        fi
    done < "${TMPDIR:-/tmp}/layers.$$"
    rm -f "${TMPDIR:-/tmp}/layers.$$"
done
[ $bad -eq 0 ] && echo "layers: ok ($(ls src/*/*.c src/*/*.h | wc -l) files, order: $LAYERS)"
exit $bad
