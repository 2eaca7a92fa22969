#!/bin/sh
# Writes memwarden(8) to stdout from the binary's own help texts, so the man
# page cannot drift from --help: `memwarden --help` gives NAME, SYNOPSIS and
# the command list; every `memwarden help CMD` becomes a section "CMD" whose
# parts (NAME, SYNOPSIS, DESCRIPTION, OPTIONS, ...) are subsections.
# Usage: tools/mkman.sh [MEMWARDEN] > memwarden.8
mw=${1:-./memwarden}
version=$("$mw" --version | sed 's/^memwarden //')
# roff-safe text: backslashes, and a leading '.' or "'" would be requests.
esc() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
# The page's date: SOURCE_DATE_EPOCH's when set (dpkg-buildpackage sets it
# from debian/changelog), else the last commit's: the same text for the same
# source.
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%F)
else
    date=$(git log -1 --format=%cs 2>/dev/null || echo "")
fi
# A help text: "HEADER" lines at column 0 become .SS (or .SH), the indented
# body between them is kept as it is (no filling: the tables stay aligned).
body() { # LEVEL(SH|SS)
    awk -v lvl="$1" '
        /^[A-Z][A-Z ]*$/ { if (open) print ".fi"; print "." lvl " " $0; print ".nf"; open = 1; next }
        { sub(/^    /, ""); if ($0 ~ /^[.\047]/) $0 = "\\&" $0; print }
        END { if (open) print ".fi" }'
}
cat <<EOT
.TH MEMWARDEN 8 "$date" "memwarden $version" "System Administration"
.SH NAME
memwarden \\- keeps memory-starved Linux machines alive and explains their memory
.SH SYNOPSIS
.nf
EOT
"$mw" --help | sed -n '/^Usage:/,/^$/p' | sed 's/^Usage: //; s/^       //' | esc
echo ".fi"
echo ".SH DESCRIPTION"
echo ".nf"
"$mw" --help | sed '1,/^$/d' | sed '/^Exit status/,$d' | esc
echo ".fi"
echo ".SH EXIT STATUS"
echo ".nf"
"$mw" --help | sed -n '/^Exit status/,$p' | esc
echo ".fi"
for cmd in $("$mw" --help | sed -n '/^Commands:/,/^$/p' | awk 'NF > 1 && /^  [a-z]/ { print $1 }'); do
    echo ".SH COMMAND: $cmd"
    "$mw" help "$cmd" | sed 's/\\/\\e/g' | body SS
done
