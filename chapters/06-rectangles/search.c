/* search.c - counting signed Latin rectangles exactly, split into independent tasks.
 *
 * An r x n Latin rectangle has r rows, each a permutation of 0..n-1, and no symbol twice in a
 * column. Normalized: the first row is 0 1 .. n-1. Its sign is the product of its rows' signs
 * (inversion parities). We count the normalized r x n rectangles of sign +1 and of sign -1;
 * for r = n their difference is the Alon-Tarsi question. The algorithm, one section per step:
 *   1. rows 2.. are derangements of row 1: a table of them with their signs, per first symbol
 *   2. bitmask DFS row by row, cell by cell; the row's sign updated as each symbol is placed
 *   3. symmetry: the first column sorted, times (r-1)!; each sorted first column is a task,
 *      and all C(n-1, r-1) of them give the same count
 *   4. the last row counted, not enumerated: a DP over the set of symbols used so far
 *   5. the cycle-type split: row 2 fixed to one derangement per cycle type, times the class
 *      size and (r-2)!; about 100x less work, tasks of very unequal size; when they are few,
 *      cycle-type-fine splits each again by row 3's second symbol
 * A task is counted by run_task() in whatever process runs it: this file knows nothing of
 * pools, pipes or tables of results (pool.c hands the tasks out; main.c adds them up).
 *
 * What to look for: the set operations are single machine instructions on bit masks; the sign
 * costs one table lookup per cell; the last row, where most rectangles branch, is a DP over
 * at most C(n-1, k) sets; and symmetry (steps 3 and 5) removes whole factors of the work.
 * Counts are exact 128-bit integers.
 */
#define _GNU_SOURCE
#include <time.h>

#include "bench.h"
#include "search.h"

const char *const split_names[3] = {"cycle-type", "first-column", "cycle-type-fine"};

/* ---------- exact numbers ---------- */

u128 factorial(int k)
{
    u128 f = 1;
    for (int i = 2; i <= k; i++)
        f *= (u128)i;
    return f;
}

u128 binomial(int n, int k)
{
    u128 b = 1;
    for (int i = 1; i <= k; i++)
        b = b * (u128)(n - k + i) / (u128)i;
    return b;
}

/* D(n) = (n-1)(D(n-1) + D(n-2)): permutations with no fixed point. */
u128 derangement_number(int n)
{
    u128 a = 1, b = 0;   /* D(0), D(1) */
    for (int i = 2; i <= n; i++) {
        u128 next = (u128)(i - 1) * (a + b);
        a = b;
        b = next;
    }
    return n == 0 ? 1 : b;
}

/* ---------- bit tables ---------- */

static uint8_t parity_of[1 << MAX_N];     /* parity_of[m]: popcount(m) & 1 */
static unsigned above[MAX_N];             /* above[s]: the symbols greater than s */

void init_bit_tables(int n)
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
static void generate_derangements(struct row_generator *g, int col, unsigned used,
                                  unsigned parity, uint64_t packed)
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
        verification_failed("derangements of %d starting with %d: %zu, expected %zu", t->n,
                            first + 1, g.len, size);
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

/* cycle-type-fine: row 3 starts with its first two symbols fixed (r >= 4, so it is not the
 * last row); the DFS goes on from column 3 as if it had placed `second` itself. */
static void count_from_second_cell(struct search *s, int second, unsigned parity)
{
    unsigned row_used = 1u << s->first[2], bit = 1u << second;
    s->t.nodes++;
    s->col_used[1] |= bit;
    place_cells(s, 2, 2, row_used | bit, parity ^ parity_of[row_used & above[second]]);
    s->col_used[1] &= ~bit;
}

/* book:stop-check */
static void count_from_row(struct search *s, int row, unsigned parity)
{
    if (row == s->r) {                       /* only when row 2 was the last row (r = 2) */
        s->t.total += 1;
        s->t.signed_sum += parity ? -1 : 1;
    } else if (row == s->r - 1) {
        count_last_row(s, parity);
    } else {
        /* One task can run for minutes, so a stop signal (Ctrl-C, a scheduler's SIGTERM) is
         * looked at here, once per row begun above the last: a load and a branch, far apart
         * enough to cost nothing, close enough to stop within milliseconds. */
        exit_if_stopped();
        place_cells(s, row, 1, 1u << s->first[row], parity);
    }
}
/* end:stop-check */

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

/* Every sorted choice of `k` symbols from `pool` (in order), appended as tasks from `row`. */
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
 * (any symbol its column and its row do not hold yet). The same rectangles, n-3 or n-2 times
 * as many tasks, each a part of one cycle-type task's search. */
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
    find_classes(job, parts, 0, n, n);
    size_t most = job->split == SPLIT_FIRST_COLUMN
                      ? (size_t)binomial(n - 1, r - 1)
                      : (size_t)job->class_count * (size_t)binomial(n - 2, r - 2);
    job->tasks = malloc(most * sizeof *job->tasks);
    if (!job->tasks)
        die_errno("malloc (tasks)");
    if (job->split == SPLIT_FIRST_COLUMN) {
        /* step 3: rows 2..r start with c2 < c3 < ... (one of (r-1)! orders): C(n-1, r-1) tasks */
        for (int s = 1; s < n; s++)
            pool[s - 1] = s;
        add_column_tasks(job, pool, n - 1, r - 1, 1, &base, 0);
        return;
    }
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

/* What each rectangle counted in a task stands for. */
u128 task_weight(const struct job *job, const struct task *t)
{
    if (job->split == SPLIT_FIRST_COLUMN)
        return factorial(job->r - 1);
    return job->classes[t->cls].size * factorial(job->r - 2);
}
/* end:splits */

struct job new_job(int r, int n, enum split split, enum setup setup)
{
    struct job job;
    memset(&job, 0, sizeof job);
    job.r = r, job.n = n, job.split = split, job.setup = setup;
    make_tasks(&job);
    return job;
}

void free_job(struct job *job)
{
    free(job->tasks);
    job->tasks = NULL;
    job->task_count = 0;
}

/* "1,2,3,4,5" (the first column), "4+3:3,4,5" (row 2's cycle type: rows 3..r's first
 * symbols) or "4+3:3,4,5/6" (cycle-type-fine: and row 3's second symbol). */
const char *task_label(const struct job *job, const struct task *t, char *buf, size_t len)
{
    int used = 0, from = t->cls >= 0 ? 2 : 0;
    buf[0] = '\0';
    if (t->cls >= 0)
        used = snprintf(buf, len, "%s", job->classes[t->cls].name);
    for (int row = from; row < job->r && used >= 0 && (size_t)used < len; row++)
        used += snprintf(buf + used, len - (size_t)used, "%s%d",
                         row > from ? "," : t->cls >= 0 ? ":" : "", t->first[row] + 1);
    if (t->second >= 0 && used >= 0 && (size_t)used < len)
        snprintf(buf + used, len - (size_t)used, "/%d", t->second + 1);
    return buf;
}

/* ---------- one task, in whatever process runs it ---------- */

struct solver {                 /* what a process keeps from one task to the next */
    struct search s;
    struct derangement_table table;
};

struct solver *solver_new(const struct job *job)
{
    struct solver *sv = calloc(1, sizeof *sv);
    if (!sv)
        die_errno("calloc (solver)");
    search_init(&sv->s, job->r, job->n);
    sv->table.n = job->n;
    return sv;
}

void solver_free(struct solver *sv)
{
    for (int c = 0; c < MAX_N; c++)
        free_bucket(&sv->table, c);
    search_free(&sv->s);
    free(sv);
}

/* The first-column split: row 2 is each derangement in the bucket of its first symbol, built
 * here unless this process kept it from an earlier task (that is the setup a pool pays). */
static void count_with_table(const struct job *job, struct solver *sv, int c2,
                             struct task_result *res)
{
    struct search *s = &sv->s;
    if (!sv->table.rows[c2]) {
        uint64_t setup_start = now_ns();
        build_bucket(&sv->table, c2);
        res->setup_ns = now_ns() - setup_start;
        res->setups = 1;
    }
    const uint64_t *rows = sv->table.rows[c2];
    for (size_t i = 0; i < sv->table.count[c2]; i++) {
        uint64_t packed = rows[i];
        for (int j = 1; j < job->n; j++)
            s->col_used[j] |= 1u << ((packed >> (4 * j)) & 15);
        count_from_row(s, 2, (packed & ODD_ROW) != 0);
        reset_columns(s);
    }
    if (job->setup == SETUP_PER_TASK)
        free_bucket(&sv->table, c2);                  /* the naive pool: rebuilt next task */
}

void run_task(const struct job *job, int index, struct solver *sv, struct task_result *res)
{
    const struct task *t = &job->tasks[index];
    struct search *s = &sv->s;
    memset(res, 0, sizeof *res);
    res->task = index;
    res->start_ns = now_ns();
    uint64_t cpu_start = cpu_ns();
    memset(&s->t, 0, sizeof s->t);
    for (int row = 0; row < job->r; row++)
        s->first[row] = t->first[row];
    reset_columns(s);
    if (job->no_work) {
        /* --analyze's empty pool: the same tasks handed out and returned, nothing counted */
    } else if (t->cls >= 0) {                 /* row 2 fixed to the class's representative */
        const struct cycle_class *c = &job->classes[t->cls];
        for (int j = 0; j < job->n; j++)
            s->col_used[j] |= 1u << c->rep[j];
        if (t->second < 0)
            count_from_row(s, 2, c->odd);
        else
            count_from_second_cell(s, t->second, c->odd);
    } else if (job->r == 2) {                 /* row 2 is the last row */
        count_from_row(s, 1, 0);
    } else {                                  /* row 2 from the table's bucket */
        count_with_table(job, sv, t->first[1], res);
    }
    res->total = s->t.total;
    res->signed_sum = s->t.signed_sum;
    res->nodes = s->t.nodes;
    res->dp_steps = s->t.dp_steps;
    res->cpu_ns = cpu_ns() - cpu_start;
    res->end_ns = now_ns();
}

/* ---------- how big is the tree? Knuth's estimate ----------
 * Walk random paths; along a path the product of the branching factors estimates how many
 * nodes its level has. Work = cells + DP steps, as the real search counts them. */

static uint64_t xorshift(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* One random path from task t's start: the work it stands for. */
static double probe(const struct job *job, const struct task *t, struct search *s, uint64_t *x)
{
    double weight = job->task_count, work = 0;
    for (int row = 0; row < job->r; row++)
        s->first[row] = t->first[row];
    reset_columns(s);
    int row = 1;
    if (t->cls >= 0) {
        for (int j = 0; j < job->n; j++)
            s->col_used[j] |= 1u << job->classes[t->cls].rep[j];
        row = 2;
    }
    for (; row < job->r - 1 && weight > 0; row++) {
        unsigned row_used = 1u << s->first[row];
        for (int col = 1; col < job->n && weight > 0; col++) {
            unsigned free = s->full & ~(s->col_used[col] | row_used);
            if (row == 2 && col == 1 && t->second >= 0)
                free &= 1u << t->second;              /* cycle-type-fine: this cell is fixed */
            int k = __builtin_popcount(free);
            weight *= k;
            work += weight;
            if (k == 0)
                break;
            for (int pick = (int)(xorshift(x) % (uint64_t)k); pick > 0; pick--)
                free &= free - 1;
            unsigned bit = free & -free;
            s->col_used[col] |= bit;
            row_used |= bit;
        }
    }
    if (weight > 0 && row == job->r - 1) {
        memset(&s->t, 0, sizeof s->t);
        count_last_row(s, 0);
        work += weight * (double)(s->t.dp_steps + 1);
    }
    return work + job->task_count;
}

double estimate_work(const struct job *job, int probes, uint64_t seed)
{
    struct search s;
    uint64_t x = seed | 1;
    double sum = 0;
    search_init(&s, job->r, job->n);
    for (int p = 0; p < probes; p++) {
        const struct task *t = &job->tasks[xorshift(&x) % (uint64_t)job->task_count];
        sum += probe(job, t, &s, &x);
    }
    search_free(&s);
    return sum / probes;
}
