/* rungs.c - one computation climbed as a ladder, one change per rung, every rung's wall time
 * split into the phases the parent lives through.
 *
 * The computation is the tutorial's case study: the sum of sin(x) * cos(x) + sqrt(|x|) over
 * float32 values. The rungs:
 *   0 sequential            one process: the floor every rung is read against
 *   1 fork-per-chunk-pipe   a fresh process per chunk, the chunk copied and sent through a pipe
 *   2 pool-pipe             the processes started once and reused for every chunk
 *   3 pool-chunked          the same, with four chunks per worker (the pool rule of chapter 2)
 *   4 pool-shm              index ranges of values born in shared memory: nothing copied
 *   5 pool-shm-batched      workers pinned one CPU each take cache-sized batches from a shared
 *                           counter and read each with pread into one buffer
 * and rung 5 three times more: +fill copies the values into a fresh object inside the timer
 * (the tutorial fills its shared memory before its clock starts), -mapped maps them read-only,
 * -unpinned leaves its workers where the scheduler puts them.
 *
 * What to look for: each rung changes one thing (rung 5 three: pinning, batches, pread; -unpinned
 * and -mapped take two of them back), so the difference between two rungs' phase bars is what
 * that change bought. The parent charges every moment of its timeline to a
 * phase (start, distribute, compute, collect, teardown) with a pair of clock readings around
 * each step; the driver compares the sum with the wall time it measured itself. "compute" is
 * the time the parent waits for results. Shared memory is not free even when nothing is copied:
 * the first read of each page through a new mapping costs a process CPU time (pages.c measures
 * it per page), which is why rung 5 reads its batches with pread instead.
 *
 * Every rung returns one partial sum per block of BLOCK_VALUES values, and the parent adds them
 * in block order: the same floating-point additions in the same order on every rung, so every
 * rung must return rung 0's result bit for bit. The data is checked where it is received: each
 * block carries a checksum made with the values, and the worker recomputes it. The workers'
 * plumbing (pipes, start, stop, a death reported) is in crew.c, the object's in shared.c.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "bench.h"
#include "crew.h"
#include "rungs.h"
#include "vector.h"

const char *const phase_names[PHASES] = {"start", "distribute", "compute", "collect", "teardown"};

/* ---------- the computation and its checks ---------- */

static double block_sum_in_lanes(const float *values, size_t n, struct work work,
                                 uint64_t *checksum);

/* book:work */
/* The tutorial's arithmetic in float32, as NumPy does it, `units` times, added to a block's sum,
 * which is accumulated in double. */
static inline void add_work(double *sum, float value, int units)
{
    for (int u = 0; u < units; u++) {
        float x = value + (float)u * 0x1p-8f;
        *sum += sinf(x) * cosf(x) + sqrtf(fabsf(x));
    }
}

/* Value i of a block gets the arithmetic when it is one of every `every` (all of them, unless
 * the intensity experiment asks for less than a unit per value); the others are only added. */
static inline void add_value(double *sum, const float *values, size_t i, struct work work)
{
    if (work.every == 1 || i % (size_t)work.every == 0)
        add_work(sum, values[i], work.units);
    else
        *sum += values[i];
}

double block_sum(const float *values, size_t n, struct work work)
{
    if (work.lanes > 1)
        return block_sum_in_lanes(values, n, work, NULL);
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        add_value(&sum, values, i, work);
    return sum;
}

/* The blocks' partial sums, always added in block order. */
double add_partials(const double *partials, size_t blocks)
{
    double total = 0;
    for (size_t b = 0; b < blocks; b++)
        total += partials[b];
    return total;
}
/* end:work */

/* Value i's share of its block's checksum, a weighted sum of the values' bits: any one changed
 * value, and any two swapped, change it. */
static inline uint64_t check_term(float value, size_t i)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    return (uint64_t)bits * (2 * i + 1);
}

uint64_t block_checksum(const float *values, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += check_term(values[i], i);
    return sum;
}

/* book:sum-checked */
/* A worker that received values sums a block and checksums it in the same pass, so each value
 * is loaded once for both (pages.c's probe times this pass against a checksum pass of its own
 * before the sum). */
double block_sum_checked(const float *values, size_t n, struct work work, uint64_t *checksum)
{
    if (work.lanes > 1)
        return block_sum_in_lanes(values, n, work, checksum);
    double sum = 0;
    uint64_t check = 0;
    for (size_t i = 0; i < n; i++) {
        check += check_term(values[i], i);
        add_value(&sum, values, i, work);
    }
    *checksum = check;
    return sum;
}
/* end:sum-checked */

/* One register's worth of values (`lanes` of them): their sines and cosines through libmvec
 * once per unit, the terms added unit by unit, then value by value. */
static inline void add_lanes_of_work(double *sum, const float *values, struct work work)
{
    float x[16], product[16];
    for (int u = 0; u < work.units; u++) {
        sin_cos_products(values, (float)u * 0x1p-8f, x, product, work.lanes);
        for (int lane = 0; lane < work.lanes; lane++)
            *sum += product[lane] + sqrtf(fabsf(x[lane]));
    }
}

/* A block `lanes` values at a time, NumPy's way; its last values, short of a whole register,
 * one at a time; checksummed in the same pass when `checksum` is given. Every rung sums a block
 * this same way, so they agree bit for bit with each other; not with the one-at-a-time sums,
 * since libmvec's sin and cos may differ from glibc's scalar ones in their last bits. */
static double block_sum_in_lanes(const float *values, size_t n, struct work work,
                                 uint64_t *checksum)
{
    double sum = 0;
    uint64_t check = 0;
    size_t lanes = (size_t)work.lanes, whole = n - n % lanes, i = 0;
    for (; i < whole; i += lanes) {
        if (checksum)
            for (size_t k = i; k < i + lanes; k++)
                check += check_term(values[k], k);
        add_lanes_of_work(&sum, values + i, work);
    }
    for (; i < n; i++) {
        if (checksum)
            check += check_term(values[i], i);
        add_value(&sum, values, i, work);
    }
    if (checksum)
        *checksum = check;
    return sum;
}

static size_t first_value(size_t block) { return block * BLOCK_VALUES; }

/* Values in blocks [first, first + blocks): the last block of the input may be short. */
size_t values_in(const struct input *in, size_t first, size_t blocks)
{
    size_t end = first_value(first + blocks);
    return (end < in->count ? end : in->count) - first_value(first);
}

/* ---------- the values, born in shared memory ---------- */

/* book:create */
/* A POSIX shared-memory object, as SharedMemory(create=True) makes one: a file in /dev/shm,
 * sized and mapped. Its name is removed at once, so nothing is left behind whatever happens to
 * this process; the open descriptor is what the workers, forked later, map it by. */
static void create_shared(struct shared *m, size_t count, size_t blocks)
{
    char name[64];
    snprintf(name, sizeof name, "/%s-%d-data", kit_prog, (int)getpid());
    m->fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (m->fd == -1)
        die_errno("shm_open");
    if (shm_unlink(name) == -1)
        die_errno("shm_unlink");
    size_parts(m, count, blocks);
    if (ftruncate(m->fd, (off_t)m->bytes) == -1)
        die_errno("ftruncate");
    m->base = mmap(NULL, m->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, 0);
    if (m->base == MAP_FAILED)
        die_errno("mmap");
    m->data = m->base + m->data_offset;
    m->reach = REACH_MAP_READ_WRITE;
    lay_out(m, count);
}
/* end:create */

/* book:map-shared */
/* In a worker: mappings of its own, through the inherited descriptor. Read-write, the whole
 * object is one mapping (what SharedMemory(name=...) gives a Python worker). Otherwise only the
 * control part, which the worker writes, is mapped read-write, and the values and checksums
 * are mapped apart with PROT_READ, or not at all (pread reaches them through the descriptor). */
static bool map_shared(struct shared *m, const struct shared *from, const struct input *in,
                       enum reach reach)
{
    *m = *from;
    m->reach = reach;
    size_t writable = reach == REACH_MAP_READ_WRITE ? from->bytes : from->data_offset;
    m->base = mmap(NULL, writable, PROT_READ | PROT_WRITE, MAP_SHARED, from->fd, 0);
    if (m->base == MAP_FAILED)
        return false;
    m->data = reach == REACH_MAP_READ_WRITE ? m->base + from->data_offset : NULL;
    if (reach == REACH_MAP_READ_ONLY)
        m->data = mmap(NULL, from->bytes - from->data_offset, PROT_READ, MAP_SHARED, from->fd,
                       (off_t)from->data_offset);
    if (m->data == MAP_FAILED)
        return false;
    lay_out(m, in->count);
    return true;
}
/* end:map-shared */

/* book:read-batch */
/* Rung 5's way to the values: pread copies a batch of them from the object into the worker's
 * buffer. The kernel reads the pages through its own mapping of all memory, so the worker makes
 * no page-table entry for them and pays no first touch per page; it pays for a copy instead,
 * into a buffer small enough to stay in the cache, touched once and reused for every batch. */
bool read_batch(const struct shared *m, const struct input *in, size_t first, size_t blocks,
                float *values, uint64_t *checks)
{
    size_t value_bytes = values_in(in, first, blocks) * sizeof(float);
    size_t check_bytes = blocks * sizeof(uint64_t);
    off_t values_at = (off_t)(m->data_offset + first_value(first) * sizeof(float));
    off_t checks_at = (off_t)(m->checks_offset + first * sizeof(uint64_t));
    return pread_full(m->fd, values, value_bytes, values_at) == value_bytes &&
           pread_full(m->fd, checks, check_bytes, checks_at) == check_bytes;
}
/* end:read-batch */

double units_per_value(struct work work) { return (double)work.units / work.every; }

void make_input(struct input *in, size_t count, unsigned long seed, struct work work)
{
    in->count = count;
    in->blocks = (count + BLOCK_VALUES - 1) / BLOCK_VALUES;
    in->work = work;
    create_shared(&in->home, count, in->blocks);
    in->values = in->home.values;
    in->checks = in->home.checks;
    uint64_t base = mix64(seed);
    for (size_t i = 0; i < count; i++)      /* 24 random bits: exact in a float, in [0, 1) */
        in->values[i] = (float)(mix64(base + i) >> 40) * 0x1p-24f;
    for (size_t b = 0; b < in->blocks; b++)
        in->checks[b] = block_checksum(in->values + first_value(b), values_in(in, b, 1));
}

void free_input(struct input *in)
{
    free_shared(&in->home);
    memset(in, 0, sizeof *in);
}

/* The block a fault switch changes: the middle one. */
static size_t faulty_block(const struct input *in) { return in->blocks / 2; }

static void inject_partial_fault(const struct input *in, size_t first, size_t blocks,
                                 double *partials, enum fault fault)
{
    size_t bad = faulty_block(in);
    if (fault == FAULT_PARTIAL && bad >= first && bad < first + blocks)
        partials[bad - first] = nextafter(partials[bad - first], INFINITY);
}

static void sum_blocks(const struct input *in, const float *values, size_t first, size_t blocks,
                       double *partials)
{
    for (size_t k = 0; k < blocks; k++)
        partials[k] = block_sum(values + first_value(k), values_in(in, first + k, 1), in->work);
}

/* Received blocks: each summed and checked against the checksum made with its values; the first
 * that does not match stops the task and is reported in `c` (its partial sums are not used). */
static void sum_checked_blocks(const struct input *in, const float *values,
                               const uint64_t *checks, size_t first, size_t blocks,
                               double *partials, struct received_check *c, enum fault fault)
{
    for (size_t k = 0; k < blocks; k++) {
        uint64_t got;
        partials[k] = block_sum_checked(values + first_value(k), values_in(in, first + k, 1),
                                        in->work, &got);
        if (got != checks[k]) {
            *c = (struct received_check){(int64_t)(first + k), checks[k], got};
            return;
        }
    }
    inject_partial_fault(in, first, blocks, partials, fault);
}

/* ---------- the parent's clock: every step charged to a phase ---------- */

struct phase_clock {
    uint64_t since;
    double *ns;
};

static void begin(struct phase_clock *pc) { pc->since = now_ns(); }

static void charge(struct phase_clock *pc, enum phase p)
{
    pc->ns[p] += (double)(now_ns() - pc->since);
}

/* ---------- rung 0: one process ---------- */

/* book:sequential */
static void run_sequential(struct rung_run *r)
{
    const struct input *in = r->in;
    struct phase_clock pc = {0, r->phase_ns};
    begin(&pc);
    sum_blocks(in, in->values, 0, in->blocks, r->partials);
    charge(&pc, PHASE_COMPUTE);
    begin(&pc);
    r->total = add_partials(r->partials, in->blocks);
    charge(&pc, PHASE_COLLECT);
}
/* end:sequential */

/* ---------- rungs 1-3: chunks copied through pipes ---------- */

/* book:pipe-worker */
/* A worker: read a chunk (header, values, checksums), check it, sum its blocks, send the partial
 * sums back; until the parent closes the task pipe. */
static int pipe_worker(int index, void *arg)
{
    const struct worker_arg *a = arg;
    struct crew *c = a->c;
    const struct input *in = c->r->in;
    int task_fd = a->task_fd, result_fd = a->result_fd;
    close_parent_ends(c, index);
    size_t most = c->max_blocks;
    float *values = malloc(most * BLOCK_VALUES * sizeof *values);
    uint64_t *checks = malloc(most * sizeof *checks);
    double *partials = malloc(most * sizeof *partials);
    if (!values || !checks || !partials || !say_ready(c, index, result_fd))
        return 3;
    struct task t;
    while (read_full(task_fd, &t, sizeof t) == sizeof t) {
        size_t n = values_in(in, t.first_block, t.blocks);
        if (read_full(task_fd, values, n * sizeof *values) != n * sizeof *values ||
            read_full(task_fd, checks, t.blocks * sizeof *checks) != t.blocks * sizeof *checks)
            return 4;
        struct result res = {t.first_block, t.blocks, {-1, 0, 0}};
        sum_checked_blocks(in, values, checks, t.first_block, t.blocks, partials, &res.check,
                           c->r->fault);
        if (!write_full(result_fd, &res, sizeof res) ||
            !write_full(result_fd, partials, t.blocks * sizeof *partials))
            return 5;
    }
    return 0;
}
/* end:pipe-worker */

/* book:send-chunk */
/* The parent encodes a chunk: a copy of its values and checksums behind a header (what pickling
 * a NumPy slice does), written to the worker's pipe. */
static void send_chunk(struct crew *c, int s, size_t first, size_t blocks)
{
    const struct input *in = c->r->in;
    size_t n = values_in(in, first, blocks);
    struct task t = {(uint32_t)first, (uint32_t)blocks, 0};
    char *p = c->message;
    memcpy(p, &t, sizeof t);
    memcpy(p + sizeof t, in->values + first_value(first), n * sizeof(float));
    memcpy(p + sizeof t + n * sizeof(float), in->checks + first, blocks * sizeof(uint64_t));
    size_t bad = faulty_block(in);
    if (c->r->fault == FAULT_CORRUPT && bad >= first && bad < first + blocks)
        p[sizeof t + first_value(bad - first) * sizeof(float)] ^= 1;   /* one bit of one value */
    c->slots[s].first_block = first;
    c->slots[s].blocks = blocks;
    size_t bytes = sizeof t + n * sizeof(float) + blocks * sizeof(uint64_t);
    if (!write_full(c->slots[s].task_fd, p, bytes))
        worker_failed(c, s);
}
/* end:send-chunk */

static void give_chunk(struct crew *c, struct phase_clock *pc, int s, size_t chunk,
                       size_t chunk_blocks, bool fresh)
{
    if (fresh) {
        begin(pc);
        start_one(c, s, c->r->pin);
        wait_ready(c, s);
        charge(pc, PHASE_START);
    }
    size_t first = chunk * chunk_blocks, left = c->r->in->blocks - first;
    begin(pc);
    send_chunk(c, s, first, left < chunk_blocks ? left : chunk_blocks);
    charge(pc, PHASE_DISTRIBUTE);
}

/* book:deal */
/* Rungs 1-3: one chunk to each worker, then the next chunk to whichever answers first. With
 * `fresh`, every chunk gets a new process, which is stopped once its result is in. */
static void deal_chunks(struct crew *c, struct phase_clock *pc, size_t chunk_blocks, bool fresh)
{
    size_t blocks = c->r->in->blocks, chunks = (blocks + chunk_blocks - 1) / chunk_blocks;
    size_t next = 0, done = 0;
    for (int s = 0; s < c->size && next < chunks; s++)
        give_chunk(c, pc, s, next++, chunk_blocks, fresh);
    while (done < chunks) {
        begin(pc);
        int s = wait_for_result(c);
        charge(pc, PHASE_COMPUTE);
        begin(pc);
        receive_result(c, s, true);
        done++;
        charge(pc, PHASE_COLLECT);
        if (fresh) {
            begin(pc);
            stop_one(c, s);
            charge(pc, PHASE_TEARDOWN);
        }
        if (next < chunks)
            give_chunk(c, pc, s, next++, chunk_blocks, fresh);
    }
}
/* end:deal */

/* Four chunks per worker, as multiprocessing.Pool.map chooses (chapter 2). */
size_t default_chunk_blocks(size_t blocks, int workers)
{
    size_t chunks = 4 * (size_t)workers;
    size_t per = (blocks + chunks - 1) / chunks;
    return per ? per : 1;
}

static void add_up(struct rung_run *r, struct phase_clock *pc)
{
    begin(pc);
    r->total = add_partials(r->partials, r->in->blocks);
    charge(pc, PHASE_COLLECT);
}

static void run_fork_per_chunk(struct rung_run *r)
{
    struct crew c;
    struct phase_clock pc = {0, r->phase_ns};
    crew_open(&c, r, "fork-per-chunk-pipe", pipe_worker, r->chunk_blocks);
    deal_chunks(&c, &pc, r->chunk_blocks, true);
    add_up(r, &pc);
    crew_close(&c);
}

/* book:pool */
static void run_pool_of_pipes(struct rung_run *r, const char *name, size_t chunk_blocks)
{
    struct crew c;
    struct phase_clock pc = {0, r->phase_ns};
    crew_open(&c, r, name, pipe_worker, chunk_blocks);
    begin(&pc);
    start_all(&c, r->pin);
    charge(&pc, PHASE_START);
    deal_chunks(&c, &pc, chunk_blocks, false);
    add_up(r, &pc);
    begin(&pc);
    stop_all(&c);
    charge(&pc, PHASE_TEARDOWN);
    crew_close(&c);
}
/* end:pool */

static void run_pool_pipe(struct rung_run *r)
{
    run_pool_of_pipes(r, "pool-pipe", r->chunk_blocks);
}

static void run_pool_chunked(struct rung_run *r)
{
    run_pool_of_pipes(r, "pool-chunked", default_chunk_blocks(r->in->blocks, r->workers));
}

/* ---------- rungs 4-5: the data in shared memory ---------- */

/* Check and sum blocks where this worker reads them: in its mapping, or copied by pread into its
 * buffer, allocated for the first batch and reused for every other. False if that failed. */
static bool shared_blocks(const struct shared *m, struct batch_buffer *buf, const struct input *in,
                          size_t first, size_t blocks, struct received_check *check,
                          enum fault fault)
{
    if (!m->values && (!fit_buffer(buf, blocks) ||
                       !read_batch(m, in, first, blocks, buf->values, buf->checks)))
        return false;
    const float *values = m->values ? m->values + first_value(first) : buf->values;
    const uint64_t *checks = m->checks ? m->checks + first : buf->checks;
    sum_checked_blocks(in, values, checks, first, blocks, m->partials + first, check, fault);
    return true;
}

/* book:shm-worker */
/* A worker maps the object through the descriptor it inherited (where the tutorial's worker calls
 * SharedMemory(name=...)): all of it read-write, or the control part alone, with the values read
 * only or read with pread. It says it is ready, then for each task sums its range, or takes
 * batches from the shared counter until none are left, and writes the partial sums in place. */
static int shm_worker(int index, void *arg)
{
    const struct worker_arg *a = arg;
    struct crew *c = a->c;
    const struct input *in = c->r->in;
    int task_fd = a->task_fd, result_fd = a->result_fd;
    close_parent_ends(c, index);
    struct shared m;
    struct batch_buffer buf = {0};
    if (!map_shared(&m, c->r->shm, in, c->r->reach) || !say_ready(c, index, result_fd))
        return 3;
    struct task t;
    while (read_full(task_fd, &t, sizeof t) == sizeof t) {
        struct result res = {t.first_block, 0, {-1, 0, 0}};
        if (t.batch_blocks == 0 &&
            !shared_blocks(&m, &buf, in, t.first_block, t.blocks, &res.check, c->r->fault))
            return 6;
        for (size_t b; t.batch_blocks &&
                       (b = atomic_fetch_add(m.next_block, t.batch_blocks)) < in->blocks;) {
            size_t left = in->blocks - b;
            if (!shared_blocks(&m, &buf, in, b, left < t.batch_blocks ? left : t.batch_blocks,
                               &res.check, c->r->fault))
                return 6;
        }
        if (!write_full(result_fd, &res, sizeof res))
            return 5;
    }
    stamp(c, index, SAW_END);
    free(buf.values);
    unmap_shared(&m);
    stamp(c, index, UNMAPPED);
    return 0;
}
/* end:shm-worker */

/* Distributing is telling each worker where to look: an index range, or "take batches". */
static void hand_out(struct crew *c, size_t batch_blocks)
{
    size_t blocks = c->r->in->blocks;
    atomic_store(c->r->shm->next_block, 0);
    for (int s = 0; s < c->size; s++) {
        size_t first = blocks * (size_t)s / (size_t)c->size;
        size_t end = blocks * (size_t)(s + 1) / (size_t)c->size;
        struct task t = {(uint32_t)first, (uint32_t)(end - first), (uint32_t)batch_blocks};
        if (batch_blocks)
            t.first_block = t.blocks = 0;
        c->slots[s].first_block = t.first_block;
        c->slots[s].blocks = t.blocks;
        if (!write_full(c->slots[s].task_fd, &t, sizeof t))
            worker_failed(c, s);
    }
}

/* The corrupt switch flips one bit of one value in the object the workers read, and back. */
static void flip_faulty_bit(const struct rung_run *r)
{
    if (r->fault == FAULT_CORRUPT)
        r->shm->data[first_value(faulty_block(r->in)) * sizeof(float)] ^= 1;
}

/* book:fill */
/* Data that starts anywhere else must be copied into a fresh object first (here it comes from
 * the object it was born in): create, size, map, populate the page tables in one call instead of
 * one page fault per page, copy. */
static void copy_in(struct shared *fresh, const struct input *in)
{
    create_shared(fresh, in->count, in->blocks);
    if (madvise(fresh->base, fresh->bytes, MADV_POPULATE_WRITE) == -1 && errno != EINVAL)
        die_errno("madvise(MADV_POPULATE_WRITE)");      /* EINVAL: before Linux 5.14 */
    memcpy(fresh->values, in->values, in->count * sizeof(float));
    memcpy(fresh->checks, in->checks, in->blocks * sizeof(uint64_t));
}
/* end:fill */

/* book:shm-rung */
static void run_shared(struct rung_run *r, const char *name, size_t batch_blocks,
                       enum kit_pin pin, bool fill)
{
    struct crew c;
    struct shared fresh;
    struct phase_clock pc = {0, r->phase_ns};
    r->shm = &r->in->home;                      /* the values were born here: nothing to copy */
    if (fill) {
        begin(&pc);
        copy_in(&fresh, r->in);
        r->shm = &fresh;
        charge(&pc, PHASE_DISTRIBUTE);
    }
    crew_open(&c, r, name, shm_worker, 0);
    begin(&pc);
    start_all(&c, pin);
    charge(&pc, PHASE_START);
    begin(&pc);
    flip_faulty_bit(r);
    hand_out(&c, batch_blocks);
    charge(&pc, PHASE_DISTRIBUTE);
    for (int done = 0; done < c.size; done++) {
        begin(&pc);
        int s = wait_for_result(&c);
        charge(&pc, PHASE_COMPUTE);
        begin(&pc);
        receive_result(&c, s, false);
        charge(&pc, PHASE_COLLECT);
    }
    begin(&pc);
    flip_faulty_bit(r);
    memcpy(r->partials, r->shm->partials, r->in->blocks * sizeof(double));
    charge(&pc, PHASE_COLLECT);
    add_up(r, &pc);
    begin(&pc);
    stop_all(&c);
    if (fill)
        free_shared(&fresh);
    charge(&pc, PHASE_TEARDOWN);
    crew_close(&c);
}
/* end:shm-rung */

/* Rung 4's workers map the whole object read-write, as Python's SharedMemory does. */
static void run_pool_shm(struct rung_run *r)
{
    r->reach = REACH_MAP_READ_WRITE;
    run_shared(r, "pool-shm", 0, r->pin, false);
}

/* The optimized rung's workers are pinned, one CPU each, whatever --pin says (-unpinned measures
 * what that buys), take batches and read each with pread into a buffer sized for the cache (a
 * first read through a mapping of their own would cost them every page's first touch, as
 * pages.c measures; -mapped measures it in the ladder). */
static void run_pool_shm_batched(struct rung_run *r)
{
    r->reach = REACH_PREAD;
    run_shared(r, "pool-shm-batched", r->batch_blocks, PIN_SPREAD, false);
}

static void run_pool_shm_batched_unpinned(struct rung_run *r)
{
    r->reach = REACH_PREAD;
    run_shared(r, "pool-shm-batched-unpinned", r->batch_blocks, PIN_NONE, false);
}

static void run_pool_shm_batched_filled(struct rung_run *r)
{
    r->reach = REACH_PREAD;
    run_shared(r, "pool-shm-batched+fill", r->batch_blocks, PIN_SPREAD, true);
}

static void run_pool_shm_batched_mapped(struct rung_run *r)
{
    r->reach = REACH_MAP_READ_ONLY;
    run_shared(r, "pool-shm-batched-mapped", r->batch_blocks, PIN_SPREAD, false);
}


/* ---------- the ladder ---------- */

const struct rung rungs[] = {
    {"sequential", run_sequential, "one process: the floor", "-"},
    {"fork-per-chunk-pipe", run_fork_per_chunk, "a process per chunk, chunks copied into pipes",
     "1, 3"},
    {"pool-pipe", run_pool_pipe, "processes started once, reused for every chunk", "2"},
    {"pool-chunked", run_pool_chunked, "4 chunks per worker (the Pool.map rule)", "2"},
    {"pool-shm", run_pool_shm, "values born in shared memory, index ranges: no copy", "3, 5"},
    {"pool-shm-batched", run_pool_shm_batched,
     "workers pinned; cache-sized batches from a shared counter, read with pread", "1, 5, 2, 4"},
};
const int rung_count = (int)(sizeof rungs / sizeof rungs[0]);
const struct rung filled_rung = {"pool-shm-batched+fill", run_pool_shm_batched_filled,
                                 "rung 5, the values copied into a fresh object inside the timer",
                                 "3, 5"};
const struct rung mapped_rung = {"pool-shm-batched-mapped", run_pool_shm_batched_mapped,
                                 "rung 5, its workers mapping the values read-only, no pread",
                                 "5"};
const struct rung unpinned_rung = {"pool-shm-batched-unpinned", run_pool_shm_batched_unpinned,
                                   "rung 5, its workers placed by the scheduler", "1"};

const struct rung *find_rung(const char *name)
{
    for (int i = 0; i < rung_count; i++)
        if (strcmp(rungs[i].name, name) == 0)
            return &rungs[i];
    die("no rung named %s", name);
}
