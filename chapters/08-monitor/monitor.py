#!/usr/bin/env python3
"""monitor.py - chapter 8's Python twin: the tutorial's psutil monitor, measured and corrected.

The tutorial watches a pool with psutil every 100 ms and prints peaks. This program measures
what that costs and what it misses, the way ch08-monitor does in C:
  first-call  psutil's Process.cpu_percent() answers 0.0 on its first call (it has nothing to
              subtract from) however busy the process is; the fix is one priming call per
              process, or CPU-time deltas you take yourself
  overhead    CPU per sample of N sleeping children, reading what ch08-monitor reads (CPU %,
              RSS, context switches, CPU, state): plain psutil calls, then inside
              Process.oneshot() (one read of each /proc file per process per sample); and a
              sampling loop at 10 ms, as a % of one CPU
  accuracy    how many of N short-lived children (2 ms of CPU each, started one after another)
              a psutil sampler sees at 10 ms and at 100 ms (the tutorial's period)
Writes results/ch08-python-overhead.tsv and ch08-python-accuracy.tsv (the kit's measurement
format), and prints key=value lines for harness/peers.sh:
  per_process_us=... per_process_oneshot_us=... loop_pct_10ms=... seen_pct_100ms=...
Usage: monitor.py [--quick] [--out DIR] [--processes N] [--children N]
Without psutil (Debian: python3-psutil) it says how to install it and exits 0.
Exit 0 ok, 1 verification failed, 2 usage error.
"""
import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, stats_row,  # noqa: E402
                 verified_or_exit, write_tsv)

try:
    import psutil
except ImportError:
    print("monitor.py: psutil is not installed (sudo apt-get install python3-psutil); skipped")
    sys.exit(0)


def spin_cpu(seconds):
    """Burn `seconds` of this process's CPU time."""
    until = time.process_time() + seconds
    x = 1
    while time.process_time() < until:
        for _ in range(1000):
            x = (x * 6364136223846793005 + 1) & 0xFFFFFFFFFFFFFFFF
    return x


def sleep_forever():
    while True:
        time.sleep(3600)


def spawn_short_children(count, pipe_w):
    """Start `count` children one after another, each 2 ms of CPU; send how many exited 0."""
    ok = 0
    for k in range(count):
        pid = os.fork()
        if pid == 0:
            spin_cpu(0.002)
            os._exit(k & 0x7F)
        _, status = os.waitpid(pid, 0)
        ok += os.WIFEXITED(status) and os.WEXITSTATUS(status) == (k & 0x7F)
    os.write(pipe_w, ok.to_bytes(4, "little"))


# ---------- what the tutorial gets wrong, and the fix ----------

def first_call():
    worker = mp.Process(target=spin_cpu, args=(0.6,))
    worker.start()
    time.sleep(0.1)
    p = psutil.Process(worker.pid)
    first = p.cpu_percent()          # no previous reading: always 0.0
    time.sleep(0.2)
    second = p.cpu_percent()         # CPU time gained over the 0.2 s since the first call
    worker.join()
    print(f"first-call: cpu_percent() of a spinning worker: first call {first:.1f}%, "
          f"0.2 s later {second:.1f}%")
    if first != 0.0:
        print("  (this psutil answers the first call differently from the 0.0 documented)")
    return first, second


# ---------- what sampling costs ----------

def sample_plain(parent):
    rows = []
    for c in parent.children(recursive=True):
        try:
            rows.append((c.pid, c.cpu_percent(), c.memory_info().rss, c.num_ctx_switches(),
                         c.cpu_num(), c.status()))
        except psutil.NoSuchProcess:
            pass
    return rows


def sample_oneshot(parent):
    rows = []
    for c in parent.children(recursive=True):
        try:
            with c.oneshot():        # each /proc file read once for all the calls below
                rows.append((c.pid, c.cpu_percent(), c.memory_info().rss,
                             c.num_ctx_switches(), c.cpu_num(), c.status()))
        except psutil.NoSuchProcess:
            pass
    return rows


def cpu_per_sample_us(sample, parent, samples, expected):
    start = time.thread_time()
    for _ in range(samples):
        if len(sample(parent)) != expected:
            raise VerificationFailed(f"a sample did not find {expected} children")
    return (time.thread_time() - start) / samples * 1e6


def find_children_us(parent, samples):
    """Only the discovery: Process.children() reads the stat file of every process on the
    machine to find whose parent is whose."""
    start = time.thread_time()
    for _ in range(samples):
        parent.children(recursive=True)
    return (time.thread_time() - start) / samples * 1e6


def loop_percent(parent, period, length):
    """The tutorial's loop (sample, sleep), at `period`, for `length` s: its CPU as a % of one
    CPU, and the period it really kept (ms), which is longer when a sample outlasts the period."""
    start_cpu, start = time.thread_time(), time.monotonic()
    next_tick, samples = start, 0
    while time.monotonic() - start < length:
        sample_plain(parent)
        samples += 1
        next_tick = max(next_tick + period, time.monotonic())
        time.sleep(max(0.0, next_tick - time.monotonic()))
    elapsed = time.monotonic() - start
    return 100 * (time.thread_time() - start_cpu) / elapsed, 1000 * elapsed / samples


def overhead(processes, trials, samples, loop_length):
    sleepers = [mp.Process(target=sleep_forever, daemon=True) for _ in range(processes)]
    for s in sleepers:
        s.start()
    parent = psutil.Process()
    try:
        plain, oneshot, discovery, loop = [], [], [], []
        cpu_per_sample_us(sample_plain, parent, 3, processes)      # warm-up
        for _ in range(trials):
            plain.append(cpu_per_sample_us(sample_plain, parent, samples, processes))
            oneshot.append(cpu_per_sample_us(sample_oneshot, parent, samples, processes))
            discovery.append(find_children_us(parent, samples))
        machine = sum(1 for d in os.listdir("/proc") if d.isdigit())   # what children() reads
        for _ in range(max(2, trials // 2)):
            loop.append(loop_percent(parent, 0.010, loop_length))
    finally:
        for s in sleepers:
            s.kill()
            s.join()
    return plain, oneshot, discovery, loop, machine


# ---------- what sampling misses ----------

def seen_children(period, count):
    """A psutil sampler at `period` while a spawner starts `count` short children: % seen."""
    r, w = os.pipe()
    spawner = mp.Process(target=spawn_short_children, args=(count, w))
    spawner.start()
    os.close(w)
    me, seen = psutil.Process(spawner.pid), set()
    next_tick = time.monotonic()
    while spawner.is_alive():
        try:
            seen.update(c.pid for c in me.children())
        except psutil.NoSuchProcess:
            break
        next_tick += period
        time.sleep(max(0.0, next_tick - time.monotonic()))
    spawner.join()
    ran = int.from_bytes(os.read(r, 4), "little")
    os.close(r)
    if spawner.exitcode != 0 or ran != count:
        raise VerificationFailed(f"{count} children started, {ran} ran")
    return 100 * len(seen) / count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI size")
    ap.add_argument("--out", default="results", help="where the TSV files go")
    ap.add_argument("--processes", type=int, default=8, help="sleeping children watched (1..256)")
    ap.add_argument("--children", type=int, default=0, help="short-lived children (1..10000)")
    args = ap.parse_args()
    if not 1 <= args.processes <= 256:
        ap.error("--processes: accepted 1 to 256")
    children = args.children or (10 if args.quick else 100)
    if not 1 <= children <= 10000:
        ap.error("--children: accepted 1 to 10000")
    os.makedirs(args.out, exist_ok=True)
    mp.set_start_method("fork")
    mode = "quick" if args.quick else "default"
    trials, samples = (2, 5) if args.quick else (7, 30)

    first_call()
    plain, oneshot, discovery, loop, machine = overhead(args.processes, trials, samples,
                                                        0.1 if args.quick else 1.0)
    n = args.processes
    write_tsv(args.out, "08", "monitor.py", "overhead", mode, MEASUREMENT_COLUMNS, [
        stats_row("psutil-per-sample", n, "us", plain),
        stats_row("psutil-per-process", n, "us", [v / n for v in plain]),
        stats_row("psutil-oneshot-per-process", n, "us", [v / n for v in oneshot]),
        stats_row("psutil-children-call", n, "us", discovery),
        stats_row("psutil-loop", 10, "% of a CPU", [pct for pct, _ in loop]),
        stats_row("psutil-loop-period", 10, "ms", [ms for _, ms in loop])],
              ["x=processes_or_period_ms"])
    seen = {ms: [seen_children(ms / 1000, children) for _ in range(1 if args.quick else 3)]
            for ms in (10, 100)}
    write_tsv(args.out, "08", "monitor.py", "accuracy", mode, MEASUREMENT_COLUMNS,
              [stats_row("psutil-short-seen", ms, "% of children", v) for ms, v in seen.items()],
              ["x=period_ms"])
    loop_pct = statistics.median(pct for pct, _ in loop)
    sample, finding = statistics.median(plain), statistics.median(discovery)
    print(f"overhead: psutil reads {n} sleeping children in "
          f"{sample / n:.1f} us of CPU per process per sample "
          f"({statistics.median(oneshot) / n:.1f} us inside oneshot()); "
          + (f"of a sample's {sample:.0f} us, finding the children takes {finding:.0f} us "
             f"(it reads all {machine} processes of the machine)" if finding < sample else
             f"finding the children (it reads all {machine} processes of the machine), timed on "
             f"its own, took {finding:.0f} us, as much as a whole sample ({sample:.0f} us): "
             "reading them is within the noise here")
          + "; asked to sample every 10 ms, "
          f"it costs {loop_pct:.1f}% of one CPU and keeps a period of "
          f"{statistics.median(ms for _, ms in loop):.1f} ms")
    print(f"accuracy: of {children} children of 2 ms each, a 100 ms sampler saw "
          f"{statistics.median(seen[100]):.0f}%, "
          f"a 10 ms sampler {statistics.median(seen[10]):.0f}%")
    print(f"per_process_us={statistics.median(plain) / n:.2f} "
          f"per_process_oneshot_us={statistics.median(oneshot) / n:.2f} "
          f"loop_pct_10ms={loop_pct:.3f} "
          f"seen_pct_100ms={statistics.median(seen[100]):.1f}")


if __name__ == "__main__":
    with verified_or_exit("monitor.py"):
        main()
