#!/bin/sh
# How long `memwarden status` and `snapshot` take on this machine, and the
# size of the static binary.
. tests/lib.sh
ms() { # CMD...: wall milliseconds of the median of 5 runs
    for i in 1 2 3 4 5; do
        s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N)
        echo $(( (e - s) / 1000000 ))
    done | sort -n | sed -n 3p
}
echo "memwarden status:        $(ms "$MW_BIN" status) ms (median of 5)"
echo "memwarden status --json: $(ms "$MW_BIN" status --json) ms"
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
s=$(date +%s%N); "$MW_BIN" snapshot "$d/s" >/dev/null; e=$(date +%s%N)
echo "memwarden snapshot:      $(( (e - s) / 1000000 )) ms, $(find "$d/s" -type f | wc -l) files"
if command -v musl-gcc >/dev/null 2>&1; then
    make -s static >/dev/null 2>&1 && echo "static binary (musl, stripped): $(wc -c < memwarden-static) bytes"
else
    echo "static binary: musl-gcc not installed (apt-get install musl-tools)"
fi
