#!/bin/sh
# make lint, part 2: no function body longer than MAX lines (default 120).
# The tree is clang-formatted in Linux brace style, so a function body is
# the lines from a "{" alone in column 0 to the next "}" alone in column 0;
# initialised tables ("... = {" ... "};") are not functions and are exempt.
# Usage: tools/funclen.sh [MAX] [FILE...]   (files default to src/*/*.c)
cd "$(dirname "$0")/.." || exit 2
max=${1:-120}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- src/*/*.c
awk -v max="$max" '
    FNR == 1 { sig = ""; open = 0 }
    /^[A-Za-z_].*\(/ && !open { sig = $0; sigline = FNR }
    /^\{[[:space:]]*$/ && !open { open = 1; start = FNR; next }
    /^\}[[:space:]]*$/ && open {
        open = 0
        n = FNR - start + 1
        if (n > max) {
            name = sig; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
            printf "%s:%d: %s is %d lines (at most %d)\n", FILENAME, sigline, name, n, max
            bad = 1
        }
    }
    END { exit bad }
' "$@"
