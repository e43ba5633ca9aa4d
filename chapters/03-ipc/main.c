/* ch03-ipc - pipes vs queues vs shared memory, and what serialization costs: the driver.
 *
 * Read channels.c first: the seven channels and the payload they carry. This file starts the
 * peer process, runs the three experiments with it (latency, bandwidth, serialization: see
 * usage[] below), prints their tables and TSV files, and says what the numbers mean.
 * Exit: 0 ok, 1 runtime or verification failure, 2 usage error. Linux only.
 *
 * Sample output line (latency: us per round trip, median (min), on one CPU, on two, ratio):
 *   shm-zero-copy   16.0 (15.1)*          29.0 (27.0)             1.81x
 * What to look for: a round trip with both processes on one CPU against one across two (there
 * each message may have to wake a sleeping CPU; which is cheaper depends on the machine, and
 * the two/one column says which it was here); small messages rank channels by
 * per-message cost, large ones by the copies they make; text encoding costs far more than
 * moving its bytes. Every byte received is checked, decoded integers must equal the
 * originals, and the peer must exit 0 (--corrupt-at proves the checks fail when they should).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "cli.h"
#include "proc.h"
#include "bench.h"
#include "report.h"
#include "channels.h"

static const char usage[] =
    "Usage: ch03-ipc [--quick | --full] [--only latency|bandwidth|serialization]\n"
    "                [--channel NAME] [--pin none|same|spread] [--max-size SIZE] [--ints N]\n"
    "                [--rounds N] [--corrupt-at N] [--trials N] [--seed S] [--out DIR]\n"
    "Pipes vs queues vs shared memory, and what serialization costs (Linux only).\n"
    "  latency: a 64-byte round trip per channel, on one CPU and on two; bandwidth: one-way\n"
    "  throughput by message size, under memcpy; serialization: integers as text, records,\n"
    "  raw through a pipe and raw in place: encode, transfer and decode time.\n"
    "  --channel NAME   latency and bandwidth for one channel only: pipe, socketpair, fifo,\n"
    "                   mqueue, queue, shm-ring, shm-zero-copy (default: all)\n"
    "  --pin            latency: without --pin both same (x=1) and spread (x=2) are measured;\n"
    "                   bandwidth and serialization: spread unless --pin says otherwise\n"
    "  --max-size SIZE  largest bandwidth message, a multiple of 8 (64 to 64M; default 256K\n"
    "                   quick, 4M default, 16M full); sizes go 64, 256, 1K, ... up to it\n"
    "  --rounds N       latency: round trips a trial times (1 to 1000000; default 100 quick,\n"
    "                   500 default, 5000 full); --rounds 2000 --trials 1 times one window\n"
    "                   as perf bench sched pipe -l 2000 does (less its fork and exit)\n"
    "  --ints N         integers in the serialization experiment (1 to 10000000;\n"
    "                   default 100000 quick, 1000000 otherwise)\n"
    "  --corrupt-at N   fault injection: every sender flips one bit of byte N of what it sends\n"
    "                   (0 up to the last byte this run sends); the run must end with\n"
    "                   'verification failed' and exit 1\n"
    "Writes results/ch03-latency.tsv (x = CPUs used: 1 same, 2 spread, 0 scheduler; us per\n"
    "round trip), ch03-bandwidth.tsv (x = message size in KiB; GB/s = 10^9 bytes/s, variant\n"
    "memcpy is the ceiling; metadata at the largest size: memcpy_fresh_gbs, memcpy into fresh\n"
    "buffers as perf bench does, and zero_copy_alone_gbs, shm-zero-copy's write and check in\n"
    "one process) and ch03-serialization.tsv (x = integers; variants FORMAT/encode,\n"
    "/transfer, /decode, /total in ms, /wire in bytes, /share = encode+decode in % of total).\n";

static const char *const experiments[] = {"latency", "bandwidth", "serialization"};

/* Every option, resolved once: the experiments read their sizes from here. */
struct plan {
    const struct kit_opts *o;
    int channel;                /* --channel: its kind, or -1 for every channel */
    enum kit_pin where;         /* bandwidth and serialization: --pin, else spread (1 CPU: same) */
    long ping_trials, ping_rounds;          /* latency */
    long flow_trials;                       /* bandwidth */
    size_t max_size;
    long ship_trials;                       /* serialization */
    size_t ints;
    uint64_t corrupt_at;                    /* UINT64_MAX: no fault injected */
};

/* ---------- the peer process: started, watched, reaped ---------- */

/* Where the two processes run, by --pin's value: its name, the CPUs they use (the x of the
 * latency TSV; 0: wherever the scheduler puts them) and the title of its latency column. */
static const struct placement {
    const char *name;
    int cpus;
    const char *title;
} placements[] = {[PIN_NONE] = {"none", 0, "scheduler: us (min)"},
                  [PIN_SAME] = {"same", 1, "one CPU: us (min)"},
                  [PIN_SPREAD] = {"spread", 2, "two CPUs: us (min)"}};

typedef void peer_body(struct channel *ch, void *arg);

/* The one peer that runs at a time. The channels call check_peer and peer_gone from deep
 * inside their waits, so what those need to know lives here. */
static struct {
    bool in_peer;           /* true in the peer process itself */
    pid_t pid;              /* the parent's peer, 0 when none runs */
    const char *role;       /* "sender" or "echo": what the peer does */
    char task[96];          /* "bandwidth pipe 64K" */
    cpu_set_t cpus;         /* the parent's CPUs before it was placed for the peer */
    struct channel *ch;     /* the channel between the two */
    peer_body *body;        /* what the peer runs, and its argument */
    void *arg;
} peer;

__attribute__((noreturn))
static void report_peer_end(int status, const char *how)
{
    if (ended_ok(status))
        die("%s: the %s process (pid %d) exited before finishing its part (%s)", peer.task,
            peer.role, (int)peer.pid, how);
    char ended[96];
    how_it_ended(status, ended, sizeof ended);
    if (WIFSIGNALED(status))
        die("%s: the %s process (pid %d) was %s", peer.task, peer.role, (int)peer.pid, ended);
    die("%s: the %s process (pid %d) %s (its message is above)", peer.task, peer.role,
        (int)peer.pid, ended);              /* it failed and said why itself */
}

/* A wait timed out or was interrupted: stop if asked to; if the peer is gone, fail at
 * once, naming it and its signal. Never blocks. (In the peer, the parent's death kills it.) */
void check_peer(void)
{
    exit_if_stopped();
    int status;
    if (!peer.in_peer && peer.pid > 0 && waitpid(peer.pid, &status, WNOHANG) == peer.pid) {
        forget_child(peer.pid);
        report_peer_end(status, "it ended while this side waited");
    }
}

/* The other end closed. In the parent: wait for the peer and say how it ended. In the
 * peer: the parent failed and says why itself. */
void peer_gone(const char *how)
{
    exit_if_stopped();
    if (peer.in_peer)
        _exit(EXIT_RUNTIME);
    if (peer.pid <= 0)
        die("%s: %s", peer.task, how);
    report_peer_end(reap_child(peer.pid), how);
}

static int run_peer(int index, void *unused)
{
    (void)index, (void)unused;
    peer.in_peer = true;
    attach_channel(peer.ch, false);
    peer.body(peer.ch, peer.arg);
    return 0;
}

/* Open a channel of `kind` for messages up to max_msg bytes, fork the peer (placed as `where`
 * says) to run body on its side of it, and attach this side. */
static struct channel *start_peer(int kind, size_t max_msg, enum kit_pin where,
                                  const char *role, peer_body *body, void *arg)
{
    peer.ch = open_channel(kind, max_msg);
    peer.body = body;
    peer.arg = arg;
    peer.role = role;
    if (sched_getaffinity(0, sizeof peer.cpus, &peer.cpus) == -1)
        die_errno("sched_getaffinity");
    if (where != PIN_NONE)
        pin_to_cpu(0);                           /* the peer: CPU 0 (same) or CPU 1 (spread) */
    peer.pid = start_worker(1, where, run_peer, NULL);
    attach_channel(peer.ch, true);
    return peer.ch;
}

/* Reap the peer, check it finished its part, and release the channel. */
static void finish_peer(void)
{
    int status = reap_child(peer.pid);
    if (!ended_ok(status))
        report_peer_end(status, "");
    peer.pid = 0;
    close_channel(peer.ch);
    if (sched_setaffinity(0, sizeof peer.cpus, &peer.cpus) == -1)
        die_errno("sched_setaffinity");
}

static struct stream stream_for(const struct plan *pl, enum direction dir, const char *what)
{
    uint64_t salt = mix64(pl->o->seed * 2 + (uint64_t)dir);
    return (struct stream){0, salt, pl->corrupt_at, what};
}

static bool channel_wanted(const struct plan *pl, int kind)
{
    return pl->channel == -1 || pl->channel == kind;
}

enum { LOWEST = 1, HIGHEST = -1 };

/* The channel whose median at x is the lowest or the highest (`which`), leaving out
 * `except` (NULL: none); NULL when no channel has a row there. */
static const char *extreme_channel(const struct report *r, double x, int which,
                                   const char *except)
{
    const char *found = NULL;
    for (int k = 0; k < CHANNEL_COUNT; k++) {
        const char *name = channel_name(k);
        double m = median_of(r, name, x);
        if (m > 0 && !(except && strcmp(name, except) == 0)
            && (!found || which * m < which * median_of(r, found, x)))
            found = name;
    }
    return found;
}

/* Buffers written once, so their pages are faulted in before anything is timed. */
static void *filled(size_t bytes, int byte)
{
    void *p = malloc(bytes);
    if (!p)
        die_errno("malloc");
    return memset(p, byte, bytes);
}

/* ---------- experiment 1: latency ---------- */

enum { PING_BYTES = 64 };

/* Both sides start from the same copy: each sends one stream and checks the other. */
struct ping {
    struct channel *ch;
    struct stream down, up;
    long rounds;            /* per trial */
    long total_rounds;      /* warm-up + trials, for the echo side */
};

/* The peer: receive each message, check it, answer with the next message of its own stream. */
static void echo_body(struct channel *ch, void *arg)
{
    struct ping *p = arg;
    for (long r = 0; r < p->total_rounds; r++) {
        receive_message(ch, DOWN, &p->down, PING_BYTES);
        send_message(ch, UP, &p->up, PING_BYTES);
    }
}

/* book:ping */
static double time_round_trips(void *ctx)
{
    struct ping *p = ctx;
    uint64_t start = now_ns();
    for (long r = 0; r < p->rounds; r++) {
        send_message(p->ch, DOWN, &p->down, PING_BYTES);
        receive_message(p->ch, UP, &p->up, PING_BYTES);
    }
    return (double)(now_ns() - start) / (double)p->rounds / 1e3;
}
/* end:ping */

static struct stats latency_point(const struct plan *pl, int kind, enum kit_pin where)
{
    snprintf(peer.task, sizeof peer.task, "latency %s %s", channel_name(kind),
             placements[where].name);
    struct ping p = {NULL, stream_for(pl, DOWN, peer.task), stream_for(pl, UP, peer.task),
                     pl->ping_rounds, pl->ping_rounds * (pl->ping_trials + 1)};
    p.ch = start_peer(kind, PING_BYTES, where, "echo", echo_body, &p);
    struct stats s = measure(time_round_trips, &p, pl->ping_trials);
    finish_peer();
    return s;
}

/* What the pipe's two placements say, then the spread between the channels. */
static void latency_conclusions(const struct report *r, enum kit_pin last)
{
    double one = median_of(r, "pipe", 1), two = median_of(r, "pipe", 2);
    if (one > 0 && two > 0) {
        printf("  -> a pipe round trip costs %.1f us with both processes on one CPU and %.1f us "
               "across two (%.2fx):\n", one, two, two / one);
        /* A round trip is two messages: the extra per message against a whole round trip. */
        if (two > 1.2 * one)
            printf("     across two CPUs a round trip cost %.1f us more, %.1f us per message%s;\n"
                   "     likely the wake-up of the other CPU (not measured: counting context "
                   "switches would test it).\n", two - one, (two - one) / 2,
                   two - one > 2 * one ? ",\n     more than a whole round trip on one" : "");
        else if (two * 1.2 < one)
            printf("     two CPUs were %.2fx cheaper here (why is not measured).\n", one / two);
        else
            printf("     about the same here (within 1.2x).\n");
    }
    int x = placements[last].cpus;
    const char *best = extreme_channel(r, x, LOWEST, NULL);
    const char *worst = extreme_channel(r, x, HIGHEST, NULL);
    if (best == worst)
        return;
    double fast = median_of(r, best, x), slow = median_of(r, worst, x);
    printf("  -> %s: fastest %s (%.1f us), slowest %s (%.1f us), %.1fx apart; the message is "
           "only %d bytes,\n     so copying it is likely a small part (the calls and wake-ups "
           "around it are not timed apart).\n", placements[last].name, best, fast, worst,
           slow, slow / fast, PING_BYTES);
}

/* Without --pin: one CPU and two (where there are two); each cell median (min), * if noisy. */
static void run_latency(const struct plan *pl)
{
    enum kit_pin wheres[2] = {PIN_SAME, PIN_SPREAD};
    int n = !pl->o->pin_given && online_cpus() > 1 ? 2 : 1;
    if (pl->o->pin_given)
        wheres[0] = pl->o->pin;
    struct report r;
    report_start(&r, pl->o, "latency", "cpus");
    printf("\nlatency: round trip of a %d-byte message, parent -> child -> parent "
           "(%ld trials x %ld round trips)\n  %-14s", PING_BYTES, pl->ping_trials,
           pl->ping_rounds, "channel");
    for (int w = 0; w < n; w++)
        printf("  %-20s", placements[wheres[w]].title);
    printf("%s\n", n == 2 ? "  two/one" : "");
    for (int k = 0; k < CHANNEL_COUNT; k++) {
        if (!channel_wanted(pl, k))
            continue;
        const char *name = channel_name(k);
        struct stats cells[2];
        for (int w = 0; w < n; w++) {
            cells[w] = latency_point(pl, k, wheres[w]);
            report_add(&r, name, placements[wheres[w]].cpus, "us", cells[w]);
        }
        printf("  %-14s", name);              /* once measured: a failure prints no half row */
        for (int w = 0; w < n; w++) {
            char cell[32];
            snprintf(cell, sizeof cell, "%.1f (%.1f)%s", cells[w].median, cells[w].min,
                     is_noisy(cells[w]) ? "*" : "");
            printf("  %-20s", cell);
        }
        if (n == 2)
            printf("  %6.2fx", median_of(&r, name, 2) / median_of(&r, name, 1));
        printf("\n");
    }
    printf("  (* noisy: the slowest trial took over %.0fx the fastest)\n", NOISY_RATIO);
    latency_conclusions(&r, wheres[n - 1]);
    report_save(&r);                   /* the TSV, whole, once every row is in */
}

/* ---------- experiment 2: bandwidth ---------- */

/* The sender's copy of the stream and the receiver's: apart in two processes (bandwidth),
 * side by side in one (shm-zero-copy alone). */
struct flow {
    struct channel *ch;
    struct stream sent, checked;
    size_t bytes;
    long messages;          /* per trial */
    long total_messages;    /* warm-up + trials, for the sending side */
    uint64_t boundary;      /* when the previous trial's last byte was checked */
};

/* The peer sends; the parent receives, so the check and the clock are on the same side. */
static void sender_body(struct channel *ch, void *arg)
{
    struct flow *f = arg;
    for (long m = 0; m < f->total_messages; m++)
        send_message(ch, UP, &f->sent, f->bytes);
}

/* book:flow */
/* The sender streams without pause; a trial is the time between the receiver's checks of
 * two trial-ending messages, so it measures the steady flow, not the start. */
static double time_flow(void *ctx)
{
    struct flow *f = ctx;
    for (long m = 0; m < f->messages; m++)
        receive_message(f->ch, UP, &f->checked, f->bytes);
    uint64_t now = now_ns();
    double gb_per_s = (double)f->bytes * (double)f->messages / (double)(now - f->boundary);
    f->boundary = now;
    return gb_per_s;   /* bytes per ns = GB/s */
}
/* end:flow */

static long messages_per_trial(const struct kit_opts *o, size_t bytes)
{
    long volume = (long)by_mode(o, 256 << 10, 2 << 20, 8 << 20);
    long cap = (long)by_mode(o, 256, 2048, 8192);
    long m = volume / (long)bytes;
    return m < 2 ? 2 : m > cap ? cap : m;
}

/* 64, 256, 1K, ... (times 4) below --max-size, then --max-size itself. */
static int bandwidth_sizes(const struct plan *pl, size_t sizes[16])
{
    int n = 0;
    for (size_t b = 64; b < pl->max_size && n < 15; b *= 4)
        sizes[n++] = b;
    sizes[n++] = pl->max_size;
    return n;
}

static struct stats bandwidth_point(const struct plan *pl, int kind, size_t bytes)
{
    char size[16];
    snprintf(peer.task, sizeof peer.task, "bandwidth %s %s", channel_name(kind),
             format_size(bytes, size, sizeof size));
    long messages = messages_per_trial(pl->o, bytes);
    struct stream s = stream_for(pl, UP, peer.task);
    struct flow f = {NULL, s, s, bytes, messages, messages * (pl->flow_trials + 1), 0};
    f.ch = start_peer(kind, bytes, pl->where, "sender", sender_body, &f);
    f.boundary = now_ns();
    struct stats st = measure(time_flow, &f, pl->flow_trials);
    finish_peer();
    return st;
}

struct copy_trial {
    unsigned char *from, *to;
    size_t bytes;
    long copies;
};

/* The timed part of both memcpy readings, in GB/s (bytes per ns). */
static double time_memcpy(void *ctx)
{
    const struct copy_trial *t = ctx;
    uint64_t start = now_ns();
    for (long c = 0; c < t->copies; c++) {
        memcpy(t->to, t->from, t->bytes);
        keep(t->to[c % t->bytes]);
    }
    return (double)t->bytes * (double)t->copies / (double)(now_ns() - start);
}

/* The copy checked against its source, then both buffers freed. */
static void check_and_free_copy(const struct copy_trial *t, const char *what)
{
    if (memcmp(t->from, t->to, t->bytes) != 0)
        verification_failed("memcpy of %zu %s: the copy differs from the source", t->bytes,
                            what);
    free(t->from);
    free(t->to);
}

static struct stats memcpy_point(const struct plan *pl, size_t bytes)
{
    struct copy_trial t = {filled(bytes, 1), filled(bytes, 2), bytes,
                           messages_per_trial(pl->o, bytes)};
    /* cheap, and the line everything is read against: three times the trials */
    struct stats s = measure(time_memcpy, &t, 3 * pl->flow_trials);
    check_and_free_copy(&t, "bytes");
    return s;
}

/* The same copies, perf bench mem memcpy's way: fresh buffers every trial, the source
 * written, one untimed copy to fault the pages in, then the timed copies. Against the
 * ceiling above (the same buffers, copied back to back), it shows what a warm cache gives. */
static double time_memcpy_fresh(void *ctx)
{
    const struct copy_trial *size = ctx;
    struct copy_trial t = {filled(size->bytes, 1), malloc(size->bytes), size->bytes,
                           size->copies};
    if (!t.to)
        die_errno("malloc");
    memcpy(t.to, t.from, t.bytes);
    double gb_per_s = time_memcpy(&t);
    check_and_free_copy(&t, "fresh bytes");
    return gb_per_s;
}

/* shm-zero-copy in one process: the same slots, the same producer write (fill) and consumer
 * check, one message at a time. No second process, no wake-up, and the message is read from
 * the cache of the CPU that has just written it; but write and check take turns on one CPU,
 * where two processes on two CPUs can overlap them, so this is a reference, not a ceiling. */
static double time_zero_copy_alone(void *ctx)
{
    struct flow *f = ctx;
    uint64_t start = now_ns();
    for (long m = 0; m < f->messages; m++) {
        send_message(f->ch, UP, &f->sent, f->bytes);
        receive_message(f->ch, UP, &f->checked, f->bytes);
    }
    return (double)f->bytes * (double)f->messages / (double)(now_ns() - start);
}

static struct stats zero_copy_alone_point(const struct plan *pl, size_t bytes)
{
    snprintf(peer.task, sizeof peer.task, "bandwidth shm-zero-copy alone %zu", bytes);
    struct channel *ch = open_channel(channel_named("shm-zero-copy"), bytes);
    attach_channel(ch, true);
    struct stream s = stream_for(pl, UP, peer.task);
    struct flow f = {ch, s, s, bytes, messages_per_trial(pl->o, bytes), 0, 0};
    struct stats st = measure(time_zero_copy_alone, &f, 3 * pl->flow_trials);
    close_channel(ch);
    return st;
}

/* What the smallest and the largest messages say, against the memcpy ceiling. */
static void bandwidth_conclusions(const struct report *r, size_t smallest, size_t largest,
                                  double alone, enum kit_pin where)
{
    double small_x = (double)smallest / 1024, x = (double)largest / 1024;
    double small_ceiling = median_of(r, "memcpy", small_x), ceiling = median_of(r, "memcpy", x);
    bool all_below = true;
    for (int k = 0; k < CHANNEL_COUNT; k++)
        all_below = all_below && !(median_of(r, channel_name(k), small_x) >= small_ceiling);
    char small[16], big[16];
    printf("  -> %s-byte messages: the memcpy ceiling is %.1f GB/s%s;\n     at %s the single-CPU "
           "memcpy ceiling is %.2f GB/s", format_size(smallest, small, sizeof small), small_ceiling,
           all_below ? "; every channel stayed below it\n     (likely its hand-over per "
                       "message; not timed apart)" : "",
           format_size(largest, big, sizeof big), ceiling);
    double zero = median_of(r, "shm-zero-copy", x);
    if (zero > 0)
        printf(", shm-zero-copy moves %.2f GB/s (%.0f%% of it;\n     %.0f%% of the same write "
               "and check done in one process, %.2f GB/s%s)", zero, 100 * zero / ceiling,
               100 * zero / alone, alone,
               zero > alone && where != PIN_SAME ? ";\n     above 100%: on two CPUs the "
                                                   "writing and the checking can overlap" : "");
    const char *best = extreme_channel(r, x, HIGHEST, "shm-zero-copy");
    if (best)
        printf(",\n     the best copying channel, %s, %.2f GB/s (%.0f%%): every byte it moves is "
               "copied twice", best, median_of(r, best, x), 100 * median_of(r, best, x) / ceiling);
    printf(".\n");
}

/* Two more readings of the largest size, in the TSV's metadata: memcpy into fresh buffers
 * (perf bench's way) and shm-zero-copy's own ceiling; then what the numbers say. */
static void bandwidth_ceilings(const struct plan *pl, struct report *r, size_t smallest,
                               size_t largest)
{
    struct copy_trial fresh = {NULL, NULL, largest, messages_per_trial(pl->o, largest)};
    struct stats cold = measure(time_memcpy_fresh, &fresh, 3 * pl->flow_trials);
    struct stats alone = {.median = NAN, .min = NAN, .max = NAN};
    if (channel_wanted(pl, channel_named("shm-zero-copy")))
        alone = zero_copy_alone_point(pl, largest);
    report_note(r, "memcpy_fresh_gbs=%.6g memcpy_fresh_min=%.6g memcpy_fresh_max=%.6g "
                "zero_copy_alone_gbs=%.6g zero_copy_alone_min=%.6g zero_copy_alone_max=%.6g",
                cold.median, cold.min, cold.max, alone.median, alone.min, alone.max);
    bandwidth_conclusions(r, smallest, largest, alone.median, pl->where);
    char size[16];
    printf("     the same %s copied into fresh buffers each trial (as perf bench mem memcpy "
           "does): %.2f GB/s.\n", format_size(largest, size, sizeof size), cold.median);
}

/* One row per channel, then memcpy, the ceiling; a column per message size. */
static void run_bandwidth(const struct plan *pl)
{
    size_t sizes[16];
    int nsizes = bandwidth_sizes(pl, sizes), done = 0, count = 0;
    struct report r;
    report_start(&r, pl->o, "bandwidth", "msg_kib");
    printf("\nbandwidth: one-way throughput, GB/s (10^9 bytes/s), by message size; placement %s; "
           "%ld trials\n  %-14s", placements[pl->where].name, pl->flow_trials, "channel");
    for (int i = 0; i < nsizes; i++) {
        char size[16];
        printf(" %7s ", format_size(sizes[i], size, sizeof size));
    }
    printf("\n");
    bool any_noisy = false;
    for (int k = 0; k < CHANNEL_COUNT; k++)
        count += channel_wanted(pl, k);
    for (int k = 0; k <= CHANNEL_COUNT; k++) {
        bool ceiling = k == CHANNEL_COUNT;
        if (!ceiling && !channel_wanted(pl, k))
            continue;
        if (!ceiling && pl->o->mode != MODE_QUICK)
            progress("bandwidth: %s (%d of %d channels)", channel_name(k), ++done, count);
        const char *name = ceiling ? "memcpy" : channel_name(k);
        struct stats cells[KIT_COUNT(sizes)];
        for (int i = 0; i < nsizes; i++) {
            cells[i] = ceiling ? memcpy_point(pl, sizes[i]) : bandwidth_point(pl, k, sizes[i]);
            report_add(&r, name, (double)sizes[i] / 1024, "GB/s", cells[i]);
            any_noisy = any_noisy || is_noisy(cells[i]);
        }
        printf("  %-14s", name);              /* once measured: a failure prints no half row */
        for (int i = 0; i < nsizes; i++)
            printf(" %7.2f%c", cells[i].median, is_noisy(cells[i]) ? '*' : ' ');
        printf("%s\n", ceiling ? "  (one CPU copying: the ceiling)" : "");
    }
    if (any_noisy)
        printf("  (* noisy: the slowest trial took over %.0fx the fastest)\n", NOISY_RATIO);
    bandwidth_ceilings(pl, &r, sizes[0], sizes[nsizes - 1]);
    report_save(&r);                   /* the TSV, whole, once every row is in */
}

/* ---------- experiment 3: serialization ---------- */

/* book:formats */
/* text: one decimal number and a newline per integer, as printf writes and strtoll reads. */
static size_t encode_text(const int64_t *values, size_t n, unsigned char *out)
{
    char *p = (char *)out;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%" PRId64 "\n", values[i]);
    return (size_t)(p - (char *)out);
}

static void decode_text(const unsigned char *in, size_t bytes, int64_t *values, size_t n)
{
    const char *p = (const char *)in, *end = p + bytes;   /* in[bytes] is a '\0' */
    for (size_t i = 0; i < n; i++) {
        char *stop;
        errno = 0;
        long long v = strtoll(p, &stop, 10);
        if (stop == p || stop >= end || *stop != '\n' || errno)
            verification_failed("text: integer %zu does not parse (byte %td)", i,
                                p - (const char *)in);
        values[i] = v;
        p = stop + 1;
    }
    if (p != end)
        verification_failed("text: %td bytes left after %zu integers", end - p, n);
}
/* end:formats */

/* records: each integer its own record, a 4-byte length then the 8 bytes of the value. */
enum { RECORD_BYTES = 12 };

static size_t encode_records(const int64_t *values, size_t n, unsigned char *out)
{
    const uint32_t length = sizeof(int64_t);
    for (size_t i = 0; i < n; i++, out += RECORD_BYTES) {
        memcpy(out, &length, 4);
        memcpy(out + 4, &values[i], 8);
    }
    return n * RECORD_BYTES;
}

static void decode_records(const unsigned char *in, size_t bytes, int64_t *values, size_t n)
{
    if (bytes != n * RECORD_BYTES)
        verification_failed("records: %zu bytes for %zu records of 12", bytes, n);
    for (size_t i = 0; i < n; i++, in += RECORD_BYTES) {
        uint32_t length;
        memcpy(&length, in, 4);
        if (length != sizeof(int64_t))
            verification_failed("records: record %zu says it is %" PRIu32 " bytes long, "
                                "expected 8", i, length);
        memcpy(&values[i], in + 4, 8);
    }
}

static const struct format {
    const char *name;
    size_t (*encode)(const int64_t *values, size_t n, unsigned char *out);   /* NULL: raw */
    void (*decode)(const unsigned char *in, size_t bytes, int64_t *values, size_t n);
    bool in_place;
    const char *how;
} formats[] = {
    {"text", encode_text, decode_text, false, "printf / strtoll, through a pipe"},
    {"records", encode_records, decode_records, false,
     "length-prefixed binary records, through a pipe"},
    {"raw-pipe", NULL, NULL, false, "the array's own bytes, through a pipe"},
    {"raw-in-place", NULL, NULL, true, "the array in shared memory; a notice through a pipe"},
};
enum { FORMAT_COUNT = sizeof formats / sizeof formats[0] };
enum { PHASE_ENCODE, PHASE_TRANSFER, PHASE_DECODE, PHASE_TOTAL, PHASES };
static const char *const phase_names[] = {"encode", "transfer", "decode", "total", "share",
                                          "wire"};

/* What one format's run needs on both sides. */
struct shipment {
    const struct format *format;
    int64_t *values;            /* the originals, in a shared mapping (in place: read there) */
    size_t n;
    unsigned char *wire;        /* the sender's private encode buffer */
    _Atomic uint64_t *encoded;  /* shared: [0] encode start, [1] encode end (sender's clock) */
    long trials;                /* warm-up included */
    uint64_t corrupt_at;
    unsigned char *inbox;       /* the receiver's buffer, wire_capacity(n) */
    int64_t *decoded;
    const int64_t *expected;    /* the parent's own copy of the originals */
    uint64_t wire_bytes;        /* what the last shipment put on the wire */
};

static size_t wire_capacity(size_t n) { return n * 21 + 1; }   /* "-1000000000\n" fits in 21 */

/* The peer: on the parent's word, encode (or not), then send a length and the bytes. */
static void shipper_body(struct channel *ch, void *arg)
{
    struct shipment *s = arg;
    for (long t = 0; t < s->trials; t++) {
        char go;
        receive_bytes(ch, DOWN, &go, 1);                        /* the parent's word */
        uint64_t start = now_ns();
        unsigned char *wire = (unsigned char *)s->values;      /* raw: the array is the message */
        uint64_t bytes = s->n * sizeof(int64_t);
        if (s->format->encode)
            bytes = s->format->encode(s->values, s->n, wire = s->wire);
        uint64_t end = now_ns();
        if (t == 0 && s->corrupt_at < bytes)
            wire[s->corrupt_at] ^= CORRUPT_BIT;                 /* --corrupt-at */
        atomic_store(&s->encoded[0], start);
        atomic_store(&s->encoded[1], end);
        send_bytes(ch, UP, &bytes, sizeof bytes);
        if (!s->format->in_place)
            send_bytes(ch, UP, wire, bytes);
    }
}

/* The parent: one shipment, timed phase by phase, then checked. */
static void receive_shipment(struct channel *ch, struct shipment *s, double ms[PHASES])
{
    uint64_t bytes;
    const int64_t *result = s->values;
    send_bytes(ch, DOWN, "g", 1);
    receive_bytes(ch, UP, &bytes, sizeof bytes);
    if (!s->format->in_place) {
        if (bytes >= wire_capacity(s->n))
            verification_failed("%s: the sender announced %" PRIu64 " bytes", s->format->name,
                                bytes);
        receive_bytes(ch, UP, s->inbox, bytes);
        s->inbox[bytes] = '\0';
        result = (const int64_t *)s->inbox;                    /* raw: the bytes are the array */
    }
    uint64_t received = now_ns();
    if (s->format->decode)
        s->format->decode(s->inbox, bytes, s->decoded, s->n);
    else if (!s->format->in_place && bytes != s->n * sizeof(int64_t))
        verification_failed("%s: %" PRIu64 " bytes for %zu integers", s->format->name, bytes,
                            s->n);
    uint64_t decoded = now_ns();
    uint64_t start = atomic_load(&s->encoded[0]), end = atomic_load(&s->encoded[1]);
    ms[PHASE_ENCODE] = (double)(end - start) / 1e6;
    ms[PHASE_TRANSFER] = (double)(received - end) / 1e6;
    ms[PHASE_DECODE] = (double)(decoded - received) / 1e6;
    ms[PHASE_TOTAL] = (double)(decoded - start) / 1e6;
    if (s->format->decode)
        result = s->decoded;
    for (size_t i = 0; i < s->n; i++)             /* every integer, against the originals */
        if (result[i] != s->expected[i])
            verification_failed("%s: integer %zu arrived as %" PRId64 ", expected %" PRId64,
                                s->format->name, i, result[i], s->expected[i]);
    s->wire_bytes = s->format->in_place ? sizeof bytes : sizeof bytes + bytes;
}

static void make_values(int64_t *values, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)     /* -10^9 .. 10^9: 1 to 11 characters as text */
        values[i] = (int64_t)(mix64(mix64(seed) + i) % 2000000001u) - 1000000000;
}

/* One format: a fresh pipe and peer, a warm-up and the trials; six rows of the report. */
static void ship_format(const struct plan *pl, struct shipment *s, struct report *r)
{
    long trials = pl->ship_trials;
    snprintf(peer.task, sizeof peer.task, "serialization %s", s->format->name);
    make_values(s->values, s->n, pl->o->seed);
    int pipe_kind = channel_named("pipe");          /* as under Python's Pipe */
    struct channel *ch = start_peer(pipe_kind, 64, pl->where, "sender", shipper_body, s);
    double *samples = filled((size_t)trials * (PHASES + 1) * sizeof *samples, 0), ms[PHASES];
    receive_shipment(ch, s, ms);                     /* warm-up */
    for (long t = 0; t < trials; t++) {
        exit_if_stopped();
        receive_shipment(ch, s, ms);
        for (int p = 0; p < PHASES; p++)
            samples[p * trials + t] = ms[p];
        samples[PHASES * trials + t] =
            100 * (ms[PHASE_ENCODE] + ms[PHASE_DECODE]) / ms[PHASE_TOTAL];
    }
    finish_peer();
    for (int p = 0; p <= PHASES + 1; p++) {
        char variant[48];
        double w = (double)s->wire_bytes;
        struct stats st = p <= PHASES ? stats_of(samples + p * trials, (size_t)trials)
                                      : (struct stats){(size_t)trials, w, w, w, w, 0};
        snprintf(variant, sizeof variant, "%s/%s", s->format->name, phase_names[p]);
        report_add(r, variant, (double)s->n, p < PHASES ? "ms" : p == PHASES ? "%" : "bytes", st);
    }
    free(samples);
}

/* The median of FORMAT/PHASE, e.g. "text/total". */
static double phase_median(const struct report *r, const char *format, const char *phase,
                           double n)
{
    char variant[48];
    snprintf(variant, sizeof variant, "%s/%s", format, phase);
    return median_of(r, variant, n);
}

/* The share of encode + decode in FORMAT's total time, from the medians. */
static double work_share(const struct report *r, const char *format, double n)
{
    return 100 * (phase_median(r, format, "encode", n) + phase_median(r, format, "decode", n))
           / phase_median(r, format, "total", n);
}

static void print_format_row(const struct report *r, const struct format *f, double n)
{
    printf("  %-13s", f->name);
    for (int p = 0; p < PHASES; p++)
        printf(" %9.2f", phase_median(r, f->name, phase_names[p], n));
    printf(" %12.0f %7.0f%%   %s\n", phase_median(r, f->name, "wire", n), work_share(r, f->name, n),
           f->how);
}

static void serialization_conclusions(const struct report *r, double n)
{
    double text_wire = phase_median(r, "text", "wire", n);
    printf("  -> text: encoding and decoding are %.0f%% of its %.1f ms, and its %.0f bytes are "
           "%.1fx the raw array;\n     records: %.0f%% of %.1f ms; the raw array through a "
           "pipe: %.1f ms, all of it transfer (two copies\n     and the pipe's calls and "
           "wake-ups, not timed apart);\n     in place nothing is copied: %.3f ms, the "
           "time for a notice to cross.\n", work_share(r, "text", n),
           phase_median(r, "text", "total", n), text_wire,
           text_wire / phase_median(r, "raw-pipe", "wire", n), work_share(r, "records", n),
           phase_median(r, "records", "total", n), phase_median(r, "raw-pipe", "total", n),
           phase_median(r, "raw-in-place", "total", n));
}

static void run_serialization(const struct plan *pl)
{
    size_t n = pl->ints;
    int64_t *expected = filled(n * sizeof *expected, 0);
    make_values(expected, n, pl->o->seed);
    struct shipment s = {
        .values = map_shared_memory(NULL, n * sizeof(int64_t)), .n = n,
        .wire = filled(wire_capacity(n), 0),
        .encoded = map_shared_memory(NULL, 2 * sizeof(uint64_t)), .trials = pl->ship_trials + 1,
        .corrupt_at = pl->corrupt_at, .inbox = filled(wire_capacity(n), 0),
        .decoded = filled(n * sizeof(int64_t), 0), .expected = expected};
    struct report r;
    report_start(&r, pl->o, "serialization", "ints");
    printf("\nserialization: %zu integers from the child to the parent, ms per phase (median of "
           "%ld trials); placement %s\n", n, pl->ship_trials, placements[pl->where].name);
    printf("  %-13s %9s %9s %9s %9s %12s %8s   %s\n", "format", "encode", "transfer", "decode",
           "total", "wire bytes", "enc+dec", "how");
    for (int f = 0; f < FORMAT_COUNT; f++) {
        s.format = &formats[f];
        ship_format(pl, &s, &r);
        print_format_row(&r, &formats[f], (double)n);
    }
    serialization_conclusions(&r, (double)n);
    report_save(&r);                   /* the TSV, whole, once every row is in */
    free(s.wire);
    free(s.inbox);
    free(s.decoded);
    free(expected);
    if (munmap(s.values, n * sizeof(int64_t)) == -1 || munmap((void *)s.encoded, 16) == -1)
        die_errno("munmap");
}

/* ---------- options ---------- */

/* The last byte a sender of this run sends, plus one: --corrupt-at must fall below it. */
static uint64_t longest_stream(const struct plan *pl)
{
    uint64_t most = 0;
    if (wanted(pl->o, "latency"))
        most = (uint64_t)pl->ping_rounds * (uint64_t)(pl->ping_trials + 1) * PING_BYTES;
    size_t sizes[16];
    int nsizes = bandwidth_sizes(pl, sizes);
    for (int i = 0; wanted(pl->o, "bandwidth") && i < nsizes; i++) {
        uint64_t bytes = (uint64_t)messages_per_trial(pl->o, sizes[i])
                       * (uint64_t)(pl->flow_trials + 1) * sizes[i];
        most = bytes > most ? bytes : most;
    }
    if (wanted(pl->o, "serialization") && pl->ints * RECORD_BYTES > most)
        most = pl->ints * RECORD_BYTES;              /* records: the longest wire of the four */
    return most;
}

/* The standard options and this chapter's; then every size resolved, before any work. */
static void parse_options(struct plan *pl, struct kit_opts *o, int argc, char **argv)
{
    const char *max_size = NULL, *ints = NULL, *corrupt_at = NULL, *channel = NULL;
    const char *rounds = NULL, *channels[CHANNEL_COUNT];
    const struct kit_option own[] = {{"--max-size", &max_size, NULL}, {"--ints", &ints, NULL},
                                     {"--corrupt-at", &corrupt_at, NULL},
                                     {"--channel", &channel, NULL}, {"--rounds", &rounds, NULL}};
    parse_kit_options(o, argc, argv, own, KIT_COUNT(own), experiments, KIT_COUNT(experiments));
    for (int k = 0; k < CHANNEL_COUNT; k++)
        channels[k] = channel_name(k);
    if (channel)
        pl->channel = parse_choice("--channel", channel, "a channel", channels, CHANNEL_COUNT);
    pl->where = o->pin_given ? o->pin : online_cpus() > 1 ? PIN_SPREAD : PIN_SAME;
    pl->max_size = max_size ? parse_size("--max-size", max_size, 64, 64 << 20)
                            : (size_t)by_mode(o, 256 << 10, 4 << 20, 16 << 20);
    if (pl->max_size % WORD)
        die_usage("--max-size: %s is not a multiple of 8 bytes (accepted: 64 to 64M)", max_size);
    pl->ints = ints ? (size_t)parse_count("--ints", ints, 1, 10000000)
                    : (size_t)by_mode(o, 100000, 1000000, 1000000);
    pl->ping_trials = trials_for(o, 3, 9, 21);
    pl->ping_rounds = rounds ? (long)parse_count("--rounds", rounds, 1, 1000000)
                             : (long)by_mode(o, 100, 500, 5000);
    pl->flow_trials = trials_for(o, 3, 7, 15);
    pl->ship_trials = trials_for(o, 3, 3, 11);       /* 1M integers as text: ~1 s a trial */
    if (!corrupt_at)
        return;
    pl->corrupt_at = (uint64_t)parse_count("--corrupt-at", corrupt_at, 0, 1LL << 40);
    uint64_t longest = longest_stream(pl);
    if (pl->corrupt_at >= longest)
        die_usage("--corrupt-at: %s is past the last byte this run sends, so it could never fire "
                  "(accepted here: 0 to %" PRIu64 ")", corrupt_at, longest - 1);
}

int main(int argc, char **argv)
{
    struct kit_opts o = kit_defaults("ch03-ipc", usage, argc, argv);
    struct plan pl = {.o = &o, .channel = -1, .corrupt_at = UINT64_MAX};
    parse_options(&pl, &o, argc, argv);
    prepare_out_dir(&o);
    catch_stop_signals(NULL);
    signal(SIGPIPE, SIG_IGN);   /* a write to a dead reader returns EPIPE, and we say who died */

    print_run_header(&o, "pipes vs queues vs shared memory, and what serialization costs");
    const char *tmp = getenv("TMPDIR");
    int pid = (int)getpid();
    printf("parent pid %d: named objects are /dev/shm/ch03-ipc-%d-*, /dev/mqueue/ch03-ipc-%d-* "
           "and\n  %s/ch03-ipc-%d-fifo-*/, each removed before the peer process starts\n",
           pid, pid, pid, tmp && *tmp ? tmp : "/tmp", pid);
    if (pl.corrupt_at != UINT64_MAX)
        printf("fault injection: every sender flips bit 0x%02x of byte %" PRIu64 " of what it "
               "sends\n", CORRUPT_BIT, pl.corrupt_at);
    if (wanted(&o, "latency"))
        run_latency(&pl);
    if (wanted(&o, "bandwidth"))
        run_bandwidth(&pl);
    if (wanted(&o, "serialization"))
        run_serialization(&pl);
    printf("\nverification: every byte received checked against its running sequence, decoded "
           "integers equal\nthe originals, every peer process exited 0 and was reaped, no named "
           "object left behind.\nTSV files: %s/ch03-*.tsv\n", o.out_dir);
    return 0;
}
