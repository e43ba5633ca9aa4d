#!/usr/bin/env python3
"""rect.py - chapter 6's first-column method in plain Python, for the rate comparison.

The same algorithm as ch06-rectangles --split first-column, written the way an optimized
Python program would be (standard library only, no multiprocessing): the filtered derangement
table for row 2 (step 1), bitmask DFS cell by cell for the middle rows (step 2), sorted first
columns as tasks times (r-1)! (step 3), and the last row counted by a DP over symbol sets (step 4).

Usage: rect.py R N [--tasks K]
  R N         count normalized R x N Latin rectangles by sign (2 <= R <= N <= 9)
  --tasks K   run only the first K of the C(N-1, R-1) tasks (enough to measure a rate)
Prints positive/negative (scaled to the whole job when --tasks is given: every sorted first
column gives the same count, which is checked), CPU seconds, and
  rate_per_cpu_s=<rectangles per CPU-second, after the symmetry factor>
Verification: every task must give the same count; the scaled totals must match the known
values below where there is one. Exit 0 ok, 1 verification failed, 2 usage error.
"""
import argparse
import math
import os
import sys
import time
from itertools import combinations

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "common"))
from kit import VerificationFailed, verified_or_exit  # noqa: E402  (after the path is set)

# Positive and negative normalized rectangles: the published small sizes, and values on which
# ch06-rectangles (both splits) and this program agree.
KNOWN = {
    (2, 4): (3, 6), (3, 4): (12, 12), (4, 4): (24, 0),
    (3, 5): (312, 240), (4, 5): (384, 960), (5, 5): (384, 960),
    (2, 6): (130, 135), (3, 6): (10480, 10800), (4, 6): (203040, 190080),
    (5, 6): (576000, 552960), (6, 6): (426240, 702720),
    (4, 7): (77529600, 77656320), (5, 7): (2029086720, 2028257280),
}


class Search:
    def __init__(self, r, n):
        self.r, self.n, self.full = r, n, (1 << n) - 1
        self.parity = [bin(m).count("1") & 1 for m in range(1 << n)]
        self.above = [self.full & ~((2 << s) - 1) for s in range(n)]
        # for every set of symbols: its (bit, symbols above it) pairs, so loops never search bits
        self.bits = [[(1 << s, self.above[s]) for s in range(n) if m >> s & 1]
                     for m in range(1 << n)]

    def derangements_starting_with(self, first):
        """Step 1: the rows of bucket `first` as (symbols, odd)."""
        n, full, parity, above, out = self.n, self.full, self.parity, self.above, []

        def grow(col, used, odd, row):
            if col == n:
                out.append((tuple(row), odd))
                return
            for bit, higher in self.bits[full & ~used & ~(1 << col)]:
                row.append(bit.bit_length() - 1)
                grow(col + 1, used | bit, odd ^ parity[used & higher], row)
                row.pop()

        grow(1, 1 << first, 0, [first])
        return out

    def last_row(self, first, col_used):
        """Step 4: (ways, signed ways) to finish with a row starting with `first`."""
        parity, bits, full = self.parity, self.bits, self.full
        layer = {1 << first: (1, 1)}
        for col in range(1, self.n):
            allowed = bits[full & ~col_used[col]]
            grown = {}
            get = grown.get
            for used, (ways, signed) in layer.items():
                for bit, higher in allowed:
                    if used & bit:
                        continue
                    key = used | bit
                    s = -signed if parity[used & higher] else signed
                    old = get(key)
                    grown[key] = (ways, s) if old is None else (old[0] + ways, old[1] + s)
            if not grown:
                return 0, 0
            layer = grown
        return next(iter(layer.values()))

    def count_task(self, first_column, bucket):
        """Steps 2 and 4 for one sorted first column; (total, signed) before the (r-1)! weight."""
        n, r, full, parity, bits = self.n, self.r, self.full, self.parity, self.bits
        col_used = [1 << j for j in range(n)]
        result = [0, 0]

        def from_row(row, odd):
            if row == r - 1:
                ways, signed = self.last_row(first_column[row], col_used)
                result[0] += ways
                result[1] += -signed if odd else signed
            else:
                cell(row, 1, 1 << first_column[row], odd)

        def cell(row, col, row_used, odd):            # step 2: one cell at a time
            if col == n:
                from_row(row + 1, odd)
                return
            for bit, higher in bits[full & ~(col_used[col] | row_used)]:
                col_used[col] |= bit
                cell(row, col + 1, row_used | bit, odd ^ parity[row_used & higher])
                col_used[col] &= ~bit

        if r == 2:
            from_row(1, 0)
            return tuple(result)
        for symbols, odd in bucket:
            for j in range(1, n):
                col_used[j] = 1 << j | 1 << symbols[j]
            from_row(2, odd)
        return tuple(result)


def main():
    parser = argparse.ArgumentParser(
        description="Signed Latin rectangles, first-column method, plain Python.")
    parser.add_argument("r", type=int)
    parser.add_argument("n", type=int)
    parser.add_argument("--tasks", type=int, default=0, help="run only the first K tasks")
    args = parser.parse_args()
    r, n = args.r, args.n
    if not 2 <= n <= 9 or not 2 <= r <= n:
        parser.error(f"R and N: ({r},{n}) is out of range (accepted: 2 <= R <= N <= 9)")
    columns = [(0,) + c for c in combinations(range(1, n), r - 1)]   # step 3: sorted first columns
    if not 0 <= args.tasks <= len(columns):
        parser.error(f"--tasks: {args.tasks} is out of range "
                     f"(accepted: 0 to {len(columns)}, 0 = all)")
    run = columns[:args.tasks] if args.tasks else columns

    search = Search(r, n)
    start = time.process_time()
    buckets, counts = {}, []
    for col in run:
        if r > 2 and col[1] not in buckets:
            buckets[col[1]] = search.derangements_starting_with(col[1])
        counts.append(search.count_task(col, buckets.get(col[1])))
    cpu = time.process_time() - start

    if any(c != counts[0] for c in counts):
        raise VerificationFailed(f"tasks gave different counts: {sorted(set(counts))}")
    weight = math.factorial(r - 1)
    total, signed = counts[0]
    positive = (total + signed) // 2 * weight * len(columns)
    negative = (total - signed) // 2 * weight * len(columns)
    counted = total * weight * len(run)
    print(f"({r},{n}) first-column method in Python: {len(run)} of {len(columns)} tasks, "
          f"{counted:,} rectangles after the {weight} symmetry factor")
    print(f"  positive {positive:,}\n  negative {negative:,}"
          + ("" if len(run) == len(columns) else "   (one task's count x the number of tasks)"))
    print(f"  CPU {cpu:.3f} s")
    print(f"rate_per_cpu_s={counted / cpu:.6g}")
    if (r, n) in KNOWN:
        if KNOWN[(r, n)] != (positive, negative):
            raise VerificationFailed(f"({r},{n}) positive {positive} negative {negative}, "
                                     f"expected {KNOWN[(r, n)]}")
        print("verification: every task the same count; "
              "positive and negative match the known values")
    else:
        print("verification: every task the same count (no known value for this size)")


if __name__ == "__main__":
    with verified_or_exit("rect.py"):
        main()
