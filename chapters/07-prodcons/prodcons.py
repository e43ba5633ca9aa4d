#!/usr/bin/env python3
"""prodcons.py - chapter 7's Python twin: the tutorial's bounded producer-consumer, measured.

The tutorial's pattern: mp.Queue(maxsize=100), one producer, one consumer, 10,000 items, a None
sentinel. This program runs it, and the same with the other stdlib queues, on the same 64-byte
items the C program moves, timed the same way (first producer start to last consumer end), and
checks every item (count, sum of sequence numbers and of payload checks, per-producer order).

Usage: python3 chapters/07-prodcons/prodcons.py [--quick] [--items N] [--trials N] [--out DIR]
                                               [--only throughput|capacity|mpmc]
  throughput  items/s, 1 producer + 1 consumer: Queue(100) (the tutorial's), Queue(1024),
              JoinableQueue(1024) (task_done per item), Pipe (one connection, no maxsize: the
              OS pipe's buffer bounds it), SimpleQueue (no maxsize)
  capacity    Queue(maxsize) from 1 to 64K items (--quick: 1, 64, 1024)
  mpmc        Queue(1024) and SimpleQueue with P = C = 1, 2, 4 producers and consumers
Writes results/ch07-python-<experiment>.tsv in the kit's measurement format (x = capacity, or
producers for mpmc; 0 = no maxsize; unit Mitems/s). Exit: 0 ok, 1 verification failed, 2 usage.
Stdlib only; the fork start method (Linux).
"""
import argparse
import multiprocessing as mp
import os
import platform
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_trials_option,  # noqa: E402
                 stats_row, trials_or_default, verified_or_exit, write_tsv)

MASK = (1 << 64) - 1
ITEM = struct.Struct("<QQQ40s")          # producer, seq, check, payload: 64 bytes


def item_check(producer, seq):
    return ((producer << 40 ^ seq) * 0x9E3779B97F4A7C15) & MASK


def make_item(producer, seq):
    check = item_check(producer, seq)
    return ITEM.pack(producer, seq, check, check.to_bytes(8, "little") * 5)


# ---------- the processes: the tutorial's producer and consumer, with a check ----------

def producer(q, p, n, barrier, times):
    barrier.wait()
    times[p] = time.monotonic_ns()
    put = q.send if hasattr(q, "send") else q.put
    for seq in range(n):
        put(make_item(p, seq))
    put(None)                            # the tutorial's sentinel: one per producer


def consumer(q, c, producers, barrier, times, results, joinable):
    barrier.wait()
    get = q.recv if hasattr(q, "recv") else q.get
    count = [0] * producers
    seqs = [0] * producers
    checks = [0] * producers
    last = [-1] * producers
    bad = out_of_order = 0
    while True:
        data = get()
        if data is None:
            if joinable:
                q.task_done()
            break
        p, seq, check, payload = ITEM.unpack(data)
        intact = payload == check.to_bytes(8, "little") * 5
        if p >= producers or check != item_check(p, seq) or not intact:
            bad += 1
        else:
            out_of_order += seq <= last[p]
            last[p] = seq
            count[p] += 1
            seqs[p] += seq
            checks[p] += check
        if joinable:
            q.task_done()
    times[c] = time.monotonic_ns()
    results.put((c, count, seqs, checks, bad, out_of_order))


def shares(items, producers):
    return [items // producers + (p < items % producers) for p in range(producers)]


def verify(label, items, producers, consumers, results):
    got = [results.get() for _ in range(consumers)]
    for p, n in enumerate(shares(items, producers)):
        count = sum(r[1][p] for r in got)
        seqs = sum(r[2][p] for r in got)
        checks = sum(r[3][p] for r in got)
        want = sum(item_check(p, s) for s in range(n))
        if count != n or seqs != n * (n - 1) // 2 or checks != want:
            raise VerificationFailed(f"{label}: producer {p}: {count} of its {n} items "
                                     "delivered (or not each once)")
    for r in got:
        if r[4] or r[5]:
            raise VerificationFailed(f"{label}: consumer {r[0]}: {r[4]} corrupted, {r[5]} out "
                                     "of order")


def one_trial(kind, capacity, producers, items):
    """Million items/s from the first producer's start to the last consumer's end."""
    ctx = mp.get_context("fork")
    consumers = producers
    joinable = kind == "JoinableQueue"
    if kind == "Pipe":
        reader, writer = ctx.Pipe(duplex=False)
        ends = (writer, reader)
    elif kind == "SimpleQueue":
        q = ctx.SimpleQueue()
        ends = (q, q)
    else:
        q = (ctx.JoinableQueue if joinable else ctx.Queue)(maxsize=capacity)
        ends = (q, q)
    barrier = ctx.Barrier(producers + consumers)
    starts = ctx.Array("q", producers, lock=False)
    ends_ns = ctx.Array("q", consumers, lock=False)
    results = ctx.Queue()
    procs = [ctx.Process(target=producer, args=(ends[0], p, n, barrier, starts))
             for p, n in enumerate(shares(items, producers))]
    procs += [ctx.Process(target=consumer,
                          args=(ends[1], c, producers, barrier, ends_ns, results, joinable))
              for c in range(consumers)]
    for proc in procs:
        proc.start()
    verify(f"{kind}({capacity}) P={producers}", items, producers, consumers, results)
    for proc in procs:
        proc.join()
        if proc.exitcode != 0:
            sys.exit(f"prodcons.py: {proc.name} exited with {proc.exitcode}")
    return items / ((max(ends_ns) - min(starts)) / 1e9) / 1e6


def measure(kind, capacity, producers, items, trials):
    one_trial(kind, capacity, producers, items)            # warm-up
    return [one_trial(kind, capacity, producers, items) for _ in range(trials)]


def run(points, x_name, experiment, args, mode):
    rows = []
    print(f"\n{experiment}: million 64-byte items/s, {args.items} items a trial, "
          f"{args.trials} trials after a warm-up")
    print(f"  {'variant':<16} {x_name:>10} {'median':>9} {'min':>9} {'max':>9}")
    for kind, capacity, producers, x in points:
        samples = measure(kind, capacity, producers, args.items, args.trials)
        rows.append(stats_row(kind, x, "Mitems/s", samples))
        print(f"  {kind:<16} {x:>10} {statistics.median(samples):9.4f} {min(samples):9.4f} "
              f"{max(samples):9.4f}", flush=True)
    write_tsv(args.out, "07", "prodcons.py", experiment, mode, MEASUREMENT_COLUMNS, rows,
              [f"x={x_name}"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="CI size")
    ap.add_argument("--items", type=int, default=10000, help="items a trial (100..10000000)")
    add_trials_option(ap, help="trials per point (1..1000)")
    ap.add_argument("--out", default="results", help="where the TSV files go")
    ap.add_argument("--only", choices=["throughput", "capacity", "mpmc"])
    args = ap.parse_args()
    if not 100 <= args.items <= 10_000_000:
        ap.error(f"--items: {args.items} is out of range (accepted: 100 to 10000000)")
    args.trials = trials_or_default(ap, args.trials, 1 if args.quick else 3)
    mode = "quick" if args.quick else "default"
    os.makedirs(args.out, exist_ok=True)
    print(f"prodcons.py: Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          "start method fork")
    with verified_or_exit("prodcons.py"):
        if args.only in (None, "throughput"):
            run([("Queue", 100, 1, 100), ("Queue", 1024, 1, 1024),
                 ("JoinableQueue", 1024, 1, 1024), ("Pipe", 0, 1, 0), ("SimpleQueue", 0, 1, 0)],
                "capacity", "throughput", args, mode)
        if args.only in (None, "capacity"):
            caps = [1, 64, 1024] if args.quick else [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536]
            run([("Queue", c, 1, c) for c in caps], "capacity", "capacity", args, mode)
        if args.only in (None, "mpmc"):
            run([(k, 1024, p, p) for k in ("Queue", "SimpleQueue") for p in (1, 2, 4)],
                "producers", "mpmc", args, mode)
    print("\nverification: every item of every trial delivered exactly once, in order per producer")


if __name__ == "__main__":
    main()
