#!/usr/bin/env python3
"""pools.py - chapter 2's Python twin: ch02-pool's experiments, with the standard library's pools.

  per-task-vs-pool  T tasks as a multiprocessing.Process each (at most N alive at once) vs a
                    multiprocessing.Pool(N) created, mapped with chunksize 1 (--chunk) and closed,
                    for a light, a medium and a heavy task; wall time per task in us
  chunksize         T tiny tasks through a live Pool(N).map and ProcessPoolExecutor(N).map at the
                    chunk sizes ch02-pool sweeps: 1, 2, 4, ... below T, then T, with Pool.map's
                    own default (ceil(T / (4 N)), CPython's Pool._map_async) in its place;
                    throughput in ktasks/s
  overhead          ProcessPoolExecutor(max_workers=1).map over T medium tasks vs a plain loop
                    (what does the framework itself cost?), then start and stop of
                    ProcessPoolExecutor(N) and Pool(N) for N = 1, 2, 4, 8, 16, fitted by least
                    squares as fixed + per_worker * N. "Start" is: create the pool and run one
                    no-op per worker, so every worker exists and has answered once (ch02-pool's
                    pool_create waits for a hello from each worker in the same way).

The tasks are ch02-pool's: task k is spin_task(k, spins), xorshift rounds from mix64(k) | 1,
the same answer C gives for the same spins (build/ch02-pool --tiny-job K prints spin_task(K,
300)). A Python round costs a few hundred C rounds (about 0.3 us against about 2 ns), and a call
about a microsecond, so by default the twin runs C's spins / 300 (tiny and light 1, medium 100,
heavy 1000): each task within a small factor of C's time in C (the tiny one about 1.4 us against
about 0.6 us), and the task's time against the message's is what chunking is about. --c-spins
runs C's own counts (300, 30000, 300000): the same work, a few hundred times longer in Python.
Task counts are C's (at most 2000 / 20000 / 100000 tiny tasks, quick / default / full), fitted to
a time budget where a fixed count can blow up; each heading says what was chosen; --tasks T
fixes the chunksize sweep's.
Every map is checked against a sequential map: a wrong answer is a verification failure.

Usage: python3 chapters/02-pool/pools.py [--quick | --full] [--only EXPERIMENT] [--tasks T]
           [--chunk N] [--workers N] [--trials N] [--method fork|spawn|forkserver]
           [--c-spins] [--out DIR] [--corrupt-task K]
  --corrupt-task K  test switch: the process given task K returns a wrong value for it (sizes
                    are then the mode's full counts; K from 0 to the largest T run, minus 1)
Writes DIR/ch02-python-{per-task-vs-pool,chunksize,overhead}.tsv (default DIR results/), the
kit's measurement columns. Prints a table per experiment, then the key=value lines that
harness/peers.sh reads:
  fit kind=ProcessPoolExecutor fixed_us=... per_worker_us=...   (and kind=Pool)
  pool1 kind=ProcessPoolExecutor tasks=... sequential_us_per_task=... pool1_us_per_task=...
        framework_us=...   (on one line)
Exit: 0 ok, 1 verification failed, 2 usage error. Stdlib only; Linux (fork by default).
What to look for: Pool.map at chunk 1 against its default chunk (the tutorial's lesson), and
ProcessPoolExecutor.map, whose default chunksize is 1.
"""
import argparse
import concurrent.futures as cf
import functools
import math
import multiprocessing as mp
import multiprocessing.connection
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_mode_options,  # noqa: E402
                 add_trials_option, trials_or_default, verified_or_exit, write_tsv)

PROGRAM = "pools.py"
MASK = 0xFFFFFFFFFFFFFFFF
C_SPINS_PER_PY_SPIN = 300
TINY_C_SPINS = 300                                  # pool.h: TINY_SPINS
LOADS = (("light", 300, (100, 2000, 10000)),        # main.c's loads: C spins, most T per mode
         ("medium", 30000, (40, 500, 2000)),
         ("heavy", 300000, (10, 100, 400)))
CHUNKSIZE_MOST, OVERHEAD_TASKS = (2000, 20000, 100000), (50, 200, 1000)
MODES = ("quick", "default", "full")
SIZES = (1, 2, 4, 8, 16)


# ---------- the task: ch02-pool's spin_task, with a checkable answer ----------

def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def spin_task(k, spins):
    x = mix64(k) | 1
    for _ in range(spins):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
    return x


def task(spins, corrupt, k):
    """What a worker runs: spin_task, or a wrong answer for task `corrupt` (the test switch)."""
    value = spin_task(k, spins)
    return value ^ 1 if k == corrupt else value


def noop(k):
    return k


def check(what, results, expected):
    for k, (got, want) in enumerate(zip(results, expected)):
        if got != want:
            raise VerificationFailed(f"{what}: task {k} returned {got:#x}, a sequential map "
                                     f"gives {want:#x}")
    if len(results) != len(expected):
        raise VerificationFailed(f"{what}: {len(results)} results for {len(expected)} tasks")


# ---------- measuring ----------

def timed(fn, trials, verify=None):
    """One warm-up, then `trials` timings of fn() in microseconds; verify(what fn returned) after
    each, outside the timing."""
    samples = []
    for trial in range(trials + 1):
        start = time.perf_counter_ns()
        result = fn()
        elapsed = (time.perf_counter_ns() - start) / 1e3
        if verify:
            verify(result)
        if trial:
            samples.append(elapsed)
    return samples


def shown(v):
    return f"{v:10.0f}" if abs(v) >= 1e4 else f"{v:10.4g}"


def count_within(budget_s, unit_s, least, most):
    """ch02-pool's rule: what fits the budget at unit_s each, within [least, most]."""
    if not unit_s > 0 or math.isinf(budget_s):
        return most
    return max(least, min(most, int(budget_s / unit_s)))


def progress(args, text):
    if args.mode != "quick":
        print(f"{PROGRAM}: {text}", file=sys.stderr, flush=True)


class Table:
    """Rows for the terminal and the TSV, looked up by (variant, x) for the conclusions."""

    def __init__(self, x_name):
        self.x_name, self.rows, self.medians = x_name, [], {}

    def add(self, variant, x, unit, samples, comment=""):
        s = sorted(samples)
        sd = statistics.stdev(s) if len(s) > 1 else 0.0
        self.add_stats(variant, x, unit, (len(s), statistics.median(s), s[0], s[-1],
                                          statistics.mean(s), sd), comment)

    def add_stats(self, variant, x, unit, stats, comment=""):
        """stats: n, median, min, max, mean, stddev."""
        n, median, low, high, mean, sd = stats
        self.rows.append(f"{variant}\t{x}\t{unit}\t{n}\t{median:.6g}\t{low:.6g}\t{high:.6g}\t"
                         f"{mean:.6g}\t{sd:.6g}")
        self.medians[variant, x] = median
        print(f"  {variant:<32} {x:>10g} {shown(median)} {shown(low)} {shown(high)}  {unit}"
              f"{'  ' + comment if comment else ''}", flush=True)

    def heading(self):
        print(f"  {'variant':<32} {self.x_name:>10} {'median':>10} {'min':>10} {'max':>10}  unit")


def ratio_stats(num, den):
    """ch02-pool's ratio_of: median over median, min over max, max over min."""
    mn, md = statistics.mean(num), statistics.mean(den)
    sn = statistics.stdev(num) if len(num) > 1 else 0.0
    sd = statistics.stdev(den) if len(den) > 1 else 0.0
    return (len(num), statistics.median(num) / statistics.median(den), min(num) / max(den),
            max(num) / min(den), mn / md, mn / md * math.hypot(sn / mn, sd / md))


def write(args, experiment, table, notes):
    write_tsv(args.out, "02", PROGRAM, experiment, args.mode, MEASUREMENT_COLUMNS, table.rows,
              [f"x={table.x_name}"] + notes)


# ---------- experiment 1: per-task-vs-pool ----------

def per_task_map(ctx, workers, fn, tasks):
    """A fresh Process per task, at most `workers` alive; each writes its answer to shared
    memory. A process that fails ends the map with a verification failure naming it."""
    results = ctx.RawArray("Q", tasks)
    alive = {}

    def reap_ended():
        for ended in mp.connection.wait(list(alive)):
            j, p = alive.pop(ended)
            p.join()
            if p.exitcode != 0:
                for _, other in alive.values():
                    other.kill()
                    other.join()
                raise VerificationFailed(f"per-task: the process for task {j} (pid {p.pid})"
                                         f" ended with {p.exitcode}")

    for k in range(tasks):
        if len(alive) == workers:
            reap_ended()
        p = ctx.Process(target=per_task_child, args=(fn, k, results))
        p.start()
        alive[p.sentinel] = (k, p)
    while alive:
        reap_ended()
    return list(results)


def per_task_child(fn, k, results):
    results[k] = fn(k)


def pool_map_once(ctx, workers, fn, tasks, chunk):
    with ctx.Pool(workers) as pool:
        return pool.map(fn, range(tasks), chunksize=chunk)


def run_per_task_vs_pool(args, ctx):
    trials = args.trials or {"quick": 3, "default": 5, "full": 11}[args.mode]
    budget = {"quick": 0.5, "default": 4.0, "full": math.inf}[args.mode]
    w = args.workers
    print(f"\nper-task-vs-pool: T tasks as a Process each vs a Pool({w}) (create + map with "
          f"chunksize {args.chunk} + close);\n  wall time per task in us ({trials} trials after "
          f"a warm-up; T fits the budget)")
    table = Table("task_us")
    table.heading()
    task_us = []
    for name, c_spins, most in LOADS:
        spins = args.spins(c_spins)
        fn = functools.partial(task, spins, args.corrupt)
        most = most[MODES.index(args.mode)]
        if args.fixed_sizes:
            tasks = most
        else:
            probe = 2 * w
            start = time.perf_counter()
            results = per_task_map(ctx, w, fn, probe)
            took = time.perf_counter() - start
            check("per-task (the probe)", results, [spin_task(k, spins) for k in range(probe)])
            tasks = count_within(budget / (2 * (trials + 1)), took / probe, min(4 * w, most),
                                 most)
        expected = [spin_task(k, spins) for k in range(tasks)]
        rounds = f"{spins} spin{'s' * (spins != 1)}"
        progress(args, f"per-task-vs-pool: {name} tasks ({rounds}), T = {tasks}")

        seq = timed(lambda: [spin_task(k, spins) for k in range(tasks)], trials,
                    lambda r: check("sequential", r, expected))
        fresh = timed(lambda: per_task_map(ctx, w, fn, tasks), trials,
                      lambda r: check("per-task", r, expected))
        pool = timed(lambda: pool_map_once(ctx, w, fn, tasks, args.chunk), trials,
                     lambda r: check("Pool", r, expected))
        seq, fresh, pool = ([s / tasks for s in x] for x in (seq, fresh, pool))
        x = round(statistics.median(seq), 4)
        task_us.append(x)
        table.add("sequential", x, "us", seq, f"{name} tasks ({rounds}), T = {tasks}")
        table.add("per-task", x, "us", fresh)
        table.add("pool", x, "us", pool)
        table.add_stats("speedup", x, "x", ratio_stats(fresh, pool), "per-task / pool")
    write(args, "per-task-vs-pool", table, [f"workers={w} chunk={args.chunk} method="
                                            f"{args.method} spins={args.spins_text()}"])
    light, heavy = (table.medians["speedup", x] for x in (task_us[0], task_us[-1]))
    print(f"  -> a Process per task took {light:.1f}x the Pool's time for {task_us[0]:.2f} us "
          f"tasks, {heavy:.2f}x for {task_us[-1]:.0f} us tasks.")


# ---------- experiment 2: chunksize ----------

def chunk_sizes(tasks, python_chunk):
    """ch02-pool's sweep: 1, 2, 4, ... below T, then T; Pool.map's default in its place."""
    chunks, n = [], 1
    while True:
        if python_chunk < n and chunks[-1] < python_chunk:
            chunks.append(python_chunk)
        chunks.append(n)
        if n == tasks:
            return chunks
        n = min(2 * n, tasks)


def pool_default_chunk(tasks, workers):
    """CPython's Pool._map_async when chunksize is None: divmod(T, 4 * pool size), rounded up."""
    chunk, extra = divmod(tasks, workers * 4)
    return chunk + 1 if extra else chunk


def run_chunksize(args, ctx):
    trials = args.trials or {"quick": 3, "default": 5, "full": 11}[args.mode]
    budget = {"quick": 2.0, "default": 20.0, "full": math.inf}[args.mode]
    w, spins = args.workers, args.spins(TINY_C_SPINS)
    fn = functools.partial(task, spins, args.corrupt)
    most = CHUNKSIZE_MOST[MODES.index(args.mode)]
    with ctx.Pool(w) as pool, cf.ProcessPoolExecutor(max_workers=w, mp_context=ctx) as ex:
        maps = {"Pool.map": lambda n, chunk: pool.map(fn, range(n), chunksize=chunk),
                "ProcessPoolExecutor.map": lambda n, chunk: list(ex.map(fn, range(n),
                                                                        chunksize=chunk))}
        pool.map(noop, range(2 * w), chunksize=1)   # every worker started before any timing
        list(ex.map(noop, range(2 * w)))
        if args.tasks or args.fixed_sizes:
            tasks, chosen = args.tasks or most, "T given" if args.tasks else "the mode's count"
        else:   # chunk 1 through both, timed: the sweep costs about three such maps a trial
            probe, took = min(most, 500), 0.0
            for name, run in maps.items():
                start = time.perf_counter()
                results = run(probe, 1)
                took += time.perf_counter() - start
                check(f"chunksize: {name} chunk 1 (the probe)", results,
                      [spin_task(k, spins) for k in range(probe)])
            tasks = count_within(budget / (3 * (trials + 1)), took / probe, probe, most)
            chosen = "T fits the budget"
        python_chunk = pool_default_chunk(tasks, w)
        expected = [spin_task(k, spins) for k in range(tasks)]
        seq = timed(lambda: [spin_task(k, spins) for k in range(tasks)], 3,
                    lambda r: check("sequential", r, expected))
        task_us = min(seq) / tasks
        ideal = min(w, os.cpu_count() or 1) / task_us * 1e3
        print(f"\nchunksize: {tasks} tiny tasks ({spins} spin{'s' * (spins != 1)}, "
              f"{task_us:.2f} us each in-process) through Pool({w}).map and "
              f"ProcessPoolExecutor({w}).map,\n  chunk size 1 .. T ({trials} trials after a "
              f"warm-up; {chosen})")
        table = Table("chunk")
        table.heading()
        chunks = chunk_sizes(tasks, python_chunk)
        for name, run in maps.items():
            for i, chunk in enumerate(chunks):
                progress(args, f"chunksize: {name} chunk {chunk} ({i + 1} of {len(chunks)})")
                what = f"chunksize: {name} chunk {chunk}"
                samples = timed(lambda: run(tasks, chunk), trials,
                                lambda r: check(what, r, expected))
                table.add(name, chunk, "ktasks/s", [tasks / us * 1e3 for us in samples],
                          "Pool.map's default" if chunk == python_chunk else "")
    write(args, "chunksize", table,
          [f"tasks={tasks} python_default_chunk={python_chunk} task_us={task_us:.4g} "
           f"ideal_ktasks_per_s={ideal:.6g} workers={w} spins={spins} method={args.method}"])
    for name in maps:
        first = table.medians[name, 1]
        best_chunk = max(chunks, key=lambda c: table.medians[name, c])
        best = table.medians[name, best_chunk]
        print(f"  -> {name}: chunk 1 {1e3 / first:.1f} us per task; best chunk {best_chunk}: "
              f"{1e3 / best:.2f} us, {best / first:.1f}x the throughput; default chunk "
              f"{python_chunk} reaches {100 * table.medians[name, python_chunk] / best:.0f}% "
              f"of the best")
    print(f"     ideal (min(workers, CPUs) at in-process speed) {ideal:.0f} ktasks/s; "
          f"ProcessPoolExecutor.map's own default chunksize is 1.")


# ---------- experiment 3: overhead ----------

def executor_start_stop(ctx, n):
    """(start, stop) in us: create + one no-op per worker, then shutdown."""
    t0 = time.perf_counter_ns()
    ex = cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    try:
        if list(ex.map(noop, range(n))) != list(range(n)):
            raise VerificationFailed(f"ProcessPoolExecutor({n}): the no-op tasks came back wrong")
        t1 = time.perf_counter_ns()
    finally:
        ex.shutdown()
    return (t1 - t0) / 1e3, (time.perf_counter_ns() - t1) / 1e3


def pool_start_stop(ctx, n):
    t0 = time.perf_counter_ns()
    pool = ctx.Pool(n)
    try:
        if pool.map(noop, range(n), chunksize=1) != list(range(n)):
            raise VerificationFailed(f"Pool({n}): the no-op tasks came back wrong")
        t1 = time.perf_counter_ns()
        pool.close()
        pool.join()
    finally:
        pool.terminate()
    return (t1 - t0) / 1e3, (time.perf_counter_ns() - t1) / 1e3


def fit(xs, ys):
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    per = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - per * mx, per


def run_overhead(args, ctx):
    trials = args.trials or {"quick": 3, "default": 10, "full": 30}[args.mode]
    tasks = OVERHEAD_TASKS[MODES.index(args.mode)]
    spins = args.spins(30000)
    fn = functools.partial(task, spins, args.corrupt)
    expected = [spin_task(k, spins) for k in range(tasks)]
    print(f"\noverhead: ProcessPoolExecutor(1) (create + map + shutdown) vs a plain loop, {tasks} "
          f"tasks ({spins} spins), {trials} trials;\n  then start and stop of "
          f"ProcessPoolExecutor(N) and Pool(N), {trials} trials each")
    seq = timed(lambda: [spin_task(k, spins) for k in range(tasks)], trials,
                lambda r: check("sequential", r, expected))

    def pool1():
        with cf.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
            return list(ex.map(fn, range(tasks)))

    one = timed(pool1, trials, lambda r: check("ProcessPoolExecutor(1)", r, expected))
    table = Table("workers")
    table.heading()
    table.add("sequential", 1, "us/task", [s / tasks for s in seq])
    table.add("ProcessPoolExecutor-1", 1, "us/task", [s / tasks for s in one])
    fits = {}
    for kind, start_stop in (("ProcessPoolExecutor", executor_start_stop),
                             ("Pool", pool_start_stop)):
        medians = []
        for n in SIZES:
            start_stop(ctx, n)                                  # the warm-up
            pairs = [start_stop(ctx, n) for _ in range(trials)]
            table.add(f"{kind}-start", n, "us", [a for a, _ in pairs])
            table.add(f"{kind}-stop", n, "us", [b for _, b in pairs])
            table.add(f"{kind}-start+stop", n, "us", [a + b for a, b in pairs])
            medians.append(table.medians[f"{kind}-start+stop", n])
        fits[kind] = fit(SIZES, medians)
    framework = statistics.median(one) - statistics.median(seq)
    (ef, ep), (pf, pp) = fits["ProcessPoolExecutor"], fits["Pool"]
    write(args, "overhead", table,
          [f"executor_fit_fixed_us={ef:.6g} executor_fit_per_worker_us={ep:.6g} "
           f"pool_fit_fixed_us={pf:.6g} pool_fit_per_worker_us={pp:.6g} tasks={tasks} "
           f"framework_us={framework:.6g} spins={spins} method={args.method}"])
    print()
    for kind, (fixed, per) in fits.items():
        print(f"fit kind={kind} fixed_us={fixed:.0f} per_worker_us={per:.0f}")
    print(f"pool1 kind=ProcessPoolExecutor tasks={tasks} "
          f"sequential_us_per_task={statistics.median(seq) / tasks:.1f} "
          f"pool1_us_per_task={statistics.median(one) / tasks:.1f} framework_us={framework:.0f}")


# ---------- options and main ----------

EXPERIMENTS = {"per-task-vs-pool": run_per_task_vs_pool, "chunksize": run_chunksize,
               "overhead": run_overhead}


def largest_tasks(args):
    """The largest T among the experiments that run, at the mode's counts (chunksize: --tasks)."""
    m = MODES.index(args.mode)
    most = {"per-task-vs-pool": LOADS[0][2][m], "chunksize": args.tasks or CHUNKSIZE_MOST[m],
            "overhead": OVERHEAD_TASKS[m]}
    return max(t for name, t in most.items() if args.only in (None, name))


def in_range(ap, name, value, low, high):
    if value is not None and not low <= value <= high:
        ap.error(f"{name}: {value} is out of range (accepted: {low} to {high})")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mode_options(ap)
    ap.add_argument("--only", choices=list(EXPERIMENTS), help="run one experiment")
    ap.add_argument("--tasks", type=int, default=None,
                    help="tiny tasks in the chunksize sweep (1 to 1000000; default: what fits "
                         "the budget, at most 2000 quick, 20000 default, 100000 full)")
    ap.add_argument("--chunk", type=int, default=1,
                    help="chunksize of the per-task-vs-pool Pool.map (1 to 1000000; default 1)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="pool size (1 to 256; default: online CPUs)")
    add_trials_option(ap)
    ap.add_argument("--method", default="fork", choices=mp.get_all_start_methods(),
                    help="start method (default fork)")
    ap.add_argument("--c-spins", action="store_true",
                    help="C's spins per task (300x the default work; see the header)")
    ap.add_argument("--corrupt-task", type=int, default=None, metavar="K",
                    help="test switch: the process given task K returns a wrong value for it")
    ap.add_argument("--out", default="results", help="where the TSV files go")
    args = ap.parse_args()
    args.trials = trials_or_default(ap, args.trials, None)
    in_range(ap, "--tasks", args.tasks, 1, 1000000)
    in_range(ap, "--chunk", args.chunk, 1, 1000000)
    in_range(ap, "--workers", args.workers, 1, 256)
    in_range(ap, "--corrupt-task", args.corrupt_task, 0, largest_tasks(args) - 1)
    args.fixed_sizes = args.corrupt_task is not None
    args.corrupt = -1 if args.corrupt_task is None else args.corrupt_task
    args.spins = (lambda c: c) if args.c_spins else (lambda c: c // C_SPINS_PER_PY_SPIN)
    args.spins_text = lambda: ",".join(str(args.spins(c)) for _, c, _ in LOADS)
    return args


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    ctx = mp.get_context(args.method)
    print(f"{PROGRAM}: Python {platform.python_version()}, start method {args.method}, "
          f"{os.cpu_count()} CPUs, {args.workers} workers, mode={args.mode}, load average "
          f"{os.getloadavg()[0]:.2f}")
    if args.fixed_sizes:
        print("a test switch is on: sizes are the mode's full counts, not from the budget")
    with verified_or_exit(PROGRAM):
        for name, run in EXPERIMENTS.items():
            if args.only in (None, name):
                run(args, ctx)
    print("\nverification: every map equals a sequential map of the same tasks "
          "(spin_task, ch02-pool's function)")
    print(f"TSV files: {args.out}/ch02-python-*.tsv")


if __name__ == "__main__":
    main()
