#!/bin/sh
# make lint, part 2: no function body longer than MAX lines (default 80).
# The tree is clang-formatted in Linux brace style, so a function body is
# the lines from a "{" alone in column 0 to the next "}" alone in column 0;
# initialised tables ("... = {" ... "};") are not functions and are exempt.
#
# With --exceptions LIST, the functions LIST names ("FILE FUNCTION LINES"
# a line, # comments) may be over MAX, each at exactly its LINES. The list
# may only shrink, and cannot go stale: a listed function that is gone, at
# or under MAX, or not at its LINES (it grew: split it; it shrank: lower
# the number) fails as surely as an unlisted function over MAX.
# Usage: tools/funclen.sh [--exceptions LIST] [MAX] [FILE...]
#        (files default to src/*/*.c)
cd "$(dirname "$0")/.." || exit 2
list=/dev/null
if [ "${1:-}" = --exceptions ]; then
    list=$2
    [ -r "$list" ] || { echo "funclen: cannot read the exceptions list $list"; exit 2; }
    shift 2
fi
max=${1:-80}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- src/*/*.c
awk -v max="$max" -v list="$list" '
    FILENAME == list {
        sub(/#.*/, "")
        if (NF == 0)
            next
        if (NF != 3 || $3 !~ /^[0-9]+$/) {
            printf "%s:%d: not \"FILE FUNCTION LINES\"\n", list, FNR
            bad = 1
            next
        }
        allowed[$1 SUBSEP $2] = $3
        where[$1 SUBSEP $2] = FNR
        next
    }
    FNR == 1 { sig = ""; open = 0; scanned[FILENAME] = 1 }
    /^[A-Za-z_].*\(/ && !open { sig = $0; sigline = FNR }
    /^\{[[:space:]]*$/ && !open { open = 1; start = FNR; next }
    /^\}[[:space:]]*$/ && open {
        open = 0
        n = FNR - start + 1
        name = sig; sub(/\(.*/, "", name); sub(/.*[ *]/, "", name)
        key = FILENAME SUBSEP name
        if (key in allowed) {
            seen[key] = 1
            if (n <= max) {
                printf "%s:%d: %s is %d lines, at most %d now: remove it from %s\n", FILENAME, sigline, name, n, max, list
                bad = 1
            } else if (n > allowed[key]) {
                printf "%s:%d: %s grew to %d lines (%s allows %d): split it\n", FILENAME, sigline, name, n, list, allowed[key]
                bad = 1
            } else if (n < allowed[key]) {
                printf "%s:%d: %s shrank to %d lines: lower its entry in %s (line %d) to %d\n", FILENAME, sigline, name, n, list, where[key], n
                bad = 1
            }
        } else if (n > max) {
            printf "%s:%d: %s is %d lines (at most %d)\n", FILENAME, sigline, name, n, max
            bad = 1
        }
    }
    END {
        for (key in allowed) {
            split(key, part, SUBSEP)
            # a file left out of this run (FILE... given) is not judged;
            # a file that no longer exists is
            if (key in seen || (!(part[1] in scanned) && (getline junk < part[1]) >= 0))
                continue
            printf "%s:%d: %s in %s is gone (or was renamed): remove it from the list\n", list, where[key], part[2], part[1]
            bad = 1
        }
        exit bad
    }
' "$list" "$@"
