#!/usr/bin/env python3
"""readers.py - chapter 5's Python twin: read() vs mmap vs numpy.memmap, split across processes.

The C program (ch05-mmap) sums a file of float32 values by read(), by mmap and split across
processes. This program sums the same file (the same values for the same --size and --seed, so
the same exact sum) the way the tutorial does, with NumPy doing the adding:
  read            os.readv into one reused buffer (--bufsize), np.frombuffer(...).sum()
  read-pysum      the same buffers summed by Python's own sum() over a memoryview: no NumPy,
                  every value becomes a Python float (what the interpreter costs per value)
  mmap            mmap.mmap the file, np.frombuffer(map).sum(): no copy, page faults instead
  numpy.memmap    np.memmap(file, float32).sum(): the same mapping, made by NumPy
  pread-N         N processes (multiprocessing, fork), each os.preadv's its page-aligned range
  mmap-N          N processes, each maps the file and sums its range in place
  memmap-N        N processes, each a numpy.memmap of its range
Experiments: methods (the four one-process ways, then pread-N, mmap-N, memmap-N for N = --workers)
and workers (pread-N and mmap-N for N = 1 .. 2 x --workers), the file in the page cache.
A split pass is timed from the first process started to the last one reaped (what a user's
program waits for); MB/s with 1 MB = 10^6 bytes, like the C program.
Verification: every pass's sum equals the exact sum known from writing the file (values k/8:
exact in a double in any order); each worker's partial sum equals its range's, and the ranges
tile the file (no gap, no overlap).
What to look for: mmap against read when NumPy adds (the copy read() makes), read-pysum against
read (the interpreter, not the I/O, sets the pace), and the N-process rows against the CPUs.

Usage: python3 chapters/05-mmap/readers.py [--quick | --full] [--only methods|workers]
                                          [--size SIZE] [--bufsize SIZE] [--workers N]
                                          [--trials N] [--seed S] [--out DIR]
Writes results/ch05-python-{methods,workers}.tsv in the kit's measurement format (x = processes,
MB/s). The data file is made in a fresh directory $TMPDIR/ch05-readers.py-PID-XXXXXX whose names
are removed as soon as the file is open. Exit: 0 ok (also when NumPy is missing: skipped, with
the command that installs it), 1 verification failed, 2 usage error. Linux; fork start method.
"""
import argparse
import mmap
import multiprocessing as mp
import os
import platform
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_mode_options,  # noqa: E402
                 add_trials_option, run_checked, stats_row, trials_or_default, write_tsv)

CTX = mp.get_context("fork")
PAGE = mmap.PAGESIZE
GOLDEN = 0x9E3779B97F4A7C15
np = None                                   # NumPy, imported in main() (or the run is skipped)


# ---------- the data file: the C program's values, page sums kept for the checks ----------

def mix64(x):
    """splitmix64's mixer on a uint64 array (common/bench.h's mix64; numpy wraps mod 2^64)."""
    x = x + np.uint64(GOLDEN)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def write_data_file(fd, size, seed):
    """Value i is k/8 with k = (mix64(seed + i x golden) >> 56) - 128, as ch05-mmap writes it.
    Returns the exact sum, in eighths, of the values before each page boundary."""
    values = size // 4
    per_page = PAGE // 4
    page_eighths = np.zeros((values + per_page - 1) // per_page, dtype=np.int64)
    chunk = 1 << 20                                         # values; a whole number of pages
    for first in range(0, values, chunk):
        i = np.arange(first, min(first + chunk, values), dtype=np.uint64)
        k = (mix64(np.uint64(seed) + i * np.uint64(GOLDEN)) >> np.uint64(56)).astype(np.int64) - 128
        block = memoryview((k.astype(np.float32) / np.float32(8)).tobytes())
        while block:
            block = block[os.write(fd, block):]
        starts = np.arange(0, len(k), per_page)
        page = first // per_page
        page_eighths[page: page + len(starts)] = np.add.reduceat(k, starts)
    return np.concatenate(([0], np.cumsum(page_eighths)))


class DataFile:
    def __init__(self, size, seed):
        self.size = size
        self.dir = tempfile.mkdtemp(prefix=f"ch05-readers.py-{os.getpid()}-")
        self.path = os.path.join(self.dir, "data.f32")
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        os.unlink(self.path)                # nameless from here on: nothing left if we are killed
        os.rmdir(self.dir)
        self.eighths_before = write_data_file(self.fd, size, seed)
        self.pages = len(self.eighths_before) - 1
        self.expected = float(self.eighths_before[-1]) / 8

    def range_sum(self, begin, end):
        """The exact sum of bytes [begin, end): both on page boundaries or end at the file's."""
        return float(self.eighths_before[-(-end // PAGE)] - self.eighths_before[begin // PAGE]) / 8

    def split(self, w, n):                  # C's split_range: whole pages, the last one short
        begin = self.pages * w // n * PAGE
        end = min(self.pages * (w + 1) // n * PAGE, self.size)
        return min(begin, end), end


# ---------- the methods: sum the float32 values in bytes [begin, end) of the file ----------

def sum_by_read(data, begin, end, bufsize, numpy_sum=True):
    buf = bytearray(bufsize)
    view = memoryview(buf)
    total, done = 0.0, 0
    os.lseek(data.fd, begin, os.SEEK_SET)
    while done < end - begin:
        want = min(bufsize, end - begin - done)
        got = os.readv(data.fd, [view[:want]])
        if got == 0:
            break                           # the file ended early: the byte count shows it
        if numpy_sum:
            total += float(np.frombuffer(buf, np.float32, got // 4).sum(dtype=np.float64))
        else:
            total += sum(view[:got].cast("f"))
        done += got
    return total, done


def sum_by_pread(data, begin, end, bufsize):
    buf = bytearray(bufsize)
    view = memoryview(buf)
    total, done = 0.0, 0
    while done < end - begin:
        got = os.preadv(data.fd, [view[:min(bufsize, end - begin - done)]], begin + done)
        if got == 0:
            break
        total += float(np.frombuffer(buf, np.float32, got // 4).sum(dtype=np.float64))
        done += got
    return total, done


def sum_by_mmap(data, begin, end, bufsize):
    with mmap.mmap(data.fd, end - begin, prot=mmap.PROT_READ, offset=begin) as m:
        values = np.frombuffer(m, np.float32)
        total = float(values.sum(dtype=np.float64))
        del values                          # the map cannot close while an array points into it
    return total, end - begin


def sum_by_memmap(data, begin, end, bufsize):
    with os.fdopen(os.dup(data.fd), "rb") as f:
        values = np.memmap(f, np.float32, mode="r", offset=begin, shape=((end - begin) // 4,))
        total = float(values.sum(dtype=np.float64))
        del values
    return total, end - begin


METHODS = {
    "read": sum_by_read,
    "read-pysum": lambda data, b, e, bufsize: sum_by_read(data, b, e, bufsize, numpy_sum=False),
    "mmap": sum_by_mmap,
    "numpy.memmap": sum_by_memmap,
    "pread": sum_by_pread,
    "memmap": sum_by_memmap,
}


# ---------- N processes, each its own range; the parent checks what they report ----------

def worker(method, data, w, n, bufsize, conn):
    begin, end = data.split(w, n)
    total, done = METHODS[method](data, begin, end, bufsize) if end > begin else (0.0, 0)
    conn.send((w, begin, done, total))


def run_split(method, data, n, bufsize):
    variant = f"{method}-{n}"
    here, there = CTX.Pipe(duplex=False)
    procs = [CTX.Process(target=worker, args=(method, data, w, n, bufsize, there))
             for w in range(n)]
    for p in procs:
        p.start()
    there.close()                           # only the workers hold the write end now
    reports = []
    try:
        while len(reports) < n:
            reports.append(here.recv())     # EOF (every worker gone) before n reports: raises
    except EOFError:
        pass
    for w, p in enumerate(procs):
        p.join()
        if p.exitcode != 0:
            raise VerificationFailed(f"{variant}: worker {w} (pid {p.pid}) ended with "
                                     f"{p.exitcode} (negative: killed by that signal)")
    if len(reports) != n:
        raise VerificationFailed(f"{variant}: {n - len(reports)} of {n} workers sent no result")
    reports.sort()
    position = 0
    for w, begin, done, total in reports:
        if begin != position:
            raise VerificationFailed(f"{variant}: worker {w} starts at byte {begin}, the one "
                                     f"before it ended at {position} (a gap or an overlap)")
        if total != data.range_sum(begin, begin + done):
            raise VerificationFailed(f"{variant}: worker {w} summed {total:.3f} over bytes "
                                     f"{begin}..{begin + done}, expected "
                                     f"{data.range_sum(begin, begin + done):.3f}")
        position = begin + done
    return sum(r[3] for r in reports), position


def one_pass(method, procs, data, bufsize):
    """MB/s of one pass over the whole file, its sum checked."""
    start = time.perf_counter_ns()
    if procs:
        total, done = run_split(method, data, procs, bufsize)
    else:
        total, done = METHODS[method](data, 0, data.size, bufsize)
    seconds = (time.perf_counter_ns() - start) / 1e9
    name = f"{method}-{procs}" if procs else method
    if done != data.size:
        raise VerificationFailed(f"{name}: summed {done} bytes of {data.size}")
    if total != data.expected:
        raise VerificationFailed(f"{name}: sum {total:.3f}, expected {data.expected:.3f}")
    return data.size / 1e6 / seconds


def measure(method, procs, data, args):
    one_pass(method, procs, data, args.bufsize)                 # the warm-up (and page cache)
    return [one_pass(method, procs, data, args.bufsize) for _ in range(args.trials)]


# ---------- the experiments ----------

def table(args, experiment, points, heading):
    print(f"\n{heading}")
    print(f"  {'variant':<16} {'procs':>5} {'median':>10} {'min':>10} {'max':>10}  unit")
    rows, found = [], {}
    for variant, method, procs in points:
        samples = measure(method, procs, args.data, args)
        rows.append(stats_row(variant, max(procs, 1), "MB/s", samples))
        found[variant, max(procs, 1)] = statistics.median(samples)
        print(f"  {variant:<16} {max(procs, 1):5d} {statistics.median(samples):10.1f} "
              f"{min(samples):10.1f} {max(samples):10.1f}  MB/s", flush=True)
    write_tsv(args.out, "05", "readers.py", experiment, args.mode, MEASUREMENT_COLUMNS, rows,
              ["x=procs", f"size={args.size} bufsize={args.bufsize} seed={args.seed} "
               f"exact_sum={args.data.expected:.3f} numpy={np.__version__}"])
    return found


def run_methods(args):
    n = args.workers
    points = [(m, m, 0) for m in ("read", "read-pysum", "mmap", "numpy.memmap")]
    points += [(f"{m}-{n}", m, n) for m in ("pread", "mmap", "memmap")]
    f = table(args, "methods", points,
              f"methods: one pass over {args.size / 1e6:.1f} MB, the file in the page cache "
              f"({args.trials} trials after a warm-up; {args.bufsize}-byte read buffer; N = {n})")
    read = f["read", 1]
    print(f"  -> one process: mmap at {f['mmap', 1] / read:.2f}x read's speed, numpy.memmap at "
          f"{f['numpy.memmap', 1] / read:.2f}x; summed by Python's sum() instead of NumPy: "
          f"{read / f['read-pysum', 1]:.0f}x slower;\n     {n} processes: pread-{n} at "
          f"{f[f'pread-{n}', n] / read:.2f}x, mmap-{n} at {f[f'mmap-{n}', n] / read:.2f}x one "
          f"process's read ({os.cpu_count()} CPUs; process start and join included).")


def run_workers(args):
    points = [(f"{m}-N", m, n) for n in range(1, 2 * args.workers + 1) for m in ("mmap", "pread")]
    f = table(args, "workers", points,
              f"workers: the file ({args.size / 1e6:.1f} MB, cached) split across N = 1.."
              f"{2 * args.workers} processes ({args.trials} trials)")
    for m in ("mmap-N", "pread-N"):
        best = max((v for v in f if v[0] == m), key=lambda v: f[v])
        print(f"  -> best {m} {f[best]:.0f} MB/s with N={best[1]} ({f[best] / f[m, 1]:.2f}x N=1)")


EXPERIMENTS = (("methods", run_methods), ("workers", run_workers))


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper()
    try:
        return int(t[:-1]) * units[t[-1]] if t[-1:] in units else int(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size (e.g. 128K, 40000000)")


def main():
    global np
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mode_options(ap)
    ap.add_argument("--only", choices=[name for name, _ in EXPERIMENTS])
    ap.add_argument("--size", type=parse_size, default=None,
                    help="data file bytes, a multiple of 4 (4K to 4G, at most half the available "
                         "memory; default 4000000 quick, 40000000 default, 400000000 full)")
    ap.add_argument("--bufsize", type=parse_size, default=128 << 10,
                    help="read()/pread() buffer (4K to 64M, a multiple of 4; default 128K)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="N of pread-N, mmap-N, memmap-N; workers runs 1..2N (1 to 32)")
    add_trials_option(ap)
    ap.add_argument("--seed", type=int, default=1, help="the values' seed (0 to 2^64-1)")
    ap.add_argument("--out", default="results", help="where the TSV files go")
    args = ap.parse_args()
    if args.size is None:
        args.size = {"quick": 4_000_000, "default": 40_000_000, "full": 400_000_000}[args.mode]
    available = os.sysconf("SC_AVPHYS_PAGES") * PAGE
    if not (4096 <= args.size <= min(4 << 30, available // 2) and args.size % 4 == 0):
        ap.error(f"--size: {args.size} is out of range (accepted: 4K to "
                 f"{min(4 << 30, available // 2)}, a multiple of 4)")
    if not (4096 <= args.bufsize <= 64 << 20 and args.bufsize % 4 == 0):
        ap.error(f"--bufsize: {args.bufsize} is out of range (accepted: 4K to 64M, "
                 "a multiple of 4)")
    if not 1 <= args.workers <= 32:
        ap.error(f"--workers: {args.workers} is out of range (accepted: 1 to 32)")
    args.trials = trials_or_default(ap, args.trials,
                                    {"quick": 3, "default": 5, "full": 15}[args.mode])
    if not 0 <= args.seed < 1 << 64:
        ap.error(f"--seed: {args.seed} is out of range (accepted: 0 to 2^64-1)")
    try:
        import numpy
    except ImportError:
        print("readers.py: skipped: NumPy is not installed (sudo apt-get install python3-numpy)")
        return
    np = numpy
    os.makedirs(args.out, exist_ok=True)
    print(f"readers.py: Python {platform.python_version()}, NumPy {np.__version__}, "
          f"{os.cpu_count()} CPUs, start method fork, mode={args.mode}, load average "
          f"{os.getloadavg()[0]:.2f}")
    args.data = DataFile(args.size, args.seed)
    print(f"data file: {args.size / 1e6:.1f} MB = {args.size // 4} float32 values k/8 "
          f"(seed {args.seed}), exact sum {args.data.expected:.3f} (its name removed once open)")
    run_checked("readers.py", EXPERIMENTS, args)
    print("\nverification: every sum exact, every worker's range checked (no gap, no overlap), "
          "data file removed")
    print(f"TSV files: {args.out}/ch05-python-*.tsv")


if __name__ == "__main__":
    main()
