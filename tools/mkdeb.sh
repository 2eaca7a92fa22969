#!/bin/sh
# make deb: the Debian binary packages from the tree as it is (committed or
# not, without what .gitignore names), built the Debian way
# (dpkg-buildpackage -b over debian/) in a copy under OUT, so the build
# never writes into the tree or beside it. The copy gets debian/changelog
# written from VERSION, the one place the release is said, and GIT_REV, the
# commit it was built from (the copy has no .git).
# Usage: tools/mkdeb.sh [OUT]   (default build/deb; OUT is emptied first)
# Prints the .deb paths; the build's log is OUT/build.log.
set -eu
cd "$(dirname "$0")/.."
out=${1:-build/deb}
for t in dpkg-buildpackage dh dpkg-parsechangelog; do
    command -v "$t" >/dev/null 2>&1 ||
        { echo "make deb: $t is missing (apt-get install dpkg-dev debhelper)" >&2; exit 1; }
done
version=$(cat VERSION)
rev=$(git describe --always --dirty --exclude='*' 2>/dev/null || echo unknown)
src=$out/memwarden-$version
rm -rf "$out"
mkdir -p "$src"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked and new files as they are now; a tracked file deleted in the
    # work tree is left out (tar warns about it, and the warning goes)
    git ls-files -z --cached --others --exclude-standard |
        tar --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$src"
else
    tar --exclude=./build --exclude='./build-*' --exclude=./memwarden -cf - . | tar -xf - -C "$src"
fi
# The changelog's date is the commit's (the same package for the same
# commit: dpkg-buildpackage derives SOURCE_DATE_EPOCH from it).
date=$(git log -1 --format=%aD 2>/dev/null || date -R)
maint=$(sed -n 's/^Maintainer: //p' debian/control)
cat >"$src/debian/changelog" <<EOT
memwarden ($version) unstable; urgency=medium

  * Built by make deb from the memwarden tree at git $rev (VERSION
    $version); the project's history is its git log.

 -- $maint  $date
EOT
if ! (cd "$src" && GIT_REV=$rev dpkg-buildpackage -b -us -uc -Jauto) >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log" >&2
    echo "make deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
    exit 1
fi
ls "$out"/*.deb
