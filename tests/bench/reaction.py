#!/usr/bin/env python3
"""The killer's own cost, measured in the VM bed (issue 27).

In one guest per process count (tests/vm/bench.py's --script mode; the
guest half is tests/bench/reaction_guest.sh), each guardian in turn, with
NPROCS sleeping processes beside it:

- reaction: a hog grows at a fixed rate while `reaction hog` samples
  /proc/meminfo every millisecond; the time from the moment MemAvailable
  crosses the guardian's own line to the hog's exit seen by a pidfd, RUNS
  times; p50 and p99 (nearest rank) per guardian;
- sustained pressure: `reaction hold` keeps MemAvailable just above the
  guardian's line for HOLD_S seconds (no kill due); the guardian's CPU
  seconds and context switches meanwhile, and its RSS at the end;
- memwarden's own timings of each kill (its history: wake-up, sample,
  refresh, choice, signal, exit), as p50 / p99.

The lines come from each guardian's defaults: earlyoom's -m (its help text
says the default), memwarden's runaway line, half its available_low
percentage (contrib/memwarden.conf), where a runaway dies without a stall.

    reaction.py --kernel VMLINUZ --initramfs CPIO --work DIR
                [--nprocs 100,5000] [--runs 20] [--rate 200M/s] [--hold 60]
                [--guardians memwarden,earlyoom] [--mem 1024] [--json FILE]
                [--lock FILE]

With --lock FILE each guest holds an flock on FILE while it runs (make
bench-reaction: the VM bed's /tmp/mw-vm.lock, released between guests).
"""
import argparse
import datetime
import fcntl
import json
import math
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import bench  # noqa: E402  (the VM bed: boot(), pvh_kernel(), extract())

ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


def earlyoom_line_pct():
    """earlyoom's SIGTERM line on available memory: its -m default."""
    try:
        text = subprocess.run(["earlyoom", "-h"], capture_output=True, text=True).stderr
        m = re.search(r"-m PERCENT.*?\(default (\d+) %\)", text, re.S)
        if m:
            return float(m.group(1))
    except OSError:
        pass
    return 10.0


def memwarden_line_pct():
    """memwarden's line for a runaway without a stall: half its
    available_low_percentage (policy.c, decide_runaway)."""
    with open(os.path.join(ROOT, "contrib", "memwarden.conf")) as f:
        m = re.search(r"^available_low_percentage\s*=\s*(\d+)", f.read(), re.M)
    return float(m.group(1)) / 2 if m else 5.0


# the floor: no guardian, the observer itself kills the hog at the moment it
# sees memwarden's line crossed -- what the hog's exit costs alone
LINES = {"floor": memwarden_line_pct, "memwarden": memwarden_line_pct,
         "earlyoom": earlyoom_line_pct}


def pct(values, p):
    """Nearest-rank percentile (p99 of 20 runs is the largest)."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, math.ceil(p / 100 * len(v)) - 1)
    return v[k]


def jsonl(path):
    out = []
    if os.path.exists(path):
        for line in open(path, errors="replace"):
            line = line.strip()
            if line.startswith("{"):
                try:
                    out.append(json.loads(line))
                except ValueError:
                    pass
    return out


def guest_script(args, nprocs, lines):
    head = [f"NPROCS={nprocs}", f"RUNS={args.runs}", f"RATE={args.rate}",
            f"GUARDIANS='{' '.join(args.guardians)}'", f"HOLD_S={args.hold}",
            f"HOLD_MARGIN_PCT={args.hold_margin}", f"SETTLE_S={args.settle}"]
    head += [f"LINE_{g}_PCT={lines[g]}" for g in args.guardians]
    with open(os.path.join(HERE, "reaction_guest.sh")) as f:
        return ("\n".join(head) + "\n" + f.read()).encode()


def boot_once(args, nprocs, lines):
    name = f"reaction-{nprocs}"
    rundir = os.path.join(args.work, "runs", name)
    deadline = args.deadline or (120 + len(args.guardians) * (args.settle + args.hold + 60
                                                              + args.runs * 25))
    bench.MEM_MB = args.mem
    lock = open(args.lock, "a") if args.lock else None
    if lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one bench guest at a time on the shared host
    t = time.monotonic()
    try:
        serial, tar, wall, rc = bench.boot(args, "script", "none", rundir, deadline,
                                           script=guest_script(args, nprocs, lines))
    finally:
        if lock:
            lock.close()
    out = os.path.join(rundir, "out")
    if tar is None:
        print(f"reaction: no results from the guest (qemu rc {rc}; {rundir}/serial.log)",
              file=sys.stderr)
        return None
    bench.extract(tar, out)
    sys.stderr.write(open(os.path.join(out, "script.out"), errors="replace").read()
                     if os.path.exists(os.path.join(out, "script.out")) else "")
    print(f"reaction: {nprocs} processes: {time.monotonic() - t:.0f} s wall", file=sys.stderr)
    return out


# memwarden's own timings of a kill (its history's "timing", seconds)
PHASES = ["wake", "sample", "refresh", "choose", "signal", "exit"]


def breakdown(runs, hist):
    """memwarden's kills matched to the runs (woke between the hog's start
    and its exit): from the observer's crossing to the daemon's wake-up, to
    its signal, to the exit the observer saw (ms), beside its own phases."""
    steps = {"line_to_wake": [], "wake_to_signal": [], "line_to_signal": [],
             "signal_to_exit": []}
    for r in runs:
        if not r.get("crossed"):
            continue
        t0, t1 = r["start_us"] / 1e6, r["exit_us"] / 1e6
        kills = [h for h in hist if t0 <= h["timing"]["woke_at"] <= t1 and h.get("prog") == "hog"]
        if not kills or "sent_at" not in kills[0]["timing"]:
            continue
        k = kills[0]["timing"]
        cross = r["cross_us"] / 1e6
        steps["line_to_wake"].append((k["woke_at"] - cross) * 1e3)
        steps["wake_to_signal"].append((k["sent_at"] - k["woke_at"]) * 1e3)
        steps["line_to_signal"].append((k["sent_at"] - cross) * 1e3)
        steps["signal_to_exit"].append((t1 - k["sent_at"]) * 1e3)
    return {s: (pct(v, 50), pct(v, 99)) for s, v in steps.items()}


def figures(out, guardian, lines):
    runs = jsonl(os.path.join(out, f"{guardian}.reaction.jsonl"))
    crossed = [r for r in runs if r.get("crossed") and not r.get("timeout")]
    react = [r["reaction_ms"] for r in crossed]
    row = {"guardian": guardian, "line_pct": lines[guardian], "runs": len(runs),
           "crossed": len(crossed), "timeouts": sum(1 for r in runs if r.get("timeout")),
           "gone_before_line": sum(1 for r in crossed if r["reaction_ms"] < 0),
           "kernel_oom_runs": sum(1 for r in runs if r.get("oom_kills", 0) > 0),
           "signals": sorted({r.get("signal") for r in runs}),
           "p50_ms": pct(react, 50), "p99_ms": pct(react, 99), "max_ms": max(react, default=None),
           "reaction_ms": react}
    hold = jsonl(os.path.join(out, f"{guardian}.hold.jsonl"))
    if hold:
        row["hold"] = hold[-1]
    if guardian == "memwarden":
        hist = [h for h in jsonl(os.path.join(out, "memwarden.history.jsonl"))
                if isinstance(h.get("timing"), dict)]
        kills = [h for h in hist if h.get("event") == "kill"]
        row["phases"] = {ph: (pct([h["timing"][ph] * 1e3 for h in kills], 50),
                              pct([h["timing"][ph] * 1e3 for h in kills], 99)) for ph in PHASES}
        row["kills_timed"] = len(kills)
        row["wrong_kills"] = sum(1 for h in kills if h.get("prog") != "hog")
        row["breakdown"] = breakdown(runs, kills)
    return row


def fmt(v, f="{:.1f}"):
    return "—" if v is None else f.format(v)


def report(results, args):
    lines = ["| processes | guardian | line | runs | p50 ms | p99 ms | max ms | gone before "
             "its line | kernel OOM kills | sustained: CPU s | wake-ups (vol+invol) | RSS kB (anon) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    ratios = []
    for n, rows in results:
        by = {r["guardian"]: r for r in rows}
        for r in rows:
            h = r.get("hold") or {}
            lines.append(
                f"| {n} | {r['guardian']} | {r['line_pct']:g} % | {r['crossed']}/{r['runs']} | "
                f"{fmt(r['p50_ms'])} | {fmt(r['p99_ms'])} | {fmt(r['max_ms'])} | "
                f"{r['gone_before_line']} | {r['kernel_oom_runs']} | {fmt(h.get('cpu_s'), '{:.2f}')} | "
                f"{h.get('voluntary', 0) + h.get('involuntary', 0) if h else '—'} | "
                f"{h.get('rss_kb', '—')} ({h.get('anon_kb', '—')}) |")
        mw, eo = by.get("memwarden"), by.get("earlyoom")
        if mw and eo and mw["p99_ms"] is not None and eo["p99_ms"]:
            sig = (mw.get("breakdown") or {}).get("line_to_signal", (None, None))[1]
            ratios.append(f"{n} processes: reaction (line -> hog gone) p99 memwarden / earlyoom = "
                          f"{mw['p99_ms'] / eo['p99_ms']:.3f}x (goal <= 0.25); memwarden p99 "
                          f"{mw['p99_ms']:.1f} ms to the hog's exit, {fmt(sig)} ms to its SIGKILL "
                          "(goal < 50)")
        if mw and eo and mw.get("hold") and eo.get("hold"):
            a, b = mw["hold"]["cpu_s"], eo["hold"]["cpu_s"]
            ratios.append(f"{n} processes: {args.hold} s sustained, CPU memwarden {a:.2f} s, "
                          f"earlyoom {b:.2f} s ({'<=' if a <= b else '>'}; goal <=)")
        if mw and mw.get("phases"):
            ph, bd = mw["phases"], mw["breakdown"]
            ratios.append(f"{n} processes: memwarden's own timings of its {mw['kills_timed']} kills "
                          f"({mw['wrong_kills']} not the hog), p50 / p99 ms: " + ", ".join(
                              f"{k} {fmt(ph[k][0], '{:.2f}')} / {fmt(ph[k][1], '{:.2f}')}"
                              for k in PHASES))
            ratios.append(f"{n} processes: memwarden from the line, p50 / p99 ms: " + ", ".join(
                f"{k.replace('_', ' ')} {fmt(bd[k][0])} / {fmt(bd[k][1])}" for k in bd))
        fl = by.get("floor")
        if fl and fl["p99_ms"] is not None:
            ratios.append(f"{n} processes: the floor (the observer's own SIGKILL at the line): hog "
                          f"gone p50 {fmt(fl['p50_ms'])} / p99 {fmt(fl['p99_ms'])} ms")
    return "\n".join(lines) + "\n\n" + "\n".join(ratios) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel")
    ap.add_argument("--initramfs")
    ap.add_argument("--work")
    ap.add_argument("--summarize", metavar="DIR",
                    help="no guest: the report of the files a run left in DIR (the host's "
                         "--scope run, tests/bench/bench_scope_reaction.sh)")
    ap.add_argument("--line-pct", type=float, help="with --summarize: every guardian's line")
    ap.add_argument("--nprocs", default="100,5000")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--rate", default="100M/s",
                    help="the hog's rate (a TCG guest faults in about 120 MiB/s at most)")
    ap.add_argument("--hold", type=int, default=60)
    ap.add_argument("--hold-margin", type=float, default=2.0)
    ap.add_argument("--settle", type=int, default=40)
    ap.add_argument("--guardians", default="floor,memwarden,earlyoom")
    ap.add_argument("--mem", type=int, default=1024)
    ap.add_argument("--deadline", type=int)
    ap.add_argument("--json")
    ap.add_argument("--lock", help="flock this file around each guest (make bench-reaction: "
                    "/tmp/mw-vm.lock)")
    ap.add_argument("--no-pvh", action="store_true")
    args = ap.parse_args()
    args.guardians = [g for g in args.guardians.split(",") if g]
    for g in args.guardians:
        if g not in LINES:
            sys.exit(f"reaction: unknown guardian {g} (known: {', '.join(LINES)})")
    if args.summarize:
        lines = {g: args.line_pct or LINES[g]() for g in args.guardians}
        n = int(args.nprocs.split(",")[0])
        print(report([(n, [figures(args.summarize, g, lines) for g in args.guardians])], args),
              end="")
        return 0
    if not (args.kernel and args.initramfs and args.work):
        sys.exit("reaction: --kernel, --initramfs and --work are needed to boot a guest")
    args.tune = None
    os.makedirs(args.work, exist_ok=True)
    args.boot_kernel = args.kernel if args.no_pvh else bench.pvh_kernel(args.kernel, args.work)
    lines = {g: LINES[g]() for g in args.guardians}
    started = datetime.datetime.now(datetime.timezone.utc)
    results = []
    for n in [int(x) for x in args.nprocs.split(",") if x]:
        out = boot_once(args, n, lines)
        if out:
            results.append((n, [figures(out, g, lines) for g in args.guardians]))
    meta = {"date": started.strftime("%Y-%m-%d %H:%M UTC"), "argv": sys.argv[1:],
            "guest": f"qemu -accel tcg, {args.mem} MiB, {bench.CPUS} vCPUs, no swap",
            "host_load": open("/proc/loadavg").read().split()[:3],
            "rate": args.rate, "runs": args.runs, "hold_s": args.hold, "lines_pct": lines}
    text = report(results, args)
    print(text, end="")
    print(f"{meta['date']}, {meta['guest']}, hog {args.rate}; host load average "
          f"{' '.join(meta['host_load'])} at the end")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": [{"nprocs": n, "guardians": rows}
                                                 for n, rows in results]}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
