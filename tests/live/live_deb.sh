#!/bin/sh
# Live: the Debian packages, without systemd running. `make deb` builds
# them from the tree (unit tests left to make test: nocheck); their contents
# and control files are checked (dpkg-deb -c / -I), lintian must say no
# error and no warning, and in a throwaway Debian chroot (mmdebstrap
# --variant=minbase bookworm, cached as a tarball under build/deb-chroot/,
# a policy-rc.d that forbids starting services) they are installed,
# upgraded over themselves, upgraded to a newer version whose conffile
# changed while the admin had edited it, removed and purged: the files
# arrive, the unit is enabled the Debian way, the admin's conffile is kept,
# and purge leaves nothing of the package behind (find before vs after).
# The unit running under systemd is the guest's part:
# tests/distro/guest/pkg_lifecycle.sh.
. tests/lib.sh
N=live_deb
B=${MW_BUILD:-build}
for t in dpkg-buildpackage dh dpkg-deb lintian; do
    command -v $t >/dev/null 2>&1 ||
        { skip $N "$t missing (apt-get install dpkg-dev debhelper lintian)"; exit 0; }
done
scratch
V=$(cat VERSION)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)

# ---- build ----
if ! DEB_BUILD_OPTIONS=nocheck make --no-print-directory deb BUILD="$T" >"$T/make.out" 2>&1; then
    fail $N.build "make deb failed" "$(tail -30 "$T/make.out")"
    exit 0
fi
ok $N.build
DEB=$(ls "$T"/deb/memwarden_"$V"_*.deb 2>/dev/null)
DEV=$(ls "$T"/deb/libmwpool-dev_"$V"_*.deb 2>/dev/null)
[ -f "$DEB" ] && [ -f "$DEV" ] || { fail $N.debs "no memwarden_$V / libmwpool-dev_$V .deb in $T/deb" "$(ls "$T/deb")"; exit 0; }

# ---- contents (dpkg-deb -c) and control (dpkg-deb -I) ----
dpkg-deb -c "$DEB" | awk '{print $NF}' | sed 's|^\./|/|' >"$T/files"
dpkg-deb -c "$DEV" | awk '{print $NF}' | sed 's|^\./|/|' >"$T/devfiles"
missing=
for f in /usr/bin/memwarden /usr/share/man/man8/memwarden.8.gz /etc/memwarden.conf \
    /usr/share/bash-completion/completions/memwarden /usr/share/zsh/vendor-completions/_memwarden \
    /usr/share/fish/vendor_completions.d/memwarden.fish \
    /lib/systemd/system/memwarden.service /etc/logrotate.d/memwarden \
    /usr/share/doc/memwarden/copyright /usr/share/doc/memwarden/changelog.gz; do
    grep -qx "$f" "$T/files" || missing="$missing $f"
done
for f in /usr/include/mwpool.h /usr/lib/$MA/libmwpool.a /usr/lib/$MA/pkgconfig/mwpool.pc \
    /usr/share/doc/libmwpool-dev/copyright; do
    grep -qx "$f" "$T/devfiles" || missing="$missing $f"
done
if [ -z "$missing" ]; then ok $N.contents; else fail $N.contents "missing:$missing"; fi
# the static library only (no libmwpool.so: docs/packaging.md)
check $N.no_shared_library sh -c '! grep -q "libmwpool\.so" "$1" "$2"' sh "$T/files" "$T/devfiles"
dpkg-deb -I "$DEB" >"$T/info"
check $N.version_from_VERSION grep -qx " Version: $V" "$T/info"
check $N.depends_libc grep -q '^ Depends: .*libc6' "$T/info"
dpkg-deb -e "$DEB" "$T/ctl"
check $N.conffiles sh -c 'sort "$1" | tr "\n" " " | grep -qx "/etc/logrotate.d/memwarden /etc/memwarden.conf "' \
    sh "$T/ctl/conffiles"
# the Debian way: enabled with deb-systemd-helper; on upgrade the running
# daemon is left alone (prerm stops only on remove) and restarted by the new
# postinst once the new files are in place
check $N.postinst_enables grep -q "deb-systemd-helper enable 'memwarden.service'" "$T/ctl/postinst"
check $N.postinst_restarts_on_upgrade grep -q '_dh_action=restart' "$T/ctl/postinst"
if grep -q 'deb-systemd-invoke stop' "$T/ctl/prerm" && grep -q '"$1" = remove' "$T/ctl/prerm"; then
    ok $N.prerm_stops_only_on_remove
else
    fail $N.prerm_stops_only_on_remove "$(cat "$T/ctl/prerm")"
fi
dpkg-deb -x "$DEB" "$T/x"
dpkg-deb -x "$DEV" "$T/x"
rev=$(git describe --always --dirty --exclude='*' 2>/dev/null || echo unknown)
check $N.binary_version [ "$("$T/x/usr/bin/memwarden" --version)" = "memwarden $V (git $rev)" ]
check $N.unit_is_contrib cmp -s "$T/x/lib/systemd/system/memwarden.service" contrib/memwarden.service
check $N.conffile_history_in_logsdir grep -qx 'history_file = /var/log/memwarden/kills.jsonl' "$T/x/etc/memwarden.conf"
check $N.conffile_valid sh -c '"$1" daemon --check-config "$2" >/dev/null' sh "$T/x/usr/bin/memwarden" "$T/x/etc/memwarden.conf"
check $N.man_page sh -c 'zcat "$1" | grep -q "^\.TH MEMWARDEN 8 .*memwarden $2 (git "' sh \
    "$T/x/usr/share/man/man8/memwarden.8.gz" "$V"
check $N.pkgconfig sh -c 'grep -qx "Version: $2" "$1" && grep -qx "libdir=/usr/lib/$3" "$1"' sh \
    "$T/x/usr/lib/$MA/pkgconfig/mwpool.pc" "$V" "$MA"
# the -dev package is enough to build a libmwpool program
if ${CC:-cc} -std=c11 -D_GNU_SOURCE -I"$T/x/usr/include" -o "$T/camera" examples/camera.c \
    "$T/x/usr/lib/$MA/libmwpool.a" -pthread 2>"$T/cc.err"; then
    ok $N.dev_package_builds_camera
else
    fail $N.dev_package_builds_camera "$(head -10 "$T/cc.err")"
fi

# ---- lintian: 0 errors, 0 warnings (overrides carry their reasons) ----
if lintian --fail-on error,warning -I "$T"/deb/memwarden_"$V"_*.changes >"$T/lintian" 2>&1; then
    ok $N.lintian_clean
else
    fail $N.lintian_clean "$(grep -v 'running with root privileges' "$T/lintian" | head -20)"
fi

# ---- the chroot: install, upgrade, remove, purge ----
[ "$(id -u)" = 0 ] || { skip $N.chroot "not root (chroot and dpkg in it)"; exit 0; }
command -v mmdebstrap >/dev/null 2>&1 || { skip $N.chroot "mmdebstrap missing (apt-get install mmdebstrap)"; exit 0; }
CACHE=$B/deb-chroot/bookworm-minbase.tar
[ -d "$CACHE" ] && rm -rf "$CACHE" # an older run's directory under the tarball's name
if [ ! -s "$CACHE" ]; then
    mkdir -p "$B/deb-chroot"
    if ! mmdebstrap --variant=minbase --format=tar --include=procps bookworm "$CACHE.tmp" >"$B/deb-chroot/mmdebstrap.log" 2>&1; then
        rm -rf "$CACHE.tmp"
        skip $N.chroot "mmdebstrap could not build a bookworm root (no mirror?): $(tail -1 "$B/deb-chroot/mmdebstrap.log")"
        exit 0
    fi
    mv "$CACHE.tmp" "$CACHE"
fi
R=$T/root
mkdir "$R" && tar -xf "$CACHE" -C "$R" || { fail $N.chroot "cannot unpack $CACHE"; exit 0; }
printf '#!/bin/sh\n# no service starts in this chroot\nexit 101\n' >"$R/usr/sbin/policy-rc.d"
chmod 755 "$R/usr/sbin/policy-rc.d"
cp "$DEB" "$R/tmp/memwarden.deb"
cp "$DEV" "$R/tmp/libmwpool-dev.deb"
# every path, except what dpkg and the tests' own copies change
snap() {
    (cd "$R" && find . -xdev | sed 's|^\.||' | grep -Ev '^/(var/lib/dpkg|var/log/dpkg\.log|var/log/alternatives\.log|tmp)(/|$)' | sort)
}
snap >"$T/before"
inch() { chroot "$R" "$@"; }

inch dpkg -i /tmp/memwarden.deb /tmp/libmwpool-dev.deb >"$T/install.log" 2>&1
check $N.install [ "$(inch dpkg-query -W -f='${Status} ${Version}' memwarden 2>/dev/null)" = "install ok installed $V" ]
check $N.installed_binary_runs sh -c 'chroot "$1" memwarden --version | grep -qx "memwarden $2 (git .*)"' sh "$R" "$V"
check $N.installed_config_valid sh -c 'chroot "$1" memwarden daemon --check-config /etc/memwarden.conf >/dev/null' sh "$R"
check $N.unit_enabled [ "$(readlink "$R/etc/systemd/system/multi-user.target.wants/memwarden.service")" = /lib/systemd/system/memwarden.service ]
if command -v systemd-analyze >/dev/null 2>&1; then
    out=$(systemd-analyze verify --man=no --root="$R" /lib/systemd/system/memwarden.service 2>&1); st=$?
    if [ $st -eq 0 ] && [ -z "$out" ]; then ok $N.unit_verifies; else fail $N.unit_verifies "rc $st: $out"; fi
else
    skip $N.unit_verifies "systemd-analyze missing"
fi
check $N.conffile_registered sh -c 'chroot "$1" dpkg-query -W -f="\${Conffiles}" memwarden | grep -q "^ /etc/memwarden.conf [0-9a-f]\{32\}$"' sh "$R"

# the admin edits the conffile; upgrade over itself keeps the edit, asks nothing
echo '# edited by the admin' >>"$R/etc/memwarden.conf"
inch dpkg -i /tmp/memwarden.deb >"$T/reinstall.log" 2>&1 </dev/null
check $N.reinstall [ "$(inch dpkg-query -W -f='${Status}' memwarden)" = "install ok installed" ]
check $N.reinstall_keeps_admin_edit grep -qx '# edited by the admin' "$R/etc/memwarden.conf"
check $N.reinstall_no_dpkg_dist [ ! -e "$R/etc/memwarden.conf.dpkg-dist" ]
check $N.reinstall_still_enabled [ -L "$R/etc/systemd/system/multi-user.target.wants/memwarden.service" ]

# a newer version whose conffile changed too (repacked): with the admin's
# edit, --force-confold keeps it and the new one lands as .dpkg-dist
dpkg-deb -R "$DEB" "$T/v2"
sed -i "s/^Version: .*/Version: $V+test1/" "$T/v2/DEBIAN/control"
echo '# changed in the next version' >>"$T/v2/etc/memwarden.conf"
dpkg-deb --root-owner-group -b "$T/v2" "$R/tmp/memwarden-v2.deb" >/dev/null
inch dpkg -i --force-confdef --force-confold /tmp/memwarden-v2.deb >"$T/upgrade.log" 2>&1 </dev/null
check $N.upgrade [ "$(inch dpkg-query -W -f='${Status} ${Version}' memwarden)" = "install ok installed $V+test1" ]
check $N.upgrade_keeps_admin_conffile grep -qx '# edited by the admin' "$R/etc/memwarden.conf"
check $N.upgrade_new_conffile_as_dpkg_dist grep -qx '# changed in the next version' "$R/etc/memwarden.conf.dpkg-dist"

# what the daemon and `tune --apply` would have left at run time
mkdir -p "$R/var/log/memwarden" "$R/var/lib/memwarden" "$R/run/memwarden"
echo '{"pid":1}' >"$R/var/log/memwarden/kills.jsonl"
echo '{"pid":1}' >"$R/var/log/memwarden/kills.jsonl.1"
echo '{}' >"$R/var/lib/memwarden/tune-backup.json"

inch dpkg -r memwarden libmwpool-dev >"$T/remove.log" 2>&1
check $N.remove_leaves_config [ "$(inch dpkg-query -W -f='${Status}' memwarden)" = "deinstall ok config-files" ]
check $N.remove_takes_files sh -c '[ ! -e "$1/usr/bin/memwarden" ] && [ ! -e "$1/lib/systemd/system/memwarden.service" ] && [ ! -e "$1/usr/include/mwpool.h" ]' sh "$R"
check $N.remove_keeps_conffile [ -f "$R/etc/memwarden.conf" ]

inch dpkg -P memwarden libmwpool-dev >"$T/purge.log" 2>&1
check $N.purge [ -z "$(inch dpkg-query -W -f='${Status}' memwarden 2>/dev/null)" ]
check $N.purge_says_tune_backup grep -q 'tune-backup.json' "$T/purge.log"
rmdir "$R/run/memwarden" # systemd removes RuntimeDirectory= at stop, not dpkg
snap >"$T/after"
left=$(diff "$T/before" "$T/after" | grep '^[<>]')
if [ -z "$left" ]; then
    ok $N.purge_leaves_nothing
else
    fail $N.purge_leaves_nothing "the root before install vs after purge:" "$left"
fi
