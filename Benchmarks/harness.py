"""Times whole commands, interleaved round by round, and prints one JSON line per case.

Besides wall time, the CPU time (user + system, from wait4) of the case's processes is
recorded: it is what other work on a shared machine disturbs least.

Each case is a shell-free command line, or several joined by ' && ' (run one after the
other; the case's time is the sum, as for `pvec add ... && pvec export ...`). A case may have
a prepare command, run untimed before every timed run. Rounds interleave the cases (a, b, a,
b, ...) so that noise from other work on the machine falls on every case alike.

usage: python3 harness.py --runs N --warmup W \
           --case NAME 'CMD [&& CMD]' [--prepare 'CMD'] [--case ...]
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time


def parse(argv):
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--bench", default="process")
    cases = []
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--case":
            cases.append({"name": argv[i + 1], "cmd": argv[i + 2], "prepare": None})
            i += 3
        elif argv[i] == "--prepare":
            cases[-1]["prepare"] = argv[i + 1]
            i += 2
        else:
            rest.append(argv[i])
            i += 1
    return p.parse_args(rest), cases


def run(cmd):
    """Runs the command(s); returns the CPU seconds (user + system) the processes used."""
    cpu = 0.0
    for part in cmd.split(" && "):
        p = subprocess.Popen(shlex.split(part), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        err = p.stderr.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu += usage.ru_utime + usage.ru_stime
        if p.returncode != 0:
            sys.exit(f"harness: `{part[:200]}` exited {p.returncode}: {err.decode()[-500:]}")
    return cpu


def main():
    args, cases = parse(sys.argv[1:])
    times = {c["name"]: [] for c in cases}
    cpus = {c["name"]: [] for c in cases}
    for round_ in range(args.warmup + args.runs):
        for c in cases:
            if c["prepare"]:
                run(c["prepare"])
            t0 = time.perf_counter()
            cpu = run(c["cmd"])
            dt = time.perf_counter() - t0
            if round_ >= args.warmup:
                times[c["name"]].append(dt)
                cpus[c["name"]].append(cpu)
    for c in cases:
        t = times[c["name"]]
        print(json.dumps({
            "bench": args.bench, "case": c["name"], "runs": len(t),
            "median_ms": round(statistics.median(t) * 1000, 2),
            "min_ms": round(min(t) * 1000, 2),
            "mean_ms": round(statistics.mean(t) * 1000, 2),
            "stdev_ms": round(statistics.stdev(t) * 1000, 2) if len(t) > 1 else 0.0,
            "cpu_median_ms": round(statistics.median(cpus[c["name"]]) * 1000, 2),
        }, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
