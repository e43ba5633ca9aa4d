#!/usr/bin/env python3
"""counters.py - chapter 4's Python twin: one count shared by processes, the multiprocessing way.

The C program (ch04-locks) adds to a shared count with nine mechanisms. A Python user has
multiprocessing's shared ctypes objects; this program times the ways the tutorial uses them,
P workers sharing I increments per trial (each does I/P), released together:
  RawValue        c.value += 1 on a RawValue: no lock at all (C's `none`): updates are lost,
                  and how many is shown and counted, never hidden
  Value           v.value += 1 on a Value: its lock is taken to read and again to write, never
                  around both, so updates are still lost
  Value-get_lock  with v.get_lock(): v.value += 1: the tutorial's lock per increment (the lock
                  is a POSIX semaphore, C's `semaphore` row)
  batched         count in a local variable, one get_lock() and one add per worker
  Array-slots     a[w] += 1 in mp.Array('q', P): every worker its own slot, but each read and
                  each write takes the array's one lock
  RawArray-slots  a[w] += 1 in a RawArray: own slot, no lock; the parent adds the slots
The cost is ns per increment = (last finish - first start) / I, the C program's unit.
What to look for: the lock per increment against batched (the same exact count), Value's
built-in lock that still loses updates, and how far all of it is from C's nanoseconds.

Usage: python3 chapters/04-locks/counters.py [--quick | --full] [--increments N]
                                            [--workers N] [--trials N] [--out DIR]
Writes results/ch04-python-per-increment.tsv (measurement format, x = workers P, ns) and
results/ch04-python-lost-updates.tsv (columns: variant workers trial expected counted lost, for
the two variants without a lock around the whole increment). Exit: 0 ok, 1 verification failed
(an exact variant's count is not I, or a lossy one's is above I, or below it with P = 1),
2 usage error. Stdlib only; the fork start method (Linux).
"""
import argparse
import ctypes
import multiprocessing as mp
import multiprocessing.connection
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_mode_options,  # noqa: E402
                 add_trials_option, stats_row, trials_or_default, verified_or_exit, write_tsv)

CTX = mp.get_context("fork")


# ---------- the variants: add n to the shared count, one increment at a time ----------

def raw_value(shared, w, n):
    c = shared["raw"]
    for _ in range(n):
        c.value += 1                 # load, add, store: another worker's store may land between


def value(shared, w, n):
    v = shared["value"]
    for _ in range(n):
        v.value += 1                 # the lock is held for the load, released, held for the store


def value_get_lock(shared, w, n):
    v = shared["value"]
    for _ in range(n):
        with v.get_lock():
            v.value += 1


def batched(shared, w, n):
    local = 0
    for _ in range(n):
        local += 1
    v = shared["value"]
    with v.get_lock():
        v.value += local


def array_slots(shared, w, n):
    a = shared["array"]
    for _ in range(n):
        a[w] += 1                    # two lock round trips, on a slot nobody else writes


def raw_array_slots(shared, w, n):
    a = shared["raw_array"]
    for _ in range(n):
        a[w] += 1


# name: (function, where the count is read, exact)
VARIANTS = {
    "RawValue": (raw_value, "raw", False),
    "Value": (value, "value", False),
    "Value-get_lock": (value_get_lock, "value", True),
    "batched": (batched, "value", True),
    "Array-slots": (array_slots, "array", True),
    "RawArray-slots": (raw_array_slots, "raw_array", True),
}


# ---------- one trial: P workers, released together, timed from first start to last end ----------

def worker(fn, shared, w, n, go, times):
    go.wait()
    times[2 * w] = time.monotonic_ns()
    fn(shared, w, n)
    times[2 * w + 1] = time.monotonic_ns()


def shares(total, procs):
    return [total // procs + (w < total % procs) for w in range(procs)]


def one_trial(name, procs, total):
    """(ns per increment, the count the workers left)."""
    fn, where, _ = VARIANTS[name]
    shared = {"raw": CTX.RawValue(ctypes.c_longlong, 0), "value": CTX.Value(ctypes.c_longlong, 0),
              "array": CTX.Array(ctypes.c_longlong, procs),
              "raw_array": CTX.RawArray(ctypes.c_longlong, procs)}
    times = CTX.RawArray(ctypes.c_longlong, 2 * procs)
    go = CTX.Barrier(procs)
    workers = [CTX.Process(target=worker, args=(fn, shared, w, n, go, times))
               for w, n in enumerate(shares(total, procs))]
    for p in workers:
        p.start()
    pending = {p.sentinel: (w, p) for w, p in enumerate(workers)}
    while pending:                   # in the order they end: a dead worker stops the others
        for ended in mp.connection.wait(list(pending)):
            w, p = pending.pop(ended)
            p.join()
            if p.exitcode != 0:
                for other in workers:
                    other.kill()
                    other.join()
                raise VerificationFailed(f"{name}, P={procs}: worker {w} (pid {p.pid}) ended "
                                         f"with {p.exitcode} (negative: killed by that signal)")
    count = shared[where]
    counted = sum(count[:]) if where in ("array", "raw_array") else count.value
    elapsed = max(times[1::2]) - min(times[0::2])
    return elapsed / total, counted


def check(name, procs, total, counted):
    if VARIANTS[name][2]:
        if counted != total:
            raise VerificationFailed(f"{name}, P={procs}: count {counted}, expected {total}")
    elif counted > total or (procs == 1 and counted != total):
        raise VerificationFailed(f"{name}, P={procs}: count {counted}, expected "
                                 f"{'exactly' if procs == 1 else 'at most'} {total}")


def measure(name, procs, total, trials, lost_rows):
    samples, most_lost, losing = [], 0, 0
    for t in range(trials + 1):                                  # trial 0: the warm-up
        ns, counted = one_trial(name, procs, total)
        check(name, procs, total, counted)
        if t == 0:
            continue
        samples.append(ns)
        if not VARIANTS[name][2]:
            lost_rows.append(f"{name}\t{procs}\t{t}\t{total}\t{counted}\t{total - counted}")
            most_lost = max(most_lost, total - counted)
            losing += counted < total
    return samples, most_lost, losing


# ---------- the experiment ----------

def run(args):
    procs_list = sorted({1, args.workers, 2 * args.workers} | ({2} if args.workers == 1 else set()))
    print(f"\nper-increment: P workers share {args.increments} increments per trial; "
          f"(last end - first start) / I, {args.trials} trials after a warm-up")
    print(f"  {'variant':<16} {'P':>3} {'median':>10} {'min':>10} {'max':>10}  unit")
    rows, lost_rows, found = [], [], {}
    for name in VARIANTS:
        for procs in procs_list:
            samples, most_lost, losing = measure(name, procs, args.increments, args.trials,
                                                 lost_rows)
            rows.append(stats_row(name, procs, "ns", samples))
            found[name, procs] = statistics.median(samples)
            lossy = "" if VARIANTS[name][2] else (
                f"  lost up to {most_lost} of {args.increments} updates "
                f"({100 * most_lost / args.increments:.1f}%), in {losing} of {args.trials} trials")
            print(f"  {name:<16} {procs:3d} {found[name, procs]:10.1f} {min(samples):10.1f} "
                  f"{max(samples):10.1f}  ns{lossy}", flush=True)
            found["lost", name, procs] = (most_lost, losing)
    write_tsv(args.out, "04", "counters.py", "per-increment", args.mode, MEASUREMENT_COLUMNS,
              rows, ["x=workers"])
    write_tsv(args.out, "04", "counters.py", "lost-updates", args.mode,
              "variant\tworkers\ttrial\texpected\tcounted\tlost", lost_rows)
    p = max(procs_list[:2])
    lock, batch = found["Value-get_lock", p], found["batched", p]
    r = lock / batch                                 # said as analyze.c's less() says it
    less = "no less" if r <= 1 else f"{r:.0f}x less" if r >= 10 else f"{r:.1f}x less"
    print(f"  -> with P={p}: a get_lock() per increment costs {lock:.0f} ns, batched "
          f"{batch:.1f} ns ({less}), the same exact count;\n"
          f"     own slots: Array {found['Array-slots', p]:.0f} ns (its one lock per read and "
          f"write), RawArray {found['RawArray-slots', p]:.0f} ns (no lock).")
    for name in ("RawValue", "Value"):
        most, losing = found["lost", name, p]
        if losing:
            print(f"     {name} lost updates in {losing} of {args.trials} trials at P={p} "
                  f"(up to {most}): a load and a store that others can come between.")
        else:
            print(f"     {name} lost no update in {args.trials} trial{'s' * (args.trials != 1)} "
                  f"at P={p}: exact this time, though others can still come between its load "
                  "and its store.")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mode_options(ap)
    ap.add_argument("--increments", type=int, default=None,
                    help="increments per trial, split across the workers (1000 to 10^8; default "
                         "10000 quick, 100000 default, 1000000 full: Python takes ~100x C's time "
                         "per increment, C's defaults are 10x these)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="P = 1, N, 2N (1 to 64; default N = online CPUs)")
    add_trials_option(ap)
    ap.add_argument("--out", default="results", help="where the TSV files go")
    args = ap.parse_args()
    if args.increments is None:
        args.increments = {"quick": 10000, "default": 100000, "full": 1000000}[args.mode]
    if not 1000 <= args.increments <= 10 ** 8:
        ap.error(f"--increments: {args.increments} is out of range (accepted: 1000 to 100000000)")
    if not 1 <= args.workers <= 64:
        ap.error(f"--workers: {args.workers} is out of range (accepted: 1 to 64)")
    args.trials = trials_or_default(ap, args.trials,
                                    {"quick": 3, "default": 5, "full": 15}[args.mode])
    os.makedirs(args.out, exist_ok=True)
    print(f"counters.py: Python {platform.python_version()}, {os.cpu_count()} CPUs, start method "
          f"fork, mode={args.mode}, load average {os.getloadavg()[0]:.2f}")
    with verified_or_exit("counters.py"):
        run(args)
    print("\nverification: every exact variant's count equal to I; RawValue and Value never above "
          "I, and exact with P = 1")
    print(f"TSV files: {args.out}/ch04-python-*.tsv")


if __name__ == "__main__":
    main()
