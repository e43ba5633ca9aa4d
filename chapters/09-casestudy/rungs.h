/* rungs.h - what rungs.c (one computation climbed rung by rung, every rung timed by phases)
 * offers main.c. */
#ifndef CH09_RUNGS_H
#define CH09_RUNGS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"

/* The input is cut into blocks of this many values. A block's partial sum is the unit every rung
 * computes and returns, and the parent adds the partials in block order: the same additions in
 * the same order whatever the rung or the worker count, so every result is bit for bit rung 0's. */
enum { BLOCK_VALUES = 4096 };

/* The phases a rung's wall time is split into, as the parent lives them. */
enum phase { PHASE_START, PHASE_DISTRIBUTE, PHASE_COMPUTE, PHASE_COLLECT, PHASE_TEARDOWN,
             PHASES };
extern const char *const phase_names[PHASES];

/* How a shared-memory worker reaches the values: through a mapping of its own, read-write (as
 * Python's SharedMemory maps them) or read-only; or without mapping them at all, by having the
 * kernel copy one batch at a time (pread) into a buffer of its own, sized for the cache. */
enum reach { REACH_MAP_READ_WRITE, REACH_MAP_READ_ONLY, REACH_PREAD };

/* A shared-memory object in two parts. The control part, written by the workers: a counter on a
 * cache line of its own and one partial sum per block. The data part, from a page boundary on:
 * the values and their checksums, which a worker only reads, so it can map that part read-only,
 * or not map it and read it with pread. The object's name is removed the moment it is opened;
 * the parent keeps the descriptor, and a worker forked later reaches the object through its
 * inherited copy. */
struct shared {
    int fd;
    size_t bytes, data_offset;  /* the whole object; where the data part starts */
    size_t checks_offset;       /* where the checksums start, from the start of the object */
    enum reach reach;           /* this process's way to the data part */
    char *base, *data;          /* the control part (the whole object when read-write); data
                                 * is NULL when the data part is not mapped (REACH_PREAD) */
    _Atomic uint64_t *next_block;
    double *partials;
    float *values;              /* in a read-only mapping, a write here is a SIGSEGV */
    uint64_t *checks;
};

/* A worker's one buffer for pread (rung 5): a batch of values, then their checksums. */
struct batch_buffer {
    float *values;
    uint64_t *checks;
    size_t blocks;
};

/* The object's plumbing (shared.c), and a batch buffer grown to hold `blocks` blocks. */
void lay_out(struct shared *m, size_t count);
void size_parts(struct shared *m, size_t count, size_t blocks);
void unmap_shared(struct shared *m);
void free_shared(struct shared *m);
bool fit_buffer(struct batch_buffer *buf, size_t blocks);

/* How much arithmetic a value gets: `units` times the tutorial's, or, with `every` > 1, the
 * tutorial's once every `every` values and none for the others (an eighth of a unit per value
 * with every = 8): the intensity experiment goes below one unit to find where copying a value
 * costs as much as working on it. `lanes`: how many values' sine and cosine are taken at once,
 * 1 (glibc's sinf and cosf) or 4, 8, 16 (its vector versions, vector.c; every = 1 only). */
struct work {
    int units, every, lanes;
};

struct input {
    float *values;              /* `count` values in [0, 1), from a seed, born in `home` */
    size_t count, blocks;
    uint64_t *checks;           /* one checksum per block, made with the values */
    struct work work;
    struct shared home;         /* where the values are born: shared memory from the start */
};

/* Test switches: a value changed after its checksum was made (caught where it is received), or
 * one block's partial sum off by one unit in the last place (caught against rung 0). */
enum fault { FAULT_NONE, FAULT_CORRUPT, FAULT_PARTIAL };

/* When each step of a worker's start and stop happened (CLOCK_MONOTONIC ns, 0 if it was not
 * stamped), stamped by the parent and by the worker itself in memory they share: the steps of
 * the start and teardown phases, for the first MAX_TIMED workers of a shared-memory rung. */
enum stamp { FORK_CALLED, FORK_RETURNED, RUNNING, READY_SENT, READY_SEEN, TOLD_TO_STOP, SAW_END,
             UNMAPPED, REAPED, STAMPS };
enum { MAX_TIMED = 4 };
struct worker_times {
    uint64_t at[STAMPS];
};

struct rung_run {
    const struct input *in;
    int workers;
    enum kit_pin pin;
    size_t chunk_blocks;        /* rungs 1 and 2: blocks per chunk */
    size_t batch_blocks;        /* rung 5: blocks per batch */
    enum fault fault;
    const struct shared *shm;   /* rungs 4-5: the object their workers map */
    enum reach reach;           /* rungs 4-5: how their workers reach the values */
    double *partials;           /* out: one partial sum per block */
    double total;               /* out: the partials added in block order */
    double phase_ns[PHASES];    /* out: the parent's time in each phase */
    struct worker_times times[MAX_TIMED];   /* out: rungs 4-5, each worker's steps */
};

struct rung {
    const char *name;
    void (*run)(struct rung_run *r);
    const char *change;         /* the one change from the rung before */
    const char *taught;         /* the chapters that teach it */
};
extern const struct rung rungs[];
extern const int rung_count;
/* Rung 5 with the values copied into a fresh object inside the timer: what the tutorial's
 * optimized timer leaves out (its data is put in shared memory before the clock starts). */
extern const struct rung filled_rung;
/* Rung 5 with its workers mapping the values read-only instead of reading them with pread, and
 * rung 5 with its workers placed by the scheduler instead of pinned. */
extern const struct rung mapped_rung, unpinned_rung;
const struct rung *find_rung(const char *name);

/* What a page of the shared values costs a new process (pages.c): one process per way of
 * reaching them, each reading one byte per 4 KiB page twice, then unmapping; then summing every
 * value twice through a fresh mapping (or pread batches), as a worker reads them. */
enum touch_kind { TOUCH_READ_WRITE, TOUCH_READ_ONLY, TOUCH_READ_ONLY_POPULATED, TOUCH_PREAD,
                  TOUCH_KINDS };
extern const char *const touch_names[TOUCH_KINDS];
struct first_touch {
    double populate_ms;         /* MADV_POPULATE_READ before the first pass (populated only) */
    double first_ms, again_ms;  /* CPU time of the first and of the second pass */
    double unmap_ms;            /* CPU time of munmap, every page mapped */
    double faults;              /* minor page faults during the first pass */
    double work_first_ms;       /* summing every value through a second fresh mapping or */
    double work_again_ms;       /* pread batches: first pass, then second (all but populated) */
    double check_ms;            /* pread only: a pass that sums and checksums every block, */
    double check_apart_ms;      /* and one that checksums each batch before summing it */
};
struct first_touch measure_first_touch(const struct input *in, enum touch_kind kind,
                                       size_t batch_blocks);
size_t pages_of(const struct input *in);
/* Blocks [first, first + blocks) of the values and their checksums, copied by the kernel from
 * the object into `values` and `checks` (rung 5's way, and the probe's). False if the object ends
 * before them; an error of pread itself ends the process (pread_full). */
bool read_batch(const struct shared *m, const struct input *in, size_t first, size_t blocks,
                float *values, uint64_t *checks);

/* What forking this process costs as it is now (pages.c): the parent's CPU time inside fork()
 * and the wall time until a child that exits at once is reaped, medians of `trials`; and the
 * private memory fork must copy the page-table entries of (RssAnon, kB). */
struct fork_cost {
    double fork_cpu_ms, reaped_ms, rss_anon_kb;
};
struct fork_cost measure_fork(long trials);

void make_input(struct input *in, size_t count, unsigned long seed, struct work work);
double units_per_value(struct work work);
void free_input(struct input *in);
double add_partials(const double *partials, size_t blocks);
double block_sum(const float *values, size_t n, struct work work);
uint64_t block_checksum(const float *values, size_t n);
double block_sum_checked(const float *values, size_t n, struct work work, uint64_t *checksum);
/* values in blocks [first, first + blocks): the input's last block may be short */
size_t values_in(const struct input *in, size_t first, size_t blocks);
size_t default_chunk_blocks(size_t blocks, int workers);

#endif
