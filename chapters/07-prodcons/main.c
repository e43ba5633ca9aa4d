/* ch07-prodcons - producer-consumer with bounded queues: what the bound buys, what it costs,
 * and where the time goes when one side is faster. The queues are in queues.c; this file
 * starts the producer and consumer processes, times them, checks every item, and reports.
 *
 * Usage: ch07-prodcons [--variant LIST] [--items N] [--capacity N] [--batch B]
 *                      [--fault drop|duplicate] [--sampler-cpu N] [standard options]
 * Linux only (futex, F_SETPIPE_SZ, PR_SET_PDEATHSIG).
 * Exit: 0 ok, 1 runtime or verification failure (a killed producer or consumer included),
 * 2 usage error.
 *
 * Sample output line (throughput, 2 CPUs, load average 0.8; million items/s, median min max):
 *   ring-batch                   1024      44.46       20.1      57.58  Mitems/s  noisy
 * What to look for: the lock-per-item queues and the pipe pay a system call or a futex wake-up
 * per item or nearly; the rings pay one only when full or empty; batching pays a claim per batch.
 * A bigger buffer helps until both sides stop waiting (the knee), then nothing; a faster producer
 * fills any bound and then runs at the consumer's pace; latency follows Little's law.
 *
 * Verification, every trial: each producer's items arrive exactly once (count, sum of sequence
 * numbers and sum of payload checks, per producer), each consumer sees each producer's items in
 * order, no item is corrupted, and the queue never held more than its capacity.
 */
#define _GNU_SOURCE
#include <math.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>

#include "bench.h"
#include "report.h"
#include "queues.h"

static const char usage[] =
    "Usage: ch07-prodcons [--variant LIST] [--items N] [--capacity N] [--batch B]\n"
    "                     [--fault drop|duplicate] [--sampler-cpu N] [standard options]\n"
    "P producer and C consumer processes move 64-byte items through one bounded queue.\n"
    "Queues (--variant, comma-separated; default all): pipe, mutex-cond, semaphores, mpmc-ring,\n"
    "ring-batch. Experiments (--only):\n"
    "  throughput   items/s, 1 producer + 1 consumer, capacity --capacity\n"
    "  capacity     items/s and the producer's blocked time against capacity 1 .. 64K\n"
    "               (the pipe offers 64 .. 64K items, a ring 2 and up)\n"
    "  mpmc         P = C = 1, 2, 4 .. 2 x --workers processes on each side\n"
    "  imbalance    mutex-cond with a producer 4x faster than the consumer and the reverse,\n"
    "               and with no bound at all (capacity = every item)\n"
    "  latency      put-to-get latency at 50% and 90% of the consumer's capacity, 1 + 1,\n"
    "               and Little's law checked: mean items in flight = arrival rate x mean latency,\n"
    "               the sampled number in flight against the items' own put and get times\n"
    "  --items N        items per trial, all producers together (100 .. 100M; default: sized\n"
    "                   from a first trial to a time budget)\n"
    "  --capacity N     queue capacity in items, a power of two (2 .. 1M; default 1024)\n"
    "  --batch B        ring-batch's most items per claim, and the items a producer hands over\n"
    "                   per put (1 .. 256; default 32)\n"
    "  --fault F        producer 0 drops (or sends twice) its middle item: verification must fail\n"
    "  --sampler-cpu N  pin the sampler (the parent, while it samples occupancy) to CPU N\n"
    "                   (0 .. CPUs - 1; with --pin spread the producer runs on CPU 0, the\n"
    "                   consumer on CPU 1); default: the scheduler places it\n"
    "  --workers W      mpmc goes up to 2W producers and 2W consumers (1 .. 8)\n"
    "Tables (results/ch07-*.tsv): throughput, capacity, capacity-blocked (% of the producer's\n"
    "time asleep on a full queue), mpmc, latency (us per item: median = p50) are measurement\n"
    "tables; special tables:\n"
    "  imbalance     case variant capacity items producer_blocked_pct consumer_blocked_pct\n"
    "                peak_items peak_bytes mitems_per_s   (medians over the trials)\n"
    "  occupancy     case t_ms items                      (sampled every ms, the last trial)\n"
    "  latency-cdf   variant load_pct percentile latency_us\n"
    "  littles-law   variant load_pct arrival_per_s mean_latency_us mean_in_flight\n"
    "                predicted_in_flight error_pct ticks_taken_pct stamps_at_readings\n"
    "                stamps_at_due_ticks stamps_on_grid late_us put_rate_late_pct\n"
    "                get_rate_late_pct   (mean_in_flight: the parent's samples every 100 us as a\n"
    "                time average; predicted = rate x mean latency, the items' own time average;\n"
    "                ticks_taken_pct: the share of the ticks the sampler was awake for; stamps_*:\n"
    "                the number in flight that the items' put and get times give at the\n"
    "                sampler's readings, at the ticks they were due, and on every one of its\n"
    "                ticks, as time averages; late_us: mean reading after its tick; *_rate_late:\n"
    "                puts and gets between a tick and its reading, as % of their mean rate)";

enum { MAX_SIDE = 16, MAX_BATCH = 256, ITEM_BYTES = sizeof(struct item) };
enum fault { FAULT_NONE, FAULT_DROP, FAULT_DUPLICATE };

struct config {
    struct kit_opts o;
    bool picked[Q_KINDS];
    long items;               /* 0: from the time budget */
    size_t capacity, batch;
    enum fault fault;
    int sampler_cpu;          /* -1: the scheduler places the sampler */
    double spin_ns;           /* one spin() iteration, for calibrated work per item */
};

/* ---------- what each process reports, in one shared mapping ---------- */

struct side {
    alignas(64) uint64_t start_ns, end_ns, items;
    struct waits w;
    uint64_t bad_items, out_of_order;
    uint64_t count[MAX_SIDE], seq_sum[MAX_SIDE], check_sum[MAX_SIDE];   /* per producer */
};

struct shared {
    alignas(64) _Atomic uint64_t sent;       /* latency runs: items put so far */
    alignas(64) _Atomic uint64_t received;   /* latency runs: items got so far */
    struct side producers[MAX_SIDE], consumers[MAX_SIDE];
};

static struct shared *shared;
/* Latency runs, one per item in the order the consumer got them: when it was put (stamped just
 * before the put) and when its get returned. Latency, and the number in flight at any instant,
 * come from these. */
struct stamp {
    uint64_t put_ns, got_ns;
};
static struct stamp *stamps;
static size_t latency_room;

/* ---------- one trial ---------- */

struct trial {
    const struct config *cfg;
    const char *experiment;
    enum queue_kind kind;
    int producers, consumers;
    size_t capacity;
    long items;                              /* all producers together */
    uint64_t producer_spin, consumer_spin;   /* work per item, spin() iterations */
    double rate;                             /* items/s offered (latency); 0 = flat out */
    size_t put_batch;
    long sample_ns;                          /* parent samples occupancy this often; 0 = no */
    int number;
    struct queue *q;
    int gate[2];                             /* closed by the parent: everyone starts */
};

struct outcome {
    double seconds, mitems_per_s;
    double producer_blocked_pct, consumer_blocked_pct;
    uint64_t producer_waits, consumer_waits;
    size_t high_water;
    double sampled_item_s;                   /* the samples' time-weighted sum: items x s */
    double ticks_taken_pct;                  /* % of the sampler's ticks it was awake for */
};

/* Occupancy over time, from the last trial that sampled it (absolute CLOCK_MONOTONIC ns): when
 * each sample was read, the tick it was due at, and what it read. */
enum { MAX_SAMPLES = 1 << 17 };
static uint64_t sample_at[MAX_SAMPLES], sample_due[MAX_SAMPLES];
static double sample_items[MAX_SAMPLES];
static size_t sample_count;
static uint64_t window_start, window_end;     /* the last trial: first start, last end */
static uint64_t first_tick;                   /* the last trial: the sampler's first tick */

static uint64_t item_check(uint64_t producer, uint64_t seq) { return mix64(producer << 40 ^ seq); }

static long share_of(const struct trial *t, int p)
{
    return t->items / t->producers + (p < t->items % t->producers);
}

static void await_gate(struct trial *t)
{
    char byte;
    close(t->gate[1]);
    if (read(t->gate[0], &byte, 1) == -1)
        die_errno("read (start gate)");
    close(t->gate[0]);
}

/* Exponential gaps: arrivals at random times, `rate` per second on average. */
static uint64_t next_gap_ns(uint64_t *rng, double rate)
{
    *rng = mix64(*rng);
    double u = ((double)(*rng >> 11) + 0.5) / 9007199254740992.0;
    return (uint64_t)(-log(u) / rate * 1e9);
}

/* A batch of items for producer p from sequence number `seq`, with the --fault applied. */
static size_t make_items(const struct trial *t, int p, uint64_t seq, size_t k, long share,
                         struct item *out)
{
    size_t n = 0;
    for (size_t i = 0; i < k; i++, seq++) {
        struct item *it = &out[n];
        it->producer = (uint64_t)p;
        it->seq = seq;
        it->check = item_check((uint64_t)p, seq);
        for (int j = 0; j < 4; j++)
            it->payload[j] = it->check ^ (uint64_t)(j + 1);
        n++;
        bool middle = p == 0 && seq == (uint64_t)share / 2;
        if (middle && t->cfg->fault == FAULT_DROP)
            n--;
        else if (middle && t->cfg->fault == FAULT_DUPLICATE)
            out[n] = out[n - 1], n++;
    }
    return n;
}

/* book:producer */
static int producer_main(int p, struct trial *t)
{
    struct side *me = &shared->producers[p];
    struct item batch[MAX_BATCH + 1];
    long share = share_of(t, p);
    uint64_t rng = t->cfg->o.seed ^ (uint64_t)p, due;
    prctl(PR_SET_NAME, "ch07-producer");
    queue_attach(t->q, ROLE_PRODUCER);
    await_gate(t);
    me->start_ns = due = now_ns();
    for (long seq = 0; seq < share;) {
        size_t k = (size_t)(share - seq) < t->put_batch ? (size_t)(share - seq) : t->put_batch;
        for (size_t i = 0; i < k; i++)
            keep(spin(t->producer_spin));            /* the work of making one item */
        size_t n = make_items(t, p, (uint64_t)seq, k, share, batch);
        if (t->rate > 0) {                           /* an offered load: wait for the arrival */
            due += next_gap_ns(&rng, t->rate);
            while (now_ns() < due)
                ;
            uint64_t sent = now_ns();
            for (size_t i = 0; i < n; i++)
                batch[i].sent_ns = sent;
            atomic_fetch_add_explicit(&shared->sent, n, memory_order_relaxed);  /* in flight */
        }
        queue_put(t->q, batch, n, &me->w);
        seq += (long)k;
    }
    queue_close(t->q);
    me->end_ns = now_ns();
    me->items = (uint64_t)share;
    return 0;
}
/* end:producer */

static void check_item(const struct trial *t, struct side *me, const struct item *it,
                       uint64_t *last_seq)
{
    uint64_t p = it->producer;
    if (p >= (uint64_t)t->producers || it->check != item_check(p, it->seq)) {
        me->bad_items++;
        return;
    }
    for (int j = 0; j < 4; j++)
        if (it->payload[j] != (it->check ^ (uint64_t)(j + 1))) {
            me->bad_items++;
            return;
        }
    if (me->count[p] > 0 && it->seq <= last_seq[p])
        me->out_of_order++;
    last_seq[p] = it->seq;
    me->count[p]++;
    me->seq_sum[p] += it->seq;
    me->check_sum[p] += it->check;
}

/* book:consumer */
static int consumer_main(int c, struct trial *t)
{
    struct side *me = &shared->consumers[c];
    struct item got[MAX_BATCH];
    uint64_t last_seq[MAX_SIDE] = {0};
    prctl(PR_SET_NAME, "ch07-consumer");
    queue_attach(t->q, ROLE_CONSUMER);
    await_gate(t);
    me->start_ns = now_ns();
    size_t k;
    while ((k = queue_get(t->q, got, t->cfg->batch, &me->w)) > 0) {
        uint64_t arrived = t->rate > 0 ? now_ns() : 0;
        if (t->rate > 0)                             /* out of flight: arrived */
            atomic_fetch_add_explicit(&shared->received, k, memory_order_relaxed);
        for (size_t i = 0; i < k; i++) {
            check_item(t, me, &got[i], last_seq);
            if (t->rate > 0 && me->items < latency_room)
                stamps[me->items] = (struct stamp){got[i].sent_ns, arrived};
            me->items++;
            keep(spin(t->consumer_spin));            /* the work of using one item */
        }
    }
    me->end_ns = now_ns();
    return 0;
}
/* end:consumer */

static int side_main(int index, void *arg)
{
    struct trial *t = arg;
    return index < t->producers ? producer_main(index, t)
                                : consumer_main(index - t->producers, t);
}

static void describe(const struct trial *t, char *buf, size_t len)
{
    snprintf(buf, len, "during %s, variant %s, P=%d C=%d, capacity %zu, trial %d", t->experiment,
             queue_kind_names[t->kind], t->producers, t->consumers, t->capacity, t->number);
}

static pid_t pids[2 * MAX_SIDE];

static void check_ended(const struct trial *t, pid_t pid, int status)
{
    exit_if_stopped();                       /* a child ended by our own Ctrl-C is no crash */
    if (ended_ok(status))
        return;
    char doing[160];
    describe(t, doing, sizeof doing);
    for (int i = 0; i < t->producers + t->consumers; i++)
        if (pids[i] == pid) {
            bool producer = i < t->producers;
            die_child(producer ? "producer" : "consumer", producer ? i : i - t->producers, pid,
                      status, "%s", doing);
        }
}

static void note_sample(const struct trial *t, uint64_t due)
{
    size_t held = queue_occupancy(t->q);
    if (t->rate > 0) {
        uint64_t sent = atomic_load(&shared->sent), got = atomic_load(&shared->received);
        held = sent > got ? (size_t)(sent - got) : 0;
    }
    if (sample_count < MAX_SAMPLES) {
        sample_at[sample_count] = now_ns();
        /* a sleep cut short by a signal wakes before its tick: then it was not late */
        sample_due[sample_count] = due < sample_at[sample_count] ? due : sample_at[sample_count];
        sample_items[sample_count++] = (double)held;
    }
}

/* Sleeps until the next tick of a fixed grid, so that a late wake-up does not shift the ticks
 * after it; ticks it slept through are skipped, not made up in a burst. */
static void sleep_to_next_tick(uint64_t *tick, long every_ns)
{
    struct timespec at = {(time_t)(*tick / 1000000000), (long)(*tick % 1000000000)};
    int err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    if (err && err != EINTR)
        die_err(err, "clock_nanosleep");
    uint64_t now = now_ns();
    while (*tick <= now)
        *tick += (uint64_t)every_ns;
}

/* While it samples, the parent asks for a short time slice (Linux 6.12 and later; earlier kernels
 * ignore it): a task that wakes with a shorter slice than the running one may preempt it at once
 * instead of waiting up to a whole slice (milliseconds), so a tick is taken when it is due, not
 * when a CPU comes free. Its nice value and policy are kept. If the kernel refuses, the default
 * slice stays, and the share of ticks the sampler saw (reported) shows what that cost. */
static void ask_for_slice(uint64_t ns)
{
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
    } attr = {.size = sizeof attr, .flags = 0x08 /* SCHED_FLAG_KEEP_POLICY */, .runtime = ns};
    errno = 0;
    attr.nice = getpriority(PRIO_PROCESS, 0);
    if (errno == 0)
        (void)syscall(SYS_sched_setattr, 0, &attr, 0);
}

/* --sampler-cpu: the sampler on one CPU, sharing it with whoever runs there; `saved` keeps the
 * CPUs it may use otherwise, for the children it starts later (they inherit the parent's). */
static void pin_sampler(const struct trial *t, cpu_set_t *saved, bool pin)
{
    if (t->sample_ns == 0 || t->cfg->sampler_cpu < 0)
        return;
    if (pin) {
        if (sched_getaffinity(0, sizeof *saved, saved) == -1)
            die_errno("sched_getaffinity");
        pin_to_cpu(t->cfg->sampler_cpu);
    } else if (sched_setaffinity(0, sizeof *saved, saved) == -1) {
        die_errno("sched_setaffinity");
    }
}

/* Waits for every child; while they run, samples the occupancy every t->sample_ns. */
static void wait_for_children(const struct trial *t)
{
    int left = t->producers + t->consumers, status;
    uint64_t due, tick = first_tick = now_ns() + (uint64_t)t->sample_ns;
    cpu_set_t saved;
    sample_count = 0;
    pin_sampler(t, &saved, true);
    if (t->sample_ns)
        ask_for_slice(100000);
    while (left > 0) {
        pid_t pid;
        if (t->sample_ns == 0) {
            pid = reap_any(&status);
        } else {
            pid = waitpid(-1, &status, WNOHANG);
            if (pid == -1 && errno != EINTR)
                die_errno("waitpid");
            if (pid <= 0) {
                due = tick;
                sleep_to_next_tick(&tick, t->sample_ns);
                note_sample(t, due);             /* first thing after waking: near its tick */
                exit_if_stopped();
                continue;
            }
            forget_child(pid);
        }
        check_ended(t, pid, status);
        left--;
    }
    if (t->sample_ns)
        ask_for_slice(0);                    /* 0: the kernel's default slice again */
    pin_sampler(t, &saved, false);
}

/* ---------- verification: every item exactly once, in order, intact, within the bound ------- */

/* book:verify */
static void verify(const struct trial *t)
{
    char doing[160];
    describe(t, doing, sizeof doing);
    for (int p = 0; p < t->producers; p++) {
        uint64_t n = (uint64_t)share_of(t, p), count = 0, seqs = 0, checks = 0, want = 0;
        for (int c = 0; c < t->consumers; c++) {
            count += shared->consumers[c].count[p];
            seqs += shared->consumers[c].seq_sum[p];
            checks += shared->consumers[c].check_sum[p];
        }
        for (uint64_t s = 0; s < n; s++)
            want += item_check((uint64_t)p, s);
        if (count != n)
            verification_failed("producer %d: %llu of its %llu items delivered %s", p,
                                (unsigned long long)count, (unsigned long long)n, doing);
        if (seqs != n * (n - 1) / 2 || checks != want)
            verification_failed("producer %d: %llu items delivered, but not items 0..%llu once "
                                "each (sequence or payload sums differ) %s", p,
                                (unsigned long long)count, (unsigned long long)n - 1, doing);
    }
    for (int c = 0; c < t->consumers; c++) {
        const struct side *s = &shared->consumers[c];
        if (s->bad_items)
            verification_failed("consumer %d got %llu corrupted items %s", c,
                                (unsigned long long)s->bad_items, doing);
        if (s->out_of_order)
            verification_failed("consumer %d got a producer's items out of order %llu times %s",
                                c, (unsigned long long)s->out_of_order, doing);
    }
    if (queue_high_water(t->q) > t->capacity)
        verification_failed("the queue held %zu items, above its capacity %zu %s",
                            queue_high_water(t->q), t->capacity, doing);
}
/* end:verify */

static double blocked_pct(const struct side *sides, int n)
{
    double blocked = 0, active = 0;
    for (int i = 0; i < n; i++) {
        blocked += (double)sides[i].w.blocked_ns;
        active += (double)(sides[i].end_ns - sides[i].start_ns);
    }
    return active > 0 ? 100 * blocked / active : 0;
}

/* book:time-average */
/* Values read at the ascending instants `at`, as a time average over the window the processes
 * ran in (not while they started or exited), in item-seconds: each value stands for the time from
 * halfway to the instant before it to halfway to the one after it. A plain mean of the samples
 * would count a stretch the sampler slept through (waiting for a CPU) as one sample, and a
 * stretch it saw every tick of as many. */
static double item_seconds(const uint64_t *at, const double *items, size_t n, size_t *taken)
{
    double sum = 0;
    size_t first = 0, last;
    while (first < n && at[first] < window_start)
        first++;
    for (last = first; last < n && at[last] <= window_end; last++)
        ;
    for (size_t i = first; i < last; i++) {
        double from = i == first ? (double)window_start : (at[i - 1] + at[i]) / 2.0;
        double to = i + 1 == last ? (double)window_end : (at[i] + at[i + 1]) / 2.0;
        sum += items[i] * (to - from) / 1e9;
    }
    *taken = last - first;
    return sum;
}
/* end:time-average */

static double sampled_item_seconds(long every_ns, double *ticks_taken_pct)
{
    size_t taken;
    double sum = item_seconds(sample_at, sample_items, sample_count, &taken);
    double ticks = every_ns ? (double)(window_end - window_start) / (double)every_ns : 0;
    *ticks_taken_pct = ticks >= 1 ? fmin(100, 100 * (double)taken / ticks) : 0;
    return sum;
}

static struct outcome outcome_of(const struct trial *t)
{
    struct outcome r = {0};
    uint64_t first = UINT64_MAX, last = 0;
    for (int p = 0; p < t->producers; p++) {
        first = shared->producers[p].start_ns < first ? shared->producers[p].start_ns : first;
        r.producer_waits += shared->producers[p].w.waits;
    }
    for (int c = 0; c < t->consumers; c++) {
        last = shared->consumers[c].end_ns > last ? shared->consumers[c].end_ns : last;
        r.consumer_waits += shared->consumers[c].w.waits;
    }
    window_start = first, window_end = last;
    r.seconds = (double)(last - first) / 1e9;
    r.mitems_per_s = (double)t->items / r.seconds / 1e6;
    r.producer_blocked_pct = blocked_pct(shared->producers, t->producers);
    r.consumer_blocked_pct = blocked_pct(shared->consumers, t->consumers);
    r.high_water = queue_high_water(t->q);
    r.sampled_item_s = sampled_item_seconds(t->sample_ns, &r.ticks_taken_pct);
    return r;
}

static struct queue *current_queue;

static void drop_current_queue(void)
{
    if (current_queue)
        queue_destroy(current_queue);
    current_queue = NULL;
}

/* book:trial */
/* One trial: a fresh queue, the processes started and held at a gate, released together,
 * waited for (a dead one ends the run), then every item checked. */
static bool run_trial(struct trial *t, struct outcome *out)
{
    t->q = queue_create(t->kind, t->capacity, t->cfg->batch, t->producers);
    if (!t->q)
        return false;                        /* this kind cannot offer this capacity */
    current_queue = t->q;
    memset(shared, 0, sizeof *shared);
    if (pipe(t->gate) == -1)
        die_errno("pipe (start gate)");
    for (int i = 0; i < t->producers + t->consumers; i++)
        pids[i] = start_worker(i, t->cfg->o.pin, side_main, t);
    queue_leave(t->q);
    close(t->gate[0]);
    close(t->gate[1]);                       /* end of file at the gate: all start at once */
    wait_for_children(t);
    verify(t);
    *out = outcome_of(t);
    drop_current_queue();
    return true;
}
/* end:trial */

/* ---------- sizes: from a first trial, to a time budget ---------- */

static struct trial trial_of(const struct config *cfg, const char *experiment,
                             enum queue_kind kind, int producers, size_t capacity)
{
    struct trial t = {.cfg = cfg, .experiment = experiment, .kind = kind,
                      .producers = producers, .consumers = producers, .capacity = capacity,
                      .put_batch = cfg->batch};
    return t;
}

/* The first trial is the warm-up; its rate sizes the measured ones to `seconds` each. */
static bool size_by_warmup(struct trial *t, double seconds, long least)
{
    const struct kit_opts *o = &t->cfg->o;
    struct outcome first;
    t->items = t->cfg->items ? t->cfg->items : (long)by_mode(o, 2000, 20000, 100000);
    if (t->items < t->producers)
        t->items = t->producers;
    if (!run_trial(t, &first))
        return false;
    if (!t->cfg->items) {
        double fits = first.mitems_per_s * 1e6 * seconds;
        long most = (long)by_mode(o, 2000000, 20000000, 100000000);
        t->items = fits < (double)least ? least : fits > (double)most ? most : (long)fits;
    }
    return true;
}

/* Warm-up, then `trials` trials; the stats of items/s (Mitems) and of the producer's blocked %.
 * --quick checks behaviour, not speed: a fixed size, no warm-up. */
static bool measure_point(struct trial *t, double seconds, long trials, struct stats *rate,
                          struct stats *blocked, struct outcome *last)
{
    if (t->cfg->o.mode == MODE_QUICK) {
        t->items = t->cfg->items ? t->cfg->items : 1000;
        if (t->items < t->producers)
            t->items = t->producers;
    } else if (!size_by_warmup(t, seconds, (long)by_mode(&t->cfg->o, 1000, 5000, 20000))) {
        return false;
    }
    double rates[trials], blocks[trials];
    for (long i = 0; i < trials; i++) {
        exit_if_stopped();
        t->number = (int)i + 1;
        if (!run_trial(t, last))
            return false;
        rates[i] = last->mitems_per_s;
        blocks[i] = last->producer_blocked_pct;
    }
    *rate = stats_of(rates, (size_t)trials);
    if (blocked)
        *blocked = stats_of(blocks, (size_t)trials);
    return true;
}

static long trials_of(const struct config *cfg)
{
    return trials_for(&cfg->o, 1, 5, 10);
}

/* ---------- experiment 1: throughput, 1 + 1 ---------- */

static void conclude_throughput(const struct report *r, size_t capacity)
{
    double batch = median_of(r, "ring-batch", (double)capacity);
    double best_item = NAN;
    const char *best_name = NULL;
    for (int k = 0; k < Q_RING_BATCH; k++) {
        double v = median_of(r, queue_kind_names[k], (double)capacity);
        if (v == v && (best_name == NULL || v > best_item))
            best_item = v, best_name = queue_kind_names[k];
    }
    if (batch == batch && best_name)
        printf("  -> ring-batch moved %.1f million items/s, %.1fx the best queue that hands over "
               "one item at a time (%s, %.2f million/s)\n", batch, batch / best_item, best_name,
               best_item);
    if (batch == batch)
        printf("  -> the goal of 10 million 64-byte items/s between two processes is %s here "
               "(%.1f million/s)\n", batch >= 10 ? "met" : "not met", batch);
    double mc = median_of(r, "mutex-cond", (double)capacity);
    double ring = median_of(r, "mpmc-ring", (double)capacity);
    if (mc == mc && ring == ring)
        printf("  -> a lock and a condition variable per item: %.2f million/s; the lock-free ring "
               "without batching: %.2f million/s (%.1fx)\n", mc, ring, ring / mc);
}

static void run_throughput(const struct config *cfg)
{
    long trials = trials_of(cfg);
    struct report r;
    report_start(&r, &cfg->o, "throughput", "capacity");
    printf("\nthroughput: 1 producer + 1 consumer process, 64-byte items, capacity %zu, batch %zu;"
           " million items/s, %ld trials after a warm-up\n", cfg->capacity, cfg->batch, trials);
    for (int k = 0; k < Q_KINDS; k++) {
        if (!cfg->picked[k])
            continue;
        if (cfg->o.mode != MODE_QUICK)
            progress("throughput: %s", queue_kind_names[k]);
        struct trial t = trial_of(cfg, "throughput", (enum queue_kind)k, 1, cfg->capacity);
        struct stats rate;
        struct outcome last;
        if (!measure_point(&t, by_mode(&cfg->o, 1, 8, 40) / 100.0, trials, &rate, NULL, &last)) {
            printf("  %-22s capacity %zu not offered: %s\n", queue_kind_names[k], cfg->capacity,
                   strerror(errno));
            continue;
        }
        report_add(&r, queue_kind_names[k], (double)cfg->capacity, "Mitems/s", rate);
        report_comment(&r, "slept per 1000 items: producer %.1f, consumer %.1f (%ld items)",
                       1000.0 * (double)last.producer_waits / (double)t.items,
                       1000.0 * (double)last.consumer_waits / (double)t.items, t.items);
    }
    report_print(&r);
    conclude_throughput(&r, cfg->capacity);
    report_write(&r);
    report_free(&r);
}

/* ---------- experiment 2: capacity ---------- */

/* Decimals for a percentage: one below 10%, so a queue at 0.4% of its best is not printed as 0%. */
static int digits_for(double percent) { return percent < 9.95 ? 1 : 0; }

static void conclude_capacity(const struct config *cfg, const struct report *r,
                              const size_t *caps, int ncaps)
{
    for (int k = 0; k < Q_KINDS; k++) {
        const char *name = queue_kind_names[k];
        double best = 0, at_smallest = NAN, at_largest = NAN;
        size_t smallest = 0, largest = 0, knee = 0;
        for (int i = 0; i < ncaps; i++) {
            double v = median_of(r, name, (double)caps[i]);
            if (v != v)
                continue;
            best = v > best ? v : best;
            if (smallest == 0)
                smallest = caps[i], at_smallest = v;
            largest = caps[i], at_largest = v;
        }
        if (!cfg->picked[k] || best == 0)
            continue;
        for (int i = 0; i < ncaps && knee == 0; i++)
            if (median_of(r, name, (double)caps[i]) >= 0.9 * best)
                knee = caps[i];
        printf("  -> %-11s first within 10%% of its best (%.2f million/s) at capacity %zu", name,
               best, knee);
        if (smallest != largest)   /* a queue offered at one capacity has no range to quote */
            printf("; at %zu it ran at %.*f%% of that, at %zu at %.*f%%", smallest,
                   digits_for(100 * at_smallest / best), 100 * at_smallest / best, largest,
                   digits_for(100 * at_largest / best), 100 * at_largest / best);
        printf("\n");
    }
}

static void run_capacity(const struct config *cfg)
{
    static const size_t all[] = {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536};
    static const size_t few[] = {1, 64, 65536};
    bool quick = cfg->o.mode == MODE_QUICK;
    const size_t *caps = quick ? few : all;
    int ncaps = quick ? 3 : 9;
    long trials = trials_for(&cfg->o, 1, 3, 10);
    char skipped[1024] = "";
    struct report r, blocked;
    report_start(&r, &cfg->o, "capacity", "capacity");
    report_start(&blocked, &cfg->o, "capacity-blocked", "capacity");
    printf("\ncapacity: 1 producer + 1 consumer, capacity 1 .. 64K items; million items/s and "
           "the %% of the producer's time asleep on a full queue, %ld trials\n", trials);
    for (int k = 0; k < Q_KINDS; k++) {
        if (!cfg->picked[k])
            continue;
        if (!quick)
            progress("capacity: %s", queue_kind_names[k]);
        for (int i = 0; i < ncaps; i++) {
            struct trial t = trial_of(cfg, "capacity", (enum queue_kind)k, 1, caps[i]);
            struct stats rate, block;
            struct outcome last;
            if (!measure_point(&t, by_mode(&cfg->o, 1, 3, 20) / 100.0, trials, &rate, &block,
                               &last)) {
                size_t used = strlen(skipped);
                snprintf(skipped + used, sizeof skipped - used, "%s%s at %zu (%s)",
                         used ? ", " : "", queue_kind_names[k], caps[i], strerror(errno));
                continue;
            }
            report_add(&r, queue_kind_names[k], (double)caps[i], "Mitems/s", rate);
            report_add(&blocked, queue_kind_names[k], (double)caps[i], "%", block);
        }
    }
    report_print(&r);
    if (skipped[0])
        printf("  not offered: %s\n  (a pipe holds at least one page, 64 items, and at most "
               "/proc/sys/fs/pipe-max-size without CAP_SYS_RESOURCE; a ring needs 2 slots)\n",
               skipped);
    printf("  %% of the producer's time asleep on a full queue:\n");
    report_print(&blocked);
    conclude_capacity(cfg, &r, caps, ncaps);
    report_write(&r);
    report_write(&blocked);
    report_free(&r);
    free(blocked.rows);
}

/* ---------- experiment 3: P producers x C consumers ---------- */

static void run_mpmc(const struct config *cfg)
{
    long trials = trials_for(&cfg->o, 1, 3, 10);
    int most = (int)(2 * cfg->o.workers), top = 1;
    bool quick = cfg->o.mode == MODE_QUICK;
    struct report r;
    report_start(&r, &cfg->o, "mpmc", "producers");
    printf("\nmpmc: P producers and C = P consumers, P = 1 .. %d on %d CPUs (%.2f effective); "
           "million items/s, %ld trials\n", most, online_cpus(), cfg->o.effective_cpus, trials);
    for (int k = 0; k < Q_KINDS; k++) {
        if (!cfg->picked[k])
            continue;
        if (cfg->o.mode != MODE_QUICK)
            progress("mpmc: %s", queue_kind_names[k]);
        for (int p = 1; p <= most; p = quick && p < most ? most : 2 * p) {
            struct trial t = trial_of(cfg, "mpmc", (enum queue_kind)k, p, cfg->capacity);
            top = p > top ? p : top;
            struct stats rate;
            struct outcome last;
            if (!measure_point(&t, by_mode(&cfg->o, 1, 5, 20) / 100.0, trials, &rate, NULL,
                               &last))
                break;
            report_add(&r, queue_kind_names[k], p, "Mitems/s", rate);
            report_comment(&r, "slept per 1000 items: producers %.0f, consumers %.0f",
                           1000.0 * (double)last.producer_waits / (double)t.items,
                           1000.0 * (double)last.consumer_waits / (double)t.items);
        }
    }
    report_print(&r);
    for (int k = 0; k < Q_KINDS; k++) {
        const char *name = queue_kind_names[k];
        double one = median_of(&r, name, 1), all = median_of(&r, name, top);
        if (one == one && all == all && top > 1)
            printf("  -> %-11s %d + %d processes move %.2fx what 1 + 1 move (%.2f vs %.2f "
                   "million/s)\n", queue_kind_names[k], top, top, all / one, all, one);
    }
    printf("  -> every item was delivered exactly once, each producer's items in order for "
           "every consumer (checked in every trial)\n");
    report_write(&r);
    report_free(&r);
}

/* ---------- experiment 4: one side faster ---------- */

struct imbalance_case {
    const char *name;
    int producer_units, consumer_units;      /* work per item, in microseconds */
    bool unbounded;
};

static const struct imbalance_case imbalance_cases[] = {
    {"producer-4x-faster", 1, 4, false},
    {"consumer-4x-faster", 4, 1, false},
    {"producer-4x-faster-unbounded", 1, 4, true},
};

static double median_pick(double *values, long n) { return stats_of(values, (size_t)n).median; }

struct imbalance_result {
    double producer_blocked, consumer_blocked, peak_items;
};

/* The result of the case called `name`: res[i] belongs to imbalance_cases[i]. */
static struct imbalance_result case_named(const struct imbalance_result *res, const char *name)
{
    for (size_t i = 0; i < KIT_COUNT(imbalance_cases); i++)
        if (strcmp(imbalance_cases[i].name, name) == 0)
            return res[i];
    die("imbalance: no case named %s", name);
}

/* Items a trial: from the warm-up's duration, so that a trial takes about the mode's time
 * however loaded the machine is (--quick: fixed, no warm-up). */
static long imbalance_items(const struct config *cfg, struct trial *t, bool unbounded)
{
    if (cfg->items)
        return cfg->items;
    if (cfg->o.mode == MODE_QUICK)
        return 2000;
    struct outcome o;
    t->items = (long)by_mode(&cfg->o, 2000, 8000, 40000);
    t->capacity = unbounded ? (size_t)t->items : cfg->capacity;
    run_trial(t, &o);                                              /* the warm-up */
    double fits = (double)t->items * (double)by_mode(&cfg->o, 2, 15, 100) / 100 / o.seconds;
    long most = (long)by_mode(&cfg->o, 2000, 40000, 200000);
    return fits < 2000 ? 2000 : fits > (double)most ? most : (long)fits;
}

/* Trials of one case; writes its medians as one row of the imbalance table. */
static struct imbalance_result run_imbalance_case(const struct config *cfg,
                                                  const struct imbalance_case *c,
                                                  FILE *table, FILE *timeline)
{
    long trials = trials_for(&cfg->o, 1, 3, 7);
    struct trial t = trial_of(cfg, "imbalance", Q_MUTEX_COND, 1, cfg->capacity);
    uint64_t unit = (uint64_t)(1000 / cfg->spin_ns);
    t.producer_spin = unit * (uint64_t)c->producer_units;
    t.consumer_spin = unit * (uint64_t)c->consumer_units;
    t.sample_ns = 100000;
    long items = t.items = imbalance_items(cfg, &t, c->unbounded);
    t.capacity = c->unbounded ? (size_t)items : cfg->capacity;
    t.sample_ns = (long)fmax(1e5, (double)items * 4000.0 / 400);   /* ~400 samples a trial */
    double pb[trials], cb[trials], peak[trials], rate[trials];
    struct outcome o;
    for (long i = 0; i < trials; i++) {
        t.number = (int)i + 1;
        run_trial(&t, &o);
        pb[i] = o.producer_blocked_pct, cb[i] = o.consumer_blocked_pct;
        peak[i] = (double)o.high_water, rate[i] = o.mitems_per_s;
    }
    double peak_items = median_pick(peak, trials);
    fprintf(table, "%s\tmutex-cond\t%zu\t%ld\t%.1f\t%.1f\t%.0f\t%.0f\t%.4g\n", c->name, t.capacity,
            items, median_pick(pb, trials), median_pick(cb, trials), peak_items,
            peak_items * ITEM_BYTES, median_pick(rate, trials));
    printf("  %-30s %9zu %10.1f %10.1f %10.0f %10.0f %10.3f\n", c->name, t.capacity,
           median_pick(pb, trials), median_pick(cb, trials), peak_items,
           peak_items * ITEM_BYTES / 1024, median_pick(rate, trials));
    for (size_t i = 0; i < sample_count; i++)
        if (sample_at[i] >= window_start && sample_at[i] <= window_end)
            fprintf(timeline, "%s\t%.3f\t%.0f\n", c->name,
                    (double)(sample_at[i] - window_start) / 1e6, sample_items[i]);
    return (struct imbalance_result){median_pick(pb, trials), median_pick(cb, trials), peak_items};
}

static void run_imbalance(const struct config *cfg)
{
    FILE *table = tsv_open_table(&cfg->o, "imbalance",
                                 "case\tvariant\tcapacity\titems\tproducer_blocked_pct\t"
                                 "consumer_blocked_pct\tpeak_items\tpeak_bytes\tmitems_per_s");
    FILE *timeline = tsv_open_table(&cfg->o, "occupancy", "case\tt_ms\titems");
    printf("\nimbalance: mutex-cond, 1 + 1, work per item 1 us on the fast side and 4 us on the "
           "slow one (calibrated spin); medians\n");
    printf("  %-30s %9s %10s %10s %10s %10s %10s\n", "case", "capacity", "prod.blk%",
           "cons.blk%", "peak items", "peak KiB", "Mitems/s");
    struct imbalance_result res[KIT_COUNT(imbalance_cases)];
    for (size_t i = 0; i < KIT_COUNT(imbalance_cases); i++) {
        if (cfg->o.mode != MODE_QUICK)
            progress("imbalance: %s", imbalance_cases[i].name);
        res[i] = run_imbalance_case(cfg, &imbalance_cases[i], table, timeline);
    }
    tsv_close(table);
    tsv_close(timeline);
    struct imbalance_result fast = case_named(res, "producer-4x-faster");
    double unbounded = case_named(res, "producer-4x-faster-unbounded").peak_items;
    double slow_blocked = case_named(res, "consumer-4x-faster").consumer_blocked;
    if (fast.peak_items >= (double)cfg->capacity)   /* no peak exceeds the bound: it is the most */
        printf("  -> the bound at work: the 4x faster producer slept %.0f%% of its time, and the "
               "queue never held more than %.0f items (%zu allowed)\n", fast.producer_blocked,
               fast.peak_items, cfg->capacity);
    else
        printf("  -> the bound not reached: the 4x faster producer slept %.0f%% of its time, and "
               "the queue's median peak was %.0f items (%zu allowed)\n", fast.producer_blocked,
               fast.peak_items, cfg->capacity);
    printf("  -> without a bound the same 4x faster producer filled the queue up to %.0f items "
           "(%.1f MiB)\n", unbounded, unbounded * ITEM_BYTES / 1048576);
    printf("  -> a 4x faster consumer slept %.0f%% of its time waiting for items\n", slow_blocked);
}

/* ---------- experiment 5: latency at an offered load, and Little's law ---------- */

/* One point of the latency experiment, pooled over its trials the way the law is stated: items
 * and time add up, and every mean number in flight is a time average over all the windows
 * (summed here in item-seconds, divided by the windows' total at the end). */
struct flight {
    double items, window_s, latency_sum_us, ticks_item_s, late_ns, readings, puts_late, gets_late;
    double sampled, at_readings, at_due_ticks, on_grid;
};

struct little {
    const char *variant;
    int load;
    double predicted, sampled, at_readings, at_due_ticks, on_grid;   /* mean items in flight */
    double rate, error_pct, ticks_taken_pct, late_us, put_pct, get_pct;
};

/* book:stamps */
/* The number in flight at an instant from the items' own stamps: put at or before it and not
 * got by then, the very interval each latency measures. With one producer and one consumer
 * both stamps ascend in the order the items were got (verify() checks that order), so a cursor
 * moving forward over ascending instants counts them in one pass. */
struct cursor {
    long put, got;
};

static double stamps_in_flight(struct cursor *c, uint64_t at, long items)
{
    while (c->put < items && stamps[c->put].put_ns <= at)
        c->put++;
    while (c->got < items && stamps[c->got].got_ns <= at)
        c->got++;
    return (double)(c->put - c->got);
}
/* end:stamps */

/* The stamps on every one of the sampler's ticks in the window, each standing for the time from
 * halfway to the tick before it to halfway to the next: what a sampler that was never late and
 * never missed a tick would have seen. */
static double grid_item_seconds(long every_ns, long items)
{
    struct cursor c = {0, 0};
    uint64_t step = (uint64_t)every_ns, at = first_tick;
    double sum = 0;
    while (at < window_start)
        at += step;
    for (bool first = true; at <= window_end; at += step, first = false) {
        double from = first ? (double)window_start : (double)at - (double)step / 2;
        double to = fmin((double)window_end, (double)at + (double)step / 2);
        sum += stamps_in_flight(&c, at, items) * (to - from) / 1e9;
    }
    return sum;
}

/* One trial's sampler against the stamps: the stamps at the sampler's own readings (did it read
 * right?), at the ticks those readings were due (did reading late change what it saw?), and on
 * every tick (did the ticks it missed?). Rate x mean latency needs no sampler at all. */
static void add_trial_view(const struct trial *t, const struct outcome *o, struct flight *f)
{
    static double at_readings[MAX_SAMPLES], at_due[MAX_SAMPLES];
    struct cursor reading = {0, 0}, due = {0, 0};
    size_t taken;
    for (long j = 0; j < t->items; j++)
        f->latency_sum_us += (double)(stamps[j].got_ns - stamps[j].put_ns) / 1000;
    for (size_t i = 0; i < sample_count; i++) {
        at_readings[i] = stamps_in_flight(&reading, sample_at[i], t->items);
        at_due[i] = stamps_in_flight(&due, sample_due[i], t->items);
        if (sample_at[i] < window_start || sample_at[i] > window_end)
            continue;
        f->late_ns += (double)(sample_at[i] - sample_due[i]), f->readings++;
        f->puts_late += (double)(reading.put - due.put);     /* between the tick and reading */
        f->gets_late += (double)(reading.got - due.got);
    }
    f->at_readings += item_seconds(sample_at, at_readings, sample_count, &taken);
    f->at_due_ticks += item_seconds(sample_due, at_due, sample_count, &taken);
    f->on_grid += grid_item_seconds(t->sample_ns, t->items);
    f->sampled += o->sampled_item_s;
    f->items += (double)t->items;
    f->window_s += o->seconds;
    f->ticks_item_s += o->ticks_taken_pct * o->seconds;
}

static struct little little_of(const char *variant, int load, const struct flight *f)
{
    double w = f->window_s;
    struct little l = {.variant = variant, .load = load, .predicted = f->latency_sum_us / 1e6 / w,
                       .sampled = f->sampled / w, .at_readings = f->at_readings / w,
                       .at_due_ticks = f->at_due_ticks / w, .on_grid = f->on_grid / w,
                       .rate = f->items / w, .ticks_taken_pct = f->ticks_item_s / w,
                       .late_us = f->readings > 0 ? f->late_ns / f->readings / 1000 : 0};
    l.error_pct = 100 * (l.sampled - l.predicted) / l.predicted;
    l.put_pct = f->late_ns > 0 ? 100 * f->puts_late / (f->late_ns / 1e9) / l.rate : 0;
    l.get_pct = f->late_ns > 0 ? 100 * f->gets_late / (f->late_ns / 1e9) / l.rate : 0;
    return l;
}

/* A mean number in flight as a difference from rate x mean latency, in % of the latter. */
static double off_pct(const struct little *l, double items)
{
    return 100 * (items - l->predicted) / l->predicted;
}

static void write_latency_rows(FILE *cdf, FILE *table, const double *sorted, size_t n,
                               const struct flight *f, const struct little *l)
{
    static const double percentiles[] = {1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.9,
                                         100};
    for (size_t i = 0; i < sizeof percentiles / sizeof *percentiles; i++)
        fprintf(cdf, "%s\t%d\t%g\t%.4g\n", l->variant, l->load, percentiles[i],
                sorted[(size_t)(percentiles[i] / 100 * (double)(n - 1))]);
    fprintf(table, "%s\t%d\t%.6g\t%.6g\t%.6g\t%.6g\t%.2f\t%.1f\t%.6g\t%.6g\t%.6g\t%.1f\t%.1f"
            "\t%.1f\n", l->variant, l->load, f->items / f->window_s, f->latency_sum_us / f->items,
            l->sampled, l->predicted, l->error_pct, l->ticks_taken_pct, l->at_readings,
            l->at_due_ticks, l->on_grid, l->late_us, l->put_pct, l->get_pct);
}

/* book:latency */
/* The producer offers `load`% of what the consumer can take; every item's put and get times are
 * kept, and the parent counts the items in flight (put, not yet got) every 100 us. */
static struct little run_latency_load(const struct config *cfg, enum queue_kind kind,
                                      double capacity_per_s, int load, struct report *r,
                                      FILE *cdf, FILE *table)
{
    long trials = trials_for(&cfg->o, 1, 3, 7);
    struct trial t = trial_of(cfg, "latency", kind, 1, cfg->capacity);
    t.consumer_spin = (uint64_t)(2000 / cfg->spin_ns);
    t.rate = capacity_per_s * load / 100;
    /* about the mode's time a trial, however slowly a loaded machine lets the consumer go */
    double fits = t.rate * (double)by_mode(&cfg->o, 2, 10, 50) / 100;
    t.items = cfg->items ? cfg->items : fits < 500 ? 500 : fits > (double)latency_room
                                                            ? (long)latency_room : (long)fits;
    t.put_batch = 1;
    t.sample_ns = 100000;
    double *all = malloc((size_t)(trials * t.items) * sizeof *all);
    struct flight f = {0};
    size_t n = 0;
    if (!all)
        die_errno("malloc");
    for (long i = 0; i < trials; i++) {
        struct outcome o;
        t.number = (int)i + 1;
        run_trial(&t, &o);
        for (long j = 0; j < t.items; j++)
            all[n++] = (double)(stamps[j].got_ns - stamps[j].put_ns) / 1000;
        add_trial_view(&t, &o, &f);
    }
    struct little l = little_of(queue_kind_names[kind], load, &f);
    struct stats s = stats_of(all, n);       /* sorts: percentiles are read from `all` */
    report_add(r, queue_kind_names[kind], load, "us", s);
    report_comment(r, "p99 %.1f us, offered %.0f/s; in flight %.3g sampled, %.3g = rate x mean "
                   "latency (%+.1f%%)", all[(size_t)(0.99 * (double)(n - 1))], t.rate, l.sampled,
                   l.predicted, l.error_pct);
    write_latency_rows(cdf, table, all, n, &f, &l);
    free(all);
    return l;
}
/* end:latency */

/* What the consumer can take when it works 2 us per item: a flat-out run (also the warm-up). */
static double consumer_capacity(const struct config *cfg, enum queue_kind kind)
{
    struct trial t = trial_of(cfg, "latency", kind, 1, cfg->capacity);
    struct outcome o;
    t.items = (long)latency_room / 4 + 1;
    t.consumer_spin = (uint64_t)(2000 / cfg->spin_ns);
    if (!run_trial(&t, &o))
        die("latency: %s cannot offer capacity %zu", queue_kind_names[kind], cfg->capacity);
    return o.mitems_per_s * 1e6;
}

/* The sampler beside the stamps, one row per point: where its average came from. */
static void print_littles_law(const struct little *pts, int n)
{
    printf("\n  Little's law, mean items in flight over the same windows: rate x W (the items' own "
           "average, from their put and get stamps) and the sampled one; then the stamps read at "
           "the sampler's readings, at the ticks those were due, and on every one of its 100-us "
           "ticks; how late it read, and how fast items were put and got meanwhile (%% of their "
           "mean rate)\n");
    printf("  %-12s %5s %9s %9s %8s %9s %9s %9s %8s %6s %6s %6s\n", "variant", "load%",
           "rate x W", "sampled", "diff", "readings", "due tick", "each tick", "late us", "ticks",
           "puts", "gets");
    for (int i = 0; i < n; i++) {
        const struct little *l = &pts[i];
        printf("  %-12s %5d %9.4g %9.4g %+7.1f%% %9.4g %9.4g %9.4g %8.1f %5.0f%% %5.0f%% "
               "%5.0f%%\n", l->variant, l->load, l->predicted, l->sampled, l->error_pct,
               l->at_readings, l->at_due_ticks, l->on_grid, l->late_us, l->ticks_taken_pct,
               l->put_pct, l->get_pct);
    }
}

/* Where the sampled average missed, what made the difference: the reading itself (sampled
 * against the stamps at its readings), reading late (readings against their due ticks), the
 * ticks it took (due ticks against all its ticks) and the instants of its ticks (all its ticks
 * against rate x W, the queue at all times). Between a tick and its reading, the rates at which
 * items were put and got say which side lost its CPU to the sampler meanwhile. */
static void explain_misses(const struct little *pts, int n)
{
    double late = 0, ticks = 0;
    for (int i = 0; i < n; i++) {
        const struct little *l = &pts[i];
        if (fabs(l->error_pct) <= 10)
            continue;
        double lt = off_pct(l, l->at_readings) - off_pct(l, l->at_due_ticks);
        double tk = off_pct(l, l->at_due_ticks) - off_pct(l, l->on_grid);
        late += fabs(lt), ticks += fabs(tk);
        printf("  -> not within 10%%: %s at %d%%, %+.1f%% = %+.1f reading, %+.1f reading late, "
               "%+.1f ticks taken, %+.1f instants of the ticks (points of %% of rate x W); from "
               "each tick to its reading (%.1f us) the queue changed by %+.2f items, items were "
               "put at %.0f%% and got at %.0f%% of their mean rate\n", l->variant, l->load,
               l->error_pct, off_pct(l, l->sampled) - off_pct(l, l->at_readings), lt, tk,
               off_pct(l, l->on_grid), l->late_us, l->at_readings - l->at_due_ticks, l->put_pct,
               l->get_pct);
    }
    if (late + ticks > 0)
        printf("  -> there, most of the difference came from %s\n", late >= ticks
               ? "reading late: the queue held more or fewer items when the sampler read it "
                 "than at the tick it was due"
               : "the ticks the sampler took: it got a CPU at some states of the queue more "
                 "often than at others, so the ticks it missed were not a fair share of the "
                 "time");
}

/* Where the law held within 10% and where not, and what the sampler's view says about why. */
static void conclude_littles_law(const struct little *pts, int n)
{
    int held = 0, worst = 0;
    double grid = 0, read = 0, least = 100, most = 0, soonest = INFINITY, latest = 0;
    for (int i = 0; i < n; i++) {
        const struct little *l = &pts[i];
        held += fabs(l->error_pct) <= 10;
        worst = fabs(l->error_pct) > fabs(pts[worst].error_pct) ? i : worst;
        grid = fmax(grid, fabs(off_pct(l, l->on_grid)));
        read = fmax(read, fabs(off_pct(l, l->sampled) - off_pct(l, l->at_readings)));
        least = fmin(least, l->ticks_taken_pct), most = fmax(most, l->ticks_taken_pct);
        soonest = fmin(soonest, l->late_us), latest = fmax(latest, l->late_us);
    }
    printf("  -> rate x mean latency is the items' own time average of the number in flight (each "
           "window starts and ends empty); the same stamps read at every one of the sampler's "
           "100-us ticks came within %.1f%% of it at every point%s\n", grid, grid <= 2 ? ""
           : ": the queue at the instants of its ticks is not the queue at all times");
    printf("  -> Little's law (items in flight = arrival rate x mean latency): the sampled time "
           "average came within 10%% at %d of %d points; largest difference %+.1f%% (%s at %d%%)\n",
           held, n, pts[worst].error_pct, pts[worst].variant, pts[worst].load);
    if (read <= 1)
        printf("  -> the counter read what the stamps give at the same instants (within %.1f%% at "
               "every point): where the sampled average differs from rate x W, the difference "
               "lies in when the sampler looked, not in what it counted\n", read);
    else
        printf("  -> the counter and the stamps differ by up to %.1f%% at the same instants: part "
               "of the difference lies in what the sampler counted\n", read);
    explain_misses(pts, n);
    printf("  -> the sampler, a third process on %d CPUs, was awake for %.0f%% to %.0f%% of its "
           "100-us ticks, and read %.0f to %.0f us after the tick on average\n", online_cpus(),
           least, most, soonest, latest);
}

static void run_latency(const struct config *cfg)
{
    struct report r;
    struct little pts[2 * Q_KINDS];
    int n = 0;
    report_start(&r, &cfg->o, "latency", "load_pct");
    FILE *cdf = tsv_open_table(&cfg->o, "latency-cdf", "variant\tload_pct\tpercentile\tlatency_us");
    FILE *little = tsv_open_table(&cfg->o, "littles-law",
                                  "variant\tload_pct\tarrival_per_s\tmean_latency_us\t"
                                  "mean_in_flight\tpredicted_in_flight\terror_pct\t"
                                  "ticks_taken_pct\tstamps_at_readings\t"
                                  "stamps_at_due_ticks\tstamps_on_grid\tlate_us\t"
                                  "put_rate_late_pct\tget_rate_late_pct");
    printf("\nlatency: 1 + 1, the consumer works 2 us per item; the producer offers 50%% and 90%% "
           "of what the consumer can take (random arrivals); up to %zu items a trial; us from "
           "put to get\n", latency_room);
    for (int k = 0; k < Q_KINDS; k++) {
        if (!cfg->picked[k])
            continue;
        if (cfg->o.mode != MODE_QUICK)
            progress("latency: %s", queue_kind_names[k]);
        double mu = consumer_capacity(cfg, (enum queue_kind)k);
        for (int load = 50; load <= 90; load += 40)
            pts[n++] = run_latency_load(cfg, (enum queue_kind)k, mu, load, &r, cdf, little);
    }
    report_print(&r);
    tsv_close(cdf);
    tsv_close(little);
    print_littles_law(pts, n);
    conclude_littles_law(pts, n);
    report_write(&r);
    report_free(&r);
}

/* ---------- options and main ---------- */

static const char *const experiments[] = {"throughput", "capacity", "mpmc", "imbalance", "latency"};

static void parse_variants(struct config *cfg, const char *list)
{
    char copy[256], *save;
    if (list[0] == '\0')
        die_usage("--variant: needs one or more variant names");
    snprintf(copy, sizeof copy, "%s", list);
    memset(cfg->picked, 0, sizeof cfg->picked);
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int k = 0;
        while (k < Q_KINDS && strcmp(name, queue_kind_names[k]) != 0)
            k++;
        if (k == Q_KINDS)
            die_usage("--variant: '%s' is not a variant (accepted: pipe, mutex-cond, semaphores, "
                      "mpmc-ring, ring-batch)", name);
        cfg->picked[k] = true;
    }
}

static void parse_chapter_option(struct config *cfg, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (is_opt(arg, "--variant")) {
        parse_variants(cfg, option_value(argc, argv, i, "--variant"));
    } else if (is_opt(arg, "--items")) {
        cfg->items = parse_count("--items", option_value(argc, argv, i, "--items"), 100, 100000000);
    } else if (is_opt(arg, "--capacity")) {
        cfg->capacity = parse_size("--capacity", option_value(argc, argv, i, "--capacity"), 2,
                                   1 << 20);
        if (cfg->capacity & (cfg->capacity - 1))
            die_usage("--capacity: %zu is not a power of two (accepted: 2, 4, 8 .. 1M)",
                      cfg->capacity);
    } else if (is_opt(arg, "--batch")) {
        cfg->batch = (size_t)parse_count("--batch", option_value(argc, argv, i, "--batch"), 1,
                                         MAX_BATCH);
    } else if (is_opt(arg, "--sampler-cpu")) {
        cfg->sampler_cpu = (int)parse_count("--sampler-cpu",
                                            option_value(argc, argv, i, "--sampler-cpu"), 0,
                                            online_cpus() - 1);
    } else if (is_opt(arg, "--fault")) {
        const char *f = option_value(argc, argv, i, "--fault");
        if (strcmp(f, "drop") == 0) cfg->fault = FAULT_DROP;
        else if (strcmp(f, "duplicate") == 0) cfg->fault = FAULT_DUPLICATE;
        else die_usage("--fault: '%s' is not a fault (accepted: drop, duplicate)", f);
    } else {
        die_usage("unknown option '%s'", arg);
    }
}

static struct config parse_args(int argc, char **argv)
{
    struct config cfg = {.capacity = 1024, .batch = 32, .sampler_cpu = -1};
    cfg.o = kit_defaults("ch07-prodcons", usage, argc, argv);
    for (int k = 0; k < Q_KINDS; k++)
        cfg.picked[k] = true;
    for (int i = 1; i < argc; i++)
        if (!kit_std_option(&cfg.o, argc, argv, &i))
            parse_chapter_option(&cfg, argc, argv, &i);
    if (cfg.o.workers > MAX_SIDE / 2)
        die_usage("--workers: %ld is out of range for this chapter (accepted: 1 to %d)",
                  cfg.o.workers, MAX_SIDE / 2);
    check_only(&cfg.o, experiments, sizeof experiments / sizeof *experiments);
    return cfg;
}

static void *shared_mapping(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED)
        die_errno("mmap (shared results)");
    return p;
}

/* ns per spin() iteration: the best of a few runs, so work per item can be given in time. */
static double calibrate_spin(void)
{
    double best = INFINITY;
    for (int i = 0; i < 5; i++) {
        uint64_t start = now_ns();
        keep(spin(1 << 20));
        double ns = (double)(now_ns() - start) / (1 << 20);
        best = ns < best ? ns : best;
    }
    return best;
}

int main(int argc, char **argv)
{
    struct config cfg = parse_args(argc, argv);
    prepare_out_dir(&cfg.o);
    catch_stop_signals(drop_current_queue);
    shared = shared_mapping(sizeof *shared);
    latency_room = cfg.items ? (size_t)cfg.items : (size_t)by_mode(&cfg.o, 600, 20000, 100000);
    if (wanted(&cfg.o, "latency"))
        stamps = shared_mapping(latency_room * sizeof *stamps);
    print_run_header(&cfg.o, "what does a bounded queue between processes cost, and what does "
                             "its bound buy?");
    report_effective_cpus(&cfg.o, calibration_spins(&cfg.o));
    cfg.spin_ns = calibrate_spin();
    /* The sampler's 100-us ticks: by default the kernel may let a timer wake-up slip by 50 us */
    if (prctl(PR_SET_TIMERSLACK, 1UL) == -1)
        die_errno("prctl (PR_SET_TIMERSLACK)");
    printf("placement: %s; work per item: 1 us = %.0f spin iterations\n", pin_name(cfg.o.pin),
           1000 / cfg.spin_ns);
    if (cfg.fault != FAULT_NONE)
        printf("fault injected: producer 0 %s its middle item\n",
               cfg.fault == FAULT_DROP ? "drops" : "sends twice");
    if (wanted(&cfg.o, "throughput"))
        run_throughput(&cfg);
    if (wanted(&cfg.o, "capacity"))
        run_capacity(&cfg);
    if (wanted(&cfg.o, "mpmc"))
        run_mpmc(&cfg);
    if (wanted(&cfg.o, "imbalance"))
        run_imbalance(&cfg);
    if (wanted(&cfg.o, "latency"))
        run_latency(&cfg);
    printf("\nverification: every item of every trial delivered exactly once, in order per "
           "producer, intact, never more in a queue than its capacity\n");
    return 0;
}
