#!/usr/bin/env python3
"""ipc.py - chapter 3's Python twin: Pipe, Queue, SimpleQueue and shared_memory, measured.

The same three experiments as the C program (ch03-ipc), in the multiprocessing a Python user
writes, on the same sizes, each message checked on arrival:
  latency        round trip of a 64-byte message, parent -> child -> parent, both processes
                 on one CPU (x=1) and on two (x=2), microseconds
  bandwidth      one-way throughput by message size (64 B, 256 B, ... up to --max-size), GB/s
                 (10^9 bytes/s); variant memcpy is one CPU copying a buffer (bytearray slice
                 assignment, a memcpy underneath): the ceiling
  serialization  N integers from the child to the parent: encode, transfer, decode, total (ms),
                 wire (bytes), share (encode+decode in % of total), and pickle/per-object (ns
                 per integer to pickle and unpickle)
The channels:
  Pipe           conn.send(obj) / conn.recv(): pickled, then written to a socketpair
  Pipe-bytes     conn.send_bytes / conn.recv_bytes: the same socketpair, no pickle
  Queue          mp.Queue: pickled, handed to a feeder thread, written to a pipe
  SimpleQueue    mp.SimpleQueue: pickled and written to a pipe by the caller, under a lock
  shared_memory  the message written into a SharedMemory block and read there in place; a pair
                 of semaphores says whose turn it is (bandwidth: a ring of 4 slots)
What to look for: every channel's 64-byte round trip against C's (the pickle and the Python
calls around it), the bandwidth a pickled channel reaches against the memcpy line, and how much
of a list's trip through a pipe is pickle.

Usage: python3 chapters/03-ipc/ipc.py [--quick | --full] [--only latency|bandwidth|serialization]
                                      [--max-size SIZE] [--ints N] [--trials N] [--seed S]
                                      [--out DIR]
Writes results/ch03-python-<experiment>.tsv in the kit's measurement format. Exit: 0 ok,
1 verification failed, 2 usage error. Stdlib only; the fork start method (Linux).
"""
import argparse
import array
import multiprocessing as mp
import os
import pickle
import platform
import random
import statistics
import struct
import sys
import time
from multiprocessing import shared_memory

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import (MEASUREMENT_COLUMNS, VerificationFailed, add_mode_options,  # noqa: E402
                 add_trials_option, run_checked, stats_row, times_four, trials_or_default)
from kit import write_tsv as write_tsv_whole  # noqa: E402

CTX = mp.get_context("fork")
PING_BYTES = 64
RING_SLOTS = 4
SEQ = struct.Struct("<Q")
CHANNELS = ["Pipe", "Pipe-bytes", "Queue", "SimpleQueue", "shared_memory"]


# ---------- the payload: a fixed random body, its sequence number at both ends ----------

class Payload:
    """Message `seq` of `size` bytes: seq (8 bytes), the body, seq again. The receiver
    compares the whole message with the one it expects (a memcmp: bytearray == buffer)."""

    def __init__(self, size, seed):
        self.size = size
        self.buf = bytearray(random.Random(seed * 7919 + size).randbytes(size))

    def next(self, seq):
        SEQ.pack_into(self.buf, 0, seq)
        SEQ.pack_into(self.buf, self.size - 8, seq)
        return self.buf

    def check(self, seq, msg, what):
        if self.next(seq) != msg:
            raise VerificationFailed(f"{what}: message {seq} arrived different from what was sent")


# ---------- the channels: one interface, send and receive in each direction ----------

class Channel:
    """kind's two directions: down (parent -> child) and up (child -> parent)."""

    def __init__(self, kind, size, slots):
        self.kind, self.size, self.slots = kind, size, slots
        self.shm = None
        if kind in ("Pipe", "Pipe-bytes"):
            self.ends = CTX.Pipe()              # duplex: one socketpair carries both ways
        elif kind == "Queue":
            self.q = {"down": CTX.Queue(), "up": CTX.Queue()}
        elif kind == "SimpleQueue":
            self.q = {"down": CTX.SimpleQueue(), "up": CTX.SimpleQueue()}
        else:
            self.shm = shared_memory.SharedMemory(create=True, size=2 * slots * size)
            self.free = {d: CTX.Semaphore(slots) for d in ("down", "up")}
            self.full = {d: CTX.Semaphore(0) for d in ("down", "up")}
            self.next_slot = {"down": 0, "up": 0}
        self.in_child = False

    def _conn(self):
        return self.ends[1] if self.in_child else self.ends[0]

    def _slot(self, direction):
        base = (0 if direction == "down" else self.slots) * self.size
        i = self.next_slot[direction]
        self.next_slot[direction] = (i + 1) % self.slots
        return self.shm.buf[base + i * self.size: base + (i + 1) * self.size]

    def send(self, direction, payload, seq):
        msg = payload.next(seq)
        if self.kind == "Pipe":
            self._conn().send(bytes(msg))
        elif self.kind == "Pipe-bytes":
            self._conn().send_bytes(msg)
        elif self.kind in ("Queue", "SimpleQueue"):
            self.q[direction].put(bytes(msg))   # a copy: Queue pickles it later, in a thread
        else:
            self.free[direction].acquire()
            slot = self._slot(direction)
            slot[:] = msg                       # the producer writes every byte once
            slot.release()
            self.full[direction].release()

    def receive(self, direction, payload, seq, what):
        if self.kind == "Pipe":
            msg = self._conn().recv()
        elif self.kind == "Pipe-bytes":
            msg = self._conn().recv_bytes()
        elif self.kind in ("Queue", "SimpleQueue"):
            msg = self.q[direction].get()
        else:
            self.full[direction].acquire()
            slot = self._slot(direction)
            payload.check(seq, slot, what)      # read in place, never copied
            slot.release()
            self.free[direction].release()
            return
        payload.check(seq, msg, what)

    def close(self):
        if self.shm is not None:
            self.shm.close()
            if not self.in_child:
                self.shm.unlink()


def run_peer(ch, cpu, body, args):
    ch.in_child = True
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        body(ch, *args)
    except VerificationFailed as e:
        print(f"verification failed: {e}", file=sys.stderr)
        os._exit(1)
    ch.close()


def with_peer(ch, cpus, body, args, parent_side):
    """Run body(ch, *args) in a forked child while parent_side() runs here; CPUs: None (the
    scheduler's choice), 1 (both on CPU 0) or 2 (parent on CPU 0, child on CPU 1)."""
    saved = os.sched_getaffinity(0)
    if cpus is not None:
        os.sched_setaffinity(0, {0})
    child = CTX.Process(target=run_peer, args=(ch, None if cpus is None else cpus - 1,
                                               body, args))
    child.start()
    try:
        result = parent_side()
    except BaseException:
        child.kill()                             # it may wait for a message that never comes
        raise
    finally:
        child.join()
        os.sched_setaffinity(0, saved)
        ch.close()
    if child.exitcode != 0:
        raise VerificationFailed(f"{ch.kind}: the peer process exited with {child.exitcode}")
    return result


# ---------- experiment 1: latency ----------

def echo(ch, seed, total):
    down, up = Payload(PING_BYTES, seed), Payload(PING_BYTES, seed + 1)
    for seq in range(total):
        ch.receive("down", down, seq, f"latency {ch.kind} (child)")
        ch.send("up", up, seq)


def latency_point(kind, cpus, rounds, trials, seed):
    ch = Channel(kind, PING_BYTES, 1)
    down, up = Payload(PING_BYTES, seed), Payload(PING_BYTES, seed + 1)
    seq = 0

    def trial():
        nonlocal seq
        start = time.perf_counter_ns()
        for _ in range(rounds):
            ch.send("down", down, seq)
            ch.receive("up", up, seq, f"latency {kind}")
            seq += 1
        return (time.perf_counter_ns() - start) / rounds / 1e3

    def parent_side():
        trial()                                  # warm-up
        return [trial() for _ in range(trials)]

    return with_peer(ch, cpus, echo, (seed, rounds * (trials + 1)), parent_side)


# ---------- experiment 2: bandwidth ----------

def stream(ch, size, seed, total):
    p = Payload(size, seed)
    for seq in range(total):
        ch.send("up", p, seq)


def messages_per_trial(mode, size):
    volume = {"quick": 256 << 10, "default": 2 << 20, "full": 8 << 20}[mode]
    cap = {"quick": 256, "default": 2048, "full": 8192}[mode]
    return max(2, min(cap, volume // size))


def bandwidth_point(kind, size, mode, trials, seed):
    ch = Channel(kind, size, RING_SLOTS)
    p = Payload(size, seed)
    messages = messages_per_trial(mode, size)
    state = {"seq": 0, "boundary": 0}

    def trial():     # from the previous trial's last check to this one's: the steady flow
        for _ in range(messages):
            ch.receive("up", p, state["seq"], f"bandwidth {kind} {size} B")
            state["seq"] += 1
        now = time.perf_counter_ns()
        gb_per_s = size * messages / (now - state["boundary"])
        state["boundary"] = now
        return gb_per_s

    def parent_side():
        state["boundary"] = time.perf_counter_ns()
        trial()
        return [trial() for _ in range(trials)]

    return with_peer(ch, 2, stream, (size, seed, messages * (trials + 1)), parent_side)


def memcpy_point(size, mode, trials):
    src, dst = bytearray(b"\x01") * size, bytearray(b"\x02") * size
    copies = messages_per_trial(mode, size)

    def trial():
        start = time.perf_counter_ns()
        for _ in range(copies):
            dst[:] = src
        return size * copies / (time.perf_counter_ns() - start)

    trial()
    samples = [trial() for _ in range(3 * trials)]
    if dst != src:
        raise VerificationFailed(f"memcpy of {size} bytes: the copy differs from the source")
    return samples


# ---------- experiment 3: serialization ----------

FORMATS = {   # name: (encode, decode), both None for the array kept in shared memory
    "text": (lambda v: ("\n".join(map(str, v)) + "\n").encode(),   # a newline after each
             lambda b: list(map(int, b.split()))),
    "pickle": (lambda v: pickle.dumps(v, pickle.HIGHEST_PROTOCOL), pickle.loads),
    "raw-pipe": (lambda v: array.array("q", v).tobytes(),
                 lambda b: array.array("q", b)),
    "raw-in-place": (None, None),
}


M64 = (1 << 64) - 1


def mix64(x):     # the kit's mixer (common/bench.h), so both programs send the same integers
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def integers(n, seed):
    """-10^9 .. 10^9, the C program's values for the same seed: 1 to 11 characters as text."""
    base = mix64(seed)
    return [mix64((base + i) & M64) % 2000000001 - 1000000000 for i in range(n)]


def ship(conn, shm, fmt, n, seed, total):
    """The child: per trial, wait for the go, encode, send; then say when it started sending."""
    values = integers(n, seed)
    encode = FORMATS[fmt][0]
    if shm is not None:
        shm.buf.cast("q")[:n] = array.array("q", values)    # the array lives there from the start
    for _ in range(total):
        conn.recv_bytes()
        t0 = time.monotonic_ns()
        wire = encode(values) if encode else SEQ.pack(n)
        t1 = time.monotonic_ns()
        conn.send_bytes(wire)
        conn.send_bytes(struct.pack("<QQ", t1 - t0, t1))


def serialization_point(fmt, n, trials, seed):
    here, there = CTX.Pipe()
    shm = shared_memory.SharedMemory(create=True, size=8 * n) if fmt == "raw-in-place" else None
    expected = integers(n, seed)
    decode = FORMATS[fmt][1]
    child = CTX.Process(target=ship, args=(there, shm, fmt, n, seed, trials + 1))
    child.start()
    rows = {k: [] for k in ("encode", "transfer", "decode", "total", "wire")}
    try:
        for t in range(trials + 1):
            here.send_bytes(b"go")
            wire = here.recv_bytes()
            t2 = time.monotonic_ns()
            encode_ns, t1 = struct.unpack("<QQ", here.recv_bytes())
            got = decode(wire) if decode else shm.buf.cast("q")[:SEQ.unpack(wire)[0]]
            t3 = time.monotonic_ns()
            if list(got) != expected:
                raise VerificationFailed(f"serialization {fmt}: the decoded integers differ")
            if t == 0:
                continue                                        # the warm-up
            for k, ns in (("encode", encode_ns), ("transfer", t2 - t1), ("decode", t3 - t2)):
                rows[k].append(ns / 1e6)
            rows["total"].append((encode_ns + t3 - t1) / 1e6)
            rows["wire"].append(len(wire))
            del got
    finally:
        child.join(timeout=5)
        if child.is_alive():
            child.kill()
            child.join()
        if shm is not None:
            shm.close()
            shm.unlink()
    if child.exitcode != 0:
        raise VerificationFailed(f"serialization {fmt}: the child exited with {child.exitcode}")
    rows["share"] = [100 * (e + d) / t for e, d, t in
                     zip(rows["encode"], rows["decode"], rows["total"])]
    return rows


# ---------- output: the kit's TSV format, the table, what it means ----------

def row(variant, x, unit, samples):
    return stats_row(variant, f"{x:g}", unit, samples)


def write_tsv(args, experiment, x_name, rows):
    write_tsv_whole(args.out, "03", "ipc.py", experiment, args.mode, MEASUREMENT_COLUMNS, rows,
                    [f"x={x_name}"])


def med(samples):
    return statistics.median(samples)


def run_latency(args):
    rounds = {"quick": 100, "default": 1000, "full": 10000}[args.mode]
    places = [1, 2] if os.cpu_count() > 1 else [1]
    print(f"\nlatency: round trip of a {PING_BYTES}-byte message, parent -> child -> parent, "
          f"us ({args.trials} trials x {rounds} round trips)")
    print(f"  {'channel':<14} {'one CPU: us (min)':>20} {'two CPUs: us (min)':>20}")
    rows, found = [], {}
    for kind in CHANNELS:
        cells = []
        for cpus in places:
            s = latency_point(kind, cpus, rounds, args.trials, args.seed)
            rows.append(row(kind, cpus, "us", s))
            found[kind, cpus] = med(s)
            cells.append(f"{med(s):.1f} ({min(s):.1f})")
        print("  " + f"{kind:<14}" + "".join(f" {c:>20}" for c in cells), flush=True)
    best = min(CHANNELS, key=lambda k: found[k, 1])
    worst = max(CHANNELS, key=lambda k: found[k, 1])
    print(f"  -> on one CPU: fastest {best} ({found[best, 1]:.1f} us), slowest {worst} "
          f"({found[worst, 1]:.1f} us), {found[worst, 1] / found[best, 1]:.1f}x apart; the "
          f"message is only\n     {PING_BYTES} bytes, so copying it is likely a small part (the "
          "hand-over and the Python calls around it\n     are not timed apart).")
    write_tsv(args, "latency", "cpus", rows)


def run_bandwidth(args):
    sizes = times_four(64, args.max_size)
    print(f"\nbandwidth: one-way throughput, GB/s (10^9 bytes/s), by message size; "
          f"two CPUs; {args.trials} trials")
    print(f"  {'channel':<14}" + "".join(f" {size_name(s):>7}" for s in sizes))
    rows, found = [], {}
    for kind in CHANNELS + ["memcpy"]:
        line = f"  {kind:<14}"
        for size in sizes:
            s = (memcpy_point(size, args.mode, args.trials) if kind == "memcpy"
                 else bandwidth_point(kind, size, args.mode, args.trials, args.seed))
            rows.append(row(kind, size / 1024, "GB/s", s))
            found[kind] = med(s)
            line += f" {med(s):7.3f}"
        print(line + ("   (one CPU copying: the ceiling)" if kind == "memcpy" else ""),
              flush=True)
    top = size_name(sizes[-1])
    print(f"  -> at {top}: the memcpy ceiling is {found['memcpy']:.2f} GB/s; "
          + ", ".join(f"{k} {found[k]:.3f} ({100 * found[k] / found['memcpy']:.1f}%)"
                      for k in CHANNELS) + ".")
    write_tsv(args, "bandwidth", "msg_kib", rows)


def run_serialization(args):
    n = args.ints
    print(f"\nserialization: {n} integers from the child to the parent, ms per phase "
          f"(median of {args.trials} trials); the scheduler places both")
    print(f"  {'format':<14} {'encode':>8} {'transfer':>9} {'decode':>8} {'total':>8} "
          f"{'wire bytes':>11} {'enc+dec':>8}")
    rows, found = [], {}
    for fmt in FORMATS:
        r = serialization_point(fmt, n, args.trials, args.seed)
        for k, unit in (("encode", "ms"), ("transfer", "ms"), ("decode", "ms"),
                        ("total", "ms"), ("share", "%"), ("wire", "bytes")):
            rows.append(row(f"{fmt}/{k}", n, unit, r[k]))
        found[fmt] = {k: med(v) for k, v in r.items()}
        if fmt == "pickle":
            per_object = [1e6 * (e + d) / n for e, d in zip(r["encode"], r["decode"])]
        f = found[fmt]
        print(f"  {fmt:<14} {f['encode']:8.2f} {f['transfer']:9.2f} {f['decode']:8.2f} "
              f"{f['total']:8.2f} {f['wire']:11.0f} {f['share']:7.0f}%", flush=True)
    rows.append(row("pickle/per-object", n, "ns", per_object))
    p = found["pickle"]
    print(f"  -> pickle: {med(per_object):.0f} ns per integer to pickle and unpickle; "
          f"{p['share']:.0f}% of its {p['total']:.1f} ms is pickle, the rest the pipe; "
          f"in place: {found['raw-in-place']['total']:.3f} ms, a notice crossing.")
    write_tsv(args, "serialization", "ints", rows)


EXPERIMENTS = (("latency", run_latency), ("bandwidth", run_bandwidth),
               ("serialization", run_serialization))


def size_name(b):
    for unit, shift in (("M", 20), ("K", 10)):
        if b >= 1 << shift and b % (1 << shift) == 0:
            return f"{b >> shift}{unit}"
    return str(b)


def parse_size(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper()
    mult = units.get(t[-1:], 1)
    try:
        return int(t[:-1] if t[-1:] in units else t) * mult
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a size (e.g. 64K, 4M)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mode_options(ap)
    ap.add_argument("--only", choices=[name for name, _ in EXPERIMENTS])
    ap.add_argument("--max-size", type=parse_size, default=None,
                    help="largest bandwidth message, a multiple of 8 (64 to 64M; default 256K "
                         "quick, 4M default, 16M full)")
    ap.add_argument("--ints", type=int, default=None,
                    help="integers to serialize (1 to 10000000; default 100000 quick, 1000000)")
    add_trials_option(ap)
    ap.add_argument("--seed", type=int, default=1, help="payload seed")
    ap.add_argument("--out", default="results", help="where the TSV files go")
    args = ap.parse_args()
    if args.max_size is None:
        args.max_size = {"quick": 256 << 10, "default": 4 << 20, "full": 16 << 20}[args.mode]
    if not (64 <= args.max_size <= 64 << 20 and args.max_size % 8 == 0):
        ap.error(f"--max-size: {args.max_size} is out of range (accepted: 64 to 64M, "
                 "a multiple of 8)")
    if args.ints is None:
        args.ints = 100000 if args.mode == "quick" else 1000000
    if not 1 <= args.ints <= 10_000_000:
        ap.error(f"--ints: {args.ints} is out of range (accepted: 1 to 10000000)")
    args.trials = trials_or_default(ap, args.trials,
                                    {"quick": 3, "default": 9, "full": 30}[args.mode])
    os.makedirs(args.out, exist_ok=True)
    print(f"ipc.py: Python {platform.python_version()}, {os.cpu_count()} CPUs, start method "
          f"fork, mode={args.mode}, load average {os.getloadavg()[0]:.2f}")
    run_checked(None, EXPERIMENTS, args)
    print("\nverification: every message compared byte for byte with what was sent, decoded "
          "integers\nequal to the originals, every child exited 0")
    print(f"TSV files: {args.out}/ch03-python-*.tsv")


if __name__ == "__main__":
    main()
