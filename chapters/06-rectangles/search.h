/* search.h - what search.c offers the rest of the program: the exact counting of signed
 * Latin rectangles, split into tasks, one task at a time in whatever process runs it.
 *
 *   init_bit_tables(n)              once, before any search
 *   new_job(r, n, split, setup)     the tasks of one size and split (free_job when done)
 *   task_weight(job, task)          the rectangles each one counted in that task stands for
 *   task_label(job, task, buf, n)   "1,2,3,4" (first column), "4+3:3,4,5" (cycle type), ...
 *   solver_new(job), solver_free()  a process's scratch: search state and derangement table
 *   run_task(job, i, solver, res)   count task i; its result, times and CPU time in *res
 *   estimate_work(job, probes, seed)  Knuth's estimate of the whole job's work
 *   factorial(k), binomial(n, k), derangement_number(n)   exact 128-bit numbers
 */
#ifndef CH06_SEARCH_H
#define CH06_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef unsigned __int128 u128;
typedef __int128 i128;

enum { MAX_N = 16, MAX_CLASSES = 64 };
enum split { SPLIT_CYCLE_TYPE, SPLIT_FIRST_COLUMN, SPLIT_CYCLE_TYPE_FINE };
enum setup { SETUP_PER_WORKER, SETUP_PER_TASK };
extern const char *const split_names[3];

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

/* One task's answer, written where the task ran (in shared memory, for a pool worker). */
struct task_result {
    int32_t worker, task, setups, pad;
    uint64_t start_ns, end_ns, setup_ns, cpu_ns, nodes, dp_steps;
    u128 total;                      /* rectangles found, before the task's weight */
    i128 signed_sum;                 /* positive - negative */
};

struct solver;

void init_bit_tables(int n);
struct job new_job(int r, int n, enum split split, enum setup setup);
void free_job(struct job *job);
u128 task_weight(const struct job *job, const struct task *t);
const char *task_label(const struct job *job, const struct task *t, char *buf, size_t len);
struct solver *solver_new(const struct job *job);
void solver_free(struct solver *sv);
void run_task(const struct job *job, int index, struct solver *sv, struct task_result *res);
double estimate_work(const struct job *job, int probes, uint64_t seed);
u128 factorial(int k);
u128 binomial(int n, int k);
u128 derangement_number(int n);

#endif
