#!/usr/bin/env python3
"""casestudy.py - chapter 9's Python twin: the tutorial's case study as printed, then corrected.

The tutorial sums sin(x) * cos(x) + sqrt(|x|) over float32 values twice: "naive" (chunks copied
and handed to Pool.map) and "optimized" (the values in SharedMemory, workers given index ranges
and summing in batches). As printed, both hand Pool a function it cannot pickle: the naive
worker is a function nested inside a method, the optimized one a bound method of a class
defined inside a function. This program rebuilds that shape, runs it and reports the error and
how long it took to appear; then it runs corrected versions (module-level workers) on the same
values as ch09-casestudy (same generator, same seed), with NumPy in one process as the floor,
and splits each run into the chapter's phases where Python lets us see them.

Usage: python3 chapters/09-casestudy/casestudy.py [--quick | --full] [--elements N]
           [--workers N] [--seed S] [--trials N] [--out DIR]
Writes DIR/ch09-python-ladder.tsv (variant x=elements unit=ms), DIR/ch09-python-phases.tsv
(the C program's phase columns) and DIR/ch09-python-start.tsv (Pool's start taken apart,
x=workers unit=ms). Without NumPy it prints the install command and exits 0.
Exit: 0 ok, 1 verification failure, 2 usage error.

Two optimized versions: optimized-as-timed starts its clock after the values are in shared
memory, as the tutorial's does (C's pool-shm-batched); optimized-fixed creates and fills the
SharedMemory inside the clock (C's pool-shm-batched+fill).

Phases in Python: start = Pool() returning; distribute = copying the chunks or filling the
shared memory, plus what map() took beyond the slowest worker's own compute time (pickling,
sending, unpickling, the results coming back); compute = the slowest worker's compute time,
measured inside the worker; collect = adding the results; teardown = leaving the with-block.

Pool's start taken apart: Pool(W) returning, then, one after the other, the two things it
starts: W processes, each started as Pool starts its workers (Process.start, a fork), and
right after them as many threads as Pool(W) added to this process (its handlers); then the
same threads again with no new process starting beside them.
"""
import argparse
import multiprocessing as mp
import os
import platform
import resource
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, stats_row,  # noqa: E402
                 trials_or_default, verified_or_exit, write_tsv)

try:
    import numpy as np
    from multiprocessing import shared_memory
except ImportError:
    print("casestudy.py: skipped: NumPy is not installed "
          "(sudo apt-get install python3-numpy)")
    sys.exit(0)

BATCH = 10000                      # the tutorial's batch size, in values
BOUND = 1e-5                       # relative error allowed against the float64 reference


# ---------- the values: the same generator as ch09-casestudy (splitmix64, 24 bits) ----------

def mix64(x):
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def make_values(count, seed):
    with np.errstate(over="ignore"):
        base = mix64(np.array([seed], dtype=np.uint64))[0]
        index = np.arange(count, dtype=np.uint64) + base
        bits = mix64(index) >> np.uint64(40)
    return (bits.astype(np.float32) * np.float32(2.0 ** -24)).astype(np.float32)


def work(values):
    """The tutorial's arithmetic, in float32 as NumPy does it; the sum accumulated in float64."""
    return float(np.sum(np.sin(values) * np.cos(values) + np.sqrt(np.abs(values)),
                        dtype=np.float64))


def reference(values):
    """The same sum with every step in float64: what each version is checked against."""
    x = values.astype(np.float64)
    return float(np.sum(np.sin(x) * np.cos(x) + np.sqrt(np.abs(x))))


# ---------- 1. the tutorial's shape, as printed ----------

def as_printed(values, workers):
    """The shape of the tutorial's code: a class defined inside a function; its naive method
    passes a nested function to Pool.map, its optimized method passes a bound method to
    Pool.starmap. Returns [(version, seconds until the error, error text)]."""

    class Processor:
        def naive(self, chunks):
            def naive_worker(chunk):
                return work(chunk)
            with mp.Pool(workers) as pool:
                return pool.map(naive_worker, chunks)

        def attach_and_sum(self, name, begin, end):
            shm = shared_memory.SharedMemory(name=name)
            view = np.ndarray((len(values),), dtype=np.float32, buffer=shm.buf)
            total = work(view[begin:end])
            del view
            shm.close()
            return total

        def optimized(self, name, ranges):
            with mp.Pool(workers) as pool:
                return pool.starmap(self.attach_and_sum, [(name, b, e) for b, e in ranges])

    outcomes = []
    processor = Processor()
    start = time.perf_counter()
    try:
        processor.naive(split(values, workers))
        outcomes.append(("naive-as-printed", time.perf_counter() - start, "ran"))
    except Exception as error:          # the point is to show which error it is
        outcomes.append(("naive-as-printed", time.perf_counter() - start,
                         f"{type(error).__name__}: {error}"))
    shm = shared_memory.SharedMemory(create=True, size=values.nbytes)
    try:
        np.ndarray(values.shape, dtype=np.float32, buffer=shm.buf)[:] = values
        start = time.perf_counter()
        try:
            processor.optimized(shm.name, ranges_of(len(values), workers))
            outcomes.append(("optimized-as-printed", time.perf_counter() - start, "ran"))
        except Exception as error:
            outcomes.append(("optimized-as-printed", time.perf_counter() - start,
                             f"{type(error).__name__}: {error}"))
    finally:
        shm.close()
        shm.unlink()
    return outcomes


# ---------- 2. corrected: the workers at module level ----------

def split(values, workers):
    return [values[b:e].copy() for b, e in ranges_of(len(values), workers)]


def ranges_of(count, workers):
    return [(count * w // workers, count * (w + 1) // workers) for w in range(workers)]


def naive_worker(chunk):
    start = time.perf_counter()
    total = work(chunk)
    return total, time.perf_counter() - start


def optimized_worker(name, count, begin, end):
    start = time.perf_counter()
    shm = shared_memory.SharedMemory(name=name)
    data = np.ndarray((count,), dtype=np.float32, buffer=shm.buf)
    total = 0.0
    for b in range(begin, end, BATCH):          # batches, as the tutorial does
        total += work(data[b:min(b + BATCH, end)])
    del data
    shm.close()
    return total, time.perf_counter() - start


# ---------- 3. what Pool's start is made of ----------

def exit_at_once():
    pass


def thread_starts(count):
    """Seconds to start `count` threads that only wait, as Pool starts its handler threads."""
    release = threading.Event()
    threads = [threading.Thread(target=release.wait) for _ in range(count)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    took = time.perf_counter() - t0
    release.set()
    for t in threads:
        t.join()
    return took


def pool_start_parts(workers):
    """One trial, in seconds: Pool(W) returning; W processes started as Pool starts them; the
    threads Pool(W) added, started right after them, then with no process starting; and this
    process's CPU time and minor page faults while the W processes started."""
    before = threading.active_count()
    t0 = time.perf_counter()
    pool = mp.Pool(workers)
    pool_s = time.perf_counter() - t0
    handlers = threading.active_count() - before
    pool.close()
    pool.join()
    faults, cpu = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.process_time()
    t0 = time.perf_counter()
    processes = [mp.Process(target=exit_at_once) for _ in range(workers)]
    for p in processes:
        p.start()
    processes_s = time.perf_counter() - t0
    cpu = time.process_time() - cpu
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    after_s = thread_starts(handlers)
    for p in processes:
        p.join()
    return dict(pool=pool_s, processes=processes_s, processes_cpu=cpu, threads_after=after_s,
                threads_alone=thread_starts(handlers), faults=faults, handlers=handlers)


START_PARTS = (("pool-start", "pool"), ("processes-start", "processes"),
               ("processes-start-cpu", "processes_cpu"),
               ("threads-after-processes", "threads_after"), ("threads-alone", "threads_alone"))


def measure_pool_start(workers, trials):
    """Pool's start and its parts, medians of `trials` after a warm-up; table rows and a line."""
    pool_start_parts(workers)
    runs = [pool_start_parts(workers) for _ in range(trials)]
    rows = [stats_row(name, workers, "ms", [r[key] * 1e3 for r in runs])
            for name, key in START_PARTS]
    ms = {key: statistics.median(r[key] for r in runs) * 1e3 for _, key in START_PARTS}
    handlers = max(r["handlers"] for r in runs)
    faults = statistics.median(r["faults"] for r in runs)
    line = (f"Pool({workers}) start, taken apart ({trials} trial(s), medians): Pool({workers}) "
            f"returned after {ms['pool']:.2f} ms; apart, {workers} processes started as Pool "
            f"starts them: {ms['processes']:.2f} ms (this process's CPU time meanwhile "
            f"{ms['processes_cpu']:.2f} ms, its minor page faults {faults:.0f}); then the "
            f"{handlers} threads Pool({workers}) adds: "
            f"{ms['threads_after']:.2f} ms right after the processes, "
            f"{ms['threads_alone']:.2f} ms with no process starting")
    return rows, line


def run_sequential(values, workers):
    phases = dict.fromkeys(PHASES, 0.0)
    t0 = time.perf_counter()
    total = work(values)
    phases["compute"] = time.perf_counter() - t0
    return total, phases


def pool_run(workers, t0, t1, map_call):
    """The pool part of every parallel version: map_call(pool) returns the workers' (sum,
    compute seconds); the clock started at t0, the work was ready to hand out at t1."""
    with mp.Pool(workers) as pool:
        t2 = time.perf_counter()
        results = map_call(pool)
        t3 = time.perf_counter()
        total = sum(r for r, _ in results)
        t4 = time.perf_counter()
    t5 = time.perf_counter()
    slowest = max(c for _, c in results)
    phases = dict(start=t2 - t1, distribute=(t1 - t0) + (t3 - t2 - slowest), compute=slowest,
                  collect=t4 - t3, teardown=t5 - t4)
    return total, phases


def run_naive(values, workers):
    t0 = time.perf_counter()
    chunks = split(values, workers)             # "copying is expensive!"
    return pool_run(workers, t0, time.perf_counter(),
                    lambda pool: pool.map(naive_worker, chunks))


def pool_over(name, count, workers, t0, t1):
    """Pool.starmap over index ranges of the shared values."""
    tasks = [(name, count, b, e) for b, e in ranges_of(count, workers)]
    return pool_run(workers, t0, t1, lambda pool: pool.starmap(optimized_worker, tasks))


def run_optimized(values, workers):
    """Everything inside the clock: create the SharedMemory, copy the values in, the pool."""
    t0 = time.perf_counter()
    shm = shared_memory.SharedMemory(create=True, size=values.nbytes)
    try:
        np.ndarray(values.shape, dtype=np.float32, buffer=shm.buf)[:] = values
        total, phases = pool_over(shm.name, len(values), workers, t0, time.perf_counter())
    finally:
        t5 = time.perf_counter()
        shm.close()
        shm.unlink()
    phases["teardown"] += time.perf_counter() - t5
    return total, phases


BORN = []       # the SharedMemory the values were put in before any clock started


def run_optimized_as_timed(values, workers):
    """The tutorial's clock: its values were put in shared memory before the clock started."""
    t0 = time.perf_counter()
    return pool_over(BORN[0].name, len(values), workers, t0, t0)


PHASES = ("start", "distribute", "compute", "collect", "teardown")
VERSIONS = (("numpy-sequential", run_sequential), ("naive-fixed", run_naive),
            ("optimized-as-timed", run_optimized_as_timed), ("optimized-fixed", run_optimized))


# ---------- measuring, checking, writing ----------

def measure(run, values, workers, trials, expected, name):
    run(values, workers)                                   # warm-up
    samples = []
    for _ in range(trials):
        t0 = time.perf_counter()
        total, phases = run(values, workers)
        wall = time.perf_counter() - t0
        error = abs(total - expected) / expected
        if error > BOUND:
            raise VerificationFailed(f"{name}: {total!r}, float64 reference {expected!r} "
                                     f"(relative error {error:.2e} > {BOUND:g})")
        samples.append((wall, phases, total))
    samples.sort(key=lambda s: s[0])
    return samples


def parse():
    p = argparse.ArgumentParser(description="chapter 9's Python twin")
    p.add_argument("--quick", dest="mode", action="store_const", const="quick", default="default")
    p.add_argument("--full", dest="mode", action="store_const", const="full")
    p.add_argument("--elements", type=int)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--trials", type=int)
    p.add_argument("--out", default="results")
    args = p.parse_args()
    if args.elements is None:
        args.elements = {"quick": 500000, "default": 10000000, "full": 100000000}[args.mode]
    args.trials = trials_or_default(p, args.trials,
                                    {"quick": 1, "default": 3, "full": 5}[args.mode])
    if not 1000 <= args.elements <= 10 ** 9 or not 1 <= args.workers <= 1024:
        p.error("--elements must be 1000..10^9, --workers 1..1024")
    return args


def main():
    args = parse()
    mp.set_start_method("fork")            # what Linux uses; the pickling error is the same
    os.makedirs(args.out, exist_ok=True)
    values = make_values(args.elements, args.seed)
    expected = reference(values)
    n, w = args.elements, args.workers
    print(f"casestudy.py: Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{n} values, W = {w}, {args.trials} trial(s) + 1 warm-up")
    print(f"float64 reference: {expected!r}; every version must agree within {BOUND:g} relative")
    rows, phase_rows = [], []
    for name, seconds, what in as_printed(values, w):
        print(f"{name:22s} failed after {seconds * 1e3:8.2f} ms: {what}" if what != "ran"
              else f"{name:22s} ran ({seconds * 1e3:.2f} ms)")
        rows.append(stats_row(name, n, "ms", [seconds * 1e3]))
    BORN.append(shared_memory.SharedMemory(create=True, size=values.nbytes))
    try:
        np.ndarray(values.shape, dtype=np.float32, buffer=BORN[0].buf)[:] = values
        measure_versions(values, args, expected, rows, phase_rows)
    finally:
        BORN[0].close()
        BORN[0].unlink()
    write_tsv(args.out, "09", "casestudy-python", "ladder", args.mode, MEASUREMENT_COLUMNS, rows,
              ["x=elements"])
    write_tsv(args.out, "09", "casestudy-python", "phases", args.mode,
              "rung\telements\tunits\tworkers\t" + "\t".join(f"{p}_ms" for p in PHASES)
              + "\tsum_ms\twall_ms\tunaccounted_pct", phase_rows)
    start_rows, start_line = measure_pool_start(w, args.trials)
    print(start_line)
    write_tsv(args.out, "09", "casestudy-python", "start", args.mode, MEASUREMENT_COLUMNS,
              start_rows, ["x=workers"])


def measure_versions(values, args, expected, rows, phase_rows):
    n, w = args.elements, args.workers
    for name, run in VERSIONS:
        samples = measure(run, values, w, args.trials, expected, name)
        wall, phases, total = samples[len(samples) // 2]
        rows.append(stats_row(name, n, "ms", [s[0] * 1e3 for s in samples]))
        ms = [phases[p] * 1e3 for p in PHASES]
        off = 100 * (wall - sum(phases.values())) / wall
        phase_rows.append(f"{name}\t{n}\t1\t{w}\t" + "\t".join(f"{v:.4f}" for v in ms)
                          + f"\t{sum(ms):.4f}\t{wall * 1e3:.4f}\t{off:.2f}")
        print(f"{name:22s} {wall * 1e3:9.2f} ms (median)  total={total!r}  phases ms: "
              + " ".join(f"{p}={v:.2f}" for p, v in zip(PHASES, ms)))


if __name__ == "__main__":
    with verified_or_exit("casestudy.py"):
        main()
