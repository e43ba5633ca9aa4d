#!/usr/bin/env python3
"""spawn.py - chapter 1's Python twin: what starting a process costs in multiprocessing.

The C program (ch01-fork) times fork, vfork, posix_spawn, fork+exec and a thread. A Python
user starts processes with multiprocessing.Process, whose cost depends on the start method:
  fork        os.fork(): the child is a copy of this interpreter, ready at once
  forkserver  a server process, started once, forks each child; the child gets the target
              pickled over a socket
  spawn       a fresh interpreter: exec python3, import this module again, unpickle the target
This program measures, one method at a time:
  methods  start one process (or thread) that exits with a known status, and reap it:
             os.fork            os.fork + os._exit + os.waitpid: the fork underneath it all
             Process-fork       Process(target).start() + join(), start method fork
             Process-forkserver the same, forkserver (its one-time server start is a warm-up)
             Process-spawn      the same, spawn
             subprocess         subprocess.run(["/bin/true"]) (and /bin/false): a new program,
                                the peer of C's posix_spawn and fork+exec rows
             thread             threading.Thread start + join, for scale
  rss      os.fork, Process-fork and Process-spawn while this process holds SIZE of touched
           memory (1M .. --max-rss): fork copies page tables, spawn starts from nothing
Every call's child exits with status (call number % 2) (subprocess alternates /bin/true and
/bin/false), and the parent checks it: a child that did not run is caught.
What to look for: Process-fork against os.fork (what multiprocessing adds around a fork), spawn
and forkserver against fork (a new interpreter, and the pickled target), and which of them grow
with the parent's memory.

Usage: python3 chapters/01-fork/spawn.py [--quick | --full] [--only methods|rss]
                                         [--max-rss SIZE] [--trials N] [--out DIR]
Writes results/ch01-python-{methods,rss}.tsv in the kit's measurement format (microseconds per
process; x = 0 for methods, x = parent MiB for rss). Exit: 0 ok, 1 verification failed (a child
exited with the wrong status), 2 usage error. Stdlib only; Linux (fork, forkserver).
"""
import argparse
import multiprocessing as mp
import os
import platform
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_mode_options,  # noqa: E402
                 add_trials_option, run_checked, stats_row, times_four, trials_or_default,
                 write_tsv)

PAGE = os.sysconf("SC_PAGESIZE")


def check(what, call, status):
    if status != call % 2:
        raise VerificationFailed(f"{what}: call {call} ended with status {status}, "
                                 f"expected {call % 2}")


# ---------- the methods: start one process, let it finish, reap it ----------

def exit_with(status):
    """A Process target: the exit status proves the child ran this call's code."""
    sys.exit(status)


def by_os_fork(call):
    pid = os.fork()
    if pid == 0:
        os._exit(call % 2)
    _, wait_status = os.waitpid(pid, 0)
    check("os.fork", call, os.waitstatus_to_exitcode(wait_status))


def by_process(method):
    ctx = mp.get_context(method)

    def start_and_join(call):
        p = ctx.Process(target=exit_with, args=(call % 2,))
        p.start()
        p.join()
        check(f"Process-{method}", call, p.exitcode)
    return start_and_join


def by_subprocess(call):
    program = "/bin/false" if call % 2 else "/bin/true"
    check("subprocess", call, subprocess.run([program]).returncode)


def by_thread(call):
    done = []
    t = threading.Thread(target=done.append, args=(call % 2,))
    t.start()
    t.join()
    check("thread", call, done[0] if done else -1)


METHODS = {
    "os.fork": by_os_fork,
    "Process-fork": by_process("fork"),
    "Process-forkserver": by_process("forkserver"),
    "Process-spawn": by_process("spawn"),
    "subprocess": by_subprocess,
    "thread": by_thread,
}


# ---------- timing: calls per trial from a first call, warm-up, trials ----------

def measure(start_one, budget_s, trials):
    """Microseconds per call: each sample is the mean of `calls` back-to-back calls, as many as
    fit budget_s per trial (1..100), after one untimed warm-up trial."""
    call = 0

    def trial(calls):
        nonlocal call
        t0 = time.perf_counter_ns()
        for _ in range(calls):
            start_one(call)
            call += 1
        return (time.perf_counter_ns() - t0) / calls / 1e3

    first = trial(1)                                    # the warm-up (a forkserver starts here)
    calls = max(1, min(100, int(budget_s * 1e6 / max(first, 1.0))))
    return [trial(calls) for _ in range(trials)], calls, first


def touched(mib):
    """SIZE of memory this process has written, every page: fork must map all of it."""
    block = bytearray(mib << 20)
    for i in range(0, len(block), PAGE):
        block[i] = 1
    return block


# ---------- the experiments ----------

def run_methods(args):
    print(f"\nmethods: start one process (or thread), let it exit, reap it; us per call, "
          f"{args.trials} trials after a warm-up")
    print(f"  {'variant':<20} {'median':>10} {'min':>10} {'max':>10}  unit")
    rows, found, notes = [], {}, ["x=none"]
    for name, start_one in METHODS.items():
        samples, calls, first = measure(start_one, args.budget, args.trials)
        rows.append(stats_row(name, 0, "us", samples))
        found[name] = statistics.median(samples)
        extra = f"  first call {first:.0f} us" if name == "Process-forkserver" else ""
        print(f"  {name:<20} {found[name]:10.1f} {min(samples):10.1f} {max(samples):10.1f}  us"
              f"  {calls} calls per trial{extra}", flush=True)
        if name == "Process-forkserver":
            notes.append(f"forkserver_first_us={first:.1f}")
    write_tsv(args.out, "01", "spawn.py", "methods", args.mode, MEASUREMENT_COLUMNS, rows, notes)
    fork, pfork = found["os.fork"], found["Process-fork"]
    print(f"  -> Process with fork costs {pfork:.0f} us, {pfork / fork:.1f}x a bare os.fork "
          f"({fork:.0f} us); forkserver {found['Process-forkserver'] / pfork:.1f}x and spawn "
          f"{found['Process-spawn'] / pfork:.1f}x Process-fork;\n"
          f"     a new program through subprocess {found['subprocess']:.0f} us; a thread "
          f"{found['thread']:.0f} us (Process-fork took {pfork / found['thread']:.1f}x its "
          "time).")


def run_rss(args):
    sizes = times_four(1, args.max_rss)
    variants = ["os.fork", "Process-fork", "Process-spawn"]
    print(f"\nrss: start and reap one process while this process holds SIZE of touched memory; "
          f"us per call, {args.trials} trials")
    print(f"  {'variant':<20} {'parent_mib':>10} {'median':>10} {'min':>10} {'max':>10}  unit")
    rows, found = [], {}
    for mib in sizes:
        block = touched(mib)
        for name in variants:
            samples, _, _ = measure(METHODS[name], args.budget, args.trials)
            rows.append(stats_row(name, mib, "us", samples))
            found[name, mib] = statistics.median(samples)
            print(f"  {name:<20} {mib:10d} {found[name, mib]:10.1f} {min(samples):10.1f} "
                  f"{max(samples):10.1f}  us", flush=True)
        if any(block[i] != 1 for i in range(0, len(block), 1 << 20)):
            raise VerificationFailed(f"rss: the parent's {mib} MiB block changed under fork")
        del block
    write_tsv(args.out, "01", "spawn.py", "rss", args.mode, MEASUREMENT_COLUMNS, rows,
              ["x=parent_mib"])
    lo, hi = sizes[0], sizes[-1]
    if lo == hi:
        print(f"  -> one size only ({hi} MiB): no growth with the parent's memory to compare.")
        return
    growth = {v: found[v, hi] / found[v, lo] for v in variants}
    print(f"  -> from {lo} MiB to {hi} MiB: "
          + ", ".join(f"{v} {growth[v]:.1f}x" for v in variants) + ";")
    if growth["os.fork"] <= 1.5:
        print("     os.fork barely grew at these sizes: what the memory adds is within its fixed "
              "cost and noise.")
        return
    print("     os.fork grew with the parent's memory (likely its page-table copy; not timed "
          "apart here);")
    print("     Process-spawn, a new interpreter that inherits none of the parent's memory, "
          + ("stayed flat." if growth["Process-spawn"] < 1.5
             else "grew too: why is not measured here."))


EXPERIMENTS = (("methods", run_methods), ("rss", run_rss))


# ---------- options ----------

def parse_mib(text):
    units = {"M": 1, "G": 1024}
    t = text.strip().upper()
    try:
        value = int(t[:-1]) * units[t[-1]] if t[-1:] in units else int(t) / (1 << 20)
    except ValueError:
        value = None
    if value is None or value != int(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of MiB (e.g. 16M, 1G)")
    return int(value)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mode_options(ap)
    ap.add_argument("--only", choices=[name for name, _ in EXPERIMENTS])
    ap.add_argument("--max-rss", type=parse_mib, default=None,
                    help="largest parent memory in rss, whole MiB (1M to 4G; default 4M quick, "
                         "64M default, 256M full)")
    add_trials_option(ap)
    ap.add_argument("--out", default="results", help="where the TSV files go")
    args = ap.parse_args()
    if args.max_rss is None:
        args.max_rss = {"quick": 4, "default": 64, "full": 256}[args.mode]
    if not 1 <= args.max_rss <= 4096:
        ap.error(f"--max-rss: {args.max_rss} MiB is out of range (accepted: 1M to 4G)")
    args.trials = trials_or_default(ap, args.trials,
                                    {"quick": 3, "default": 7, "full": 15}[args.mode])
    args.budget = {"quick": 0.02, "default": 0.15, "full": 0.5}[args.mode]
    os.makedirs(args.out, exist_ok=True)
    print(f"spawn.py: Python {platform.python_version()}, {os.cpu_count()} CPUs, mode={args.mode}, "
          f"load average {os.getloadavg()[0]:.2f}")
    run_checked("spawn.py", EXPERIMENTS, args)
    print("\nverification: every child's exit status checked (call number % 2), every child "
          "reaped")
    print(f"TSV files: {args.out}/ch01-python-*.tsv")


if __name__ == "__main__":
    main()
