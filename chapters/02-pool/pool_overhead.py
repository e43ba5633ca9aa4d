#!/usr/bin/env python3
"""pool_overhead.py - chapter 2's overhead experiment, in Python, for comparison with ch02-pool.

The same two questions ch02-pool --only overhead answers in C, asked of the standard library:
  1. ProcessPoolExecutor(max_workers=1).map over T tasks vs a plain loop over the same tasks:
     what does the framework itself cost?
  2. start + shutdown of ProcessPoolExecutor(N) and multiprocessing.Pool(N) for N = 1, 2, 4, 8, 16,
     fitted by least squares as  fixed + per_worker * N.
"Start" means: create the pool and run one no-op per worker, so every worker exists and has
answered once (ch02-pool's pool_create waits for a hello from each worker in the same way).

Usage: python3 pool_overhead.py [--quick] [--trials N] [--tasks T] [--method fork|spawn|forkserver]
Stdlib only. Prints a table, then key=value lines that harness/peers.sh reads:
  fit kind=ProcessPoolExecutor fixed_us=... per_worker_us=...
  pool1 kind=ProcessPoolExecutor tasks=... sequential_us_per_task=... pool1_us_per_task=...
        framework_us=...   (on one line)
"""
import argparse
import concurrent.futures as cf
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (VerificationFailed, trials_or_default,  # noqa: E402  (after the path is set)
                 verified_or_exit)

SIZES = (1, 2, 4, 8, 16)


def noop(k):
    return k


def spin_task(k, spins=500):
    """About the work of one of ch02-pool's medium tasks, in Python terms (a loop of spins)."""
    x = (k * 2654435761 + 1) & 0xFFFFFFFF
    for _ in range(spins):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
    return x


def timed(fn, trials):
    """One warm-up, then `trials` timings of fn(); microseconds, median/min/max."""
    fn()
    samples = []
    for _ in range(trials):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e3)
    return statistics.median(samples), min(samples), max(samples)


def executor_start_stop(ctx, n):
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx) as ex:
        if list(ex.map(noop, range(n))) != list(range(n)):
            raise VerificationFailed(f"ProcessPoolExecutor({n}): the no-op tasks came back wrong")


def pool_start_stop(ctx, n):
    pool = ctx.Pool(n)
    if pool.map(noop, range(n), chunksize=1) != list(range(n)):
        raise VerificationFailed(f"Pool({n}): the no-op tasks came back wrong")
    pool.close()
    pool.join()


def fit(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    per = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - per * mx, per


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI size")
    ap.add_argument("--trials", type=int, default=None)
    ap.add_argument("--tasks", type=int, default=None)
    ap.add_argument("--method", default="fork", choices=mp.get_all_start_methods())
    a = ap.parse_args()
    trials = trials_or_default(ap, a.trials, 3 if a.quick else 10)
    tasks = (50 if a.quick else 200) if a.tasks is None else a.tasks
    if tasks < 1:
        ap.error("--tasks must be at least 1")
    ctx = mp.get_context(a.method)

    print(f"pool_overhead.py: Python {platform.python_version()}, start method {a.method}, "
          f"{os.cpu_count()} CPUs, {trials} trials")

    expected = [spin_task(k) for k in range(tasks)]
    seq = timed(lambda: [spin_task(k) for k in range(tasks)], trials)

    def pool1():
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            if list(ex.map(spin_task, range(tasks))) != expected:
                raise VerificationFailed("pool results differ from the loop")

    one = timed(pool1, trials)
    print(f"\n{'variant':<32} {'median':>10} {'min':>10} {'max':>10}  unit")
    for name, (median, low, high) in (("sequential", seq), ("ProcessPoolExecutor(1)", one)):
        per_task = (f"{v / tasks:10.1f}" for v in (median, low, high))
        print(f"{name:<32} {' '.join(per_task)}  us/task")

    fits = {}
    for kind, fn in (("ProcessPoolExecutor", executor_start_stop), ("Pool", pool_start_stop)):
        medians = []
        for n in SIZES:
            m = timed(lambda: fn(ctx, n), trials)
            medians.append(m[0])
            print(f"{kind + ' start+stop':<32} {m[0]:10.0f} {m[1]:10.0f} {m[2]:10.0f}  us"
                  f"  (N = {n})")
        fits[kind] = fit(SIZES, medians)

    print()
    for kind, (fixed, per) in fits.items():
        print(f"fit kind={kind} fixed_us={fixed:.0f} per_worker_us={per:.0f}")
    framework = one[0] - seq[0]
    print(f"pool1 kind=ProcessPoolExecutor tasks={tasks} "
          f"sequential_us_per_task={seq[0] / tasks:.1f} pool1_us_per_task={one[0] / tasks:.1f} "
          f"framework_us={framework:.0f}")


if __name__ == "__main__":
    with verified_or_exit("pool_overhead.py"):
        main()
