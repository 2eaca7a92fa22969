#!/bin/sh
# memwarden(8) is generated from the help texts (tools/mkman.sh): it must
# carry every command and lint clean (mandoc -T lint, Debian package mandoc).
. tests/lib.sh
scratch
if ! sh tools/mkman.sh "$MW_BIN" > "$T/memwarden.8" 2> "$T/err"; then
    fail man_generate "$(cat "$T/err")"; exit 0
fi
ok man_generate
missing=""
for cmd in $("$MW_BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ { print $1 }'); do
    grep -q "^\.SH COMMAND: $cmd\$" "$T/memwarden.8" || missing="$missing $cmd"
    # the page carries the command's own synopsis, word for word
    syn=$("$MW_BIN" help "$cmd" | sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//')
    grep -qF -- "$syn" "$T/memwarden.8" || missing="$missing $cmd(synopsis)"
done
if [ -z "$missing" ]; then ok man_every_command; else fail man_every_command "missing:$missing"; fi
if command -v mandoc >/dev/null 2>&1; then
    out=$(mandoc -T lint -W warning "$T/memwarden.8" 2>&1)
    if [ -z "$out" ]; then ok man_lint; else fail man_lint "$out"; fi
elif command -v groff >/dev/null 2>&1; then
    out=$(groff -man -w all -z "$T/memwarden.8" 2>&1)
    if [ -z "$out" ]; then ok man_lint; else fail man_lint "$out"; fi
else
    skip man_lint "neither mandoc nor groff installed (apt-get install mandoc)"
fi
# One unit vocabulary (issue 16): sizes are binary (KiB, MiB, GiB) in every
# help text, the README and the docs that hold what the README held; a
# decimal "MB" after a number is a slip (the seeds' own words are quoted:
# 100 "MB"/h).
slips=$( (grep -nE '[0-9] ?[kKMGT]B\b' "$T/memwarden.8" | sed 's/^/memwarden.8:/'
          grep -nE '[0-9] ?[kKMGT]B\b' README.md docs/bench.md docs/design.md docs/testbed.md) | head -5)
if [ -z "$slips" ]; then ok man_units_binary; else fail man_units_binary "$slips"; fi
