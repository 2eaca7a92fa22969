#!/bin/sh
# The version is said once (VERSION): `memwarden --version` prints
# "memwarden 0.N.M (git HASH)" with that release, and the pkg-config file
# of libmwpool carries the same release (not a hash).
. tests/lib.sh
T=cli_version
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
want=$(cat VERSION)
case $want in
[0-9]*.[0-9]*.[0-9]*) ok $T.release_is_semantic ;;
*) fail $T.release_is_semantic "VERSION holds '$want', want N.N.N" ;;
esac
out=$("$MW_BIN" --version)
if printf '%s\n' "$out" | grep -Eqx "memwarden $want \\(git ([0-9a-f]{7,}(-dirty)?|unknown)\\)"; then
    ok $T.version_line
else
    fail $T.version_line "got '$out', want 'memwarden $want (git HASH)'"
fi
pc=${MW_BUILD:-build}/lib/mwpool.pc
if [ -f "$pc" ]; then
    check $T.pkgconfig_version grep -qx "Version: $want" "$pc"
else
    fail $T.pkgconfig_version "$pc not built (make pool builds it)"
fi
