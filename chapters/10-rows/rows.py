#!/usr/bin/env python3
"""rows.py - chapter 10's Python twin: the document's three recipes for processing many rows,
run on the chapter's CSV, beside a sequential loop and the byte-range method. Stdlib only.

Usage: python3 chapters/10-rows/rows.py FILE [--workers N] [--trials N] [--per-row-rows N]
                                              [--chunk K] [--out DIR]
  FILE is a CSV in the chapter's format (build/ch10-rows --generate FILE --rows N).
  Every variant computes the same per-key count, sum, min and max as the C program
  (value = amount * (id % 7 + 1) + len(text)) and must equal the sequential loop's totals;
  the digest line is the C program's ("totals digest"), so the two can be compared.
  Writes DIR/ch10-python-methods.tsv (the kit's measurement columns, x = processes,
  unit Mrows/s). Exit status: 0 ok, 1 verification failure, 2 usage error.

The variants:
  sequential          one process, a for loop over the file's lines
  pool.map            recipe 1 as written: Pool.map(process_row, rows), default chunksize
  pool.map-chunk1     recipe 1 with chunksize=1: one row per message (first --per-row-rows rows)
  queue-chunks        recipe 2: csv.reader in the parent, K rows per Queue message; each worker
                      returns one table at the end (as written, the parent collects only one
                      result per process, whatever the number of chunks)
  shm-as-written      recipe 3 as written: every worker calls SharedMemory(create=True) on the
                      name the parent already created; measured: every worker fails
  shm-lock-held       recipe 3 with create=False, the lock held for the whole loop (as written)
  shm-no-lock         recipe 3 done right: attach, write one's own slice, no lock
  byte-ranges         each worker opens the file, takes a byte range, parses its own lines
"""
import argparse
import csv
import errno
import multiprocessing
import os
import platform
import statistics
import struct
import sys
import time
from multiprocessing import shared_memory

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, metadata, stats_row,  # noqa: E402
                 verified_or_exit)

# ---------- the row task ----------


def row_value(fields):
    """value = amount * (id % 7 + 1) + len(text), as in methods.c."""
    return int(fields[2]) * (int(fields[0]) % 7 + 1) + len(fields[3])


def process_row(line):
    """One line (bytes) -> (key, value); None for an empty line."""
    line = line.rstrip(b"\n")
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line:
        return None
    fields = line.split(b",")
    if len(fields) != 4:
        raise ValueError("not 4 fields: %r" % line[:80])
    return fields[1].decode(), row_value(fields)


def add(totals, key, value):
    t = totals.get(key)
    if t is None:
        totals[key] = [1, value, value, value]
    else:
        t[0] += 1
        t[1] += value
        if value < t[2]:
            t[2] = value
        if value > t[3]:
            t[3] = value


def merge(into, part):
    for key, (n, s, lo, hi) in part.items():
        t = into.get(key)
        if t is None:
            into[key] = [n, s, lo, hi]
        else:
            t[0] += n
            t[1] += s
            t[2] = min(t[2], lo)
            t[3] = max(t[3], hi)
    return into


def totals_text(totals):
    return "".join("%s %d %d %d %d\n" % (k, *totals[k]) for k in sorted(totals))


def digest(text):
    """FNV-1a 64 of the totals text: the C program's 'totals digest'."""
    h = 1469598103934665603
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def rows_of(totals):
    return sum(t[0] for t in totals.values())


# ---------- sequential ----------


def sequential(path, workers, args):
    totals = {}
    with open(path, "rb") as f:
        next(f)                                 # the header
        for line in f:
            r = process_row(line)
            if r:
                add(totals, *r)
    return totals


# ---------- recipe 1: Pool.map over rows ----------


def read_lines(path, limit=None):
    with open(path, "rb") as f:
        next(f)
        lines = f.readlines() if limit is None else [l for _, l in zip(range(limit), f)]
    return lines


def pool_map(path, workers, args, chunksize=None, limit=None):
    lines = read_lines(path, limit)
    with multiprocessing.Pool(processes=workers) as pool:
        results = pool.map(process_row, lines, chunksize)
    totals = {}
    for r in results:
        if r:
            add(totals, *r)
    return totals


def pool_map_chunk1(path, workers, args):
    return pool_map(path, workers, args, chunksize=1, limit=args.per_row_rows)


# ---------- recipe 2: chunks of rows through queues ----------


def queue_worker(input_queue, output_queue):
    totals = {}
    while True:
        chunk = input_queue.get()
        if chunk is None:
            break
        for fields in chunk:
            if fields:
                add(totals, fields[1], row_value(fields))
    output_queue.put(totals)                    # one table, not one result per chunk


def queue_chunks(path, workers, args):
    input_queue, output_queue = multiprocessing.Queue(), multiprocessing.Queue()
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        chunk = []
        for row in reader:
            chunk.append(row)
            if len(chunk) == args.chunk:
                input_queue.put(chunk)
                chunk = []
        if chunk:
            input_queue.put(chunk)
    procs = [multiprocessing.Process(target=queue_worker, args=(input_queue, output_queue))
             for _ in range(workers)]
    for p in procs:
        p.start()
    for _ in procs:
        input_queue.put(None)
    totals = {}
    for _ in procs:
        merge(totals, output_queue.get())
    for p in procs:
        p.join()
    return totals


# ---------- recipe 3: shared memory ----------

RECORD = struct.Struct("32sqqqq")               # key, count, sum, min, max: 64 bytes
SLICE = 8 + 512 * RECORD.size                   # a count, then at most 512 keys


def line_range(buf, size, begin, end):
    """The lines that start in [begin, end): a line starts at 0 or right after a newline."""
    if begin > 0 and buf[begin - 1] != 0x0A:
        i = begin
        while i < size and buf[i] != 0x0A:
            i += 1
        begin = i + 1
    stop = end
    while 0 < stop < size and buf[stop - 1] != 0x0A:
        stop += 1
    return begin, max(begin, stop)


def parse_bytes(data, skip_header):
    totals = {}
    lines = data.split(b"\n")
    for line in lines[1:] if skip_header else lines:
        r = process_row(line)
        if r:
            add(totals, *r)
    return totals


def write_slice(out, w, totals):
    base = w * SLICE
    struct.pack_into("q", out, base, len(totals))
    for i, (k, (n, s, lo, hi)) in enumerate(totals.items()):
        RECORD.pack_into(out, base + 8 + i * RECORD.size, k.encode(), n, s, lo, hi)


def read_slice(out, w):
    base = w * SLICE
    (count,) = struct.unpack_from("q", out, base)
    totals = {}
    for i in range(count):
        k, n, s, lo, hi = RECORD.unpack_from(out, base + 8 + i * RECORD.size)
        totals[k.rstrip(b"\0").decode()] = [n, s, lo, hi]
    return totals


def shm_worker(*job):
    """One line on stderr instead of a traceback when the recipe fails; exit status EEXIST (17)
    for a FileExistsError, so the parent can say which error it was, else 1."""
    try:
        shm_work(*job)
    except Exception as e:
        print("  worker %d: %s: %s" % (job[2], type(e).__name__, e), file=sys.stderr)
        sys.exit(errno.EEXIST if isinstance(e, FileExistsError) else 1)


def shm_work(shm_name, size, w, workers, output_shm_name, lock, how):
    existing = shared_memory.SharedMemory(name=shm_name)
    begin, end = line_range(existing.buf, size, size * w // workers, size * (w + 1) // workers)
    if how == "as-written":
        # the document's line: the parent created this name already, so this raises
        # FileExistsError in every worker
        output = shared_memory.SharedMemory(name=output_shm_name, create=True, size=SLICE * workers)
    else:
        output = shared_memory.SharedMemory(name=output_shm_name)
    if how == "lock-held":
        with lock:                              # the whole loop under one lock: one at a time
            write_slice(output.buf, w, parse_bytes(bytes(existing.buf[begin:end]), begin == 0))
    else:
        write_slice(output.buf, w, parse_bytes(bytes(existing.buf[begin:end]), begin == 0))
    existing.close()
    output.close()


def shared_memory_recipe(path, workers, args, how="no-lock"):
    size = os.path.getsize(path)
    shm = shared_memory.SharedMemory(create=True, size=size)
    out = shared_memory.SharedMemory(create=True, size=SLICE * workers)
    try:
        with open(path, "rb") as f:
            f.readinto(shm.buf)
        lock = multiprocessing.Lock()
        procs = [multiprocessing.Process(target=shm_worker,
                                         args=(shm.name, size, w, workers, out.name, lock, how))
                 for w in range(workers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            raise RecipeFailed("%d of %d workers failed (exit codes %s)"
                               % (len(failed), workers, failed),
                               len(failed) == workers and set(failed) == {errno.EEXIST})
        totals = {}
        for w in range(workers):
            merge(totals, read_slice(out.buf, w))
        return totals
    finally:
        shm.close()
        shm.unlink()
        out.close()
        out.unlink()


class RecipeFailed(Exception):
    def __init__(self, text, all_exist=False):
        super().__init__(text)
        self.all_exist = all_exist      # every worker failed with FileExistsError


def shm_as_written(path, workers, args):
    return shared_memory_recipe(path, workers, args, "as-written")


def shm_lock_held(path, workers, args):
    return shared_memory_recipe(path, workers, args, "lock-held")


def shm_no_lock(path, workers, args):
    return shared_memory_recipe(path, workers, args, "no-lock")


# ---------- byte ranges: every worker reads its own part of the file ----------


def byte_range_worker(path, begin, end):
    totals = {}
    with open(path, "rb") as f:
        if begin > 0:
            f.seek(begin - 1)
            if f.read(1) != b"\n":
                f.readline()                    # the previous range's last line
        else:
            f.readline()                        # the header
        pos = f.tell()
        while pos < end:
            line = f.readline()
            if not line:
                break
            pos += len(line)
            r = process_row(line)
            if r:
                add(totals, *r)
    return totals


def byte_ranges(path, workers, args):
    size = os.path.getsize(path)
    ranges = [(path, size * w // workers, size * (w + 1) // workers) for w in range(workers)]
    with multiprocessing.Pool(processes=workers) as pool:
        parts = pool.starmap(byte_range_worker, ranges)
    totals = {}
    for part in parts:
        merge(totals, part)
    return totals


# ---------- the driver ----------

VARIANTS = [
    ("sequential", sequential, False),
    ("pool.map", pool_map, True),
    ("pool.map-chunk1", pool_map_chunk1, True),
    ("queue-chunks", queue_chunks, True),
    ("shm-as-written", shm_as_written, True),
    ("shm-lock-held", shm_lock_held, True),
    ("shm-no-lock", shm_no_lock, True),
    ("byte-ranges", byte_ranges, True),
]


def measure(fn, path, workers, args, expected):
    """One warm-up, then --trials runs; each result checked. Mrows/s per run."""
    samples = []
    for t in range(args.trials + 1):
        start = time.perf_counter()
        totals = fn(path, workers, args)
        seconds = time.perf_counter() - start
        want = expected(totals)
        if totals_text(totals) != totals_text(want):
            raise VerificationFailed("%s: per-key totals differ from the sequential loop's"
                                     % fn.__name__)
        if t > 0:
            samples.append(rows_of(totals) / seconds / 1e6)
    return samples


def write_tsv(out_dir, rows):
    """The kit's metadata and measurement rows; this table's experiment is named
    python-methods, so kit.write_tsv (which names the file after the experiment) does not fit."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "ch10-python-methods.tsv")
    with open(path + ".tmp", "w") as f:
        f.write(metadata("10", "rows.py", "python-methods", "default"))
        f.write("# x=processes\n" + MEASUREMENT_COLUMNS + "\n")
        f.writelines(stats_row(name, x, "Mrows/s", samples) + "\n" for name, x, samples in rows)
    os.replace(path + ".tmp", path)
    return path


def parse_args(argv):
    p = argparse.ArgumentParser(prog="rows.py", description=__doc__.split("\n")[0])
    p.add_argument("file")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--trials", type=int, default=3)
    p.add_argument("--per-row-rows", type=int, default=20000)
    p.add_argument("--chunk", type=int, default=1000)
    p.add_argument("--out", default="results")
    args = p.parse_args(argv)
    for name in ("workers", "trials", "per_row_rows", "chunk"):
        if getattr(args, name) < 1:
            p.error("--%s: must be at least 1" % name.replace("_", "-"))
    if not os.path.isfile(args.file):
        p.error("%s: not a readable file" % args.file)
    return args


def run_variant(name, fn, parallel, args, reference, prefix_reference):
    w = args.workers if parallel else 1
    expected = prefix_reference if name == "pool.map-chunk1" else (lambda t: reference)
    if name == "shm-as-written":
        start = time.perf_counter()
        try:
            fn(args.file, w, args)
            print("  %-18s ran (expected every worker to fail)" % name)
        except RecipeFailed as e:
            why = ("FileExistsError in each: the parent already created the name" if e.all_exist
                   else "each worker's error is on stderr")
            print("  %-18s FAILS as written: %s after %.3f s (%s)"
                  % (name, e, time.perf_counter() - start, why))
        return None
    samples = measure(fn, args.file, w, args, expected)
    print("  %-18s %3d %10.4g %10.4g %10.4g  Mrows/s"
          % (name, w, statistics.median(samples), min(samples), max(samples)))
    return name, w, samples


def main(argv):
    args = parse_args(argv)
    multiprocessing.set_start_method("fork")
    reference = sequential(args.file, 1, args)
    prefix = {}

    def prefix_reference(totals):
        n = rows_of(totals)
        if n not in prefix:
            prefix[n] = pool_map(args.file, 1, args, chunksize=10 ** 6, limit=n)
        return prefix[n]

    text = totals_text(reference)
    print("rows.py: Python %s, %d rows, %d keys, totals digest %s, workers %d, trials %d"
          % (platform.python_version(), rows_of(reference), len(reference), digest(text),
             args.workers, args.trials))
    print("  %-18s %3s %10s %10s %10s" % ("variant", "W", "median", "min", "max"))
    rows = []
    for name, fn, parallel in VARIANTS:
        r = run_variant(name, fn, parallel, args, reference, prefix_reference)
        if r:
            rows.append(r)
    rate = {name: statistics.median(samples) for name, _, samples in rows}
    best = max((name for name in rate if name != "sequential"), key=rate.get)
    print("best=%s rate=%.6g sequential=%.6g" % (best, rate[best], rate["sequential"]))
    print("tsv: %s" % write_tsv(args.out, rows))
    print("verification: every variant's per-key totals equal the sequential loop's")


if __name__ == "__main__":
    with verified_or_exit(None):
        main(sys.argv[1:])
