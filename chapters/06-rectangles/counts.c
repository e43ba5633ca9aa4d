/* counts.c - the driver's exact arithmetic: task results added up with their weights, counts
 * printed and read back in 128 bits, checked against every value known independently, and the
 * sizes the program refuses before any work (a count past 2^126, tables past half the memory,
 * a run of hours without --yes).
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdarg.h>

#include "driver.h"

/* 1234567 -> "1,234,567" (or without separators for machine-read output). */
const char *format_u128(u128 v, bool separators, char *buf, size_t len)
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

const char *format_i128(i128 v, bool separators, char *buf, size_t len)
{
    if (v >= 0)
        return format_u128((u128)v, separators, buf, len);
    buf[0] = '-';
    format_u128((u128)-v, separators, buf + 1, len - 1);
    return buf;
}

bool parse_u128(const char *text, u128 *out)
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

void print_count(struct count c)
{
    char a[64];
    i128 diff = (i128)c.positive - (i128)c.negative;
    printf("  %-10s %28s\n", "positive", format_u128(c.positive, true, a, sizeof a));
    printf("  %-10s %28s\n", "negative", format_u128(c.negative, true, a, sizeof a));
    printf("  %-10s %28s\n", "total", format_u128(c.positive + c.negative, true, a, sizeof a));
    printf("  %-10s %28s\n", "difference", format_i128(diff, true, a, sizeof a));
}

/* ---------- values known independently ---------- */

/* Positive and negative normalized rectangles: the published small sizes, then sizes where
 * both splits here, and rect.py (all of (4,7), one task of (5,7)), agree. */
static const struct known {
    int r, n;
    unsigned long long positive, negative;
} known_counts[] = {
    {2, 4, 3, 6}, {3, 4, 12, 12}, {4, 4, 24, 0},
    {3, 5, 312, 240}, {4, 5, 384, 960}, {5, 5, 384, 960},
    {2, 6, 130, 135}, {3, 6, 10480, 10800}, {4, 6, 203040, 190080},
    {5, 6, 576000, 552960}, {6, 6, 426240, 702720},
    {4, 7, 77529600, 77656320}, {5, 7, 2029086720, 2028257280},
    {6, 7, 5966438400, 6231859200}, {7, 7, 5966438400, 6231859200},
};

/* Reduced Latin rectangles (first row and first column in order), R(k,n) for 2 <= k <= n <= 8,
 * as published by McKay and Wanless (2005). Sorting rows 2..k of a normalized rectangle by
 * their first symbol gives a reduced one: each reduced rectangle comes from the (n-1)!/(n-k)!
 * ways to choose and order the first column, so normalized = R(k,n) x (n-1)!/(n-k)!.
 * For k = n this is the count of reduced Latin squares (16,942,080 of order 7). */
static const unsigned long long reduced_rectangles[9][9] = {
    [2] = {[2] = 1, 1, 3, 11, 53, 309, 2119},
    [3] = {[3] = 1, 4, 46, 1064, 35792, 1673792},
    [4] = {[4] = 4, 56, 6552, 1293216, 420909504},
    [5] = {[5] = 56, 9408, 11270400, 27206658048},
    [6] = {[6] = 9408, 16942080, 335390189568},
    [7] = {[7] = 16942080, 535281401856},
    [8] = {[8] = 535281401856},
};

/* One more clause of a verification line: "...; total = D(5) derangements, ...". */
void add_check(char *what, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (what[0])
        strncat(what, "; ", len - strlen(what) - 1);
    size_t used = strlen(what);
    va_start(ap, fmt);
    vsnprintf(what + used, len - used, fmt, ap);
    va_end(ap);
}

static void verify_known(int r, int n, struct count c, char *what, size_t len)
{
    char a[64], b[64];
    for (size_t k = 0; k < sizeof known_counts / sizeof known_counts[0]; k++) {
        const struct known *kc = &known_counts[k];
        if (kc->r != r || kc->n != n)
            continue;
        if (kc->positive != c.positive || kc->negative != c.negative)
            verification_failed("(%d,%d): positive %s negative %s, expected %llu %llu", r, n,
                                format_u128(c.positive, true, a, sizeof a),
                                format_u128(c.negative, true, b, sizeof b), kc->positive,
                                kc->negative);
        add_check(what, len, "positive and negative match the known values");
    }
}

/* r = 2: row 2 is any derangement, and the signed sum is known in closed form. */
static void verify_derangements(int n, struct count c, char *what, size_t len)
{
    char a[64], b[64], d_text[64];
    u128 d = derangement_number(n), total = c.positive + c.negative;
    i128 diff = (i128)c.positive - (i128)c.negative, expect = (n % 2 ? 1 : -1) * (i128)(n - 1);
    if (total != d || diff != expect)
        verification_failed("(2,%d): total %s difference %s, expected D(%d) = %s and "
                            "(-1)^(n-1)(n-1) = %d", n, format_u128(total, true, a, sizeof a),
                            format_i128(diff, true, b, sizeof b), n,
                            format_u128(d, false, d_text, sizeof d_text), (int)expect);
    add_check(what, len, "total = D(%d) derangements, difference = %d", n, (int)expect);
}

static void verify_reduced(int r, int n, struct count c, char *what, size_t len)
{
    char a[64], b[64];
    u128 reduced = reduced_rectangles[r][n], ways = factorial(n - 1) / factorial(n - r);
    if (c.positive + c.negative != reduced * ways)
        verification_failed("(%d,%d): total %s, expected %llu reduced rectangles x %d!/%d! = %s",
                            r, n, format_u128(c.positive + c.negative, true, a, sizeof a),
                            reduced_rectangles[r][n], n - 1, n - r,
                            format_u128(reduced * ways, true, b, sizeof b));
    add_check(what, len, "total = %llu reduced %dx%d rectangles x %d!/%d!",
              reduced_rectangles[r][n], r, n, n - 1, n - r);
}

/* Step 3's promise: every sorted first column gives the same count. */
static void verify_equal_tasks(const struct job *job, const struct task_result *results)
{
    if (job->split != SPLIT_FIRST_COLUMN)
        return;
    for (int i = 1; i < job->task_count; i++)
        if (results[i].total != results[0].total ||
            results[i].signed_sum != results[0].signed_sum) {
            char a[64], b[64];
            verification_failed("first-column task %d counted %s rectangles, task 0 %s: the "
                                "symmetry is broken", i,
                                format_u128(results[i].total, true, a, sizeof a),
                                format_u128(results[0].total, true, b, sizeof b));
        }
}

/* The weighted sum over every task, with the first-column symmetry checked. */
struct count add_up(const struct job *job, const struct task_result *results)
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
    verify_equal_tasks(job, results);
    return c;
}

/* add_up, then every value known for this size. `what` says what the known values confirmed
 * ("" when none is known); a mismatch is `verification failed`, exit 1. */
struct count verified_count(const struct job *job, const struct task_result *results,
                            char *what, size_t len)
{
    struct count c = add_up(job, results);
    what[0] = '\0';
    verify_known(job->r, job->n, c, what, len);
    if (job->r == 2)
        verify_derangements(job->n, c, what, len);
    if (job->n <= 8)
        verify_reduced(job->r, job->n, c, what, len);
    return c;
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

/* A size the program will not start (exit 2, before any work): the count could overflow, the
 * tables would not fit, or it would take hours without --yes. Returns the estimated work. */
double check_size(const struct job *job, long workers, bool yes)
{
    int r = job->r, n = job->n;
    double bits = log2_count_bound(r, n);
    if (bits > 126)
        die_usage("(%d,%d): the count could reach 2^%.0f and this program counts in 128 bits "
                  "(up to 2^126); choose a smaller size", r, n, bits);
    if (job->split == SPLIT_FIRST_COLUMN && r >= 3) {
        double rows = (double)(derangement_number(n - 1) + derangement_number(n - 2));
        double tables = job->setup == SETUP_PER_TASK ? 1 : n - 1;
        double bytes = rows * 8 * tables * (double)workers;
        double memory = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
        if (n > 15 || bytes > memory / 2)
            die_usage("(%d,%d) --split first-column: the derangement tables need %.3g bytes, "
                      "more than half this machine's memory; use --split cycle-type", r, n,
                      bytes);
    }
    double work = estimate_work(job, 400, 12345);
    double seconds = work * NS_PER_WORK_UNIT / 1e9 / (double)workers;
    if (!yes && seconds > 3600)
        die_usage("(%d,%d) --split %s would run about %.3g hours on %ld workers (a Knuth "
                  "estimate of the search); pass --yes to run it anyway", r, n,
                  split_names[job->split], seconds / 3600, workers);
    return work;
}
