#!/usr/bin/env python3
"""Host side of memwarden's distro bed (issue 23): a Debian bookworm guest
with systemd, booted once and saved, restored for every run; generated draws
x {none, earlyoom, nohang, systemd-oomd, memwarden}; one table. See
docs/distro-bed.md.

    bed.py image   --work DIR --kver KVER        build / refresh the saved guest
    bed.py bench   --work DIR --kver KVER --progs DIR --memwarden BIN
                   [--gen 20] [--seed 23] [--draws d01,d07] [--guardians ...]
                   [--md FILE] [--json FILE]
    bed.py smoke   ... (one draw x memwarden; ok/FAIL lines for tests/run.sh)
    bed.py script  FILE ... [--deb F.deb]        run FILE as root in the guest
    bed.py table   --work DIR --kver KVER --json F [--md F] [--gen 20] [--seed 23]
                   the table again from the saved runs (a parser fixed after a bench)

Only the guest runs the memory storms; nothing here allocates on the host.
"""
import argparse
import datetime
import hashlib
import io
import json
import math
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import qemu  # noqa: E402
from bench import last_json, parse_registry, psi_totals, pvh_kernel, read, vmstat  # noqa: E402  (tests/vm/bench.py)

GUARDIANS = ["none", "earlyoom", "nohang", "oomd", "memwarden"]
PEERS = ["earlyoom", "nohang", "oomd"]
LOCS = ["tab", "build", "leak", "scope", "shm", "storm", "ssh"]
GUEST_PROGS = ["hog", "heartbeat", "leaker", "browser"]
# Roles that are the culprit (or part of its unit) in each kind of draw.
CULPRIT_ROLES = {"culprit", "renderer-grow", "cc1", "storm-parent"}
# Roles that exit on their own: dead at the end is no kill unless a killer
# names them (build jobs end). The culprits exit on their own too: at the
# deadline (run-draw.sh), the shm writer when it has written.
EPHEMERAL_ROLES = {"cc1"}


def log(msg):
    print(f"bench-distro: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- the guest

# What mkimage.sh puts into the image (the other files of guest/ go with
# each job: run-draw.sh, login.sh, pkg_lifecycle.sh).
IMAGE_FILES = ["mkimage.sh", "guest/mw-agent", "guest/mw-agent.service", "guest/mw-zram-setup",
               "guest/mw-zram.service", "guest/autologin.conf"]


def image_key(args):
    """What the saved guest depends on: the image recipe, the guest files,
    the kernel, the machine's shape (qemu.SHAPE). A change rebuilds and
    reboots."""
    h = hashlib.sha256()
    for f in IMAGE_FILES:
        with open(os.path.join(HERE, f), "rb") as fh:
            h.update(f.encode() + fh.read())
    h.update(" ".join(qemu.SHAPE).encode())
    h.update(args.kver.encode())
    for f in (args.kernel, args.initrd):
        st = os.stat(f)
        h.update(f"{f} {st.st_size} {int(st.st_mtime)}".encode())
    return h.hexdigest()[:16]


def guest_for(args):
    boot_kernel = pvh_kernel(args.kernel, args.work)
    return qemu.Guest(args.work, boot_kernel, args.initrd)


def ensure_image(args):
    """Builds the root disk and the saved machine when missing or stale.
    Returns a dict of timings (empty when the cached guest was used)."""
    stamp = os.path.join(args.work, "guest.stamp")
    key = image_key(args)
    disk = os.path.join(args.work, "guest.qcow2")
    try:
        if open(stamp).read().strip() == key and os.path.exists(disk):
            return {}
    except OSError:
        pass
    os.makedirs(args.work, exist_ok=True)
    t = time.monotonic()
    log("building the root disk (mmdebstrap once, then mkfs.ext4 -d)")
    subprocess.run(["sh", os.path.join(HERE, "mkimage.sh"), args.work, args.kver], check=True)
    t_image = time.monotonic() - t
    subprocess.run(["qemu-img", "convert", "-O", "qcow2", os.path.join(args.work, "root.ext4"), disk],
                   check=True)
    os.unlink(os.path.join(args.work, "root.ext4"))
    log("booting the guest once to save it")
    t_ready, t_save = guest_for(args).boot_and_save(os.path.join(args.work, "boot-serial.log"))
    with open(stamp, "w") as f:
        f.write(key + "\n")
    times = {"image_s": round(t_image, 1), "boot_s": round(t_ready, 1), "savevm_s": round(t_save, 1)}
    with open(os.path.join(args.work, "image-times.json"), "w") as f:
        json.dump(times, f)
    log(f"guest saved: image {t_image:.0f} s, boot to READY {t_ready:.0f} s, savevm {t_save:.1f} s")
    return times


def job_tar(args, files):
    """FILES: {name in the job: bytes or a host path}. Returns tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, src in sorted(files.items()):
            data = src if isinstance(src, bytes) else open(src, "rb").read()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o755 if name.startswith("bin/") or name.endswith(".sh") else 0o644
            tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def memwarden_files(args):
    """memwarden as its package installs it: the .deb when given, else the
    static binary with contrib/'s unit and configuration."""
    if args.deb:
        return {f"deb/{os.path.basename(args.deb)}": args.deb}
    top = os.path.join(HERE, "..", "..")
    return {"bin/memwarden": args.memwarden,
            "memwarden.service": os.path.join(top, "contrib", "memwarden.service"),
            "memwarden.conf": os.path.join(top, "contrib", "memwarden.conf")}


def run_job(args, files, rundir, timeout, snapshot=qemu.SNAPSHOT, save_as=None):
    """Restores SNAPSHOT, runs one job, unpacks its OUT into RUNDIR/out (and
    saves the machine as SAVE_AS when given). Returns the timings, or raises
    qemu.GuestError."""
    shutil.rmtree(rundir, ignore_errors=True)
    os.makedirs(rundir)
    out, times = guest_for(args).run(job_tar(args, files), os.path.join(rundir, "serial.log"), timeout,
                                     snapshot, save_as)
    dest = os.path.join(rundir, "out")
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(out)) as tf:
        for m in tf.getmembers():
            if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                continue
            tf.extract(m, dest)
    return times


# ---------------------------------------------------------------- draws

# Sizes in MiB for a 512 MiB guest (MemTotal 439 MiB, ~55 MiB used after
# boot) with 256 MiB of zram: the background takes 180-300 MiB; a culprit
# starts at CAPACITY - rate x EXHAUST_S so a slow one too runs the machine out
# within about EXHAUST_S seconds, as in the BusyBox bed's generator.
CAPACITY_MB = 220
EXHAUST_S = 20
DEADLINE_S = 35
SETTLE_S = 5


def gen_draws(seed, n):
    """N draws from SEED: where the culprit runs (every kind of LOCS in turn,
    in a seeded order), what it grows and how fast, process counts, the
    background's shape, the database's ManagedOOMPreference."""
    rng = random.Random(seed)
    order = []
    while len(order) < n:
        block = LOCS[:]
        rng.shuffle(block)
        order += block
    prefs = (["omit", "avoid", "none"] * n)[:n]
    rng.shuffle(prefs)
    draws = []
    for i in range(n):
        loc = order[i]
        rate = round(math.exp(rng.uniform(math.log(4), math.log(60))))
        d = {"id": f"d{i + 1:02d}", "loc": loc, "kind": "anon", "rate": rate,
             "start": max(0, CAPACITY_MB - rate * EXHAUST_S),
             "tabs": rng.randint(8, 20), "tab_mb": rng.randint(4, 7),
             "db_mb": rng.randint(40, 96), "pref": prefs[i],
             "svc_user": rng.choice(["root", "dynamic"]),
             "n": 0, "job_mb": 0, "job_s": 0, "shm_mb": 0, "storm_mb": 0}
        if loc == "leak":
            d["kind"] = "heap"
        elif loc == "ssh":
            d["kind"] = rng.choice(["anon", "heap"])
        elif loc == "scope":
            d["kind"] = "tmpfs" if rng.random() < 0.3 else "anon"
        elif loc == "shm":
            d.update(kind="tmpfs", shm_mb=rng.randint(120, 215), start=0)
        elif loc == "build":
            d.update(n=rng.randint(16, 32), job_mb=rng.randint(40, 80), job_s=rng.randint(6, 10),
                     start=0, rate=0)
        elif loc == "storm":
            # a storm is a burst: 40-150 MiB/s in total
            d.update(n=rng.randint(10, 60), storm_mb=rng.randint(300, 450), start=0,
                     rate=round(math.exp(rng.uniform(math.log(40), math.log(150)))))
        draws.append(d)
    return draws


def draw_desc(d):
    who = {"tab": "browser tab", "build": "make -j8", "leak": "service leak", "scope": "root scope",
           "shm": "/dev/shm writer", "storm": "service fork storm", "ssh": "in the ssh session"}[d["loc"]]
    if d["loc"] == "build":
        s = f"{who}: {d['n']} jobs x {d['job_mb']} MiB, {d['job_s']} s"
    elif d["loc"] == "shm":
        s = f"{who}: {d['shm_mb']} MiB at {d['rate']} MiB/s"
    elif d["loc"] == "storm":
        s = f"{who}: {d['n']} x {d['storm_mb'] // d['n']} MiB at {d['rate']} MiB/s"
    else:
        s = f"{who}: {d['kind']} {d['start']} MiB + {d['rate']} MiB/s"
    if d["loc"] in ("leak", "storm"):
        s += f" ({d['svc_user']})"
    s += f"; {d['tabs']} tabs x {d['tab_mb']} MiB; db {d['db_mb']} MiB"
    if d["pref"] != "none":
        s += f" {d['pref']}"
    return s


def draw_env(d, guardian):
    kv = {"GUARD": guardian, "LOC": d["loc"], "KIND": d["kind"], "RATE_MB": d["rate"],
          "START_MB": d["start"], "N": d["n"] or 1, "JOB_MB": d["job_mb"], "JOB_S": d["job_s"] or 1,
          "SHM_MB": d["shm_mb"], "STORM_MB": d["storm_mb"], "TABS": d["tabs"], "TAB_MB": d["tab_mb"],
          "GROW_TAB": 1 + d["tabs"] // 2 if d["loc"] == "tab" else 0,
          "DB_MB": d["db_mb"], "PREF": d["pref"], "SVC_USER": d["svc_user"],
          "DEADLINE": DEADLINE_S, "SETTLE": 10 if d["loc"] == "shm" else SETTLE_S}
    return "".join(f"{k}={v}\n" for k, v in kv.items()).encode()


# ---------------------------------------------------------------- parsing

def after_marker(dmesg):
    """The part of the guest's dmesg after run-draw.sh's t0 marker."""
    at = dmesg.find("mw-bench: t0")
    return dmesg[at:] if at >= 0 else dmesg


TS = re.compile(r"^\[\s*(\d+\.\d+)\]")


def line_ts(line):
    """Seconds since boot from a dmesg or journalctl -o short-monotonic line."""
    m = TS.match(line)
    return float(m.group(1)) if m else None


def kernel_victims(dmesg):
    """Sample: '[   89.56] Out of memory: Killed process 392 (hog) total-vm:...'.
    Returns [(uptime_s, pid)]."""
    return [(line_ts(l), int(m.group(1))) for l in dmesg.splitlines()
            for m in [re.search(r"Out of memory: Killed process (\d+) ", l)] if m]


def guardian_victims(guardian, glog, history):
    """What a guardian says it signalled, from its journal (short-monotonic)
    and memwarden's history file: [(uptime_s or None, pid or None, cgroup or
    None)]."""
    ev = []
    lines = glog.splitlines()
    if guardian == "earlyoom":
        # 'sending SIGTERM to process 1234 uid 1000 "hog": badness 900, ...';
        # a next line 'kill failed' means it had died already.
        for i, line in enumerate(lines):
            m = re.search(r"sending SIG\w+ to process (\d+)", line)
            if m and not (i + 1 < len(lines) and "kill failed" in lines[i + 1]):
                ev.append((line_ts(line), int(m.group(1)), None))
    elif guardian == "nohang":
        # 'Victim status (found in 3ms):' / '  PID:       1234, name: hog, ...'
        # ... 'Sending SIGTERM to the victim' / 'OK; total response time: 9ms'
        victim = None
        for i, line in enumerate(lines):
            m = re.search(r"PID:\s+(\d+), [Nn]ame", line)
            if m:
                victim = int(m.group(1))
            if "to the victim" in line and victim is not None and any(
                    "OK; total response time" in x for x in lines[i + 1:i + 3]):
                ev.append((line_ts(line), victim, None))
    elif guardian == "oomd":
        # 'Killed /user.slice/.../mw-browser.service due to memory pressure ...'
        for line in lines:
            m = re.search(r"Killed (/\S+) due to", line)
            if m:
                ev.append((line_ts(line), None, m.group(1)))
    elif guardian == "memwarden":
        # '... pid=1234 uid=0 adj=0 prog=hog ... reason=R' and 'group=K/N pids=P,P'
        for line in lines:
            m = re.search(r"\bpid=(\d+)", line)
            if m and re.search(r"kill", line, re.I) and not re.search(r"fail|dry", line, re.I):
                ev.append((line_ts(line), int(m.group(1)), None))
                g = re.search(r" pids=([\d,]+)", line)
                ev += [(line_ts(line), int(p), None) for p in g.group(1).split(",") if p] if g else []
            c = re.search(r"cgroup\.kill\S* (/\S+)|killed (?:unit|cgroup) (\S+)", line)
            if c:
                ev.append((line_ts(line), None, c.group(1) or c.group(2)))
        for line in history.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("pid"), int):
                ev.append((None, rec["pid"], None))
                ev += [(None, p, None) for p in rec.get("group_pids") or [] if isinstance(p, int)]
    return ev


def unit_end_ts(journal, unit):
    """When systemd saw UNIT end ('Deactivated successfully', 'Failed with
    result', 'Main process exited', 'Stopped', or 'Consumed N CPU time',
    its last line of a unit that stopped: a user scope emptied by
    cgroup.kill gets only that one): the first such line, or None."""
    for line in journal.splitlines():
        if f" {unit}: " in line and re.search(r"Deactivated successfully|Failed with result|"
                                              r"Main process exited|Stopped |Consumed .* CPU time",
                                              line):
            return line_ts(line)
    return None


def unit_of(cgroup):
    """'/user.slice/user-1000.slice/user@1000.service/app.slice/mw-browser.service'
    -> 'mw-browser.service' (the innermost unit); session scopes too."""
    if not cgroup:
        return "?"
    parts = [p for p in cgroup.split("/") if re.search(r"\.(service|scope|slice)$", p)]
    leaf = [p for p in parts if not p.endswith(".slice")]
    return leaf[-1] if leaf else (parts[-1] if parts else cgroup)


def culprit_gone(d, summ, reg, alive, victims, journal, t0, t1):
    """Seconds from t0 until the culprit was gone. The guest's poll sees it
    late when the machine thrashes (its shell waited 26 s for a page in the
    first runs), so the kill times of the culprit's processes (the kernel's
    dmesg, the guardian's journal) or the unit's end in the journal are used
    when every culprit process has one; the poll otherwise. None: still
    alive at the end (or an shm draw, whose writer exits on its own)."""
    if d["loc"] == "shm":
        return None
    poll = summ.get("gone", "").strip()
    poll = float(poll) - t0 if poll else None
    if d["loc"] == "build":
        end = unit_end_ts(journal, "mw-build.scope")
        ev = end - t0 if end and end <= t1 and end - t0 < DEADLINE_S - 1 else None
    else:
        role = "renderer-grow" if d["loc"] == "tab" else "culprit"
        pids = [p for p, r in reg.items() if r == role]
        at = {v["pid"]: v["at_s"] for v in victims}
        ev = max(at[p] for p in pids) if pids and all(at.get(p) is not None for p in pids) else None
    if poll is not None and poll >= DEADLINE_S - 1:
        poll = None  # it ended itself at the deadline (run-draw.sh)
    cands = [x for x in (poll, ev) if x is not None]
    return round(min(cands), 1) if cands else None


def parse_run(d, guardian, out):
    """Everything the table reports for one run, from the guest's files."""
    summ = dict(l.split(" ", 1) for l in read(out, "summary").splitlines() if " " in l)
    t0 = float(summ.get("t0") or 0)
    t1 = float(summ.get("t1") or 0)
    reg = {pid: role for pid, (role, _) in parse_registry(read(out, "registry")).items()}
    cg = {int(l.split()[0]): l.split(None, 1)[1] for l in read(out, "cgmap").splitlines() if len(l.split()) == 2}
    alive = {int(l.split()[0]): l.split()[1] == "1" for l in read(out, "alive").splitlines() if len(l.split()) == 2}
    dm = after_marker(read(out, "dmesg"))
    # A victim is a process dead at t1 (the guest ends the storm after t1);
    # the kernel's or the guardian's record names who killed it, whenever
    # it was written (journald stamps a line when it reads it, seconds late
    # on a thrashing guest).
    kev = {pid: ts for ts, pid in kernel_victims(dm)}
    gev = guardian_victims(guardian, read(out, "guardian.log"), read(out, "history.jsonl"))
    gpid = {}
    for ts, pid, cgr in gev:
        if pid is not None:
            gpid.setdefault(pid, ts)
    gcg = [(ts, c) for ts, pid, c in gev if c]
    victims = []
    for pid, role in reg.items():
        if alive.get(pid, True):
            continue
        unit = unit_of(cg.get(pid))
        by, at = None, None
        hit = [ts for ts, c in gcg if cg.get(pid, "").startswith(c + "/") or cg.get(pid) == c]
        if pid in kev:
            by, at = "kernel", kev[pid]
        elif pid in gpid or hit:
            by, at = guardian, gpid.get(pid, hit[0] if hit else None)
        elif role not in EPHEMERAL_ROLES | CULPRIT_ROLES:
            by = "collateral"  # its unit stopped, its parent died, ...
        if by:
            victims.append({"pid": pid, "role": role, "unit": unit, "by": by,
                            "at_s": round(at - t0, 1) if at else None})
    gstate = summ.get("guardian", "").strip()
    status = "ok" if guardian == "none" or gstate == "active" else f"guardian {gstate or 'not started'}"
    r = {"draw": d["id"], "guardian": guardian, "status": status, "victims": victims}
    vb, va = vmstat(read(out, "vmstat.before")), vmstat(read(out, "vmstat.after"))
    r["kernel_oom_kills"] = va.get("oom_kill", 0) - vb.get("oom_kill", 0)
    r["guardian_kills"] = len([v for v in victims if v["by"] == guardian]) if guardian != "none" else None
    hb = last_json(read(out, "heartbeat.json"))
    r["heartbeat_killed"] = any(v["role"] == "heartbeat" for v in victims)
    r["hb_max_stall_ms"] = hb.get("max_stall_ms") if hb else None
    r["hb_p99_ms"] = hb.get("p99_ms") if hb else None
    pb, pa = psi_totals(read(out, "psi.before")), psi_totals(read(out, "psi.after"))
    for k in ("some", "full"):
        r[f"psi_{k}_s"] = round((pa[k] - pb[k]) / 1e6, 2) if k in pa and k in pb else None
    r["culprit_gone_s"] = culprit_gone(d, summ, reg, alive, victims, read(out, "journal"), t0, t1)
    r["elapsed_s"] = round(t1 - t0, 1)
    r["guardian_state"] = gstate
    r["innocent_victims"] = [v for v in victims if v["role"] not in CULPRIT_ROLES
                             and not (d["loc"] == "build" and v["unit"] == "mw-build.scope")]
    r["units_killed"] = sorted({v["unit"] for v in victims})
    r["phases"] = dict((l.split()[0], float(l.split()[1])) for l in read(out, "phases").splitlines()
                       if len(l.split()) == 2)
    # memwarden's own kill lines, kept for the report of a lost draw
    if guardian == "memwarden":
        r["kill_lines"] = [l for l in read(out, "guardian.log").splitlines()
                           if re.search(r"kill|victim|last_line|deficit", l, re.I)][:20]
    return r


# ---------------------------------------------------------------- judging

def victim_keys(r, innocent=False):
    """What a run killed, as role@unit (the same across guardians' runs);
    INNOCENT: only what is not the culprit (nor in the build's scope)."""
    vs = r.get("innocent_victims" if innocent else "victims", [])
    return {f"{v['role']}@{v['unit']}" for v in vs}


def only_killed(runs, g):
    """The innocents guardian G killed (role@unit) that all four others
    spared (killing the culprit is never marked)."""
    if runs.get(g, {}).get("status") != "ok":
        return []
    others = set()
    for h, r in runs.items():
        if h != g and r.get("status") == "ok":
            others |= victim_keys(r)
    return sorted(victim_keys(runs[g], innocent=True) - others)


def stall(r):
    """The heartbeat's worst stall; a killed heartbeat is the worst of all."""
    if r.get("heartbeat_killed"):
        return math.inf
    return r.get("hb_max_stall_ms") if r.get("hb_max_stall_ms") is not None else math.inf


# "No worse than the best peer", within the bed's noise: a TCG guest on a
# shared 2-CPU host moves a stall by tens of ms and PSI full by tenths of a
# second between identical runs (tests/vm/README.md), so 10 % + 50 ms and
# 10 % + 0.5 s (the BusyBox bed's PSI margin).
STALL_SLACK = (1.10, 50.0)
PSI_SLACK = (1.10, 0.5)


def judge(d, runs):
    """memwarden against the three peers in one draw. Returns a dict:
    any_kill (a guardian killed), misses (list of strings), only (what it
    killed that all others spared), pref (omit/avoid verdict or None)."""
    mw = runs.get("memwarden") or {}
    res = {"any_kill": False, "misses": [], "only": [], "pref": None}
    if mw.get("status") != "ok":
        res["misses"].append(f"memwarden run {mw.get('status', 'missing')}")
        return res
    peers = [runs[g] for g in PEERS if runs.get(g, {}).get("status") == "ok"]
    res["any_kill"] = any(r.get("guardian_kills") for r in peers + [mw])
    if mw["kernel_oom_kills"]:
        res["misses"].append(f"{mw['kernel_oom_kills']} kernel OOM kills")
    if res["any_kill"] and peers:
        best_stall = min(stall(r) for r in peers)
        best_psi = min((r.get("psi_full_s") or 0) for r in peers)
        if stall(mw) > best_stall * STALL_SLACK[0] + STALL_SLACK[1]:
            res["misses"].append(f"stall {cell_stall(mw)} ms > best peer {fmt_ms(best_stall)} ms")
        if (mw.get("psi_full_s") or 0) > best_psi * PSI_SLACK[0] + PSI_SLACK[1]:
            res["misses"].append(f"PSI full {mw.get('psi_full_s')} s > best peer {best_psi} s")
    res["only"] = only_killed(runs, "memwarden")
    units_only = sorted({k.split("@", 1)[1] for k in res["only"]}
                        - {k.split("@", 1)[1] for g in runs if g != "memwarden"
                           and runs[g].get("status") == "ok" for k in victim_keys(runs[g])})
    if units_only:
        others = [stall(runs[g]) for g in runs if g != "memwarden" and runs[g].get("status") == "ok"]
        shorter = others and stall(mw) < min(others)
        res["misses"].append(f"killed {', '.join(units_only)} that all others spared"
                             + (" (its stall was the shortest)" if shorter else ""))
        res["units_only"] = units_only
        res["units_only_shorter"] = bool(shorter)
    if d["pref"] in ("omit", "avoid"):
        dbk = [v for v in mw["victims"] if v["unit"] == "mw-db.service" and v["by"] == "memwarden"]
        if d["pref"] == "omit":
            res["pref"] = "omit killed" if dbk else "omit spared"
        else:
            last = any("reason=last_line" in l and f"pid={v['pid']}" in l
                       for v in dbk for l in mw.get("kill_lines", []))
            res["pref"] = ("avoid spared" if not dbk else
                           "avoid killed at the last line" if last else "avoid killed before the last line")
        if res["pref"] in ("omit killed", "avoid killed before the last line"):
            res["misses"].append(res["pref"])
    return res


# ---------------------------------------------------------------- output

def fmt_ms(v):
    return "killed" if v == math.inf else f"{v:.0f}"


def cell_stall(r):
    if r.get("heartbeat_killed"):
        return "killed"
    v = r.get("hb_max_stall_ms")
    return "n/a" if v is None else f"{v:.0f}"


def cell_victims(r, g):
    """'kernel 1: renderer-grow@mw-browser.service; own 2: ...' compressed
    per role@unit with counts."""
    groups = {}
    for v in r["victims"]:
        who = "kernel" if v["by"] == "kernel" else "coll." if v["by"] == "collateral" else "own"
        key = (who, f"{v['role']}@{v['unit'].replace('.service', '').replace('.scope', '')}")
        groups[key] = groups.get(key, 0) + 1
    parts = []
    for (who, k), n in sorted(groups.items()):
        parts.append(f"{who}: {n}x{k}" if n > 1 else f"{who}: {k}")
    return "; ".join(parts) if parts else "—"


def markdown(draws, results):
    out = ["| draw | what | guardian | kernel OOM kills | killed (units, programs) | "
           "worst stall ms | PSI full s | culprit gone s | only it | qemu CPUs / wait |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for d in draws:
        runs = results.get(d["id"], {})
        for g in GUARDIANS:
            r = runs.get(g)
            if not r:
                continue
            head = f"| {d['id']} | {draw_desc(d)} | {g}" if g == "none" else f"| | | {g}"
            if r.get("status") != "ok":
                out.append(f"{head} | n/a ({r.get('status')}) | | | | | | |")
                continue
            only = only_killed(runs, g)
            gone = r["culprit_gone_s"]
            gone = "—" if d["loc"] == "shm" else (f"{gone}" if gone is not None else f"not in {r['elapsed_s']}")
            out.append(f"{head} | {r['kernel_oom_kills']} | {cell_victims(r, g)} | {cell_stall(r)} | "
                       f"{r['psi_full_s']} | {gone} | {'**' + ', '.join(only) + '**' if only else ''} | "
                       f"{r.get('qemu_cpus')} / {r.get('qemu_wait')} |")
    return "\n".join(out) + "\n"


def summary_lines(draws, results):
    lines = []
    judged = [(d, judge(d, results.get(d["id"], {}))) for d in draws]
    mw_koom = [d["id"] for d in draws
               if (results.get(d["id"], {}).get("memwarden") or {}).get("kernel_oom_kills")]
    lines.append(f"memwarden: kernel OOM kills in {len(mw_koom)} of {len(draws)} draws"
                 + (f" ({', '.join(mw_koom)})" if mw_koom else " (0 in every draw)") + ".")
    killing = [(d, j) for d, j in judged if j["any_kill"]]
    met = [d["id"] for d, j in killing
           if not any(m.startswith(("stall", "PSI full")) for m in j["misses"])]
    pct = 100.0 * len(met) / len(killing) if killing else 100.0
    lines.append(f"memwarden: worst stall and PSI full no worse than the best of earlyoom, nohang, "
                 f"systemd-oomd in {len(met)} of {len(killing)} draws where a guardian killed "
                 f"({pct:.0f} %; the bar is 90 %).")
    for d, j in killing:
        worse = [m for m in j["misses"] if m.startswith(("stall", "PSI full"))]
        if worse:
            lines.append(f"  - {d['id']} ({draw_desc(d)}): {'; '.join(worse)}")
    only = [(d, j) for d, j in judged if j.get("units_only")]
    lines.append(f"memwarden: units killed that all four others spared: {len(only)} draws"
                 + ("" if only else " (none)") + ".")
    for d, j in only:
        lines.append(f"  - {d['id']}: {', '.join(j['units_only'])}"
                     + (" (its stall was the shortest of all five)" if j["units_only_shorter"] else ""))
    for p in ("omit", "avoid"):
        v = [f"{d['id']}: {j['pref']}" for d, j in judged if d["pref"] == p]
        lines.append(f"ManagedOOMPreference={p} ({len(v)} draws): " + ("; ".join(v) if v else "none drawn"))
    return lines


# ---------------------------------------------------------------- modes

# Guardians whose set-up is slow under TCG (memwarden's dpkg -i 13-15 s,
# systemd-oomd's unmask and daemon-reload 5-6 s): done once per bench in a
# job of its own, the machine saved after it, and their draws restore that.
PREPARED = ("oomd", "memwarden")


def draw_files(args, guardian, env):
    files = {"run.sh": os.path.join(HERE, "guest", "run-draw.sh"),
             "login.sh": os.path.join(HERE, "guest", "login.sh"), "draw.env": env}
    for p in GUEST_PROGS:
        files[f"bin/{p}"] = os.path.join(args.progs, p)
    if guardian == "memwarden":
        files.update(memwarden_files(args))
    return files


def prepare(args, guardian):
    """The saved machine GUARDIAN's draws restore: 'ready' with the guardian
    prepared (run-draw.sh PREPARE=1), named after a hash of what was sent,
    made once and kept in the qcow2 until that changes. Returns its name."""
    # any draw's parameters (run-draw.sh reads them all), then PREPARE=1
    files = draw_files(args, guardian, draw_env(gen_draws(0, 1)[0], guardian) + b"PREPARE=1\n")
    h = hashlib.sha256()
    for name, src in sorted(files.items()):
        h.update(name.encode() + (src if isinstance(src, bytes) else open(src, "rb").read()))
    name = f"{guardian}-{h.hexdigest()[:10]}"
    g = guest_for(args)
    have = g.snapshots()
    if name in have:
        return name
    for old in have:
        if old.startswith(guardian + "-"):
            g.drop_snapshot(old)
    rundir = os.path.join(args.work, "runs", f"prepare-{guardian}")
    t = time.monotonic()
    run_job(args, files, rundir, 600, save_as=name)
    out = os.path.join(rundir, "out")
    state = read(out, "guardian.state").strip()
    if read(out, "job.rc").strip() != "0" or (guardian == "memwarden" and state != "active"):
        guest_for(args).drop_snapshot(name)
        raise qemu.GuestError(f"preparing {guardian} failed (status {read(out, 'job.rc').strip()}, "
                              f"unit {state or '?'}); see {out}")
    log(f"{guardian}: prepared and saved as {name} in {time.monotonic() - t:.0f} s")
    return name


def run_draw(args, d, guardian):
    rundir = os.path.join(args.work, "runs", f"{d['id']}--{guardian}")
    snap = args.prepared.get(guardian, qemu.SNAPSHOT)
    env = draw_env(d, guardian) + (b"PREPARED=1\n" if snap != qemu.SNAPSHOT else b"")
    files = draw_files(args, guardian, env)
    t = time.monotonic()
    try:
        times = run_job(args, files, rundir, DEADLINE_S * 3 + 120, snapshot=snap)
    except qemu.GuestError as e:
        log(f"{d['id']} x {guardian}: {e}")
        return {"draw": d["id"], "guardian": guardian, "status": str(e)}
    r = parse_run(d, guardian, os.path.join(rundir, "out"))
    r.update(times)
    r["wall_s"] = round(time.monotonic() - t, 1)
    log(f"{d['id']} x {guardian}: {r['wall_s']:.0f} s (restore {times['restore_s']} s, qemu "
        f"{times['qemu_cpus']} CPUs, waited {times['qemu_wait']}, host load {times['host_load']}); kernel kills "
        f"{r['kernel_oom_kills']}, own {r['guardian_kills']}, victims {cell_victims(r, guardian)}, "
        f"stall {cell_stall(r)} ms, PSI full {r['psi_full_s']} s, gone {r['culprit_gone_s']}")
    return r


def bench(args):
    image_times = ensure_image(args)
    draws = gen_draws(args.seed, args.gen)
    if args.draws:
        keep = set(args.draws.split(","))
        draws = [d for d in draws if d["id"] in keep]
    guards = [g for g in args.guardians.split(",") if g]
    for g in guards:
        if g not in GUARDIANS:
            sys.exit(f"bench-distro: unknown guardian {g} (known: {', '.join(GUARDIANS)})")
    started = datetime.datetime.now(datetime.timezone.utc)
    tree = tree_commit()  # at the start: the tree may move during an hour's bench
    t = time.monotonic()
    args.prepared = {g: prepare(args, g) for g in guards if g in PREPARED}
    results = {}

    def save(done):
        meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "seed": args.seed,
                "command": "make bench-distro", "argv": sys.argv[1:],
                "tree": tree, "host": f"{platform.node()}, {os.cpu_count()} CPUs (shared)",
                "guest": f"Debian bookworm, systemd, qemu -accel tcg, {qemu.MEM_MB} MiB, {qemu.CPUS} vCPUs, "
                         f"256 MiB lz4 zram, kernel {args.kver}",
                "memwarden": "dpkg -i " + os.path.basename(args.deb) if args.deb else "memwarden-static + contrib unit",
                "total_s": round(time.monotonic() - t, 1), "draws_done": len(done), "draws": len(draws),
                "image": image_times or "cached"}
        return write_table(args, done, results, meta)
    md = summ = meta = None
    for i, d in enumerate(draws):
        log(f"{d['id']}: {draw_desc(d)}")
        results[d["id"]] = {g: run_draw(args, d, g) for g in guards}
        md, summ, meta = save(draws[:i + 1])
    print(md, end="")
    print("\n" + "\n".join(summ))
    print(f"\n{meta['date']}, seed {args.seed}, tree {meta['tree']}; {meta['total_s']:.0f} s in total "
          f"(restore {meta['restore_s_mean']} s, run {meta['run_s_mean']} s on average).")
    return 0


def write_table(args, done, results, meta):
    """Writes the table of the draws DONE (args.md) and everything (args.json).
    Returns (markdown, summary lines, META with the mean restore and run times)."""
    md = markdown(done, results)
    summ = summary_lines(done, results)
    runs = [r for d in done for r in results[d["id"]].values() if r.get("status") == "ok"]
    for k, key, nd in (("restore_s_mean", "restore_s", 2), ("run_s_mean", "wall_s", 1)):
        v = [r[key] for r in runs if r.get(key) is not None]
        meta[k] = round(sum(v) / len(v), nd) if v else None
    if args.md:
        with open(args.md, "w") as f:
            f.write(md + "\n" + "\n".join(summ) + "\n")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "draws": done, "results": results, "summary": summ}, f, indent=1)
            f.write("\n")
    return md, summ, meta


# What run_job measured on the host (kept when a run is parsed again).
HOST_KEYS = ("restore_s", "job_s", "qemu_cpus", "qemu_wait", "host_load", "wall_s")


def table(args):
    """The table again from the saved runs (WORK/runs/DRAW--GUARDIAN/out)
    with this parser, without a guest: for a parser fixed after a bench.
    The host's timings come from the bench's --json when it has the run."""
    try:
        with open(args.json) as f:
            old = json.load(f)
    except (OSError, ValueError, TypeError):
        old = {}
    # the bench's draws (runs/ may hold older benches' runs of others)
    draws = old.get("draws") or gen_draws(args.seed, args.gen)
    if args.draws:
        draws = [d for d in draws if d["id"] in set(args.draws.split(","))]
    results, done = {}, []
    for d in draws:
        runs = {}
        for g in args.guardians.split(","):
            out = os.path.join(args.work, "runs", f"{d['id']}--{g}", "out")
            prev = (old.get("results") or {}).get(d["id"], {}).get(g) or {}
            if prev.get("status", "ok") != "ok" or not os.path.isdir(out):
                if prev:
                    runs[g] = prev
                continue
            r = parse_run(d, g, out)
            r.update({k: prev.get(k) for k in HOST_KEYS})
            runs[g] = r
        if runs:
            results[d["id"]] = runs
            done.append(d)
    meta = dict(old.get("meta") or {})
    meta["reparsed"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta["draws_done"] = len(done)
    md, summ, _ = write_table(args, done, results, meta)
    print(md, end="")
    print("\n" + "\n".join(summ))
    return 0


def tree_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "describe", "--always", "--dirty"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"


def smoke(args):
    """One draw x memwarden: ok/FAIL lines for tests/run.sh."""
    t = time.monotonic()
    try:
        times = ensure_image(args)
    except (subprocess.CalledProcessError, qemu.GuestError) as e:
        print(f"FAIL distro_image ({e})")
        return 0
    if times:
        print(f"ok   distro_image (built: image {times['image_s']} s, boot {times['boot_s']} s, "
              f"savevm {times['savevm_s']} s)")
    else:
        print("ok   distro_image (cached)")
    d = gen_draws(args.seed, 1)[0]
    # its own run directory: a bench's d01 run stays as it is
    d.update(id="smoke", loc="leak", kind="heap", rate=20, start=max(0, CAPACITY_MB - 20 * EXHAUST_S),
             pref="omit")
    r = run_draw(args, d, "memwarden")
    name = "distro_smoke_memwarden_leak"
    if r.get("status") != "ok":
        print(f"FAIL {name} (status: {r.get('status')})")
    elif r["guardian_state"] != "active":
        print(f"FAIL {name} (memwarden.service {r['guardian_state'] or 'not started'})")
    elif r["hb_max_stall_ms"] is None:
        print(f"FAIL {name} (no heartbeat figures)")
    else:
        print(f"ok   {name} (restore {r['restore_s']} s; kernel kills {r['kernel_oom_kills']}, "
              f"victims {cell_victims(r, 'memwarden')}, stall {cell_stall(r)} ms, "
              f"PSI full {r['psi_full_s']} s, leak gone {r['culprit_gone_s']} s; "
              f"{time.monotonic() - t:.0f} s)")
        # the bed's measuring works: the leak ends (by someone) within the draw
        if r["culprit_gone_s"] is None:
            print(f"FAIL distro_smoke_culprit_gone (the leak ran {r['elapsed_s']} s and lived)")
        else:
            print(f"ok   distro_smoke_culprit_gone ({r['culprit_gone_s']} s)")
    return 0


def script(args):
    """Runs FILE as root in a restored guest (with the .deb in deb/ when
    given); prints its output and exits with its status."""
    ensure_image(args)
    files = {"run.sh": args.file}
    if args.progs:
        for p in GUEST_PROGS:
            files[f"bin/{p}"] = os.path.join(args.progs, p)
    if args.deb:
        files[f"deb/{os.path.basename(args.deb)}"] = args.deb
    if args.memwarden and os.path.exists(args.memwarden):
        files.update(memwarden_files(args))
    name = os.path.splitext(os.path.basename(args.file))[0]
    rundir = os.path.join(args.work, "runs", f"script-{name}")
    try:
        times = run_job(args, files, rundir, args.timeout)
    except qemu.GuestError as e:
        log(str(e))
        return 125
    out = os.path.join(rundir, "out")
    sys.stdout.write(read(out, "job.log"))
    log(f"restore {times['restore_s']} s, job {times['job_s']} s; artifacts in {out}")
    try:
        return int(read(out, "job.rc").strip())
    except ValueError:
        return 125


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["image", "bench", "smoke", "script", "table"])
    ap.add_argument("file", nargs="?", help="script mode: the guest script")
    ap.add_argument("--work", required=True)
    ap.add_argument("--kver", required=True)
    ap.add_argument("--progs", help="the guest programs (static): hog heartbeat leaker browser")
    ap.add_argument("--memwarden", help="memwarden-static")
    ap.add_argument("--deb", help="install memwarden from this .deb (dpkg -i) instead")
    ap.add_argument("--gen", type=int, default=20)
    ap.add_argument("--seed", type=int, default=23)
    ap.add_argument("--draws", help="only these draw ids (d01,d07)")
    ap.add_argument("--guardians", default=",".join(GUARDIANS))
    ap.add_argument("--md")
    ap.add_argument("--json")
    ap.add_argument("--timeout", type=int, default=600, help="script mode: seconds for the job")
    args = ap.parse_args()
    args.kernel = f"/boot/vmlinuz-{args.kver}"
    args.initrd = f"/boot/initrd.img-{args.kver}"
    for f in (args.kernel, args.initrd):
        if not os.access(f, os.R_OK):
            sys.exit(f"bench-distro: cannot read {f}")
    args.work = os.path.abspath(args.work)
    args.prepared = {}  # bench: the guardians' prepared snapshots
    if args.memwarden:
        args.memwarden = os.path.abspath(args.memwarden)
    os.makedirs(args.work, exist_ok=True)
    if args.mode == "image":
        t = ensure_image(args)
        log(f"guest ready ({t or 'cached'})")
        return 0
    if args.mode == "script":
        if not args.file:
            sys.exit("bench-distro: script mode needs FILE")
        return script(args)
    if args.mode == "table":
        return table(args)
    if not args.progs or not args.memwarden:
        sys.exit("bench-distro: --progs and --memwarden are needed")
    return smoke(args) if args.mode == "smoke" else bench(args)


if __name__ == "__main__":
    sys.exit(main())
