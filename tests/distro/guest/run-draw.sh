#!/bin/sh
# run-draw.sh: one draw x one guardian in the distro bed's guest (issue 23).
# The host (tests/distro/bed.py) sends it as run.sh in a JOB with draw.env
# (the draw's parameters, below), bin/ (tests/progs built static, and
# memwarden) and, for memwarden, either deb/*.deb or memwarden.service +
# memwarden.conf. The agent runs it as root at adj -1000 in a restored
# machine; everything it leaves in $OUT goes back to the host.
#
# draw.env:
#   GUARD     none | earlyoom | nohang | oomd | memwarden
#   PREPARE=1 only prepare the guardian (below) and exit; PREPARED=1: the
#             restored guest has it prepared already
#   LOC       where the culprit runs: tab (a renderer of the browser), build
#             (make -j8 in a user scope), leak (a system service), scope (a
#             root transient scope), shm (a writer to /dev/shm), storm (a
#             service forking N workers), ssh (a process in the login
#             session beside the login that must survive)
#   KIND      anon | heap | tmpfs: what the culprit grows
#   RATE_MB START_MB   its growth in MiB/s, and MiB taken at once first
#   N         storm workers / build jobs; JOB_MB JOB_S: each build job's peak
#             and life; SHM_MB: what the shm writer leaves in /dev/shm
#   TABS TAB_MB        the browser's renderers and their size
#   DB_MB PREF         the database service's size and ManagedOOMPreference
#                      (none | omit | avoid)
#   SVC_USER  root | dynamic: who the system services run as
#   DEADLINE SETTLE    seconds after t0 at most; seconds kept after the
#                      culprit is gone
#
# Files in $OUT: phases (uptime of each step), registry (PID ADJ ROLE from
# the test programs), cgmap (PID cgroup, read while they live), alive (PID
# 0|1 at the end), timeline (uptime MemAvailable SwapFree PSI-full-total),
# psi/vmstat/meminfo .before/.after, dmesg, journal (short-monotonic, from
# the start of this script), guardian.log, heartbeat.json, history.jsonl
# (memwarden's), oomctl, units, sessions, summary (t0, t1, gone, ...).
set -u
. ./draw.env
JOB=$PWD
BIN=$JOB/bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN=/run/mw
REG=$RUN/registry
mkdir -p "$RUN" && chmod 1777 "$RUN"
: > "$REG" && chmod 666 "$REG"
: > "$OUT/phases"

up() { read -r _u _ < /proc/uptime && echo "$_u"; }
# Centiseconds since boot, without a fork (/proc/uptime has two decimals).
up_cs() { read -r _u _ < /proc/uptime && echo "${_u%.*}${_u#*.}"; }
phase() { echo "$1 $(up)" >> "$OUT/phases"; }
# A workload started from here must not inherit the harness's adj -1000.
as0() { (echo 0 > /proc/self/oom_score_adj && exec "$@"); }
# As uid 1000 talking to its user manager (user@1000.service).
U() { runuser -u mwuser -- env XDG_RUNTIME_DIR=/run/user/1000 "$@"; }
USERAPP=/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice
phase start

# ---------------------------------------------------------------- guardian
# memwarden as its package installs it: dpkg -i of `make deb`'s output when
# the job carries it, else the static binary with contrib/'s unit and
# configuration, which the package installs (the same paths: /usr/bin,
# /etc/memwarden.conf).
install_memwarden() {
    if ls deb/*.deb > /dev/null 2>&1; then
        DEBIAN_FRONTEND=noninteractive dpkg -i deb/*.deb > "$OUT/install.log" 2>&1
    else
        # The history goes where the package's sandbox lets it write
        # (LogsDirectory=memwarden; debian/rules edits the conffile so).
        install -m 0755 bin/memwarden /usr/bin/memwarden &&
            sed 's|^history_file = .*|history_file = /var/log/memwarden/kills.jsonl|' \
                memwarden.conf > /etc/memwarden.conf &&
            install -m 0644 memwarden.service /etc/systemd/system/memwarden.service &&
            systemctl daemon-reload > "$OUT/install.log" 2>&1
    fi
}

# What a guardian needs before it can start: systemd-oomd unmasked,
# memwarden's package installed (which enables and starts its unit). The
# host runs this once per bench as a job of its own (PREPARE=1) and saves
# the machine after it, so the draws of oomd and memwarden restore a guest
# where it is done (PREPARED=1).
prepare_guardian() {
    case $GUARD in
    oomd)
        rm -f /etc/systemd/system/systemd-oomd.service /etc/systemd/system/systemd-oomd.socket
        systemctl daemon-reload
        ;;
    memwarden) install_memwarden || echo "install failed: $(tail -3 "$OUT/install.log")" >> "$OUT/errors" ;;
    esac
}

GUNIT=
start_guardian() {
    case $GUARD in
    earlyoom) GUNIT=earlyoom.service ;;
    # nohang-desktop: the package enables both of its units, which conflict;
    # a desktop session gets the desktop configuration (docs/distro-bed.md).
    nohang) GUNIT=nohang-desktop.service ;;
    oomd) GUNIT=systemd-oomd.service ;;
    memwarden) GUNIT=memwarden.service ;;
    esac
    [ -n "$GUNIT" ] || return 0
    [ "${PREPARED:-0}" = 1 ] || prepare_guardian
    [ "$GUARD" = oomd ] && systemctl start systemd-oomd.socket
    systemctl start "$GUNIT" 2>> "$OUT/errors"
    systemctl is-active "$GUNIT" > "$OUT/guardian.state" 2>&1
}

# ---------------------------------------------------------------- workloads
svc_props() { # the system services' user: root or a dynamic one
    if [ "$SVC_USER" = dynamic ]; then
        echo "-p DynamicUser=yes -p ReadWritePaths=$RUN"
    fi
}

start_background() {
    # A database in system.slice, the biggest innocent, with the draw's
    # ManagedOOMPreference (systemd writes user.oomd_omit / user.oomd_avoid
    # on its cgroup).
    pref=
    [ "$PREF" != none ] && pref="-p ManagedOOMPreference=$PREF"
    # (All started at once: each systemd-run waits for its unit's start.)
    # shellcheck disable=SC2046,SC2086
    systemd-run -q --unit=mw-db $pref $(svc_props) --setenv=MW_REGISTRY="$REG" -- \
        "$BIN/hog" --max "${DB_MB}M" --rate max --retouch 2000 --name db &
    # The desktop session of uid 1000, in user@1000.service: a browser (its
    # renderers at adj 300 as Chromium sets them), an editor, and the
    # interface whose stalls are measured (the heartbeat, in session.slice
    # where a desktop's shell runs).
    U systemd-run -q --user --unit=mw-browser --setenv=MW_REGISTRY="$REG" -- \
        "$BIN/browser" --tabs "$TABS" --tab-size "${TAB_MB}M" --parent-size 32M \
        --grow-tab "$GROW_TAB" --grow-start "${START_MB}M" --rate "${RATE_MB}M/s" \
        --grow-for "${DEADLINE}s" &
    U systemd-run -q --user --unit=mw-editor --setenv=MW_REGISTRY="$REG" -- \
        "$BIN/hog" --max 24M --rate max --retouch 3000 --name editor &
    U systemd-run -q --user --slice=session.slice --unit=mw-shell --setenv=MW_REGISTRY="$REG" -- \
        "$BIN/heartbeat" --ws 32M --out "$RUN/heartbeat.json" --name heartbeat &
    # An ssh-like login: a PAM session (su -> pam_systemd -> session-cN.scope)
    # whose shell must survive; in the ssh draws the culprit is started in
    # the same session when $RUN/ssh-go appears.
    (as0 su -l mwuser -c "MW_REGISTRY=$REG sh $JOB/login.sh $BIN $RUN" \
        > /dev/null 2>> "$OUT/errors" &)
    wait
}

# Waits until the background has taken its memory: all of it registered
# (the database, the browser and its TABS renderers, the editor, the
# heartbeat, the login) and anonymous memory grown by less than 1 MiB in
# the last 0.5 s; 30 s at most.
wait_settled() {
    _last=0 _i=0
    while [ $_i -lt 60 ]; do
        sleep 0.5
        _anon=$(awk '/^AnonPages:/ { print $2 }' /proc/meminfo)
        [ "$(wc -l < "$REG")" -ge $((TABS + 5)) ] && [ $((_anon - _last)) -lt 1024 ] && return 0
        _last=$_anon _i=$((_i + 1))
    done
    echo "background not settled in 30 s: $(wc -l < "$REG") registered" >> "$OUT/errors"
}

start_culprit() {
    case $LOC in
    tab) kill -USR1 "$(role_pids renderer-grow)" ;;
    build)
        # make -j8 of N jobs, each growing to JOB_MB over JOB_S/2 s and
        # living JOB_S s, started from a terminal (a user service) in a
        # scope of its own, as a terminal emulator does.
        : > "$RUN/build.mk"
        _i=1 _all=
        while [ $_i -le "$N" ]; do
            _all="$_all j$_i"
            printf 'j%d:\n\t@%s/hog --max %dM --rate %dM/s --duration %ds --name cc1 > /dev/null\n' \
                $_i "$BIN" "$JOB_MB" $((JOB_MB * 2 / JOB_S + 1)) "$JOB_S" >> "$RUN/build.mk"
            _i=$((_i + 1))
        done
        printf 'all:%s\n.DEFAULT_GOAL := all\n' "$_all" >> "$RUN/build.mk"
        U systemd-run -q --user --unit=mw-term --setenv=MW_REGISTRY="$REG" -- \
            systemd-run -q --user --scope --unit=mw-build -- \
            timeout -s KILL "$DEADLINE" make -j8 -f "$RUN/build.mk"
        ;;
    leak)
        # shellcheck disable=SC2046
        systemd-run -q --unit=mw-leak $(svc_props) --setenv=MW_REGISTRY="$REG" -- \
            "$BIN/leaker" --start "${START_MB}M" --rate "${RATE_MB}M/s" --duration "${DEADLINE}s" \
            --name culprit
        ;;
    scope)
        set -- "$BIN/hog" --start "${START_MB}M" --rate "${RATE_MB}M/s" --duration "${DEADLINE}s" \
            --name culprit
        [ "$KIND" = tmpfs ] && set -- "$@" --file /dev/shm/mw-job
        (as0 env MW_REGISTRY="$REG" systemd-run -q --scope --unit=mw-job -- "$@" \
            > /dev/null 2>> "$OUT/errors" &)
        ;;
    shm)
        U systemd-run -q --user --unit=mw-shm --setenv=MW_REGISTRY="$REG" -- \
            "$BIN/hog" --file /dev/shm/mw-shm --max "${SHM_MB}M" --rate "${RATE_MB}M/s" \
            --exit --name culprit
        ;;
    storm)
        # shellcheck disable=SC2046
        systemd-run -q --unit=mw-storm $(svc_props) --setenv=MW_REGISTRY="$REG" -- \
            "$BIN/hog" --procs "$N" --max "$((STORM_MB / N))M" \
            --rate "$((RATE_MB / N + 1))M/s" --duration "${DEADLINE}s" --name culprit
        ;;
    ssh) touch "$RUN/ssh-go" ;;
    esac
}

# alive PID: running and not a zombie (a killed workload started from here
# stays a zombie until this shell would wait for it), without a fork.
alive() {
    read -r _st < "/proc/$1/stat" 2> /dev/null || return 1
    _st=${_st##*) }
    [ "${_st%% *}" != Z ]
}
role_pids() { while read -r _p _a _r; do [ "$_r" = "$1" ] && echo "$_p"; done < "$REG"; }
CULPRIT_ROLE=culprit
[ "$LOC" = tab ] && CULPRIT_ROLE=renderer-grow
[ "$LOC" = build ] && CULPRIT_ROLE=cc1

# The culprit is gone when every process of its role has died (at least one
# was registered); the build when its scope has no process left.
SEEN_BUILD=
culprit_gone() {
    if [ "$LOC" = build ]; then
        # a cgroup file's size is 0 (test -s never holds): read a line
        if { read -r _x < "$USERAPP/mw-build.scope/cgroup.procs"; } 2> /dev/null; then
            SEEN_BUILD=1
            return 1
        fi
        [ -n "$SEEN_BUILD" ]
        return
    fi
    _n=0
    for _p in $(role_pids "$CULPRIT_ROLE"); do
        alive "$_p" && return 1
        _n=$((_n + 1))
    done
    [ $_n -gt 0 ]
}

# Every registered process's cgroup, read once while it lives (the table
# names units from it).
map_cgroups() {
    while read -r _p _a _r; do
        case " $MAPPED " in *" $_p "*) continue ;; esac
        if read -r _cg < "/proc/$_p/cgroup" 2> /dev/null; then
            echo "$_p ${_cg#0::}" >> "$OUT/cgmap"
            MAPPED="$MAPPED $_p"
        fi
    done < "$REG"
}

sample() {
    _ma= _sf= _pf=
    while read -r _k _v _rest; do
        case $_k in
        MemAvailable:) _ma=$_v ;;
        SwapFree:) _sf=$_v ;;
        esac
    done < /proc/meminfo
    while read -r _k _a _b _c _t; do
        [ "$_k" = full ] && _pf=${_t#total=}
    done < /proc/pressure/memory
    echo "$(up) $_ma $_sf $_pf" >> "$OUT/timeline"
}

snap() {
    cat /proc/pressure/memory > "$OUT/psi.$1"
    cat /proc/vmstat > "$OUT/vmstat.$1"
    cat /proc/meminfo > "$OUT/meminfo.$1"
    cat /sys/block/zram0/mm_stat > "$OUT/zram.$1"
}

# ---------------------------------------------------------------- main
if [ "${PREPARE:-0}" = 1 ]; then
    prepare_guardian
    [ "$GUARD" = memwarden ] && systemctl is-active memwarden.service > "$OUT/guardian.state" 2>&1
    exit 0
fi
# The journal from here on (the set-up too: a unit that fails to start is
# seen there); the table counts from t0.
CURSOR=$(journalctl -n 0 --show-cursor --no-pager 2> /dev/null | sed -n 's/^-- cursor: //p')
start_guardian
phase guardian
[ "$GUARD" = oomd ] && oomctl > "$OUT/oomctl.start" 2>&1
start_background
wait_settled
MAPPED=
map_cgroups
phase settled
snap before
echo "mw-bench: t0 $GUARD" > /dev/kmsg
kill -USR1 "$(role_pids heartbeat)" 2> /dev/null
T0=$(up) T0CS=$(up_cs)
phase t0
start_culprit
phase culprit
GONE=
END=$((T0CS + DEADLINE * 100))
while [ "$(up_cs)" -lt "$END" ]; do
    map_cgroups
    sample
    # shm: the writer exits on its own and the memory stays in /dev/shm
    if [ -z "$GONE" ] && culprit_gone; then
        GONE=$(up)
        _e=$(($(up_cs) + SETTLE * 100))
        [ "$_e" -lt "$END" ] && END=$_e
    fi
    sleep 0.5
done
T1=$(up)
phase end
snap after
[ "$GUARD" = oomd ] && oomctl > "$OUT/oomctl.end" 2>&1
while read -r _p _a _r; do
    if alive "$_p"; then echo "$_p 1"; else echo "$_p 0"; fi
done < "$REG" > "$OUT/alive"
cp "$REG" "$OUT/registry"
# The heartbeat's figures over the draw: its final line on SIGTERM.
hb=$(role_pids heartbeat)
[ -n "$hb" ] && kill -TERM "$hb" 2> /dev/null
# The storm ends here, so collecting does not wait for a thrashing machine
# (the host ignores what happens after t1).
for _p in $(role_pids "$CULPRIT_ROLE"); do kill -KILL "$_p" 2> /dev/null; done
systemctl kill -s KILL mw-leak.service mw-storm.service mw-job.scope > /dev/null 2>&1
U systemctl --user kill -s KILL mw-build.scope mw-term.service > /dev/null 2>&1
rm -f /dev/shm/mw-*
_i=0
while [ $_i -lt 30 ] && ! grep -q '"final":true' "$RUN/heartbeat.json" 2> /dev/null; do
    sleep 0.1
    _i=$((_i + 1))
done
cp "$RUN/heartbeat.json" "$OUT/" 2> /dev/null
dmesg > "$OUT/dmesg"
journalctl --after-cursor="$CURSOR" -o short-monotonic --no-pager > "$OUT/journal" 2>&1
[ -n "$GUNIT" ] && journalctl -u "$GUNIT" -b -o short-monotonic --no-pager > "$OUT/guardian.log" 2>&1
# memwarden's kill history where its configuration puts it (contrib/:
# /var/log/memwarden-kills.jsonl; the package: /var/log/memwarden/kills.jsonl)
hist=$(sed -n 's/^history_file *= *//p' /etc/memwarden.conf 2> /dev/null)
[ -n "$hist" ] && cp "$hist" "$OUT/history.jsonl" 2> /dev/null
systemctl list-units --all --no-legend --plain 'mw-*' > "$OUT/units" 2>&1
U systemctl --user list-units --all --no-legend --plain 'mw-*' >> "$OUT/units" 2>&1
loginctl list-sessions --no-legend > "$OUT/sessions" 2>&1
ls -la /dev/shm > "$OUT/shm" 2>&1
cat > "$OUT/summary" << EOF
t0 $T0
t1 $T1
gone ${GONE:-}
guardian $(cat "$OUT/guardian.state" 2> /dev/null || echo none)
guardian_end $([ -n "$GUNIT" ] && systemctl is-active "$GUNIT")
EOF
phase done
