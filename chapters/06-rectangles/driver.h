/* driver.h - what the driver's files (main.c, counts.c, analyze.c) share.
 *
 *   counts.c   add_up(job, results)                  the weighted sum over every task, with the
 *                                                    first-column symmetry checked
 *              verified_count(job, results, what, len)  add_up, checked against every known
 *                                                    value; what it checked
 *              add_check(what, len, fmt, ...)        one more clause of that verification line
 *              check_size(job, workers, yes)         refuse overflow, memory, hours (exit 2)
 *              print_count(count), format_u128/i128, parse_u128
 *   analyze.c  run_analysis(o, options)              --analyze: the ProcessPool questions
 */
#ifndef CH06_DRIVER_H
#define CH06_DRIVER_H

#include "bench.h"
#include "pool.h"
#include "search.h"

/* The chapter's own options, beside the kit's (struct kit_opts). */
struct options {
    int r, n;
    enum split split;
    bool split_given;
    enum setup setup;
    enum dispatch dispatch;
    bool analyze, yes;
    const char *merge_path;          /* --merge FILE, or NULL */
    long task_k, task_t;             /* --task K/T, or 0/0 */
};

struct count {
    u128 positive, negative;
    uint64_t work;                   /* DFS cells + DP steps */
};

/* What one unit of work (a cell or a DP step) costs: 8 to 12 ns measured on the kit's 2-core
 * machine with both splits at (4,7), (5,7), (5,8). Only used to warn before hour-long runs. */
#define NS_PER_WORK_UNIT 10.0

const char *format_u128(u128 v, bool separators, char *buf, size_t len);
const char *format_i128(i128 v, bool separators, char *buf, size_t len);
bool parse_u128(const char *text, u128 *out);
struct count add_up(const struct job *job, const struct task_result *results);
struct count verified_count(const struct job *job, const struct task_result *results,
                            char *what, size_t len);
__attribute__((format(printf, 3, 4)))
void add_check(char *what, size_t len, const char *fmt, ...);
double check_size(const struct job *job, long workers, bool yes);
void print_count(struct count c);
void run_analysis(struct kit_opts *o, const struct options *opt);

#endif
