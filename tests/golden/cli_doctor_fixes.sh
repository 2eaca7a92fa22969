#!/bin/sh
# Every command `doctor` can suggest works (issue 26: it suggested
# `memwarden analyze /var/log/kern.log # or dmesg`, which analyze refuses,
# and `memwarden prio --adj -900 ...`, an option prio never had).
#
# The suggestions: those of doctor --json on every captured tree of
# tests/fixtures, and those test_doctor reaches from inputs made for each
# check (MW_DOCTOR_FIXES). Each fix site of src/analysis/doctor.c must be
# among them (its leading text begins one), so a new suggestion is run
# here as soon as it is written. Then each is run, on a copy of a captured
# tree, never on this machine:
#   memwarden ...  on the copy (prio set with --dry-run, the daemon up to
#                  its refusal of a captured tree plus --choose-once): exit 0,
#                  or 3 (it ran and found something)
#   sysctl -w K=V  K is a knob of this kernel (sysctl -n K reads it), V a number
#   echo V > FILE  FILE is a file of this kernel or of a captured tree, and V
#                  a value it takes (one of THP's words, y/n, a number)
#   systemctl set-property UNIT MemoryHigh=N% MemoryMax=N%  (by form: no
#                  systemd here) a unit name, percentages
. tests/lib.sh
BUILD=${MW_BUILD:-build}
SRC=src/analysis/doctor.c
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP

# 1. gather
if ! MW_DOCTOR_FIXES="$T/unit" "$BUILD/tests/test_doctor" >"$T/unit.out" 2>&1; then
    fail "doctor fixes: test_doctor" "$(cat "$T/unit.out")"
fi
for r in "$FIX"/*/; do
    [ -d "$r/proc" ] || continue
    "$MW_BIN" --root "$r" doctor --json 2>/dev/null | sed -n 's/^ *"fix": *"\(..*\)",\{0,1\}$/\1/p'
done >"$T/fixtures"
sort -u "$T/unit" "$T/fixtures" >"$T/all"
n=$(grep -c '' "$T/all")

# 2. every fix site of doctor.c is among them: the first string literal of
# each statement that writes c->fix, up to its first conversion
missing=""
awk '/c->fix/ && !/^ *\/[\/*]/ { s = $0; if (s !~ /"/) { getline; s = s $0 } print s }' "$SRC" |
    sed -n 's/^[^"]*"\([^"%]*\).*/\1/p' | sed 's/%%/%/g' | sort -u >"$T/sites"
while IFS= read -r lead; do
    [ -n "$lead" ] || continue
    grep -qF -- "$lead" "$T/all" || missing="$missing [$lead]"
done <"$T/sites"
if [ -z "$missing" ] && [ "$n" -ge 20 ]; then
    ok "doctor fixes: all $(grep -c '' "$T/sites") fix sites of doctor.c reached ($n suggestions)"
else
    fail "doctor fixes: every fix site of doctor.c reached" "not reached:$missing ($n suggestions)"
fi

# 3. run each
fresh() { # a writable copy of captured tree $1 at $T/root
    rm -rf "$T/root" && cp -a "$FIX/$1" "$T/root"
}
run_mw() { # ARGS: memwarden's, on the copy; prints why on failure
    set -- $*
    case "$1 $2" in
    "zram setup") fresh doctor-480m ;;
    *) fresh doctor-5g6-swap98 ;; # pid 700: the big process at -1000 (test_doctor's too)
    esac
    mkdir -p "$T/root/dev" && cp "$FIX/oom/6.18-memcg-v1.kmsg" "$T/root/dev/kmsg"
    case "$1 $2" in
    "prio set") set -- "$@" --dry-run ;;
    "daemon "*)
        timeout 30 "$MW_BIN" --root "$T/root" "$@" >"$T/out" 2>&1
        rc=$?
        grep -q "refusing to run on a captured tree" "$T/out" || {
            echo "rc $rc: $(head -c 300 "$T/out")"
            return 1
        }
        set -- daemon --choose-once
        ;;
    esac
    timeout 30 "$MW_BIN" --root "$T/root" "$@" >"$T/out" 2>&1
    rc=$?
    [ $rc = 0 ] || [ $rc = 3 ] || { # 3: it ran and found something (oom: the kills)
        echo "memwarden $*: rc $rc: $(head -c 300 "$T/out")"
        return 1
    }
}
check_sysctl() { # K=V ...
    for kv in "$@"; do
        k=${kv%%=*} v=${kv#*=}
        case "$v" in '' | *[!0-9]*)
            echo "$k: '$v' is not a number"
            return 1
            ;;
        esac
        sysctl -n "$k" >/dev/null 2>&1 || [ -e "/proc/sys/$(echo "$k" | tr . /)" ] || {
            echo "$k: no such knob on this kernel"
            return 1
        }
    done
}
check_echo() { # V FILE
    v=$1 f=$2 where=""
    for base in "" "$FIX"/*; do
        [ -e "$base$f" ] && where="$base$f" && break
    done
    case "$f" in
    /sys/fs/cgroup/*/memory.max | /sys/fs/cgroup/memory/*/memory.limit_in_bytes)
        where=cgroup # made by doctor for the cgroup it read
        ;;
    esac
    [ -n "$where" ] || {
        echo "$f: on no kernel here nor in a captured tree"
        return 1
    }
    case "$f:$v" in
    */transparent_hugepage/enabled:*) grep -qw -- "$v" "$where" || {
        echo "$f does not take '$v' ($(cat "$where"))"
        return 1
    } ;;
    */lru_gen/enabled:[yn] | */lru_gen/enabled:0x[0-9a-f]*) ;;
    *:*[!0-9]* | *:)
        echo "$f: '$v' is not a number"
        return 1
        ;;
    esac
}
bad=0
while IFS= read -r fix; do
    cmd=${fix%%#*}
    why=""
    # each ';'-separated command of the line
    echo "$cmd" | tr ';' '\n' >"$T/parts"
    while IFS= read -r part; do
        set -- $part
        [ $# -gt 0 ] || continue
        case "$1 $2" in
        "memwarden "*)
            shift
            w=$(run_mw "$@") || why="$why $w"
            ;;
        "sysctl -w")
            shift 2
            w=$(check_sysctl "$@") || why="$why $w"
            ;;
        "echo "*)
            [ "$3" = ">" ] && [ $# = 4 ] && w=$(check_echo "$2" "$4") || why="$why ${w:-not 'echo V > FILE'}"
            ;;
        "systemctl set-property")
            echo "$part" | grep -qE '^systemctl set-property [A-Za-z0-9@_.:-]+\.(slice|service|scope) MemoryHigh=[0-9]+% MemoryMax=[0-9]+%$' ||
                why="$why not a unit and two percentages"
            ;;
        *) why="$why not a command memwarden, sysctl, echo or systemctl" ;;
        esac
        w=""
    done <"$T/parts"
    if [ -z "$why" ]; then
        ok "doctor fix works: $fix"
    else
        fail "doctor fix works: $fix" "$why"
        bad=1
    fi
done <"$T/all"
exit 0
