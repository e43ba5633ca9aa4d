/* readers.h - what readers.c (the mechanism) offers the driver, main.c. */
#ifndef CH05_READERS_H
#define CH05_READERS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"

enum { MAX_PROCS = 2048, METHOD_COUNT = 6 };

/* --inject: a worker with a bug (overlap, gap, sum) or one that waits to be killed (stall) */
enum inject { INJECT_NONE, INJECT_OVERLAP, INJECT_GAP, INJECT_SUM, INJECT_STALL };

/* The data file, made and filled by main.c; its name is gone once it is open. */
struct data_file {
    char dir[PATH_MAX];         /* our private directory, when we made one (removed at once) */
    char path[PATH_MAX];        /* the file's name while it had one */
    pid_t owner;                /* only this process closes it, never a worker */
    int fd;
    uint64_t size;              /* bytes, a multiple of 4 */
    size_t page;
    uint64_t pages;             /* ceil(size / page): the last page may be partial */
    int64_t *eighths_before;    /* [p] = 8 x the sum of the values in pages 0..p-1 */
    double expected_sum;
    unsigned char *residency;   /* mincore() vector, one byte per page */
};
extern struct data_file data;

struct range {
    uint64_t begin, end;
};

/* Every method has this signature, so one process or N of them run the same code.
 * `done` receives the bytes actually summed, which the caller checks. */
typedef double (*range_sum_fn)(int fd, struct range r, float *buf, size_t bufsize,
                               uint64_t *done);

struct method {
    const char *name;       /* a split method is named NAME-N in the output */
    range_sum_fn sum;
    bool split;             /* N worker processes, one range each */
    const char *what;
};
extern const struct method methods[METHOD_COUNT];

/* One pipe message per worker: 32 bytes, written atomically. */
struct partial {
    int32_t worker;
    uint64_t begin, bytes;  /* what the worker actually summed */
    double sum;
};

/* One split run: what the workers do, how many, where, and the pipe they report on. */
struct split_job {
    const struct method *method;
    int procs;
    float *buf;             /* the read buffer each worker inherits (copy-on-write) */
    size_t bufsize;
    enum inject inject;
    enum kit_pin pin;
    int pipe[2];
};

double sum_values(const float *v, size_t n);
double expected_range_sum(uint64_t begin, uint64_t end);
struct range split_range(int w, int n);
double run_split(struct split_job *job, struct partial *reports);
double resident_fraction(void);
double evict_file(void);

#endif
