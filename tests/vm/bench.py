#!/usr/bin/env python3
"""Host side of the memwarden VM test bed (issue 5).

Boots Debian's kernel with the test bed's initramfs under qemu TCG (512 MiB
RAM, 2 vCPUs; the guest adds a 256 MiB zram swap), once per scenario x
guardian, reads the guest's artifacts back from a results disk and prints one
markdown table (and writes the same as JSON).

    bench.py --kernel VMLINUZ --initramfs CPIO --work DIR
             [--scenarios s1-hog,...] [--guardians none,earlyoom,...]
             [--md FILE] [--json FILE]
    bench.py ... --capture DIR     # the tests/fixtures/vm-512m capture
    bench.py ... --smoke           # CI-sized: ok/FAIL/skip lines for tests/run.sh
    bench.py ... --script FILE     # run a shell script as root in a fresh guest
    bench.py --arch arm64 --rate-pct 50 ...
                                   # the arm64 guest (qemu-system-aarch64 -M virt),
                                   # the storms' rates at 50 % (docs/arm.md)

Only qemu runs the memory storms; nothing here allocates on the host.
"""
import argparse
import datetime
import io
import json
import math
import os
import platform
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import time

SCENARIOS = {
    # name: (what it is, in-guest deadline in seconds)
    "s1-hog": ("runaway hog at adj 900, heartbeat at adj 0", 60),
    "s2-leak": ("slow leak in a service (adj 500), cached apps present", 80),
    "s3-cache": ("file-cache thrashing: streaming a 1 GiB disk, no anon growth", 30),
    "s4-restart": ("kill-restart loop: restarter's child is biggest at adj 985", 50),
    "s5-storm": ("fork storm: 60 x 10 MiB at adj 800 within a second", 45),
}
GUARDIANS = ["none", "earlyoom", "memwarden", "memwarden-lowram"]

# Heartbeat stall budget for scenario 3: a kill there is wrong unless the
# foreground app was really suffering. 50 ms p99 is ~10x the p99 the heartbeat
# shows on an idle TCG guest (about 5 ms), and 2.5x its 20 ms stall threshold.
STALL_BUDGET_P99_MS = 50.0
# Wrong kill: a victim at or below this adj (perceptible 200, foreground 0,
# the harness and system at < 0). From the Android adj classes in the lmkd seed.
WRONG_KILL_MAX_ADJ = 200

MEM_MB = 512
CPUS = 2
BOOT_MARGIN_S = 120  # host timeout = deadline x 2 + this (boot, setup, slow TCG under thrash)

# The guest's machine per architecture. arm64: qemu's "virt" board with the
# "max" CPU under TCG; pauth-impdef=on swaps the architected pointer-auth
# hash (QARMA, slow to emulate) for an implementation-defined one, which
# Linux handles the same (qemu docs: "Pointer authentication").
ARCHES = {
    "x86_64": {"qemu": "qemu-system-x86_64", "machine": ["-accel", "tcg"], "console": "ttyS0",
               "user": None},
    "arm64": {"qemu": "qemu-system-aarch64",
              "machine": ["-M", "virt", "-cpu", "max,pauth-impdef=on", "-accel", "tcg"],
              "console": "ttyAMA0", "user": "qemu-aarch64-static"},
}
# Scenarios whose pace is a growth rate: with --rate-pct P their rates are
# P % and their deadlines 100/P times the x86 bed's (the same fill, slower).
RATE_DRIVEN = {"s1-hog", "s2-leak"}


def scaled_s(args, seconds):
    """SECONDS stretched for rates at args.rate_pct %."""
    return int(math.ceil(seconds * 100 / args.rate_pct))


def log(msg):
    print(f"bench-vm: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- running

def memwarden_has_daemon(binary, runner=None):
    """True when BINARY's command list names a `daemon` command. Only --help
    runs on the host (through RUNNER, qemu-user, for a foreign binary):
    never the daemon itself."""
    if not binary or not os.access(binary, os.X_OK):
        return False
    try:
        out = subprocess.run(([runner] if runner else []) + [binary, "--help"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return re.search(r"^\s+daemon\s", out.stdout + out.stderr, re.M) is not None


def pvh_kernel(bzimage, work):
    """Debian's bzImage is xz-compressed, and decompressing it under TCG costs
    several seconds per boot. The kernel has CONFIG_PVH, so qemu can start the
    uncompressed ELF vmlinux directly (no real-mode setup, no decompressor).
    Returns the path of a cached vmlinux extracted from BZIMAGE, or BZIMAGE
    itself when that is not possible (no xz stream, no xz tool, not PVH)."""
    out = os.path.join(work, "vmlinux-" + os.path.basename(bzimage))
    try:
        if os.path.getmtime(out) >= os.path.getmtime(bzimage):
            return out
    except OSError:
        pass
    try:
        with open(bzimage, "rb") as f:
            data = f.read()
    except OSError:
        return bzimage
    for magic in (b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd", b"\x1f\x8b\x08\x00"):
        at = data.find(magic)
        if at < 0:
            continue
        tool = {b"\xfd": ["xz", "-dc", "--single-stream"], b"\x28": ["zstd", "-qdc"],
                b"\x1f": ["gzip", "-dc"]}[magic[:1]]
        if not shutil.which(tool[0]):
            continue
        p = subprocess.run(tool, input=data[at:], capture_output=True)
        elf = p.stdout
        # XEN_ELFNOTE_PHYS32_ENTRY (18) in a "Xen" note marks a PVH entry point.
        if elf[:4] == b"\x7fELF" and has_pvh_note(elf):
            with open(out + ".tmp", "wb") as f:
                f.write(elf)
            os.replace(out + ".tmp", out)
            return out
    return bzimage


def has_pvh_note(elf):
    """True when the ELF's notes include XEN_ELFNOTE_PHYS32_ENTRY (type 18)."""
    if len(elf) < 64 or elf[4] != 2:  # ELFCLASS64 only
        return False
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    for i in range(phnum):
        ptype, _, off, _, _, filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if ptype != 4:  # PT_NOTE
            continue
        pos, end = off, off + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz]
            if name.rstrip(b"\0") == b"Xen" and ntype == 18:
                return True
            pos += 12 + ((namesz + 3) & ~3) + ((descsz + 3) & ~3)
    return False


# ---------------------------------------------------------------- generated draws

# What the guest can hold beyond the background apps, roughly: ~260 MiB of
# RAM left plus 256 MiB of zram at ~2:1. A culprit starts at
# GEN_CAPACITY_MB - rate x GEN_EXHAUST_S, so even a 2 MiB/s leak runs the
# machine out within about GEN_EXHAUST_S seconds.
GEN_CAPACITY_MB = 360
GEN_EXHAUST_S = 35
GEN_DEADLINE_S = {"anon": 60, "tmpfs": 60, "file": 30}


def gen_draws(seed, n):
    """N scenario draws from SEED (issue 15): culprit adj, growth rate,
    age, parent, process count, memory kind, background adj style."""
    rng = random.Random(seed)
    draws = []
    for i in range(n):
        kind = rng.choices(["anon", "tmpfs", "file"], [0.7, 0.15, 0.15])[0]
        d = {"id": f"g{i + 1:02d}", "kind": kind,
             "adj": rng.choice([0, 200, 500, 900]),
             "rate": round(math.exp(rng.uniform(math.log(2), math.log(100)))),
             "age": rng.choice(["young", "old"]),
             "parent": rng.choice(["init", "shell", "multi"]),
             "n": 1 if rng.random() < 0.4 else rng.randint(2, 60),
             "bg": rng.choice(["android", "flat"])}
        if kind == "anon":
            d["start"] = max(0, GEN_CAPACITY_MB - d["rate"] * GEN_EXHAUST_S)
        elif kind == "tmpfs":
            d["max"] = rng.randint(250, 350)
            d["start"] = max(0, d["max"] - d["rate"] * 30)
        else:
            d.update(n=1, start=0, parent="shell")
        draws.append(d)
    return draws


def gen_arg(d, rate_pct=100):
    """The draw as the guest's mw.gen= value (sizes in bytes), its rate at
    RATE_PCT %."""
    mib = 1 << 20
    kv = [("adj", d["adj"]), ("rate", d["rate"] * mib * rate_pct // 100), ("start", d.get("start", 0) * mib),
          ("n", d["n"]), ("parent", d["parent"]), ("age", d["age"]), ("kind", d["kind"]),
          ("max", d.get("max", 0) * mib), ("bg", d["bg"])]
    return ",".join(f"{k}:{v}" for k, v in kv)


def gen_desc(d):
    s = f"{d['kind']} adj {d['adj']} {d['rate']} MiB/s x{d['n']} {d['parent']} {d['age']} bg {d['bg']}"
    if d["kind"] == "tmpfs":
        s += f" ({d['max']} MiB)"
    return s


def boot(args, scenario, guardian, rundir, deadline=None, gen=None, script=None):
    """Boots one guest; returns (serial text, results tar bytes or None, wall seconds, rc)."""
    os.makedirs(rundir, exist_ok=True)
    disks = []
    if script is not None:
        img = os.path.join(rundir, "script.img")
        with open(img, "wb") as f:
            f.write(b"MWSCRIPT %d\n" % len(script) + script)
            f.truncate(((f.tell() + 4095) // 4096) * 4096)
        disks = ["-drive", f"file={img},format=raw,if=none,id=script,readonly=on",
                 "-device", "virtio-blk-pci,drive=script,serial=mwscript"]
    res_img = os.path.join(rundir, "results.img")
    with open(res_img, "wb") as f:
        f.truncate(32 << 20)
    stream_img = os.path.join(args.work, "stream.img")
    if not os.path.exists(stream_img):
        with open(stream_img, "wb") as f:  # sparse: costs no host disk
            f.truncate(1 << 30)
    serial = os.path.join(rundir, "serial.log")
    # log_buf_len: each OOM report lists every task, and the default 128 KiB
    # ring lost the first of 20 kills in the fork storm.
    arch = ARCHES[args.arch]
    append = (f"console={arch['console']} loglevel=1 log_buf_len=4M panic=-1 mitigations=off "
              f"mw.scenario={scenario} mw.guardian={guardian}")
    if args.rate_pct != 100:
        append += f" mw.rate={args.rate_pct}"
    if deadline:
        append += f" mw.deadline={deadline}"
    if gen:
        append += f" mw.gen={gen}"
    if getattr(args, "tune", None):
        append += f" mw.tune={args.tune}"
    limit = (deadline or SCENARIOS.get(scenario, ("", 60))[1]) * 2 + BOOT_MARGIN_S
    cmd = ["timeout", "--kill-after=10", str(limit),
           arch["qemu"]] + arch["machine"] + ["-m", str(MEM_MB), "-smp", str(CPUS),
           "-nic", "none", "-display", "none", "-monitor", "none", "-nographic", "-no-reboot",
           "-serial", f"file:{serial}",
           "-kernel", args.boot_kernel, "-initrd", args.initramfs, "-append", append,
           "-drive", f"file={res_img},format=raw,if=none,id=res",
           "-device", "virtio-blk-pci,drive=res,serial=mwresults",
           "-drive", f"file={stream_img},format=raw,if=none,id=stream,readonly=on",
           "-device", "virtio-blk-pci,drive=stream,serial=mwstream"] + disks
    with open(os.path.join(rundir, "qemu.cmd"), "w") as f:
        f.write(" ".join(cmd) + "\n")
    t = time.monotonic()
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.monotonic() - t
    if p.stderr.strip():
        with open(os.path.join(rundir, "qemu.err"), "w") as f:
            f.write(p.stderr)
    text = open(serial, errors="replace").read() if os.path.exists(serial) else ""
    with open(res_img, "rb") as f:
        tar = f.read()
    os.unlink(res_img)
    return text, tar if tar[:512].strip(b"\0") else None, wall, p.returncode


def extract(tar_bytes, dest):
    """Unpacks the guest's tar (written raw onto the results disk) into DEST."""
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as t:
        for m in t.getmembers():
            if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                continue
            t.extract(m, dest)


def result_block(serial):
    m = re.search(r"===RESULT-BEGIN===\s*\n(.*?)===RESULT-END===", serial, re.S)
    if not m:
        return None
    try:
        return json.loads(m.group(1).splitlines()[0])
    except (ValueError, IndexError):
        return None


# ---------------------------------------------------------------- parsing

def read(d, name):
    try:
        with open(os.path.join(d, name), errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def last_json(text):
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    return None


def parse_registry(text):
    """'PID ADJ NAME' lines written by the test programs -> {pid: (name, adj)}."""
    reg = {}
    for line in text.splitlines():
        f = line.split()
        if len(f) >= 3 and f[0].isdigit():
            reg[int(f[0])] = (f[2], int(f[1]))
    return reg


def parse_kernel_kills(dmesg):
    """Sample: 'Out of memory: Killed process 138 (hog) total-vm:250104kB, ...
    UID:0 pgtables:528kB oom_score_adj:900'."""
    kills = []
    for m in re.finditer(r"Out of memory: Killed process (\d+) \((.*?)\).*?oom_score_adj:(-?\d+)", dmesg):
        kills.append({"pid": int(m.group(1)), "comm": m.group(2), "adj": int(m.group(3)), "by": "kernel"})
    return kills


def parse_guardian_kills(guardian, log_text, history_text):
    """earlyoom 1.7: 'sending SIGTERM to process 262 uid 0 "hog": badness 932, VmRSS 289 MiB'.
    memwarden: one stderr line per kill containing 'kill' and 'pid=N' (and
    'pids=P,P' for the victims signalled with it), and a JSON-lines history
    with "pid" and "group_pids" members (--history), both read."""
    pids = []
    if guardian == "earlyoom":
        # A "sending" line followed by "kill failed: No such process" was a
        # process that had died already (often to the kernel): not a kill.
        lines = log_text.splitlines()
        for i, line in enumerate(lines):
            m = re.search(r"sending SIG\w+ to process (\d+)", line)
            if m and not (i + 1 < len(lines) and lines[i + 1].startswith("kill failed")):
                pids.append(int(m.group(1)))
    elif guardian.startswith("memwarden"):
        # the victims signalled with it: "group=K/N pids=P,P" and "group_pids"
        for line in log_text.splitlines():
            m = re.search(r"\bpid=(\d+)", line)
            if m and re.search(r"kill", line, re.I) and not re.search(r"fail|dry", line, re.I):
                pids.append(int(m.group(1)))
                g = re.search(r" pids=([\d,]+)", line)
                pids += [int(p) for p in g.group(1).split(",") if p] if g else []
        for line in history_text.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if isinstance(rec, dict) and isinstance(rec.get("pid"), int):
                pids.append(rec["pid"])
                pids += [p for p in rec.get("group_pids") or [] if isinstance(p, int)]
    seen, out = set(), []
    for p in pids:
        if p not in seen:
            seen.add(p)
            out.append({"pid": p, "by": guardian})
    return out


def psi_totals(text):
    """'some avg10=0.00 avg60=0.00 avg300=0.00 total=14469' -> {'some': us, 'full': us}."""
    out = {}
    for m in re.finditer(r"^(some|full) .*total=(\d+)", text, re.M):
        out[m.group(1)] = int(m.group(2))
    return out


def vmstat(text):
    return {k: int(v) for k, v in (l.split() for l in text.splitlines() if len(l.split()) == 2)}


def figures(scenario, guardian, d, summary):
    """Everything the table and JSON report for one run, from its artifacts."""
    reg = parse_registry(read(d, "registry"))
    t0 = float(summary.get("t0") or 0)
    t1 = float(summary.get("t1") or 0)
    r = {"scenario": scenario, "guardian": guardian, "status": summary.get("guardian_status", "?"),
         "zram": f'{summary.get("zram")}/{summary.get("zram_comp")}', "elapsed_s": round(t1 - t0, 1)}

    kkills = parse_kernel_kills(read(d, "dmesg"))
    gkills = parse_guardian_kills(guardian, read(d, "guardian.log"), read(d, "history.jsonl"))
    victims = []
    for k in kkills + gkills:
        name, adj = reg.get(k["pid"], (k.get("comm", "?"), k.get("adj")))
        victims.append({"pid": k["pid"], "by": k["by"], "name": name, "adj": adj})
    # The kernel's own counter is the count; dmesg names the victims.
    vb, va = vmstat(read(d, "vmstat.before")), vmstat(read(d, "vmstat.after"))
    r["kernel_oom_kills"] = va["oom_kill"] - vb.get("oom_kill", 0) if "oom_kill" in va else len(kkills)
    r["guardian_kills"] = len(gkills) if guardian != "none" else None
    r["victims"] = victims

    hb = last_json(read(d, "heartbeat.final")) or last_json(read(d, "heartbeat.json"))
    hb_pid = next((p for p, (n, _) in reg.items() if n == "heartbeat"), None)
    r["heartbeat_killed"] = any(v["pid"] == hb_pid for v in victims)
    r["hb_max_stall_ms"] = hb.get("max_stall_ms") if hb else None
    r["hb_p99_ms"] = hb.get("p99_ms") if hb else None
    r["hb_stalls"] = hb.get("stalls") if hb else None
    within_budget = hb is not None and hb.get("p99_ms", 1e9) <= STALL_BUDGET_P99_MS

    wrong = [v for v in victims if v["adj"] is None or v["adj"] <= WRONG_KILL_MAX_ADJ]
    if scenario == "s3-cache" and within_budget:
        wrong = victims
    r["wrong_kills"] = len(wrong)

    gone = None
    if scenario in ("s1-hog", "s2-leak"):
        ex = read(d, "culprit.exit").split()
        if len(ex) == 2:
            gone = round(float(ex[1]) - t0, 1)
            r["culprit_exit_status"] = int(ex[0])
    elif scenario == "s4-restart":
        rs = last_json(read(d, "restarter.json"))
        if rs:
            r["restarts"] = max(rs.get("starts", 1) - 1, 0)
            r["child_deaths"] = rs.get("deaths")
            if rs.get("log"):
                gone = rs["log"][0]["at_s"]
    elif scenario == "s5-storm":
        st = last_json(read(d, "storm.json"))
        if st:
            gone = st.get("settled_s")
            r["storm"] = {k: st.get(k) for k in ("procs", "reached", "died", "killed", "died_before_max")}
    elif scenario == "s3-cache":
        sj = last_json(read(d, "streamer.json"))
        if sj:
            r["stream_mib_per_s"] = sj.get("mib_per_s")
    r["culprit_gone_s"] = gone

    pb, pa = psi_totals(read(d, "psi-memory.before")), psi_totals(read(d, "psi-memory.after"))
    for k in ("some", "full"):
        r[f"psi_{k}_s"] = round((pa[k] - pb[k]) / 1e6, 2) if k in pa and k in pb else None
    r["vmstat_delta"] = {k: va[k] - vb.get(k, 0) for k in
                         ("pswpin", "pswpout", "workingset_refault_file", "workingset_refault_anon",
                          "pgmajfault", "oom_kill") if k in va}

    if scenario == "s4-restart":
        text = read(d, "guardian.log") + read(d, "history.jsonl")
        if guardian.startswith("memwarden"):
            r["loop_detected"] = bool(re.search(r"restart|loop|churn", text, re.I))
        else:
            r["loop_detected"] = False  # neither the kernel nor earlyoom looks for loops
    return r


# ---------------------------------------------------------------- output

def cell(v, fmt="{}"):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    return fmt.format(v)


def markdown(rows):
    head = ("| scenario | guardian | kernel OOM kills | guardian kills | wrong kills | "
            "heartbeat max stall ms | heartbeat p99 ms | culprit gone s | PSI mem some / full s | "
            "restart loop detected |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        if r.get("status") != "ok":
            out.append(f"| {r['scenario']} | {r['guardian']} | " + " | ".join(["n/a"] * 7)
                       + f" | n/a ({r.get('status')}) |")
            continue
        loop = cell(r.get("loop_detected")) if r["scenario"] == "s4-restart" else "—"
        gone = cell(r.get("culprit_gone_s")) if r["scenario"] != "s3-cache" else "—"
        if r["scenario"] != "s3-cache" and r.get("culprit_gone_s") is None:
            gone = f"not in {r.get('elapsed_s')}"
        if r["scenario"] == "s4-restart" and "restarts" in r:
            loop += f" ({r['restarts']} restarts)"
        hb_note = " (killed)" if r.get("heartbeat_killed") else ""
        out.append(f"| {r['scenario']} | {r['guardian']} | {cell(r['kernel_oom_kills'])} | "
                   f"{cell(r['guardian_kills'])} | {cell(r['wrong_kills'])} | "
                   f"{cell(r['hb_max_stall_ms'])}{hb_note} | {cell(r['hb_p99_ms'])} | {gone} | "
                   f"{cell(r['psi_some_s'])} / {cell(r['psi_full_s'])} | {loop} |")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- modes

def run_one(args, scenario, guardian, have_daemon):
    rundir = os.path.join(args.work, "runs", f"{scenario}--{guardian}")
    if guardian.startswith("memwarden") and not have_daemon:
        log(f"{scenario} x {guardian}: not available (memwarden has no daemon command)")
        return {"scenario": scenario, "guardian": guardian, "status": "not available"}
    log(f"{scenario} x {guardian}: booting")
    deadline = args.deadline
    if not deadline and scenario in RATE_DRIVEN and args.rate_pct != 100:
        deadline = scaled_s(args, SCENARIOS[scenario][1])
    serial, tar, wall, rc = boot(args, scenario, guardian, rundir, deadline)
    summary = result_block(serial)
    if summary is None or tar is None:
        why = "timeout" if rc in (124, 137) else f"no result (qemu rc {rc})"
        log(f"{scenario} x {guardian}: {why}; see {rundir}/serial.log")
        return {"scenario": scenario, "guardian": guardian, "status": why, "wall_s": round(wall, 1)}
    extract(tar, os.path.join(rundir, "out"))
    r = figures(scenario, guardian, os.path.join(rundir, "out"), summary)
    r["wall_s"] = round(wall, 1)
    log(f"{scenario} x {guardian}: done in {wall:.0f} s; kernel kills {r.get('kernel_oom_kills')}, "
        f"guardian kills {r.get('guardian_kills')}, wrong {r.get('wrong_kills')}")
    return r


def gen_figures(d, guardian, out, summary):
    """figures() for a generated draw: a wrong kill is any victim that is not
    a culprit (or the storm's parent); the culprit is gone when every culprit
    process had died (anon draws only)."""
    r = figures("gen", guardian, out, summary)
    r["scenario"] = d["id"]
    wrong = [v for v in r["victims"] if v["name"] not in ("culprit", "storm-parent")]
    r["wrong_kills"] = len(wrong)
    r["wrong_victims"] = wrong
    gone = read(out, "culprit.gone").strip()
    t0 = float(summary.get("t0") or 0)
    r["culprit_gone_s"] = round(float(gone) - t0, 1) if gone and d["kind"] == "anon" else None
    return r


def run_gen(args, d, guardian, have_daemon):
    rundir = os.path.join(args.work, "gen", f"{d['id']}--{guardian}")
    if guardian.startswith("memwarden") and not have_daemon:
        return {"scenario": d["id"], "guardian": guardian, "status": "not available"}
    log(f"{d['id']} ({gen_desc(d)}) x {guardian}: booting")
    deadline = GEN_DEADLINE_S[d["kind"]]
    if d["kind"] != "file":
        deadline = scaled_s(args, deadline)
    serial, tar, wall, rc = boot(args, "gen", guardian, rundir, deadline, gen_arg(d, args.rate_pct))
    summary = result_block(serial)
    if summary is None or tar is None:
        why = "timeout" if rc in (124, 137) else f"no result (qemu rc {rc})"
        log(f"{d['id']} x {guardian}: {why}; see {rundir}/serial.log")
        return {"scenario": d["id"], "guardian": guardian, "status": why, "wall_s": round(wall, 1)}
    extract(tar, os.path.join(rundir, "out"))
    r = gen_figures(d, guardian, os.path.join(rundir, "out"), summary)
    r["wall_s"] = round(wall, 1)
    log(f"{d['id']} x {guardian}: {wall:.0f} s; kernel kills {r.get('kernel_oom_kills')}, "
        f"guardian kills {r.get('guardian_kills')}, wrong {r.get('wrong_kills')}, "
        f"gone {r.get('culprit_gone_s')}, PSI full {r.get('psi_full_s')}")
    return r


def gen_judge(d, runs):
    """One draw's verdict for the memwarden guardian against earlyoom and the
    bare kernel (issue 15's bar). Returns a list of misses (empty: met)."""
    mw, eo, no = runs.get("memwarden"), runs.get("earlyoom"), runs.get("none")
    if not mw or mw.get("status") != "ok":
        return [f"memwarden run {mw.get('status') if mw else 'missing'}"]
    miss = []
    if mw["kernel_oom_kills"]:
        miss.append(f"{mw['kernel_oom_kills']} kernel OOM kills")
    if eo and eo.get("status") == "ok":
        g_mw, g_eo = mw.get("culprit_gone_s"), eo.get("culprit_gone_s")
        if d["kind"] == "anon" and g_eo is not None and (g_mw is None or g_mw > g_eo + 1.0):
            miss.append(f"culprit gone {g_mw} s vs earlyoom {g_eo} s")
        f_mw, f_eo = mw.get("psi_full_s") or 0, eo.get("psi_full_s") or 0
        if f_mw > f_eo * 1.1 + 0.5:
            miss.append(f"PSI full {f_mw} s vs earlyoom {f_eo} s")
    spared = set()
    for other in (eo, no):
        if other and other.get("status") == "ok":
            spared |= {v["name"] for v in other["victims"]} | {"culprit", "storm-parent"}
    extra = [v for v in mw["victims"] if v["by"] != "kernel" and v["name"] not in spared]
    if extra:
        shorter = eo and eo.get("status") == "ok" and (mw.get("hb_max_stall_ms") or 0) < (eo.get("hb_max_stall_ms") or 0)
        miss.append(f"killed {', '.join(sorted({v['name'] for v in extra}))} that both others left alive"
                    + (" (stall shorter than earlyoom's)" if shorter else ""))
    return miss


def gen_markdown(draws, results):
    head = ("| draw | scenario | none: kernel kills | earlyoom: kernel / own kills, gone s, PSI full s, max stall ms "
            "| memwarden: kernel / own kills (wrong), gone s, PSI full s, max stall ms | bar |")
    out = [head, "|" + "---|" * (head.count("|") - 1)]

    def g(r, own=True):
        if not r or r.get("status") != "ok":
            return f"n/a ({r.get('status') if r else 'not run'})"
        kills = f"{r['kernel_oom_kills']} / {r['guardian_kills']}" if own else f"{r['kernel_oom_kills']}"
        if own and r.get("wrong_kills"):
            kills += f" ({r['wrong_kills']} wrong)"
        return (f"{kills}, {cell(r.get('culprit_gone_s'))}, {cell(r.get('psi_full_s'))}, "
                f"{cell(r.get('hb_max_stall_ms'))}")
    met = 0
    for d in draws:
        runs = results[d["id"]]
        miss = gen_judge(d, runs)
        met += not miss
        no = runs.get("none")
        none_cell = cell(no.get("kernel_oom_kills")) if no and no.get("status") == "ok" else "n/a"
        out.append(f"| {d['id']} | {gen_desc(d)} | {none_cell} | {g(runs.get('earlyoom'))} | "
                   f"{g(runs.get('memwarden'))} | {'met' if not miss else '; '.join(miss)} |")
    mw_koom = sum(1 for d in draws if (results[d["id"]].get("memwarden") or {}).get("kernel_oom_kills"))
    out.append("")
    out.append(f"{met} of {len(draws)} draws meet the bar; draws with kernel OOM kills under memwarden: {mw_koom}.")
    return "\n".join(out) + "\n"


def gen_matrix(args, have_daemon):
    draws = gen_draws(args.seed, args.gen)
    if args.draws:
        keep = set(args.draws.split(","))
        draws = [d for d in draws if d["id"] in keep]
    guards = [g for g in args.guardians.split(",") if g]
    started = datetime.datetime.now(datetime.timezone.utc)
    t = time.monotonic()
    results = {}

    def save(done):
        # Rewritten after every draw, so an interrupted matrix keeps its draws.
        md = gen_markdown(done, results)
        meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "seed": args.seed, "argv": sys.argv[1:],
                "arch": args.arch, "rate_pct": args.rate_pct,
                "total_s": round(time.monotonic() - t, 1), "draws_done": len(done), "draws": len(draws)}
        if args.md:
            with open(args.md, "w") as f:
                f.write(md)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"meta": meta, "draws": done, "results": results}, f, indent=1)
                f.write("\n")
        return md, meta
    for i, d in enumerate(draws):
        results[d["id"]] = {g: run_gen(args, d, g, have_daemon) for g in guards}
        md, meta = save(draws[:i + 1])
    print(md, end="")
    print(f"\n{meta['date']}, seed {args.seed}; {meta['total_s']:.0f} s in total.")
    return 0


def capture(args):
    rundir = os.path.join(args.work, "runs", "capture")
    serial, tar, wall, rc = boot(args, "capture", "none", rundir, None)
    if result_block(serial) is None or tar is None:
        log(f"capture failed (qemu rc {rc}); see {rundir}/serial.log")
        return 1
    out = os.path.join(rundir, "out")
    extract(tar, out)
    snap = os.path.join(out, "snapshot")
    if not os.path.isfile(os.path.join(snap, "proc", "meminfo")):
        log("capture: guest wrote no snapshot")
        return 1
    shutil.rmtree(args.capture, ignore_errors=True)
    shutil.copytree(snap, args.capture)
    log(f"capture: {args.capture} written from a {MEM_MB} MiB guest in {wall:.0f} s")
    return 0


def smoke(args, have_daemon):
    """CI-sized form: one plain boot (zram, PSI, artifacts), then scenario 1
    with memwarden. Prints tests/lib.sh style lines."""
    t = time.monotonic()
    rundir = os.path.join(args.work, "runs", "smoke-boot")
    serial, tar, wall, rc = boot(args, "boot", "none", rundir, None)
    s = result_block(serial)
    if s is None or tar is None:
        print(f"FAIL vm_boot (qemu rc {rc}; see {rundir}/serial.log)")
        return
    print(f"ok   vm_boot ({wall:.0f} s wall, kernel {s.get('kernel')})")
    extract(tar, os.path.join(rundir, "out"))
    print(("ok   vm_zram_swap" if s.get("zram") == "on" else "FAIL vm_zram_swap") + f" ({s.get('zram_comp')})")
    psi = psi_totals(read(os.path.join(rundir, "out"), "psi-memory.boot"))
    print("ok   vm_psi" if "some" in psi else "FAIL vm_psi (no /proc/pressure/memory in the guest)")
    if not have_daemon:
        print("skip vm_smoke_memwarden: memwarden has no daemon command yet (guardian not available)")
        return
    r = run_one(args, "s1-hog", "memwarden", have_daemon)
    name = "vm_smoke_memwarden_s1"
    if r.get("status") != "ok":
        print(f"FAIL {name} (status: {r.get('status')})")
    elif r["culprit_gone_s"] is None:
        print(f"FAIL {name} (hog still alive after {r['elapsed_s']} s)")
    elif r["wrong_kills"]:
        print(f"FAIL {name} ({r['wrong_kills']} wrong kills: {r['victims']})")
    elif not r["guardian_kills"]:
        print(f"FAIL {name} (the kernel, not memwarden, killed the hog)")
    else:
        print(f"ok   {name} (hog gone in {r['culprit_gone_s']} s, heartbeat max stall "
              f"{r['hb_max_stall_ms']} ms, {time.monotonic() - t:.0f} s total)")


def run_script(args):
    """--script FILE: one fresh guest runs FILE as root (zram swap on, no
    guardian, no background apps); prints its output, keeps what it left in
    /out under WORK/runs/script-NAME/out, returns its exit status."""
    with open(args.script, "rb") as f:
        body = f.read()
    name = os.path.splitext(os.path.basename(args.script))[0]
    rundir = os.path.join(args.work, "runs", f"script-{name}")
    deadline = args.deadline or 300
    serial, tar, wall, rc = boot(args, "script", "none", rundir, deadline, script=body)
    if tar is None:
        log(f"no results from the guest (qemu rc {rc}; see {rundir}/serial.log)")
        return 125
    out = os.path.join(rundir, "out")
    extract(tar, out)
    sys.stdout.write(read(out, "script.out"))
    log(f"{wall:.0f} s wall; artifacts in {out}")
    try:
        return int(read(out, "script.rc").strip())
    except ValueError:
        return 125


def merge(args):
    """--merge A.json B.json ...: the rows of matrix runs made in chunks (one
    scenario at a time, so one bench guest does not hold the machine for an
    hour) as one table, in the order given; --md and --json write it too."""
    rows, metas, draws, results = [], [], [], {}
    for path in args.merge:
        with open(path) as f:
            d = json.load(f)
        if "draws" in d:  # --gen: draws and their results
            draws += d["draws"]
            results.update(d["results"])
        else:
            rows += d["runs"]
        metas.append(d["meta"])
    md = markdown(rows) if rows else ""
    if draws:
        md += ("\n" if md else "") + gen_markdown(draws, results)
    print(md, end="")
    dates = sorted(m["date"] for m in metas)
    guest = metas[0].get("guest", "generated draws")
    print(f"\n{dates[0]} to {dates[-1]}, {guest}; "
          f"{sum(m['total_s'] for m in metas):.0f} s in total, {len(metas)} chunks.")
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": metas, "runs": rows, "draws": draws, "results": results}, f, indent=1)
            f.write("\n")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initramfs", required=True)
    ap.add_argument("--work", required=True, help="scratch directory (runs, disk images)")
    ap.add_argument("--memwarden", default="memwarden-static", help="static binary in the initramfs")
    ap.add_argument("--scenarios", default=",".join(SCENARIOS))
    ap.add_argument("--guardians", default=",".join(GUARDIANS))
    ap.add_argument("--arch", choices=sorted(ARCHES), default="x86_64",
                    help="the guest's architecture (arm64: qemu-system-aarch64 -M virt)")
    ap.add_argument("--rate-pct", type=int, default=100,
                    help="the storms' growth rates in %% of the x86 bed's, their deadlines stretched to match")
    ap.add_argument("--no-pvh", action="store_true",
                    help="boot the bzImage as is, not the extracted PVH vmlinux (slower under TCG)")
    ap.add_argument("--deadline", type=int, help="override every scenario's deadline (seconds)")
    ap.add_argument("--md", help="write the markdown table here too")
    ap.add_argument("--json", help="write the JSON results here")
    ap.add_argument("--capture", metavar="DIR", help="boot once and copy the /proc+/sys capture to DIR")
    ap.add_argument("--smoke", action="store_true", help="CI-sized run with ok/FAIL/skip lines")
    ap.add_argument("--gen", type=int, metavar="N",
                    help="run N generated draws instead of the named scenarios (issue 15's matrix)")
    ap.add_argument("--seed", type=int, default=15, help="seed of the generated draws (default 15)")
    ap.add_argument("--draws", help="with --gen: only these draw ids (g01,g07)")
    ap.add_argument("--tune", metavar="PROFILE",
                    help="guests run 'memwarden tune --apply --profile PROFILE' before the scenario")
    ap.add_argument("--script", metavar="FILE",
                    help="run FILE (sh) as root in a fresh guest; exit with its status")
    ap.add_argument("--merge", nargs="+", metavar="JSON",
                    help="no guest: one table from the --json files of runs made in chunks")
    if "--merge" in sys.argv:  # no guest: --kernel and --initramfs are not needed
        mp = argparse.ArgumentParser(prog="bench.py --merge")
        mp.add_argument("--merge", nargs="+", required=True)
        mp.add_argument("--md")
        mp.add_argument("--json")
        return merge(mp.parse_args())
    args = ap.parse_args()
    # A bare name would be looked up in $PATH by subprocess: make it a path.
    args.memwarden = os.path.abspath(args.memwarden)
    for f in (args.kernel, args.initramfs):
        if not os.access(f, os.R_OK):
            sys.exit(f"bench-vm: cannot read {f} (run 'make vm-deps' and 'make vm-initramfs')")
    qemu = ARCHES[args.arch]["qemu"]
    if not shutil.which(qemu):
        sys.exit(f"bench-vm: {qemu} not installed (run 'make vm-deps')")
    if not 1 <= args.rate_pct <= 100:
        sys.exit("bench-vm: --rate-pct takes 1 to 100")
    os.makedirs(args.work, exist_ok=True)
    pvh = args.arch == "x86_64" and not args.no_pvh
    args.boot_kernel = pvh_kernel(args.kernel, args.work) if pvh else args.kernel
    have_daemon = memwarden_has_daemon(args.memwarden, ARCHES[args.arch]["user"])
    if args.capture:
        return capture(args)
    if args.script:
        return run_script(args)
    if args.smoke:
        smoke(args, have_daemon)
        return 0
    if args.gen:
        if args.guardians == ",".join(GUARDIANS):
            args.guardians = "none,earlyoom,memwarden"
        return gen_matrix(args, have_daemon)
    scen = [s for s in args.scenarios.split(",") if s]
    guards = [g for g in args.guardians.split(",") if g]
    for s in scen:
        if s not in SCENARIOS:
            sys.exit(f"bench-vm: unknown scenario {s} (known: {', '.join(SCENARIOS)})")
    for g in guards:
        if g not in GUARDIANS:
            sys.exit(f"bench-vm: unknown guardian {g} (known: {', '.join(GUARDIANS)})")
    started = datetime.datetime.now(datetime.timezone.utc)
    t = time.monotonic()
    rows = [run_one(args, s, g, have_daemon) for s in scen for g in guards]
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"),
            "command": "make bench-vm",
            "tune": args.tune,
            "argv": sys.argv[1:],
            "host": f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs",
            "guest": f"{ARCHES[args.arch]['qemu']} -accel tcg, {MEM_MB} MiB, {CPUS} vCPUs, 256 MiB zram swap, "
                     f"kernel {os.path.basename(args.kernel)}"
                     + (f", rates at {args.rate_pct} %" if args.rate_pct != 100 else "")
                     + (" (PVH vmlinux)" if args.boot_kernel != args.kernel else ""),
            "total_s": round(time.monotonic() - t, 1),
            "stall_budget_p99_ms": STALL_BUDGET_P99_MS,
            "wrong_kill_max_adj": WRONG_KILL_MAX_ADJ}
    md = markdown(rows)
    print(md, end="")
    print(f"\n{meta['date']}, {meta['guest']}; {meta['total_s']:.0f} s in total.")
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "runs": rows}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
