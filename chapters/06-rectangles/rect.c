/* ch06-rectangles - a real search on a process pool: signed Latin rectangles.
 *
 * An r x n Latin rectangle has r rows, each a permutation of 0..n-1, and no symbol
 * twice in a column. Normalized: the first row is 0 1 .. n-1. Its sign is the product
 * of its rows' signs (inversion parities). The program counts the normalized r x n
 * rectangles of sign +1 (positive) and -1 (negative); for r = n the difference is the
 * Alon-Tarsi question. The algorithm, step by step (each step is a section below):
 *   1. rows 2.. are derangements of row 1: a table of them with their signs, per first symbol
 *   2. bitmask DFS row by row, cell by cell; the row's sign updated as each symbol is placed
 *   3. symmetry: the first column sorted, times (r-1)!; each sorted first column is a task,
 *      and all C(n-1, r-1) of them give the same count (checked)
 *   4. the last row counted, not enumerated: a DP over the set of symbols used so far
 *   5. the cycle-type split: row 2 fixed to one derangement per cycle type, times the
 *      class size and (r-2)!; about 100x less work, tasks of very unequal size; when they
 *      are few, cycle-type-fine splits each again by row 3's second symbol
 * Tasks run on a pre-forked pool with dynamic scheduling. By default every task number waits
 * in one pipe that all workers read (each 4-byte read takes one task) and results go straight
 * into shared memory: the parent is not in the loop. --dispatch parent is the classic design for
 * comparison (chapter 2, ProcessPoolExecutor): the parent sends each worker its next task when
 * it reports the last one done, a round trip per task. --analyze measures the pool the way a
 * ProcessPoolExecutor user asks about it.
 *
 * Usage: ch06-rectangles R N [--split cycle-type|cycle-type-fine|first-column] [--workers W]
 *                           [--dispatch shared|parent] [--setup task|worker] [--yes]
 *        ch06-rectangles R N --task K/T [--split S]      one TSV row per task of job K of T
 *        ch06-rectangles R N --merge FILE [--split S]    add up --task rows, each task exactly once
 *        ch06-rectangles [R N] --analyze [--quick | --full] [--workers W] [--trials N] [--out DIR]
 *        (no R N: --analyze at the mode's size: (4,6) quick, (4,7) default, (5,7) full)
 * Linux only (prctl PR_SET_PDEATHSIG, wait4).
 * Exit: 0 ok, 1 runtime or verification failure (a killed worker included), 2 usage error.
 *
 * Sample output line:
 *   positive        576,000
 * What to look for: the cycle-type split does ~100x less work than the first-column split;
 * a pool of 1 or 2 costs under a millisecond on a quiet machine when workers take their own
 * tasks, while a round trip through the parent costs tens of microseconds per task; each
 * worker adds a fork and a reap; on a shared machine wall-time speedup drops while CPU-time
 * speedup stays near the worker count.
 *
 * Verification: sizes with a known value (the issue's table, the published counts of reduced
 * Latin rectangles for n <= 8, derangement numbers and their signed sum (-1)^(n-1)(n-1) for
 * r = 2) are checked; the first-column split also checks that every task gave the same count;
 * every pool run checks that each task came back exactly once; --analyze checks every run
 * against the sequential one.
 * Counts are exact 128-bit integers; sizes whose count could pass 2^126 are refused.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "cli.h"
#include "bench.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

static const char usage[] =
    "Usage: ch06-rectangles R N [--split cycle-type|cycle-type-fine|first-column] [--workers W]\n"
    "                           [--dispatch shared|parent] [--setup task|worker] [--yes]\n"
    "       ch06-rectangles R N --task K/T [--split S]     job K of T: one TSV row per task (stdout)\n"
    "       ch06-rectangles R N --merge FILE [--split S]   add up --task rows (FILE or - for stdin)\n"
    "       ch06-rectangles [R N] --analyze [--quick | --full] [--workers W] [--trials N] [--out DIR]\n"
    "Counts normalized R x N Latin rectangles (first row 1..N) by sign: positive, negative,\n"
    "total, difference. 2 <= R <= N <= 16. Linux only.\n"
    "  --split S     cycle-type: a task per cycle type of row 2 and sorted first column;\n"
    "                cycle-type-fine: each of those split again by row 3's second symbol (R >= 4);\n"
    "                first-column: a task per sorted first column (--analyze's default).\n"
    "                Default: cycle-type, or cycle-type-fine when cycle-type gives fewer than 64\n"
    "                tasks and R >= 4 (few big tasks leave a worker idle at the end)\n"
    "  --workers W   processes in the pool (default: online CPUs)\n"
    "  --setup task  rebuild the filtered derangement table for every task (the naive pool);\n"
    "  --setup worker  build each table once per worker and keep it (default)\n"
    "  --dispatch D  shared (default): the workers take their tasks from one shared pipe and put\n"
    "                results in shared memory; parent: the parent sends each worker its next task\n"
    "  --yes         run a size whose estimated time is over an hour\n"
    "  --task K/T    run the tasks i with i mod T = K-1 (1 <= K <= T); columns:\n"
    "                task tasks split r n label weight positive negative seconds\n"
    "                (positive/negative before the weight; the weighted sum is the count)\n"
    "  --analyze     the ProcessPool questions, answered by measurement (no R N: (4,6) --quick,\n"
    "                (4,7) default, (5,7) --full). --only timeline|overhead|setup|split.\n"
    "Writes (with --analyze) five special tables:\n"
    "  results/ch06-timeline.tsv  worker task label start_ms end_ms setup_ms cpu_ms rectangles\n"
    "                             (one pool run at --workers W; times from the pool's start)\n"
    "  results/ch06-workers.tsv   worker pid tasks task_list setups setup_ms busy_ms cpu_ms\n"
    "                             rectangles rate_per_s (cpu_ms from wait4)\n"
    "  results/ch06-overhead.tsv  workers dispatch trials wall_ms wall_min_ms wall_max_ms overhead_ms\n"
    "                             overhead_min_ms overhead_max_ms empty_ms empty_min_ms empty_max_ms\n"
    "                             pool_cpu_ms startup_ms shutdown_ms busy_max_ms cpu_max_ms speedup_wall\n"
    "                             speedup_cpu efficiency_wall efficiency_cpu imbalance gap_us\n"
    "                             (workers 0, dispatch -: the plain loop. overhead = wall - the busiest\n"
    "                             worker's busy time; empty = the same pool with tasks that return at once;\n"
    "                             pool_cpu = CPU outside the tasks, parent and workers; startup = until the\n"
    "                             last worker is set up; shutdown = last task's end to all reaped; gap =\n"
    "                             median time between two tasks of a worker)\n"
    "  results/ch06-split.tsv     split tasks work_steps wall_ms cpu_ms largest_task_ms\n"
    "                             mean_task_ms positive negative\n"
    "  results/ch06-setup.tsv     setup setups setup_ms wall_ms\n";

static const char *const experiments[] = {"timeline", "overhead", "setup", "split"};

enum { MAX_N = 16, MAX_CLASSES = 64 };
enum { FEW_TASKS = 64 };   /* the default split goes finer below this many cycle-type tasks */
enum split { SPLIT_CYCLE_TYPE, SPLIT_FIRST_COLUMN, SPLIT_CYCLE_TYPE_FINE };
enum setup { SETUP_PER_WORKER, SETUP_PER_TASK };
static const char *const split_names[] = {"cycle-type", "first-column", "cycle-type-fine"};

/* ---------- exact counts ---------- */

static u128 factorial(int k)
{
    u128 f = 1;
    for (int i = 2; i <= k; i++)
        f *= (u128)i;
    return f;
}

static u128 binomial(int n, int k)
{
    u128 b = 1;
    for (int i = 1; i <= k; i++)
        b = b * (u128)(n - k + i) / (u128)i;
    return b;
}

/* D(n) = (n-1)(D(n-1) + D(n-2)): permutations with no fixed point. */
static u128 derangement_number(int n)
{
    u128 a = 1, b = 0;   /* D(0), D(1) */
    for (int i = 2; i <= n; i++) {
        u128 next = (u128)(i - 1) * (a + b);
        a = b;
        b = next;
    }
    return n == 0 ? 1 : b;
}

/* 1234567 -> "1,234,567" (or without separators for machine-read output). */
static const char *format_u128(u128 v, bool separators, char *buf, size_t len)
{
    char tmp[64];
    int k = 0, digits = 0;
    do {
        if (separators && digits && digits % 3 == 0)
            tmp[k++] = ',';
        tmp[k++] = (char)('0' + (int)(v % 10));
        v /= 10;
        digits++;
    } while (v);
    size_t i = 0;
    for (; k > 0 && i + 1 < len; i++)
        buf[i] = tmp[--k];
    buf[i] = '\0';
    return buf;
}

static const char *format_i128(i128 v, bool separators, char *buf, size_t len)
{
    if (v >= 0)
        return format_u128((u128)v, separators, buf, len);
    buf[0] = '-';
    format_u128((u128)-v, separators, buf + 1, len - 1);
    return buf;
}

static bool parse_u128(const char *text, u128 *out)
{
    u128 v = 0;
    if (!*text)
        return false;
    for (; *text; text++) {
        if (*text < '0' || *text > '9' || v > ((u128)-1) / 10 - 1)
            return false;
        v = v * 10 + (u128)(*text - '0');
    }
    *out = v;
    return true;
}

/* ---------- bit tables ---------- */

static uint8_t parity_of[1 << MAX_N];     /* parity_of[m]: popcount(m) & 1 */
static unsigned above[MAX_N];             /* above[s]: the symbols greater than s */

static void init_bit_tables(int n)
{
    for (unsigned m = 1; m < (1u << MAX_N); m++)
        parity_of[m] = parity_of[m >> 1] ^ (m & 1);
    for (int s = 0; s < n; s++)
        above[s] = ((1u << n) - 1) & ~((2u << s) - 1);
}

/* ---------- step 1: the derangement table ----------
 * Every later row is a derangement of row 1 (no symbol in its own column). A row is packed
 * 4 bits per column (n <= 15 whenever a table is built), its sign in bit 63. The table is
 * kept per first symbol: a task whose row 2 starts with c only reads bucket c, which is
 * 1/(n-1) of all derangements (53 of 265 for n = 6). */

struct derangement_table {
    int n;
    size_t count[MAX_N];
    uint64_t *rows[MAX_N];
};

#define ODD_ROW ((uint64_t)1 << 63)

struct row_generator {
    int n;
    unsigned full;
    uint64_t *out;
    size_t len;
};

/* book:derangements */
static void generate_derangements(struct row_generator *g, int col, unsigned used, unsigned parity,
                                  uint64_t packed)
{
    if (col == g->n) {
        g->out[g->len++] = packed | (parity ? ODD_ROW : 0);
        return;
    }
    unsigned free = g->full & ~used & ~(1u << col);   /* never symbol col in column col */
    while (free) {
        int sym = __builtin_ctz(free);
        free &= free - 1;
        /* the symbols already placed to the left and larger than sym are its inversions */
        generate_derangements(g, col + 1, used | 1u << sym, parity ^ parity_of[used & above[sym]],
                              packed | (uint64_t)sym << (4 * col));
    }
}

/* Bucket `first`: the derangements with row[0] == first, D(n-1) + D(n-2) of them. */
static void build_bucket(struct derangement_table *t, int first)
{
    size_t size = (size_t)(derangement_number(t->n - 1) + derangement_number(t->n - 2));
    struct row_generator g = {t->n, (1u << t->n) - 1, malloc(size * sizeof(uint64_t)), 0};
    if (!g.out)
        die_errno("malloc (derangement table)");
    generate_derangements(&g, 1, 1u << first, 0, (uint64_t)first);
    if (g.len != size)
        verification_failed("derangements of %d starting with %d: %zu, expected %zu", t->n, first + 1,
                            g.len, size);
    t->rows[first] = g.out;
    t->count[first] = g.len;
}
/* end:derangements */

static void free_bucket(struct derangement_table *t, int first)
{
    free(t->rows[first]);
    t->rows[first] = NULL;
    t->count[first] = 0;
}

/* ---------- step 2: the search, cell by cell ----------
 * col_used[j] is the set of symbols already in column j; a row's own used set travels as an
 * argument. Placing symbol s in column j of a row flips the row's parity once for every
 * symbol already placed to its left that is larger than s. */

struct tally {
    u128 total;          /* rectangles found (before any symmetry weight) */
    i128 signed_sum;     /* positive - negative */
    uint64_t nodes;      /* cells placed by the DFS */
    uint64_t dp_steps;   /* transitions of the last-row DP */
};

struct search {
    int r, n;
    unsigned full;
    int first[MAX_N];          /* the first column: the symbol row k starts with */
    unsigned col_used[MAX_N];
    struct tally t;
    struct ways {                    /* step 4's scratch, indexed by a set of symbols: */
        int64_t all, sign;           /* ways to fill the columns so far, and their signed sum */
    } *ways;
    uint16_t *layer[2];
};

static void count_from_row(struct search *s, int row, unsigned parity);

/* book:cell-dfs */
static void place_cells(struct search *s, int row, int col, unsigned row_used, unsigned parity)
{
    if (col == s->n) {
        count_from_row(s, row + 1, parity);
        return;
    }
    unsigned free = s->full & ~(s->col_used[col] | row_used);
    while (free) {
        int sym = __builtin_ctz(free);
        unsigned bit = 1u << sym;
        free &= free - 1;
        s->t.nodes++;
        s->col_used[col] |= bit;
        place_cells(s, row, col + 1, row_used | bit, parity ^ parity_of[row_used & above[sym]]);
        s->col_used[col] &= ~bit;
    }
}
/* end:cell-dfs */

/* ---------- step 4: the last row, counted by a DP ----------
 * The last row is a permutation that avoids every column's used symbols. Filling it left to
 * right, what matters for the rest is only WHICH symbols are used so far (a set), and the
 * parity so far; so ways[set] (and their signed sum) replace enumerating every completion:
 * at most C(n-1, k) sets after k columns instead of one path per completion. */

/* book:last-row-dp */
static void count_last_row(struct search *s, unsigned parity)
{
    struct ways *ways = s->ways;
    uint16_t *sets = s->layer[0], *next = s->layer[1];
    unsigned start = 1u << s->first[s->r - 1];
    int count = 1;
    uint64_t steps = 0;
    sets[0] = (uint16_t)start;
    ways[start] = (struct ways){1, 1};
    for (int col = 1; col < s->n; col++) {
        unsigned allowed = s->full & ~s->col_used[col];
        int next_count = 0;
        for (int i = 0; i < count; i++) {
            unsigned set = sets[i];
            struct ways w = ways[set];
            ways[set] = (struct ways){0, 0};          /* leave the scratch clean */
            for (unsigned free = allowed & ~set; free; free &= free - 1) {
                int sym = __builtin_ctz(free);
                unsigned grown = set | 1u << sym;
                if (ways[grown].all == 0)
                    next[next_count++] = (uint16_t)grown;
                ways[grown].all += w.all;
                ways[grown].sign += parity_of[set & above[sym]] ? -w.sign : w.sign;
                steps++;
            }
        }
        uint16_t *swap = sets;
        sets = next;
        next = swap;
        count = next_count;
        if (count == 0)
            break;                                   /* no way to finish this rectangle */
    }
    s->t.dp_steps += steps;
    if (count == 0)
        return;
    unsigned full = sets[0];                         /* the one set left: every symbol */
    s->t.total += (u128)ways[full].all;
    s->t.signed_sum += parity ? -(i128)ways[full].sign : (i128)ways[full].sign;
    ways[full] = (struct ways){0, 0};
}
/* end:last-row-dp */

/* cycle-type-fine: row 3 starts with its first two symbols fixed (r >= 4, so it is not the last
 * row); the DFS goes on from column 3 as if it had placed `second` itself. */
static void count_from_second_cell(struct search *s, int second, unsigned parity)
{
    unsigned row_used = 1u << s->first[2], bit = 1u << second;
    s->t.nodes++;
    s->col_used[1] |= bit;
    place_cells(s, 2, 2, row_used | bit, parity ^ parity_of[row_used & above[second]]);
    s->col_used[1] &= ~bit;
}

static void count_from_row(struct search *s, int row, unsigned parity)
{
    if (row == s->r) {                       /* only when row 2 was the last row (r = 2) */
        s->t.total += 1;
        s->t.signed_sum += parity ? -1 : 1;
    } else if (row == s->r - 1) {
        count_last_row(s, parity);
    } else {
        place_cells(s, row, 1, 1u << s->first[row], parity);
    }
}

static void search_init(struct search *s, int r, int n)
{
    memset(s, 0, sizeof *s);
    s->r = r;
    s->n = n;
    s->full = (1u << n) - 1;
    size_t sets = (size_t)1 << n;
    s->ways = calloc(sets, sizeof *s->ways);
    s->layer[0] = malloc(sets * sizeof(uint16_t));
    s->layer[1] = malloc(sets * sizeof(uint16_t));
    if (!s->ways || !s->layer[0] || !s->layer[1])
        die_errno("malloc (search scratch)");
}

static void search_free(struct search *s)
{
    free(s->ways);
    free(s->layer[0]);
    free(s->layer[1]);
}

/* Row 1 is the identity: column j holds symbol j. */
static void reset_columns(struct search *s)
{
    for (int j = 0; j < s->n; j++)
        s->col_used[j] = 1u << j;
}

/* ---------- steps 3 and 5: the two ways to split the work into tasks ---------- */

struct cycle_class {
    int parts[MAX_N], part_count;    /* cycle lengths, largest first, each >= 2 */
    int rep[MAX_N];                  /* one derangement of this type: consecutive cycles */
    unsigned odd;                    /* its sign: n - (number of cycles) is odd */
    u128 size;                       /* how many derangements have this type */
    char name[48];                   /* "4+3" */
};

struct task {
    uint8_t first[MAX_N];            /* first column, rows 1..r (row 1: 0) */
    int8_t cls;                      /* cycle class of row 2, -1 for the first-column split */
    int8_t second;                   /* cycle-type-fine: row 3's symbol in column 2; else -1 */
};

struct job {
    int r, n;
    enum split split;
    enum setup setup;
    int task_count;
    struct task *tasks;
    bool no_work;                    /* every task returns at once: the pool's cost alone */
    struct cycle_class classes[MAX_CLASSES];
    int class_count;
};

/* n! / prod(k^m_k * m_k!) permutations have m_k cycles of length k. */
static void add_class(struct job *job, const int *parts, int count)
{
    if (job->class_count == MAX_CLASSES)
        die("more than %d cycle types", MAX_CLASSES);
    struct cycle_class *c = &job->classes[job->class_count++];
    memset(c, 0, sizeof *c);
    c->part_count = count;
    c->size = factorial(job->n);
    int start = 0, same = 0;
    for (int i = 0; i < count; i++) {
        c->parts[i] = parts[i];
        for (int k = 0; k < parts[i]; k++)
            c->rep[start + k] = start + (k + 1) % parts[i];
        start += parts[i];
        same = i > 0 && parts[i] == parts[i - 1] ? same + 1 : 1;
        c->size /= (u128)parts[i] * (u128)same;   /* k per cycle, and m_k! across equal cycles */
        size_t used = strlen(c->name);
        snprintf(c->name + used, sizeof c->name - used, "%s%d", i ? "+" : "", parts[i]);
    }
    c->odd = (unsigned)(job->n - count) & 1;
}

/* Partitions of `left` into parts >= 2, none larger than `max`. */
static void find_classes(struct job *job, int *parts, int count, int left, int max)
{
    if (left == 0) {
        add_class(job, parts, count);
        return;
    }
    for (int p = left < max ? left : max; p >= 2; p--) {
        parts[count] = p;
        find_classes(job, parts, count + 1, left - p, p);
    }
}

/* Every sorted choice of `k` symbols from `pool` (in order), appended as tasks from row `row`. */
static void add_column_tasks(struct job *job, const int *pool, int pool_len, int k, int row,
                             struct task *base, int from)
{
    if (k == 0) {
        job->tasks[job->task_count++] = *base;
        return;
    }
    for (int i = from; i <= pool_len - k; i++) {
        base->first[row] = (uint8_t)pool[i];
        add_column_tasks(job, pool, pool_len, k - 1, row + 1, base, i + 1);
    }
}

/* book:splits */
/* Splitting large tasks: each cycle-type task once more, by the symbol row 3 puts in column 2
 * (any symbol its column and its row do not hold yet). The same rectangles, n-3 or n-2 times as
 * many tasks, each a part of one cycle-type task's search. */
static void split_by_row3_second(struct job *job)
{
    struct task *finer = malloc((size_t)job->task_count * (size_t)job->n * sizeof *finer);
    if (!finer)
        die_errno("malloc (tasks)");
    int count = 0;
    for (int i = 0; i < job->task_count; i++) {
        struct task t = job->tasks[i];
        unsigned taken = 1u << 1 | 1u << job->classes[t.cls].rep[1] | 1u << t.first[2];
        for (int sym = 0; sym < job->n; sym++)
            if (!(taken & 1u << sym)) {
                t.second = (int8_t)sym;
                finer[count++] = t;
            }
    }
    free(job->tasks);
    job->tasks = finer;
    job->task_count = count;
}

static void make_tasks(struct job *job)
{
    int n = job->n, r = job->r, pool[MAX_N], parts[MAX_N];
    struct task base = {{0}, -1, -1};
    job->class_count = 0;
    find_classes(job, parts, 0, n, n);
    size_t most = job->split == SPLIT_FIRST_COLUMN ? (size_t)binomial(n - 1, r - 1)
                                                   : (size_t)job->class_count * (size_t)binomial(n - 2, r - 2);
    job->tasks = malloc(most * sizeof *job->tasks);
    if (!job->tasks)
        die_errno("malloc (tasks)");
    job->task_count = 0;
    if (job->split == SPLIT_FIRST_COLUMN) {
        /* step 3: rows 2..r start with c2 < c3 < ... (one of (r-1)! orders): C(n-1, r-1) tasks */
        for (int s = 1; s < n; s++)
            pool[s - 1] = s;
        add_column_tasks(job, pool, n - 1, r - 1, 1, &base, 0);
    } else {
        /* step 5: row 2 is one representative per cycle type (it starts with symbol 1), rows
         * 3..r start sorted: class size x (r-2)! rectangles for each one counted */
        for (int s = 2; s < n; s++)
            pool[s - 2] = s;
        for (int c = 0; c < job->class_count; c++) {
            base.cls = (int8_t)c;
            base.first[1] = (uint8_t)job->classes[c].rep[0];
            add_column_tasks(job, pool, n - 2, r - 2, 2, &base, 0);
        }
        if (job->split == SPLIT_CYCLE_TYPE_FINE)
            split_by_row3_second(job);
    }
}

static struct job new_job(int r, int n, enum split split, enum setup setup)
{
    struct job job;
    memset(&job, 0, sizeof job);
    job.r = r, job.n = n, job.split = split, job.setup = setup;
    make_tasks(&job);
    return job;
}

/* What each rectangle counted in a task stands for. */
static u128 task_weight(const struct job *job, const struct task *t)
{
    if (job->split == SPLIT_FIRST_COLUMN)
        return factorial(job->r - 1);
    return job->classes[t->cls].size * factorial(job->r - 2);
}
/* end:splits */

/* "1,2,3,4,5" (the first column), "4+3:3,4,5" (row 2's cycle type: rows 3..r's first symbols)
 * or "4+3:3,4,5/6" (cycle-type-fine: and row 3's second symbol). */
static const char *task_label(const struct job *job, const struct task *t, char *buf, size_t len)
{
    int used = 0, from = t->cls >= 0 ? 2 : 0;
    buf[0] = '\0';
    if (t->cls >= 0)
        used = snprintf(buf, len, "%s", job->classes[t->cls].name);
    for (int row = from; row < job->r && used >= 0 && (size_t)used < len; row++)
        used += snprintf(buf + used, len - (size_t)used, "%s%d", row > from ? "," : t->cls >= 0 ? ":" : "",
                         t->first[row] + 1);
    if (t->second >= 0 && used >= 0 && (size_t)used < len)
        snprintf(buf + used, len - (size_t)used, "/%d", t->second + 1);
    return buf;
}

/* ---------- one task, in whatever process runs it ---------- */

struct task_result {
    int32_t worker, task, setups, pad;
    uint64_t start_ns, end_ns, setup_ns, cpu_ns, nodes, dp_steps;
    u128 total;
    i128 signed_sum;
};

static uint64_t cpu_now_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) == -1)
        die_errno("clock_gettime");
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void run_task(const struct job *job, int index, struct search *s, struct derangement_table *table,
                     struct task_result *res)
{
    const struct task *t = &job->tasks[index];
    memset(res, 0, sizeof *res);
    res->task = index;
    res->start_ns = now_ns();
    uint64_t cpu_start = cpu_now_ns();
    memset(&s->t, 0, sizeof s->t);
    for (int row = 0; row < job->r; row++)
        s->first[row] = t->first[row];
    reset_columns(s);
    if (job->no_work) {
        /* --analyze's empty pool: the same tasks handed out and returned, nothing counted */
    } else if (t->cls >= 0) {                             /* row 2 fixed to the class's representative */
        const struct cycle_class *c = &job->classes[t->cls];
        for (int j = 0; j < job->n; j++)
            s->col_used[j] |= 1u << c->rep[j];
        if (t->second < 0)
            count_from_row(s, 2, c->odd);
        else
            count_from_second_cell(s, t->second, c->odd);
    } else if (job->r == 2) {                             /* row 2 is the last row */
        count_from_row(s, 1, 0);
    } else {                                              /* row 2 from the table's bucket */
        int c2 = t->first[1];
        if (!table->rows[c2]) {
            uint64_t setup_start = now_ns();
            build_bucket(table, c2);
            res->setup_ns = now_ns() - setup_start;
            res->setups = 1;
        }
        const uint64_t *rows = table->rows[c2];
        for (size_t i = 0; i < table->count[c2]; i++) {
            uint64_t packed = rows[i];
            for (int j = 1; j < job->n; j++)
                s->col_used[j] |= 1u << ((packed >> (4 * j)) & 15);
            count_from_row(s, 2, (packed & ODD_ROW) != 0);
            reset_columns(s);
        }
        if (job->setup == SETUP_PER_TASK)
            free_bucket(table, c2);                       /* the naive pool: rebuilt next task */
    }
    res->total = s->t.total;
    res->signed_sum = s->t.signed_sum;
    res->nodes = s->t.nodes;
    res->dp_steps = s->t.dp_steps;
    res->cpu_ns = cpu_now_ns() - cpu_start;
    res->end_ns = now_ns();
}

/* ---------- the pre-forked pool ---------- */

/* Who hands a worker its next task. shared: every task index is written up front into one pipe
 * that all workers read; a read of 4 bytes takes one whole task (pipe reads and writes of up to
 * PIPE_BUF bytes are never split), so the kernel deals them out and the parent is not in the
 * loop. parent: each worker has its own task pipe, says "done" on its own pipe, and the parent
 * sends the next task to whichever worker answered: a round trip through the parent per task,
 * as in chapter 2's pool and ProcessPoolExecutor. */
enum dispatch { DISPATCH_SHARED, DISPATCH_PARENT };
static const char *const dispatch_names[] = {"shared", "parent"};

struct worker_slot {          /* in shared memory: written by its worker, read by the parent */
    int32_t running;          /* the task it is on, -1 between tasks */
    int32_t tasks_done;
    uint64_t ready_ns;        /* when it had been forked and set up */
};

struct worker {               /* the parent's side */
    pid_t pid;
    int task_fd;              /* parent dispatch: its task pipe; -1 when shared or closed */
    int done_fd;              /* its "done" notes; end of file once it exits, however it exits */
};

static struct worker *workers;
static int worker_count;
static struct worker_slot *slots;             /* MAP_SHARED, one per worker */
static struct task_result *shared_results;    /* MAP_SHARED, by task index: no copy, no message */
static enum kit_pin worker_pin;               /* --pin: where the workers run */
static enum dispatch worker_dispatch = DISPATCH_SHARED;   /* --dispatch */

/* On SIGINT/SIGTERM or a failure: kill and reap the workers we started, nothing else. */
static void kill_workers(void)
{
    for (int w = 0; w < worker_count; w++)
        if (workers[w].pid > 0)
            kill(workers[w].pid, SIGKILL);
    for (int w = 0; w < worker_count; w++) {
        if (workers[w].pid > 0)
            while (waitpid(workers[w].pid, NULL, 0) == -1 && errno == EINTR)
                ;
        workers[w].pid = 0;
    }
}

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t put = write(fd, p, len);
        if (put == -1 && errno == EINTR)
            continue;
        if (put <= 0) {
            if (what)
                die("write (%s): %s", what, strerror(errno));
            _exit(3);
        }
        p += put;
        len -= (size_t)put;
    }
}

/* Reads exactly len bytes; 0 on a clean end of file. The messages are < PIPE_BUF, so one
 * write is one message; a short read only happens on EINTR. */
static ssize_t read_message(int fd, void *buf, size_t len, bool parent)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, (char *)buf + got, len - got);
        if (n == -1 && errno == EINTR) {
            if (parent)
                exit_if_stopped();
            continue;
        }
        if (n == -1) {
            if (parent) {
                kill_workers();
                die_errno("read (done pipe)");
            }
            _exit(3);
        }
        if (n == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)n;
    }
    return (ssize_t)got;
}

/* book:worker */
static void worker_main(const struct job *job, int id, int task_fd, int done_fd, bool say_done)
{
    struct search s;
    struct derangement_table table = {job->n, {0}, {0}};
    struct worker_slot *me = &slots[id];
    search_init(&s, job->r, job->n);
    __atomic_store_n(&me->ready_ns, now_ns(), __ATOMIC_RELAXED);
    int32_t task;
    while (read_message(task_fd, &task, sizeof task, false) == sizeof task) {
        if (task < 0 || task >= job->task_count)
            _exit(3);
        __atomic_store_n(&me->running, task, __ATOMIC_RELAXED);
        run_task(job, task, &s, &table, &shared_results[task]);     /* the result, in place */
        shared_results[task].worker = id;
        __atomic_store_n(&me->running, -1, __ATOMIC_RELAXED);
        __atomic_store_n(&me->tasks_done, me->tasks_done + 1, __ATOMIC_RELAXED);
        if (say_done)
            write_all(done_fd, &task, sizeof task, NULL);  /* parent dispatch: "next, please" */
    }
    _exit(0);                      /* end of file on the task pipe: no task is left */
}
/* end:worker */

/* shared_read_fd >= 0: the worker reads its tasks from the shared pipe; -1: from a pipe of its own. */
static void start_pool_worker(const struct job *job, int id, int shared_read_fd)
{
    int own[2] = {-1, -1}, done[2];
    if ((shared_read_fd < 0 && pipe(own) == -1) || pipe(done) == -1)
        die_errno("pipe");
    fflush(stdout);                       /* a child must not inherit unwritten output */
    pid_t pid = fork();
    if (pid == -1) {
        kill_workers();
        die_errno("fork");
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  /* never outlive a killed parent */
        default_stop_signals();
        if (worker_pin != PIN_NONE)
            pin_to_cpu(worker_pin == PIN_SAME ? 0 : id);
        for (int w = 0; w < id; w++) {     /* the other workers' pipes are not ours */
            if (workers[w].task_fd >= 0)
                close(workers[w].task_fd);
            close(workers[w].done_fd);
        }
        if (own[1] >= 0)
            close(own[1]);
        close(done[0]);
        worker_main(job, id, shared_read_fd >= 0 ? shared_read_fd : own[0], done[1], shared_read_fd < 0);
    }
    if (own[0] >= 0)
        close(own[0]);
    close(done[1]);
    workers[id] = (struct worker){pid, own[1], done[0]};
    worker_count = id + 1;
}

struct pool_run {
    int workers;
    uint64_t start_ns, wall_ns, startup_ns, shutdown_ns;
    uint64_t parent_cpu_ns;                /* the parent's CPU time while the pool ran */
    struct task_result *results;           /* by task index */
    uint64_t *worker_cpu_ns;               /* by worker, from wait4 */
    pid_t *worker_pids;
};

static void describe_task(const struct job *job, int task, char *buf, size_t len)
{
    char label[64];
    snprintf(buf, len, "task %d (%s %s)", task,
             job->split == SPLIT_FIRST_COLUMN ? "first column"
             : job->split == SPLIT_CYCLE_TYPE ? "row 2's cycle type:first symbols of rows 3.."
                                              : "row 2's cycle type:first symbols of rows 3../row 3's second",
             task_label(job, &job->tasks[task], label, sizeof label));
}

/* A worker's "done" pipe ended: it has exited. Reap it; unless it ended cleanly after its last
 * task, say which worker died of what while running which task, and stop the run. */
static void reap_worker(const struct job *job, int w, struct pool_run *run)
{
    int status;
    struct rusage usage;
    while (wait4(workers[w].pid, &status, 0, &usage) == -1) {
        if (errno != EINTR) { kill_workers(); die_errno("wait4"); }
        exit_if_stopped();
    }
    run->worker_pids[w] = workers[w].pid;
    workers[w].pid = 0;
    close(workers[w].done_fd);
    workers[w].done_fd = -1;
    run->worker_cpu_ns[w] = (uint64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000u +
                            (uint64_t)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000u;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return;
    exit_if_stopped();                    /* a Ctrl-C reaches the workers too: that is no crash */
    int task = __atomic_load_n(&slots[w].running, __ATOMIC_RELAXED);
    char what[128] = "no task";
    if (task >= 0)
        describe_task(job, task, what, sizeof what);
    kill_workers();
    if (WIFSIGNALED(status))
        die("worker %d was killed by signal %d (%s) while running %s; the run is incomplete",
            w, WTERMSIG(status), strsignal(WTERMSIG(status)), what);
    die("worker %d exited with status %d while running %s; the run is incomplete", w,
        WIFEXITED(status) ? WEXITSTATUS(status) : -1, what);
}

static void send_task(int w, int task)
{
    int32_t msg = task;
    /* EPIPE: the worker is gone; the end of file on its done pipe will say how it died */
    if (write(workers[w].task_fd, &msg, sizeof msg) != (ssize_t)sizeof msg && errno != EPIPE) {
        kill_workers();
        die_errno("write (task pipe)");
    }
}

static void close_task_pipe(int w)
{
    if (workers[w].task_fd >= 0)
        close(workers[w].task_fd);        /* end of file: the worker exits after its task */
    workers[w].task_fd = -1;
}

/* Every task index goes into the shared pipe before the first fork. The pipe is made big enough
 * for all of them (4 bytes a task), so the parent never waits to write and a worker never waits
 * for the parent: it waits only for the pipe's lock while another worker takes a task. */
static void fill_shared_pipe(int fds[2], int tasks)
{
    size_t bytes = (size_t)tasks * sizeof(int32_t);
    if (pipe(fds) == -1)
        die_errno("pipe (shared tasks)");
    if (bytes > 65536 && fcntl(fds[1], F_SETPIPE_SZ, (int)bytes) == -1)
        die("the shared task pipe cannot hold %d tasks (F_SETPIPE_SZ: %s; see /proc/sys/fs/pipe-max-size); "
            "use --dispatch parent", tasks, strerror(errno));
    if (fcntl(fds[1], F_SETFL, O_NONBLOCK) == -1)        /* full would be a bug: fail, never hang */
        die_errno("fcntl (shared tasks)");
    int32_t batch[PIPE_BUF / sizeof(int32_t)];
    for (int next = 0; next < tasks;) {
        int n = 0;
        while (n < (int)(sizeof batch / sizeof batch[0]) && next < tasks)
            batch[n++] = next++;
        /* at most PIPE_BUF bytes: written whole, so a 4-byte read always takes one whole index */
        if (write(fds[1], batch, (size_t)n * sizeof batch[0]) != (ssize_t)((size_t)n * sizeof batch[0]))
            die_errno("write (shared task pipe)");
    }
    close(fds[1]);                         /* the workers read end of file once the pipe is empty */
    fds[1] = -1;
}

static void *map_shared(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap (shared)");
    return p;
}

static void check_every_task_done(const struct job *job, const struct pool_run *run, int tasks_run)
{
    if (tasks_run != job->task_count)
        verification_failed("pool of %d: the workers ran %d tasks, not %d", run->workers, tasks_run,
                            job->task_count);
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        if (res->task != i || res->worker < 0 || res->worker >= run->workers || res->end_ns < res->start_ns)
            verification_failed("pool of %d: task %d has no result (the workers ended without it)",
                                run->workers, i);
    }
}

static void run_pool(const struct job *job, int count, enum dispatch dispatch, struct pool_run *run)
{
    int tasks = job->task_count, next = 0, running = count;
    uint64_t parent_cpu_start = cpu_now_ns();
    run->workers = count;
    run->start_ns = now_ns();
    workers = calloc((size_t)count, sizeof *workers);
    struct pollfd *fds = calloc((size_t)count, sizeof *fds);
    if (!workers || !fds)
        die_errno("calloc");
    slots = map_shared((size_t)count * sizeof *slots);
    shared_results = map_shared((size_t)tasks * sizeof *shared_results);
    for (int w = 0; w < count; w++)
        slots[w].running = -1;
    for (int i = 0; i < tasks; i++)
        shared_results[i].task = -1;
    /* book:deal */
    int shared[2] = {-1, -1};
    if (dispatch == DISPATCH_SHARED) {
        fill_shared_pipe(shared, tasks);                     /* the tasks wait in the pipe */
        next = tasks;
    }
    for (int w = 0; w < count; w++) {
        start_pool_worker(job, w, shared[0]);
        if (dispatch == DISPATCH_PARENT) {
            if (next < tasks)
                send_task(w, next++);
            else
                close_task_pipe(w);
        }
    }
    if (shared[0] >= 0)
        close(shared[0]);                                    /* the workers have it now */
    /* end:deal */
    uint64_t last_progress = run->start_ns;
    while (running > 0) {
        for (int w = 0; w < count; w++)
            fds[w] = (struct pollfd){workers[w].done_fd, POLLIN, 0};   /* -1 (reaped): skipped */
        if (poll(fds, (nfds_t)count, 1000) == -1) {
            if (errno == EINTR) { exit_if_stopped(); continue; }
            kill_workers();
            die_errno("poll");
        }
        /* book:dispatch */
        for (int w = 0; w < count; w++) {
            if (!(fds[w].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            int32_t done;
            ssize_t got = read_message(workers[w].done_fd, &done, sizeof done, true);
            if (got != sizeof done) {                        /* end of file: it has exited */
                reap_worker(job, w, run);
                running--;
                continue;
            }
            /* a note (parent dispatch only): the next task goes to whichever worker answered */
            if (next < tasks)
                send_task(w, next++);
            else
                close_task_pipe(w);
        }
        /* end:dispatch */
        if (count > 1 && now_ns() - last_progress > 5000000000u) {
            int done = 0;
            for (int w = 0; w < count; w++)
                done += __atomic_load_n(&slots[w].tasks_done, __ATOMIC_RELAXED);
            progress("pool of %d: %d of %d tasks done, %d workers running", count, done, tasks, running);
            last_progress = now_ns();
        }
    }
    uint64_t end = now_ns(), last_end = run->start_ns, last_ready = run->start_ns;
    run->parent_cpu_ns = cpu_now_ns() - parent_cpu_start;
    memcpy(run->results, shared_results, (size_t)tasks * sizeof *shared_results);
    int tasks_run = 0;
    for (int w = 0; w < count; w++) {
        last_ready = slots[w].ready_ns > last_ready ? slots[w].ready_ns : last_ready;
        tasks_run += slots[w].tasks_done;
    }
    munmap(shared_results, (size_t)tasks * sizeof *shared_results);
    munmap(slots, (size_t)count * sizeof *slots);
    check_every_task_done(job, run, tasks_run);
    for (int i = 0; i < tasks; i++)
        last_end = run->results[i].end_ns > last_end ? run->results[i].end_ns : last_end;
    run->startup_ns = last_ready - run->start_ns;
    run->shutdown_ns = end - last_end;
    run->wall_ns = end - run->start_ns;
    worker_count = 0;
    free(workers);
    workers = NULL;
    free(fds);
}

static void pool_run_init(struct pool_run *run, const struct job *job, int count)
{
    memset(run, 0, sizeof *run);
    run->results = calloc((size_t)job->task_count, sizeof *run->results);
    run->worker_cpu_ns = calloc((size_t)count, sizeof *run->worker_cpu_ns);
    run->worker_pids = calloc((size_t)count, sizeof *run->worker_pids);
    if (!run->results || !run->worker_cpu_ns || !run->worker_pids)
        die_errno("calloc");
}

static void pool_run_free(struct pool_run *run)
{
    free(run->results);
    free(run->worker_cpu_ns);
    free(run->worker_pids);
}

/* The same tasks in this process, one after another: no pool at all. */
static void run_sequential(const struct job *job, struct pool_run *run)
{
    struct search s;
    struct derangement_table table = {job->n, {0}, {0}};
    uint64_t cpu_start = cpu_now_ns();
    run->workers = 1;
    run->start_ns = now_ns();
    search_init(&s, job->r, job->n);
    for (int i = 0; i < job->task_count; i++) {
        exit_if_stopped();
        run_task(job, i, &s, &table, &run->results[i]);
    }
    for (int c = 0; c < job->n; c++)
        free_bucket(&table, c);
    search_free(&s);
    run->wall_ns = now_ns() - run->start_ns;
    run->worker_cpu_ns[0] = cpu_now_ns() - cpu_start;
}

/* ---------- adding up, and checking ---------- */

struct count {
    u128 positive, negative;
    uint64_t work;             /* DFS cells + DP steps */
};

static struct count add_up(const struct job *job, const struct task_result *results)
{
    struct count c = {0, 0, 0};
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &results[i];
        u128 w = task_weight(job, &job->tasks[i]);
        u128 pos = (u128)(((i128)res->total + res->signed_sum) / 2);
        c.positive += w * pos;
        c.negative += w * (res->total - pos);
        c.work += res->nodes + res->dp_steps;
    }
    return c;
}

/* Positive and negative normalized rectangles: the issue's table, then sizes checked here. */
static const struct known {
    int r, n;
    const char *positive, *negative;
} known_counts[] = {
    {2, 4, "3", "6"}, {3, 4, "12", "12"}, {4, 4, "24", "0"},
    {3, 5, "312", "240"}, {4, 5, "384", "960"}, {5, 5, "384", "960"},
    {2, 6, "130", "135"}, {3, 6, "10480", "10800"}, {4, 6, "203040", "190080"},
    {5, 6, "576000", "552960"}, {6, 6, "426240", "702720"},
    /* not in the issue: both splits here, and rect.py (all of (4,7), one task of (5,7)), agree */
    {4, 7, "77529600", "77656320"}, {5, 7, "2029086720", "2028257280"},
    {6, 7, "5966438400", "6231859200"}, {7, 7, "5966438400", "6231859200"},
};

/* Reduced Latin rectangles (first row and first column in order), R(k,n) for 2 <= k <= n <= 8, as
 * published by McKay and Wanless (2005). Sorting rows 2..k of a normalized rectangle by their
 * first symbol gives a reduced one after renaming nothing: each reduced rectangle comes from the
 * (n-1)!/(n-k)! ways to choose and order the first column, so normalized = R(k,n) x (n-1)!/(n-k)!.
 * For k = n this is the count of reduced Latin squares (16,942,080 of order 7). */
static const char *const reduced_rectangles[9][9] = {
    [2] = {[2] = "1", "1", "3", "11", "53", "309", "2119"},
    [3] = {[3] = "1", "4", "46", "1064", "35792", "1673792"},
    [4] = {[4] = "4", "56", "6552", "1293216", "420909504"},
    [5] = {[5] = "56", "9408", "11270400", "27206658048"},
    [6] = {[6] = "9408", "16942080", "335390189568"},
    [7] = {[7] = "16942080", "535281401856"},
    [8] = {[8] = "535281401856"},
};

/* Returns what was checked; fails with `verification failed` on a mismatch. */
static const char *verify_count(int r, int n, struct count c, char *what, size_t len)
{
    char a[64], b[64];
    u128 total = c.positive + c.negative;
    what[0] = '\0';
    for (size_t k = 0; k < sizeof known_counts / sizeof known_counts[0]; k++) {
        const struct known *kc = &known_counts[k];
        u128 pos, neg;
        if (kc->r != r || kc->n != n)
            continue;
        if (!parse_u128(kc->positive, &pos) || !parse_u128(kc->negative, &neg))
            die("bad entry in the known-count table");
        if (pos != c.positive || neg != c.negative)
            verification_failed("(%d,%d): positive %s negative %s, expected %s %s", r, n,
                                format_u128(c.positive, true, a, sizeof a), format_u128(c.negative, true, b, sizeof b),
                                kc->positive, kc->negative);
        snprintf(what, len, "positive and negative match the known values");
    }
    if (r == 2) {
        u128 d = derangement_number(n);
        i128 diff = (i128)c.positive - (i128)c.negative, expect = (n % 2 ? 1 : -1) * (i128)(n - 1);
        if (total != d || diff != expect)
            verification_failed("(2,%d): total %s difference %s, expected D(%d) = %s and (-1)^(n-1)(n-1) = %d",
                                n, format_u128(total, true, a, sizeof a), format_i128(diff, true, b, sizeof b), n,
                                format_u128(d, false, what, len), (int)expect);
        snprintf(what + strlen(what), len - strlen(what), "%stotal = D(%d) derangements, difference = %d",
                 what[0] ? "; " : "", n, (int)expect);
    }
    if (n <= 8) {
        u128 reduced = 0, ways = factorial(n - 1) / factorial(n - r);
        if (!parse_u128(reduced_rectangles[r][n], &reduced))
            die("bad entry in the reduced-rectangles table");
        if (total != reduced * ways)
            verification_failed("(%d,%d): total %s, expected %s reduced rectangles x %d!/%d! = %s", r, n,
                                format_u128(total, true, a, sizeof a), reduced_rectangles[r][n], n - 1, n - r,
                                format_u128(reduced * ways, true, b, sizeof b));
        snprintf(what + strlen(what), len - strlen(what), "%stotal = %s reduced %dx%d rectangles x %d!/%d!",
                 what[0] ? "; " : "", reduced_rectangles[r][n], r, n, n - 1, n - r);
    }
    return what;
}

/* Step 3's promise: every sorted first column gives the same count. */
static void verify_equal_tasks(const struct job *job, const struct task_result *results)
{
    if (job->split != SPLIT_FIRST_COLUMN)
        return;
    for (int i = 1; i < job->task_count; i++)
        if (results[i].total != results[0].total || results[i].signed_sum != results[0].signed_sum) {
            char a[64], b[64];
            verification_failed("first-column task %d counted %s rectangles, task 0 %s: the symmetry is broken", i,
                                format_u128(results[i].total, true, a, sizeof a),
                                format_u128(results[0].total, true, b, sizeof b));
        }
}

/* ---------- sizes: overflow, memory, time ---------- */

/* Bregman: adding row k+1 to a k x n rectangle, each column has n-k symbols left, so the ways
 * are at most ((n-k)!)^(n/(n-k)). The product bounds the count; over 2^126 we refuse. */
static double log2_count_bound(int r, int n)
{
    double bits = 0;
    for (int k = 1; k < r; k++)
        bits += (double)n / (n - k) * lgamma(n - k + 1.0) / log(2.0);
    return bits;
}

/* Knuth's estimate of a search tree: walk random paths; along a path the product of the
 * branching factors estimates how many nodes its level has. Work = cells + DP steps, as the
 * real search counts them, for the whole job. */
static double estimate_work(const struct job *job, int probes, uint64_t seed)
{
    struct search s;
    uint64_t x = seed | 1;
    double sum = 0;
    search_init(&s, job->r, job->n);
    for (int p = 0; p < probes; p++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const struct task *t = &job->tasks[x % (uint64_t)job->task_count];
        double weight = job->task_count, work = 0;
        for (int row = 0; row < job->r; row++)
            s.first[row] = t->first[row];
        reset_columns(&s);
        int row = 1;
        if (t->cls >= 0) {
            for (int j = 0; j < job->n; j++)
                s.col_used[j] |= 1u << job->classes[t->cls].rep[j];
            row = 2;
        }
        for (; row < job->r - 1 && weight > 0; row++) {
            unsigned row_used = 1u << s.first[row];
            for (int col = 1; col < job->n; col++) {
                unsigned free = s.full & ~(s.col_used[col] | row_used);
                if (row == 2 && col == 1 && t->second >= 0)
                    free &= 1u << t->second;          /* cycle-type-fine: this cell is fixed */
                int k = __builtin_popcount(free);
                if (k == 0) { weight = 0; break; }
                weight *= k;
                work += weight;
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                int pick = (int)(x % (uint64_t)k);
                while (pick--)
                    free &= free - 1;
                unsigned bit = free & -free;
                s.col_used[col] |= bit;
                row_used |= bit;
            }
        }
        if (weight > 0 && row == job->r - 1) {
            memset(&s.t, 0, sizeof s.t);
            count_last_row(&s, 0);
            work += weight * (double)(s.t.dp_steps + 1);
        }
        sum += work + job->task_count;
    }
    search_free(&s);
    return sum / probes;
}

/* What one unit of work (a cell or a DP step) costs: 8 to 12 ns measured on the kit's 2-core
 * machine with both splits at (4,7), (5,7), (5,8). Only used to warn before hour-long runs. */
#define NS_PER_WORK_UNIT 10.0

/* A size the program will not start: count could overflow, table would not fit, or hours. */
static double check_size(const struct job *job, long workers, bool yes)
{
    double bits = log2_count_bound(job->r, job->n);
    if (bits > 126)
        die_usage("(%d,%d): the count could reach 2^%.0f and this program counts in 128 bits (up to 2^126); "
                  "choose a smaller size", job->r, job->n, bits);
    if (job->split == SPLIT_FIRST_COLUMN && job->r >= 3) {
        double rows = (double)(derangement_number(job->n - 1) + derangement_number(job->n - 2));
        double bytes = rows * 8 * (job->setup == SETUP_PER_TASK ? 1 : job->n - 1) * (double)workers;
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        if (job->n > 15 || bytes > (double)pages * (double)page / 2)
            die_usage("(%d,%d) --split first-column: the derangement tables need %.3g bytes, more than half "
                      "this machine's memory; use --split cycle-type", job->r, job->n, bytes);
    }
    double work = estimate_work(job, 400, 12345), seconds = work * NS_PER_WORK_UNIT / 1e9 / (double)workers;
    if (!yes && seconds > 3600)
        die_usage("(%d,%d) --split %s would run about %.3g hours on %ld workers (a Knuth estimate of the "
                  "search); pass --yes to run it anyway", job->r, job->n, split_names[job->split],
                  seconds / 3600, workers);
    return work;
}

/* ---------- counting: R N on the pool ---------- */

static void print_count(struct count c)
{
    char a[64];
    i128 diff = (i128)c.positive - (i128)c.negative;
    printf("  %-10s %28s\n", "positive", format_u128(c.positive, true, a, sizeof a));
    printf("  %-10s %28s\n", "negative", format_u128(c.negative, true, a, sizeof a));
    printf("  %-10s %28s\n", "total", format_u128(c.positive + c.negative, true, a, sizeof a));
    printf("  %-10s %28s\n", "difference", format_i128(diff, true, a, sizeof a));
}

static double sum_cpu_s(const struct pool_run *run)
{
    double sum = 0;
    for (int w = 0; w < run->workers; w++)
        sum += (double)run->worker_cpu_ns[w] / 1e9;
    return sum;
}

static void run_count(struct kit_opts *o, struct job *job, double estimate)
{
    struct pool_run run;
    char what[512], label[64];
    print_run_header(o, "signed Latin rectangles, counted on a process pool");
    if (o->workers > 1)
        report_effective_cpus(o, 1000000);
    printf("(%d,%d), %s split: %d tasks, each rectangle counted stands for ", job->r, job->n,
           split_names[job->split], job->task_count);
    if (job->split == SPLIT_FIRST_COLUMN)
        printf("(r-1)! = %s\n", format_u128(factorial(job->r - 1), true, label, sizeof label));
    else
        printf("its class size x (r-2)! = %s x class size (%d cycle types)\n",
               format_u128(factorial(job->r - 2), true, label, sizeof label), job->class_count);
    printf("pool: %ld pre-forked workers, dynamic scheduling (%s); placement: %s\n", o->workers,
           worker_dispatch == DISPATCH_SHARED ? "each takes its next task from one shared pipe"
                                              : "the parent sends each worker its next task",
           pin_name(o->pin));
    printf("estimate: %.2g steps of work (Knuth's random probes), about %.2g s at %.0f ns a step\n", estimate,
           estimate * NS_PER_WORK_UNIT / 1e9 / (double)o->workers, NS_PER_WORK_UNIT);
    pool_run_init(&run, job, (int)o->workers);
    run_pool(job, (int)o->workers, worker_dispatch, &run);
    struct count c = add_up(job, run.results);
    verify_equal_tasks(job, run.results);
    verify_count(job->r, job->n, c, what, sizeof what);
    print_count(c);
    double cpu = sum_cpu_s(&run);
    printf("  wall %.3f s, CPU %.3f s (all workers, from wait4), work %.4g steps (DFS cells + DP steps;\n"
           "  estimated beforehand: %.2g)\n", (double)run.wall_ns / 1e9, cpu, (double)c.work, estimate);
    printf("  -> %.3g rectangles per CPU-second (after the symmetry factor), %.3g per wall-second\n",
           (double)(c.positive + c.negative) / cpu, (double)(c.positive + c.negative) / ((double)run.wall_ns / 1e9));
    if (job->split == SPLIT_FIRST_COLUMN)
        snprintf(what + strlen(what), sizeof what - strlen(what), "%sall %d first-column tasks gave the same count",
                 what[0] ? "; " : "", job->task_count);
    printf("verification: %s\n", what[0] ? what : "no independent value known for this size "
                                                  "(cross-check with the other --split)");
    pool_run_free(&run);
}

/* ---------- --task K/T and --merge: the work as independent jobs ---------- */

static const char task_columns[] = "task\ttasks\tsplit\tr\tn\tlabel\tweight\tpositive\tnegative\tseconds";

static void run_task_slice(const struct job *job, long k, long t)
{
    struct search s;
    struct derangement_table table = {job->n, {0}, {0}};
    char label[64], w[64], p[64], q[64];
    search_init(&s, job->r, job->n);
    printf("%s\n", task_columns);
    for (int i = (int)(k - 1); i < job->task_count; i += (int)t) {
        struct task_result res;
        exit_if_stopped();
        run_task(job, i, &s, &table, &res);
        u128 pos = (u128)(((i128)res.total + res.signed_sum) / 2);
        printf("%d\t%d\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%.6f\n", i, job->task_count, split_names[job->split],
               job->r, job->n, task_label(job, &job->tasks[i], label, sizeof label),
               format_u128(task_weight(job, &job->tasks[i]), false, w, sizeof w), format_u128(pos, false, p, sizeof p),
               format_u128(res.total - pos, false, q, sizeof q), (double)(res.end_ns - res.start_ns) / 1e9);
    }
    for (int c = 0; c < job->n; c++)
        free_bucket(&table, c);
    search_free(&s);
    if (fflush(stdout) == EOF || ferror(stdout))
        die("writing the task rows failed");
}

static void run_merge(struct kit_opts *o, const struct job *job, const char *path)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (!f)
        die("cannot read %s: %s", path, strerror(errno));
    struct task_result *results = calloc((size_t)job->task_count, sizeof *results);
    char *seen = calloc((size_t)job->task_count, 1);
    if (!results || !seen)
        die_errno("calloc");
    char line[512], what[512];
    int rows = 0, number = 0;
    while (fgets(line, sizeof line, f)) {
        number++;
        if (line[0] == '#' || strncmp(line, "task\t", 5) == 0 || line[0] == '\n')
            continue;
        char split[32], label[64], weight[64], pos[64], neg[64];
        int task, tasks, r, n;
        double seconds;
        u128 wt, p, q;
        if (sscanf(line, "%d\t%d\t%31[^\t]\t%d\t%d\t%63[^\t]\t%63[^\t]\t%63[^\t]\t%63[^\t]\t%lf", &task, &tasks,
                   split, &r, &n, label, weight, pos, neg, &seconds) != 10 ||
            !parse_u128(weight, &wt) || !parse_u128(pos, &p) || !parse_u128(neg, &q))
            verification_failed("%s:%d: not a task row: %s", path, number, line);
        if (r != job->r || n != job->n || tasks != job->task_count || strcmp(split, split_names[job->split]) != 0)
            verification_failed("%s:%d: a row of (%d,%d) %s with %d tasks, merging (%d,%d) %s with %d", path, number,
                                r, n, split, tasks, job->r, job->n, split_names[job->split], job->task_count);
        if (task < 0 || task >= job->task_count)
            verification_failed("%s:%d: task %d is not one of 0..%d", path, number, task, job->task_count - 1);
        if (seen[task]++)
            verification_failed("%s:%d: task %d appears twice", path, number, task);
        if (wt != task_weight(job, &job->tasks[task]))
            verification_failed("%s:%d: task %d has weight %s, expected another", path, number, task, weight);
        results[task].total = p + q;
        results[task].signed_sum = (i128)p - (i128)q;
        rows++;
    }
    if (ferror(f))
        die("reading %s failed", path);
    if (f != stdin)
        fclose(f);
    for (int i = 0; i < job->task_count; i++)
        if (!seen[i])
            verification_failed("task %d of %d is missing from %s", i, job->task_count, path);
    struct count c = add_up(job, results);
    verify_equal_tasks(job, results);
    verify_count(job->r, job->n, c, what, sizeof what);
    printf("(%d,%d), %s split: merged %d task rows from %s, every task exactly once\n", job->r, job->n,
           split_names[job->split], rows, path);
    print_count(c);
    printf("verification: every task exactly once%s%s\n", what[0] ? "; " : "", what);
    (void)o;
    free(results);
    free(seen);
}

/* ---------- --analyze: the ProcessPool questions, answered by measurement ---------- */

struct run_summary {
    double wall_ms, startup_ms, shutdown_ms, overhead_ms;
    double busy_max_ms, busy_mean_ms, cpu_max_ms, cpu_sum_ms, setup_ms;
    double gap_us;             /* median time between a worker's tasks: result out, next task in */
    double pool_cpu_ms;        /* CPU time outside the tasks: the parent's, and the workers' own */
    int setups;
};

static double ms(uint64_t ns) { return (double)ns / 1e6; }

/* Busy time = the worker's tasks, end - start. Overhead = what the pool adds to its busiest
 * worker's work: starting the workers, handing out tasks, collecting results, reaping. */
static struct run_summary summarize(const struct job *job, const struct pool_run *run)
{
    struct run_summary s = {0};
    double *busy = calloc((size_t)run->workers, sizeof *busy);
    if (!busy)
        die_errno("calloc");
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        busy[res->worker] += ms(res->end_ns - res->start_ns);
        s.pool_cpu_ms -= ms(res->cpu_ns);
        s.setups += res->setups;
        s.setup_ms += ms(res->setup_ns);
    }
    for (int w = 0; w < run->workers; w++) {
        s.busy_max_ms = busy[w] > s.busy_max_ms ? busy[w] : s.busy_max_ms;
        s.busy_mean_ms += busy[w] / run->workers;
        s.cpu_max_ms = ms(run->worker_cpu_ns[w]) > s.cpu_max_ms ? ms(run->worker_cpu_ns[w]) : s.cpu_max_ms;
        s.cpu_sum_ms += ms(run->worker_cpu_ns[w]);
    }
    s.pool_cpu_ms += s.cpu_sum_ms + ms(run->parent_cpu_ns);
    /* a worker's tasks run in the order it got them, so its next start follows its last end */
    double *gaps = malloc((size_t)job->task_count * sizeof *gaps);
    uint64_t *last_end = calloc((size_t)run->workers, sizeof *last_end);
    if (!gaps || !last_end)
        die_errno("malloc");
    int gap_count = 0;
    for (int i = 0; i < job->task_count; i++) {
        const struct task_result *res = &run->results[i];
        if (last_end[res->worker])
            gaps[gap_count++] = (double)(res->start_ns - last_end[res->worker]) / 1e3;
        last_end[res->worker] = res->end_ns;
    }
    s.gap_us = gap_count ? stats_of(gaps, (size_t)gap_count).median : 0;
    free(gaps);
    free(last_end);
    s.wall_ms = ms(run->wall_ns);
    s.startup_ms = ms(run->startup_ns);
    s.shutdown_ms = ms(run->shutdown_ns);
    s.overhead_ms = s.wall_ms - s.busy_max_ms;
    free(busy);
    return s;
}

static void check_same_count(const struct job *job, const struct pool_run *run, struct count expected,
                             const char *what)
{
    struct count c = add_up(job, run->results);
    verify_equal_tasks(job, run->results);
    if (c.positive != expected.positive || c.negative != expected.negative) {
        char a[64], b[64];
        verification_failed("%s: total %s, the sequential run counted %s", what,
                            format_u128(c.positive + c.negative, true, a, sizeof a),
                            format_u128(expected.positive + expected.negative, true, b, sizeof b));
    }
}

static double median_of(double *values, int count)
{
    return stats_of(values, (size_t)count).median;
}

struct analysis {
    struct kit_opts *o;
    struct job job;
    long trials;
    struct count expected;
    double seq_wall_ms, seq_cpu_ms;
    struct pool_run pool_at_w;        /* one run at --workers W, for the timeline */
    bool have_pool_at_w;
};

static void one_pool(struct analysis *a, const struct job *job, int w, enum dispatch dispatch,
                     struct pool_run *run, const char *what)
{
    pool_run_init(run, job, w);
    run_pool(job, w, dispatch, run);
    check_same_count(job, run, a->expected, what);
}

/* The plain loop: every task in this process, one after another. This first run warms up and
 * gives the count every later run must match; its times are the baseline until the overhead
 * experiment measures the loop again, trial by trial beside the pools. */
static void analyze_sequential(struct analysis *a)
{
    char what[512], total[64];
    struct pool_run run;
    pool_run_init(&run, &a->job, 1);
    run_sequential(&a->job, &run);
    struct count c = add_up(&a->job, run.results);
    verify_equal_tasks(&a->job, run.results);
    verify_count(a->job.r, a->job.n, c, what, sizeof what);
    a->expected = c;
    printf("sequential: %s rectangles; %s\n", format_u128(c.positive + c.negative, true, total, sizeof total),
           what[0] ? what : "(no independent value known for this size)");
    a->seq_wall_ms = ms(run.wall_ns);
    a->seq_cpu_ms = ms(run.worker_cpu_ns[0]);
    pool_run_free(&run);
}

enum { MAX_TRIALS = 64, MAX_SIZES = 5, DISPATCHES = 2 };
static const enum dispatch dispatches_compared[DISPATCHES] = {DISPATCH_PARENT, DISPATCH_SHARED};

struct overhead_samples {
    double wall[MAX_TRIALS], over[MAX_TRIALS], start[MAX_TRIALS], stop[MAX_TRIALS];
    double busy[MAX_TRIALS], cpu[MAX_TRIALS], imbalance[MAX_TRIALS], gap[MAX_TRIALS];
    double empty[MAX_TRIALS], pool_cpu[MAX_TRIALS];
};

/* The same tasks on a pool of w, each returning at once: what starting the workers, dealing the
 * tasks and reaping the workers take when there is no work to hide behind or compete with. */
static double empty_pool_ms(const struct job *job, int w, enum dispatch dispatch)
{
    struct job empty = *job;
    struct pool_run run;
    empty.no_work = true;
    pool_run_init(&run, &empty, w);
    run_pool(&empty, w, dispatch, &run);       /* checks that every task came back */
    double wall = ms(run.wall_ns);
    pool_run_free(&run);
    return wall;
}

/* One trial is the loop and then every pool size and dispatch, so a change in the machine's load
 * between trials hits all of them alike instead of one configuration. */
static void overhead_trial(struct analysis *a, const int *sizes, int count, int t, struct overhead_samples *loop,
                           struct overhead_samples (*pools)[DISPATCHES])
{
    struct pool_run run;
    pool_run_init(&run, &a->job, 1);
    run_sequential(&a->job, &run);
    check_same_count(&a->job, &run, a->expected, "plain loop");
    loop->wall[t] = ms(run.wall_ns);
    loop->cpu[t] = ms(run.worker_cpu_ns[0]);
    pool_run_free(&run);
    for (int i = 0; i < count * DISPATCHES; i++) {
        int w = sizes[i / DISPATCHES];
        enum dispatch dispatch = dispatches_compared[i % DISPATCHES];
        one_pool(a, &a->job, w, dispatch, &run, dispatch_names[dispatch]);
        struct run_summary s = summarize(&a->job, &run);
        struct overhead_samples *p = &pools[i / DISPATCHES][i % DISPATCHES];
        p->wall[t] = s.wall_ms, p->over[t] = s.overhead_ms, p->start[t] = s.startup_ms, p->stop[t] = s.shutdown_ms;
        p->busy[t] = s.busy_max_ms, p->cpu[t] = s.cpu_max_ms, p->imbalance[t] = s.busy_max_ms / s.busy_mean_ms;
        p->gap[t] = s.gap_us, p->pool_cpu[t] = s.pool_cpu_ms;
        p->empty[t] = empty_pool_ms(&a->job, w, dispatch);
        if (w == a->o->workers && dispatch == worker_dispatch && !a->have_pool_at_w) {
            a->pool_at_w = run;            /* the timeline shows this run */
            a->have_pool_at_w = true;
        } else {
            pool_run_free(&run);
        }
    }
}

static void analyze_overhead(struct analysis *a)
{
    struct kit_opts *o = a->o;
    int sizes[MAX_SIZES] = {1, 2, 4}, count = 3;
    int trials = a->trials < MAX_TRIALS ? (int)a->trials : MAX_TRIALS;
    if (o->workers != 1 && o->workers != 2 && o->workers != 4)
        sizes[count++] = (int)o->workers;
    struct overhead_samples loop, pools[MAX_SIZES][DISPATCHES];
    for (int t = 0; t < trials; t++) {
        progress("overhead: trial %d of %d (the loop, then pools of 1, 2, 4%s workers, both dispatches)", t + 1,
                 trials, count > 3 ? " and --workers" : "");
        overhead_trial(a, sizes, count, t, &loop, pools);
    }
    struct stats loop_wall = stats_of(loop.wall, (size_t)trials);
    a->seq_wall_ms = loop_wall.median;
    a->seq_cpu_ms = median_of(loop.cpu, trials);

    FILE *tsv = tsv_open_table(o, "overhead",
                               "workers\tdispatch\ttrials\twall_ms\twall_min_ms\twall_max_ms\toverhead_ms\toverhead_min_ms\t"
                               "overhead_max_ms\tempty_ms\tempty_min_ms\tempty_max_ms\tpool_cpu_ms\tstartup_ms\t"
                               "shutdown_ms\tbusy_max_ms\tcpu_max_ms\tspeedup_wall\tspeedup_cpu\tefficiency_wall\t"
                               "efficiency_cpu\timbalance\tgap_us");
    printf("\noverhead: the same %d tasks in a plain loop and on pools of W workers, each task sent by the parent\n"
           "or taken from the shared pipe; empty = the same pool with tasks that return at once (%d trials, medians)\n",
           a->job.task_count, trials);
    printf("  %4s %8s %9s %11s %8s %11s %10s %11s %7s %8s %8s %9s\n", "W", "dispatch", "wall ms", "overhead ms",
           "empty ms", "pool cpu ms", "startup ms", "shutdown ms", "gap us", "speedup", "cpu spd", "imbalance");
    printf("  %4s %8s %9.2f %11s %8s %11s %10s %11s %7s %8.2f %8.2f %9.2f\n", "loop", "-", a->seq_wall_ms, "-", "-",
           "-", "-", "-", "-", 1.0, 1.0, 1.0);
    fprintf(tsv, "0\t-\t%d\t%.4f\t%.4f\t%.4f\t0\t0\t0\t0\t0\t0\t0\t0\t0\t%.4f\t%.4f\t1\t1\t1\t1\t1\t0\n", trials,
            a->seq_wall_ms, loop_wall.min, loop_wall.max, a->seq_wall_ms, a->seq_cpu_ms);
    double overhead_w1[DISPATCHES] = {0}, gap_w1[DISPATCHES] = {0};     /* by dispatch, at W = 1 */
    double empty_at[MAX_SIZES] = {0}, wall_at[MAX_SIZES] = {0}, cpu_at[MAX_SIZES] = {0};  /* shared */
    for (int i = 0; i < count * DISPATCHES; i++) {
        struct overhead_samples *p = &pools[i / DISPATCHES][i % DISPATCHES];
        int w = sizes[i / DISPATCHES];
        enum dispatch dispatch = dispatches_compared[i % DISPATCHES];
        struct stats sw = stats_of(p->wall, (size_t)trials), so = stats_of(p->over, (size_t)trials);
        struct stats se = stats_of(p->empty, (size_t)trials);
        double cpu_max = median_of(p->cpu, trials), speedup_wall = a->seq_wall_ms / sw.median;
        double speedup_cpu = a->seq_cpu_ms / cpu_max, imbalance = median_of(p->imbalance, trials);
        double start = median_of(p->start, trials), stop = median_of(p->stop, trials), busy = median_of(p->busy, trials);
        double gap = median_of(p->gap, trials), pool_cpu = median_of(p->pool_cpu, trials);
        if (w == 1)
            overhead_w1[dispatch] = so.median, gap_w1[dispatch] = gap;
        if (dispatch == DISPATCH_SHARED)
            wall_at[i / DISPATCHES] = sw.median, cpu_at[i / DISPATCHES] = cpu_max, empty_at[i / DISPATCHES] = se.median;
        printf("  %4d %8s %9.2f %11.3f %8.3f %11.3f %10.3f %11.3f %7.1f %8.2f %8.2f %9.2f%s\n", w,
               dispatch_names[dispatch], sw.median, so.median, se.median, pool_cpu, start, stop, gap, speedup_wall,
               speedup_cpu, imbalance, is_noisy(so) ? "  noisy" : "");
        fprintf(tsv, "%d\t%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t"
                     "%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.2f\n",
                w, dispatch_names[dispatch], trials, sw.median, sw.min, sw.max, so.median, so.min, so.max, se.median,
                se.min, se.max, pool_cpu, start, stop, busy, cpu_max, speedup_wall, speedup_cpu, speedup_wall / w,
                speedup_cpu / w, imbalance, gap);
    }
    tsv_close(tsv);
    int cpus = online_cpus();
    printf("  -> a pool of 1 against the plain loop: %+.2f ms wall (%+.1f%%), %+.2f ms CPU (%+.1f%%): the framework's\n"
           "     own cost. At W=1 the overhead (wall - busiest worker's busy time) is %.3f ms with the parent\n"
           "     dealing, %.3f ms with the shared pipe: between two tasks a worker waited %.1f us for the round\n"
           "     trip through the parent, %.1f us to read its next task itself. The empty pool (shared) takes\n"
           "     %.3f, %.3f and %.3f ms at W = 1, 2, 4: about %.3f ms fixed and %.3f ms per worker (a fork, a reap).\n"
           "     At W=2: wall speedup %.2f, CPU-time speedup %.2f (loop CPU / busiest worker's CPU) with %.2f\n"
           "     effective CPUs; a gap between the two is CPU time the machine gave to others.%s\n",
           wall_at[0] - a->seq_wall_ms, 100 * (wall_at[0] - a->seq_wall_ms) / a->seq_wall_ms,
           cpu_at[0] - a->seq_cpu_ms, 100 * (cpu_at[0] - a->seq_cpu_ms) / a->seq_cpu_ms,
           overhead_w1[DISPATCH_PARENT], overhead_w1[DISPATCH_SHARED], gap_w1[DISPATCH_PARENT],
           gap_w1[DISPATCH_SHARED], empty_at[0], empty_at[1], empty_at[2],
           empty_at[0] - (empty_at[2] - empty_at[0]) / 3, (empty_at[2] - empty_at[0]) / 3,
           a->seq_wall_ms / wall_at[1], a->seq_cpu_ms / cpu_at[1], o->effective_cpus,
           cpus < 4 ? "\n     With more workers than CPUs, the overhead also holds the time a worker waited for a CPU."
                    : "");
}

static void analyze_timeline(struct analysis *a)
{
    struct kit_opts *o = a->o;
    const struct job *job = &a->job;
    if (!a->have_pool_at_w) {
        one_pool(a, job, (int)o->workers, worker_dispatch, &a->pool_at_w, "pool");
        a->have_pool_at_w = true;
    }
    const struct pool_run *run = &a->pool_at_w;
    FILE *tl = tsv_open_table(o, "timeline", "worker\ttask\tlabel\tstart_ms\tend_ms\tsetup_ms\tcpu_ms\trectangles");
    FILE *wk = tsv_open_table(o, "workers",
                              "worker\tpid\ttasks\ttask_list\tsetups\tsetup_ms\tbusy_ms\tcpu_ms\trectangles\trate_per_s");
    double seq_rate = (double)(a->expected.positive + a->expected.negative) / (a->seq_cpu_ms / 1e3);
    char label[64], num[64];
    printf("\ntimeline: one pool of %d workers, which tasks each ran (times from the pool's start)\n", run->workers);
    printf("  %6s %8s %5s %-30s %6s %9s %9s %9s %12s %8s\n", "worker", "pid", "tasks", "task numbers", "setups",
           "setup ms", "busy ms", "cpu ms", "rect/cpu-s", "vs loop");
    double busy_max = 0, busy_sum = 0, rate_min = 1e300, rate_max = 0;
    for (int w = 0; w < run->workers; w++) {
        char list[256] = "";
        int tasks = 0, setups = 0;
        double busy = 0, setup = 0, cpu = ms(run->worker_cpu_ns[w]);
        u128 rect = 0;
        for (int i = 0; i < job->task_count; i++) {
            const struct task_result *res = &run->results[i];
            if (res->worker != w)
                continue;
            u128 weighted = res->total * task_weight(job, &job->tasks[i]);
            size_t used = strlen(list);
            snprintf(list + used, sizeof list - used, "%s%d", tasks ? "," : "", i);
            tasks++, setups += res->setups, setup += ms(res->setup_ns), busy += ms(res->end_ns - res->start_ns);
            rect += weighted;
            fprintf(tl, "%d\t%d\t%s\t%.4f\t%.4f\t%.4f\t%.4f\t%s\n", w, i, task_label(job, &job->tasks[i], label, sizeof label),
                    ms(res->start_ns - run->start_ns), ms(res->end_ns - run->start_ns), ms(res->setup_ns),
                    ms(res->cpu_ns), format_u128(weighted, false, num, sizeof num));
        }
        /* per CPU-second: what the code does when it runs, whatever else shares the machine */
        double rate = cpu > 0 ? (double)rect / (cpu / 1e3) : 0;
        busy_max = busy > busy_max ? busy : busy_max;
        busy_sum += busy;
        if (tasks) {
            rate_min = rate < rate_min ? rate : rate_min;
            rate_max = rate > rate_max ? rate : rate_max;
        }
        printf("  %6d %8d %5d %-30.30s %6d %9.2f %9.2f %9.2f %12.3g %8.2f\n", w, (int)run->worker_pids[w], tasks,
               tasks ? list : "-", setups, setup, busy, cpu, rate, rate / seq_rate);
        fprintf(wk, "%d\t%d\t%d\t%s\t%d\t%.4f\t%.4f\t%.4f\t%s\t%.6g\n", w, (int)run->worker_pids[w], tasks,
                tasks ? list : "-", setups, setup, busy, cpu, format_u128(rect, false, num, sizeof num), rate);
    }
    tsv_close(tl);
    tsv_close(wk);
    double mean = busy_sum / run->workers;
    int per = (job->task_count + run->workers - 1) / run->workers;
    bool same = rate_min / seq_rate > 0.8 && rate_max / seq_rate < 1.25;
    printf("  -> per CPU-second each worker counts %.3g to %.3g rectangles, the plain loop %.3g (ratios %.2f to %.2f):\n"
           "     %s. Load imbalance (max/mean busy time) %.2f; with %d equal tasks on %d workers\n"
           "     the busiest runs %d, a floor of %.2f: finer tasks lower it, largest-first helps unequal ones (split).\n",
           rate_min, rate_max, seq_rate, rate_min / seq_rate, rate_max / seq_rate,
           same ? "the same code at the same speed, in every process"
                : "the rates differ by more than 20%: the CPU time includes each worker's start and setup, or the "
                  "machine's caches were shared",
           busy_max / mean, job->task_count, run->workers, per, (double)per * run->workers / job->task_count);
}

static void analyze_setup(struct analysis *a)
{
    struct kit_opts *o = a->o;
    FILE *tsv = tsv_open_table(o, "setup", "setup\tsetups\tsetup_ms\twall_ms");
    printf("\nsetup: building the filtered derangement table (step 1) per task vs once per worker, %ld workers\n",
           o->workers);
    if (a->job.r == 2) {
        printf("  (r = 2: row 2 is the last row, counted by the DP; there is no table to build)\n");
        fprintf(tsv, "per-task\t0\t0\t0\nper-worker\t0\t0\t0\n");
        tsv_close(tsv);
        return;
    }
    printf("  %-11s %7s %10s %10s %14s\n", "setup", "setups", "setup ms", "wall ms", "ms per setup");
    struct run_summary got[2];
    for (int mode = SETUP_PER_TASK; mode >= SETUP_PER_WORKER; mode--) {
        struct job job = a->job;
        struct pool_run run;
        job.setup = (enum setup)mode;
        one_pool(a, &job, (int)o->workers, worker_dispatch, &run, "setup");
        struct run_summary s = summarize(&job, &run);
        const char *name = mode == SETUP_PER_TASK ? "per-task" : "per-worker";
        printf("  %-11s %7d %10.2f %10.2f %14.3f\n", name, s.setups, s.setup_ms, s.wall_ms, s.setup_ms / s.setups);
        fprintf(tsv, "%s\t%d\t%.4f\t%.4f\n", name, s.setups, s.setup_ms, s.wall_ms);
        got[mode] = s;
        pool_run_free(&run);
    }
    tsv_close(tsv);
    printf("  -> per task the table was built %d times (%.2f ms, %.1f%% of the busy time); kept per worker,\n"
           "     %d times (%.2f ms): once per worker for each first symbol of row 2 it met.\n",
           got[SETUP_PER_TASK].setups, got[SETUP_PER_TASK].setup_ms,
           100 * got[SETUP_PER_TASK].setup_ms / (got[SETUP_PER_TASK].busy_mean_ms * (double)o->workers),
           got[SETUP_PER_WORKER].setups, got[SETUP_PER_WORKER].setup_ms);
}

/* Greedy list scheduling: each task to the worker that frees up first (what the pool does). */
static double list_schedule(const double *durations, int count, int w)
{
    double load[64] = {0}, makespan = 0;
    w = w < 64 ? w : 64;
    for (int i = 0; i < count; i++) {
        int least = 0;
        for (int k = 1; k < w; k++)
            least = load[k] < load[least] ? k : least;
        load[least] += durations[i];
        makespan = load[least] > makespan ? load[least] : makespan;
    }
    return makespan;
}

static int compare_desc(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a < b) - (a > b);
}

static void analyze_split(struct analysis *a)
{
    struct kit_opts *o = a->o;
    FILE *tsv = tsv_open_table(o, "split", "split\ttasks\twork_steps\twall_ms\tcpu_ms\tlargest_task_ms\tmean_task_ms\t"
                                           "positive\tnegative");
    printf("\nsplit: first-column (step 3) vs cycle-type (step 5) tasks, %ld workers\n", o->workers);
    printf("  %-13s %6s %16s %10s %10s %12s %10s\n", "split", "tasks", "work steps", "wall ms", "cpu ms",
           "largest ms", "mean ms");
    double work[2], wall[2], makespan_given = 0, makespan_sorted = 0, ideal = 0;
    for (int sp = SPLIT_FIRST_COLUMN; sp >= SPLIT_CYCLE_TYPE; sp--) {
        struct job job = new_job(a->job.r, a->job.n, (enum split)sp, SETUP_PER_WORKER);
        struct pool_run run;
        one_pool(a, &job, (int)o->workers, worker_dispatch, &run, split_names[sp]);
        struct run_summary s = summarize(&job, &run);
        struct count c = add_up(&job, run.results);
        double *dur = malloc((size_t)job.task_count * sizeof *dur), largest = 0, sum = 0;
        if (!dur)
            die_errno("malloc");
        for (int i = 0; i < job.task_count; i++) {
            dur[i] = ms(run.results[i].end_ns - run.results[i].start_ns);
            largest = dur[i] > largest ? dur[i] : largest;
            sum += dur[i];
        }
        if (sp == SPLIT_CYCLE_TYPE) {
            makespan_given = list_schedule(dur, job.task_count, (int)o->workers);
            qsort(dur, (size_t)job.task_count, sizeof *dur, compare_desc);
            makespan_sorted = list_schedule(dur, job.task_count, (int)o->workers);
            ideal = sum / (double)o->workers;
        }
        char p[64], q[64];
        printf("  %-13s %6d %16llu %10.2f %10.2f %12.3f %10.3f\n", split_names[sp], job.task_count,
               (unsigned long long)c.work, s.wall_ms, s.cpu_sum_ms, largest, sum / job.task_count);
        fprintf(tsv, "%s\t%d\t%llu\t%.4f\t%.4f\t%.4f\t%.4f\t%s\t%s\n", split_names[sp], job.task_count,
                (unsigned long long)c.work, s.wall_ms, s.cpu_sum_ms, largest, sum / job.task_count,
                format_u128(c.positive, false, p, sizeof p), format_u128(c.negative, false, q, sizeof q));
        work[sp] = (double)c.work;
        wall[sp] = s.wall_ms;
        free(dur);
        free(job.tasks);
        pool_run_free(&run);
    }
    tsv_close(tsv);
    printf("  -> the cycle-type split does %.0fx less work and takes %.0fx less wall time, same counts.\n"
           "     Its tasks are unequal: dealt in the given order the busiest of %ld workers would need %.2f ms,\n"
           "     largest first %.2f ms, against a perfect %.2f ms (list scheduling of the measured task times).\n",
           work[SPLIT_FIRST_COLUMN] / work[SPLIT_CYCLE_TYPE], wall[SPLIT_FIRST_COLUMN] / wall[SPLIT_CYCLE_TYPE],
           o->workers, makespan_given, makespan_sorted, ideal);
}

static void run_analysis(struct kit_opts *o, int r, int n, bool yes)
{
    struct analysis a = {.o = o};
    a.job = new_job(r, n, SPLIT_FIRST_COLUMN, SETUP_PER_WORKER);
    check_size(&a.job, o->workers, yes);
    prepare_out_dir(o);
    a.trials = o->trials ? o->trials : by_mode(o, 2, 3, 3);
    print_run_header(o, "a real search on a process pool: what does the pool cost, what does it buy?");
    report_effective_cpus(o, (uint64_t)by_mode(o, 2000000, 10000000, 30000000));
    printf("(%d,%d), first-column split: %d tasks (one per sorted first column), (r-1)! = %d rectangles per one "
           "counted; pool of %ld workers\nplacement: %s\n", r, n, a.job.task_count, (int)factorial(r - 1), o->workers,
           pin_name(o->pin));
    analyze_sequential(&a);
    printf("  plain loop: %.2f ms wall, %.2f ms CPU: %.3g rectangles per CPU-second\n", a.seq_wall_ms, a.seq_cpu_ms,
           (double)(a.expected.positive + a.expected.negative) / (a.seq_cpu_ms / 1e3));
    if (wanted(o, "overhead"))
        analyze_overhead(&a);
    if (wanted(o, "timeline"))
        analyze_timeline(&a);
    if (wanted(o, "setup"))
        analyze_setup(&a);
    if (wanted(o, "split"))
        analyze_split(&a);
    if (a.have_pool_at_w)
        pool_run_free(&a.pool_at_w);
    free(a.job.tasks);
    printf("\nverification: every run (loop, every pool, both setups, both splits) counted the same rectangles; "
           "every first-column task the same count.\nTSV files: %s/ch06-*.tsv\n", o->out_dir);
}

/* ---------- plumbing ---------- */

static void parse_task_slice(const char *text, long *k, long *t)
{
    char *end;
    errno = 0;
    long a = strtol(text, &end, 10);
    if (end == text || *end != '/' || errno)
        die_usage("--task: '%s' is not K/T (job K of T, 1 <= K <= T <= 1000000)", text);
    const char *rest = end + 1;
    long b = strtol(rest, &end, 10);
    if (end == rest || *end != '\0' || errno || b < 1 || b > 1000000 || a < 1 || a > b)
        die_usage("--task: '%s' is out of range (K/T with 1 <= K <= T <= 1000000)", text);
    *k = a;
    *t = b;
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch06-rectangles", usage, argc, argv);
    const char *split_text = NULL, *setup_text = NULL, *task_text = NULL, *merge_path = NULL, *dispatch_text = NULL;
    const char *sizes[2] = {NULL, NULL};
    int size_count = 0;
    bool analyze = false, yes = false;

    for (int i = 1; i < argc; i++) {
        if (kit_std_option(&o, argc, argv, &i))
            continue;
        if (is_opt(argv[i], "--split"))
            split_text = option_value(argc, argv, &i, "--split");
        else if (is_opt(argv[i], "--setup"))
            setup_text = option_value(argc, argv, &i, "--setup");
        else if (is_opt(argv[i], "--dispatch"))
            dispatch_text = option_value(argc, argv, &i, "--dispatch");
        else if (is_opt(argv[i], "--task"))
            task_text = option_value(argc, argv, &i, "--task");
        else if (is_opt(argv[i], "--merge"))
            merge_path = option_value(argc, argv, &i, "--merge");
        else if (strcmp(argv[i], "--analyze") == 0)
            analyze = true;
        else if (strcmp(argv[i], "--yes") == 0)
            yes = true;
        else if (argv[i][0] == '-' && argv[i][1] != '\0' && !(argv[i][1] >= '0' && argv[i][1] <= '9'))
            die_usage("unknown option '%s'", argv[i]);
        else if (size_count < 2)
            sizes[size_count++] = argv[i];
        else
            die_usage("unexpected argument '%s' (give R and N once)", argv[i]);
    }
    check_only(&o, experiments, sizeof experiments / sizeof experiments[0]);
    if (size_count == 1)
        die_usage("give both R and N (rows and columns), e.g. 5 7");
    int r = (int)by_mode(&o, 4, 4, 5), n = (int)by_mode(&o, 6, 7, 7);
    if (size_count == 2) {
        n = (int)parse_count("N", sizes[1], 2, MAX_N);
        r = (int)parse_count("R", sizes[0], 2, n);
    } else if (!analyze && (task_text || merge_path || split_text)) {
        die_usage("R and N are needed with --task, --merge and --split");
    }
    if (size_count == 0)
        analyze = true;
    enum split split = analyze ? SPLIT_FIRST_COLUMN : SPLIT_CYCLE_TYPE;
    if (split_text) {
        if (strcmp(split_text, "cycle-type") == 0) split = SPLIT_CYCLE_TYPE;
        else if (strcmp(split_text, "first-column") == 0) split = SPLIT_FIRST_COLUMN;
        else if (strcmp(split_text, "cycle-type-fine") == 0) split = SPLIT_CYCLE_TYPE_FINE;
        else die_usage("--split: '%s' is not a split (accepted: cycle-type, first-column, cycle-type-fine)",
                       split_text);
        if (split == SPLIT_CYCLE_TYPE_FINE && r < 4)
            die_usage("--split cycle-type-fine: R is %d, it needs R >= 4 (row 3 must not be the last row)", r);
        if (analyze)
            die_usage("--split: --analyze always compares both splits");
    }
    enum setup setup = SETUP_PER_WORKER;
    if (setup_text) {
        if (strcmp(setup_text, "task") == 0) setup = SETUP_PER_TASK;
        else if (strcmp(setup_text, "worker") == 0) setup = SETUP_PER_WORKER;
        else die_usage("--setup: '%s' is not a setup (accepted: task, worker)", setup_text);
    }
    if (dispatch_text) {
        if (strcmp(dispatch_text, "shared") == 0) worker_dispatch = DISPATCH_SHARED;
        else if (strcmp(dispatch_text, "parent") == 0) worker_dispatch = DISPATCH_PARENT;
        else die_usage("--dispatch: '%s' is not a dispatch (accepted: shared, parent)", dispatch_text);
    }
    long k = 0, t = 0;
    if (task_text)
        parse_task_slice(task_text, &k, &t);
    if ((task_text != NULL) + (merge_path != NULL) + analyze > 1)
        die_usage("--task, --merge and --analyze are different modes: pick one");

    init_bit_tables(n);
    worker_pin = o.pin;
    if (analyze) {
        catch_stop_signals(kill_workers);
        signal(SIGPIPE, SIG_IGN);
        run_analysis(&o, r, n, yes);
        return 0;
    }
    struct job job = new_job(r, n, split, setup);
    if (!split_text && job.task_count < FEW_TASKS && r >= 4) {
        free(job.tasks);                      /* few big tasks: split them once more */
        job = new_job(r, n, SPLIT_CYCLE_TYPE_FINE, setup);
    }
    if (merge_path) {
        run_merge(&o, &job, merge_path);
    } else if (task_text) {
        check_size(&job, t, yes);          /* job K is 1/T of the work */
        catch_stop_signals(NULL);
        run_task_slice(&job, k, t);
    } else {
        double estimate = check_size(&job, o.workers, yes);
        catch_stop_signals(kill_workers);
        signal(SIGPIPE, SIG_IGN);
        run_count(&o, &job, estimate);
    }
    free(job.tasks);
    return 0;
}
