/* methods.c - one row task over a CSV file, run five ways with processes.
 *
 * What it demonstrates: where the time of a row goes (read, parse, send, compute) and why
 * sending rows to workers loses to letting each worker read its own part of the file.
 *   sequential         one process reads and parses every row: the floor to beat
 *   per-row, chunks    the parent reads and cuts the file into messages of 1 or K rows, and
 *                      workers parse them: every byte is read, copied into a pipe, copied out
 *   byte-ranges        each worker opens the file itself, takes 1/W of its bytes, moves to the
 *                      first line that starts in its range, and parses its own rows (pread or
 *                      mmap): only the final per-key totals cross between processes
 *   shared-output      byte ranges again, the totals written into one region the parent
 *                      created, one slice per worker: nothing to lock, nothing to send
 * The row task: parse id,key,amount,text; value = amount * (id % 7 + 1) + length(text);
 * per key: count, sum, min and max of the value. Integers, so every method's totals must
 * equal the sequential ones exactly; the driver (main.c) checks that after every trial.
 *
 * What to look for: per-row is bound by one write() and two read()s per row, whatever the
 * workers do; chunks recover most of it but still copy every byte through a pipe; a byte
 * range costs about what the sequential pass costs per row, so it can use every free CPU:
 * nothing but ~100 totals is sent. Usage and the experiments: main.c (ch10-rows --help).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>

#include "bench.h"
#include "methods.h"

/* ---------- the row task: parse, compute, aggregate per key ---------- */

void totals_clear(struct totals *t)
{
    memset(t, 0, sizeof *t);
}

/* FNV-1a: the slot where a key's search starts. */
static size_t key_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211u;
    return (size_t)(h & (KEY_SLOTS - 1));
}

/* The key's slot (linear probing), claimed if it is new; NULL when too many keys. */
static struct key_total *key_slot(struct totals *t, const char *key, size_t len)
{
    for (size_t i = key_hash(key, len);; i = (i + 1) & (KEY_SLOTS - 1)) {
        struct key_total *s = &t->slot[i];
        if (s->count == 0) {
            if (t->keys == KEYS_MAX)
                return NULL;
            t->keys++;
            memcpy(s->key, key, len);
            s->key[len] = '\0';
            s->min = INT64_MAX;
            s->max = INT64_MIN;
            return s;
        }
        if (memcmp(s->key, key, len) == 0 && s->key[len] == '\0')
            return s;
    }
}

/* A decimal integer of at most 16 digits, optionally negative, at *p; *p moves past it. */
static bool parse_integer(const char **p, const char *end, int64_t *value)
{
    const char *q = *p;
    bool negative = q < end && *q == '-';
    q += negative;
    const char *digits = q;
    int64_t v = 0;
    while (q < end && *q >= '0' && *q <= '9' && q - digits < 16)
        v = v * 10 + (*q++ - '0');
    if (q == digits || (q < end && *q >= '0' && *q <= '9'))
        return false;
    *value = negative ? -v : v;
    *p = q;
    return true;
}

/* book:row */
/* One line (without its '\n'): id,key,amount,text. value = amount * (id % 7 + 1) plus the
 * text's length, added to the key's count, sum, min and max. */
enum row_result add_row(struct totals *t, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;                                  /* CRLF line ends */
    if (len == 0)
        return ROW_EMPTY;
    if (memchr(line, '"', len))
        return ROW_QUOTED;                      /* outside this chapter's CSV subset */
    const char *p = line, *end = line + len;
    int64_t id, amount;
    if (!parse_integer(&p, end, &id) || id < 0 || p == end || *p++ != ',')
        return ROW_ID;
    const char *key = p;
    while (p < end && *p != ',')
        p++;
    size_t key_len = (size_t)(p - key);
    if (key_len == 0 || key_len > KEY_MAX || p == end)
        return key_len == 0 || key_len > KEY_MAX ? ROW_KEY : ROW_FIELDS;
    p++;
    if (!parse_integer(&p, end, &amount) || amount < -1000000000 || amount > 1000000000)
        return ROW_AMOUNT;
    if (p == end || *p++ != ',' || memchr(p, ',', (size_t)(end - p)))
        return ROW_FIELDS;
    int64_t value = amount * (id % 7 + 1) + (end - p);
    struct key_total *s = key_slot(t, key, key_len);
    if (!s)
        return ROW_TOO_MANY_KEYS;
    s->count++;
    s->sum += value;
    s->min = value < s->min ? value : s->min;
    s->max = value > s->max ? value : s->max;
    t->rows++;
    return ROW_OK;
}
/* end:row */

void totals_merge(struct totals *into, const struct totals *from)
{
    for (int i = 0; i < KEY_SLOTS; i++) {
        const struct key_total *f = &from->slot[i];
        if (f->count == 0)
            continue;
        struct key_total *s = key_slot(into, f->key, strlen(f->key));
        if (!s)
            die("merging totals: more than %d distinct keys", KEYS_MAX);
        s->count += f->count;
        s->sum += f->sum;
        s->min = f->min < s->min ? f->min : s->min;
        s->max = f->max > s->max ? f->max : s->max;
    }
    into->rows += from->rows;
}

/* ---------- reading lines with pread ---------- */

/* A window on the file: buf[head, tail) holds the bytes at file offsets [base + head,
 * base + tail). A line longer than the buffer makes it grow. */
struct line_reader {
    int fd;
    uint64_t base;
    char *buf;
    size_t cap, head, tail;
    bool eof;
};

static void reader_open(struct line_reader *lr, int fd, uint64_t offset, size_t block)
{
    *lr = (struct line_reader){.fd = fd, .base = offset, .cap = block};
    lr->buf = malloc(block);
    if (!lr->buf)
        die_errno("malloc");
}

static void reader_refill(struct line_reader *lr)
{
    memmove(lr->buf, lr->buf + lr->head, lr->tail - lr->head);
    lr->base += lr->head;
    lr->tail -= lr->head;
    lr->head = 0;
    if (lr->tail == lr->cap) {
        if (lr->cap > LINE_MAX_BYTES)
            die("a line longer than %d bytes at byte %llu", LINE_MAX_BYTES,
                (unsigned long long)lr->base);
        lr->buf = realloc(lr->buf, lr->cap *= 2);
        if (!lr->buf)
            die_errno("realloc");
    }
    ssize_t n;
    while ((n = pread(lr->fd, lr->buf + lr->tail, lr->cap - lr->tail,
                      (off_t)(lr->base + lr->tail))) == -1 && errno == EINTR)
        exit_if_stopped();
    if (n == -1)
        die_errno("pread");
    lr->tail += (size_t)n;
    lr->eof = n == 0;
}

/* The next line (without '\n') and its file offset; false at the end of the file. The last
 * line may lack its '\n'. */
static bool next_line(struct line_reader *lr, const char **line, size_t *len, uint64_t *at)
{
    for (;;) {
        char *start = lr->buf + lr->head;
        char *nl = memchr(start, '\n', lr->tail - lr->head);
        if (nl || (lr->eof && lr->tail > lr->head)) {
            *len = nl ? (size_t)(nl - start) : lr->tail - lr->head;
            *line = start;
            *at = lr->base + lr->head;
            lr->head += *len + (nl != NULL);
            return true;
        }
        if (lr->eof)
            return false;
        reader_refill(lr);
    }
}

/* book:first-line */
/* A line belongs to the range its first byte falls in. A range that starts right after a
 * '\n' starts with a whole line; otherwise its first bytes are the tail of a line that the
 * previous range owns, and its own rows begin after the next '\n'. */
static void skip_to_first_line(struct line_reader *lr, uint64_t begin)
{
    char before;
    const char *line;
    size_t len;
    uint64_t at;
    if (begin == 0)
        return;
    if (pread(lr->fd, &before, 1, (off_t)(begin - 1)) != 1)
        die_errno("pread");
    if (before != '\n')
        next_line(lr, &line, &len, &at);        /* the previous range's last line */
}
/* end:first-line */

/* Every line that starts in r (at most line_limit lines after the header when >= 0); the
 * line at offset 0 is the header. false with *e filled when the parser refuses a line. */
bool scan_file(int fd, struct range r, size_t block, int64_t line_limit, struct totals *t,
               struct scan_error *e)
{
    struct line_reader lr;
    const char *line;
    size_t len;
    uint64_t at;
    bool ok = true;
    reader_open(&lr, fd, r.begin, block);
    skip_to_first_line(&lr, r.begin);
    while (line_limit != 0 && next_line(&lr, &line, &len, &at) && at < r.end) {
        if (at == 0)
            continue;                           /* the header */
        enum row_result why = add_row(t, line, len);
        if (why != ROW_OK && why != ROW_EMPTY) {
            *e = (struct scan_error){why, at};
            ok = false;
            break;
        }
        line_limit -= line_limit > 0;
    }
    free(lr.buf);
    return ok;
}

/* ---------- sequential: the floor ---------- */

static int open_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die("open %s: %s", path, strerror(errno));
    return fd;
}

void run_sequential(const struct run_config *c, struct totals *out)
{
    struct scan_error e;
    int fd = open_file(c->path);
    totals_clear(out);
    if (!scan_file(fd, (struct range){0, c->size}, c->block, -1, out, &e))
        die("byte %llu: a line the first pass accepted is refused now: the file changed",
            (unsigned long long)e.offset);
    close(fd);
}

/* ---------- a crew of workers, each with its own pipes ----------
 * to[w]: rows from the parent (message methods); from[w]: the worker's totals at the end.
 * A worker must close the parent's ends of the pipes of the workers forked before it, or
 * those workers would never see end-of-file on their input. */

struct crew {
    const struct run_config *c;
    pid_t pid[1024];
    int to[1024][2], from[1024][2];
    int (*work)(struct crew *crew, int w);
};

static int crew_worker(int w, void *arg)
{
    struct crew *crew = arg;
    for (int j = 0; j < w; j++) {
        close(crew->to[j][1]);
        close(crew->from[j][0]);
    }
    close(crew->to[w][1]);
    close(crew->from[w][0]);
    return crew->work(crew, w);
}

static void crew_start(struct crew *crew, bool with_input)
{
    for (int w = 0; w < crew->c->workers; w++) {
        crew->to[w][0] = crew->to[w][1] = -1;
        if ((with_input && pipe2(crew->to[w], O_CLOEXEC) == -1) ||
            pipe2(crew->from[w], O_CLOEXEC) == -1)
            die_errno("pipe2");
        crew->pid[w] = start_worker(w, crew->c->pin, crew_worker, crew);
        close(crew->to[w][0]);
        close(crew->from[w][1]);
    }
}

/* Totals travel as a count and the used slots only: a few KiB however big the file. */
static bool send_totals(int fd, const struct totals *t)
{
    if (!write_full(fd, &t->rows, sizeof t->rows))
        return false;
    for (int i = 0; i < KEY_SLOTS; i++)
        if (t->slot[i].count && !write_full(fd, &t->slot[i], sizeof t->slot[i]))
            return false;
    return true;
}

static void crew_die(struct crew *crew, int w, const char *doing)
{
    int status = reap_child(crew->pid[w]);
    if (ended_ok(status))
        die("worker %d (pid %d) ended without sending its totals %s", w, (int)crew->pid[w], doing);
    die_child("worker", w, crew->pid[w], status, "%s", doing);
}

/* Each worker's totals, merged; every worker reaped; a dead one named with what it did. */
static void crew_finish(struct crew *crew, struct totals *out, const char *doing)
{
    static struct totals part;
    totals_clear(out);
    for (int w = 0; w < crew->c->workers; w++) {
        totals_clear(&part);
        struct key_total k;
        size_t got = 0;
        bool whole = read_full(crew->from[w][0], &part.rows, sizeof part.rows) == sizeof part.rows;
        while (whole && (got = read_full(crew->from[w][0], &k, sizeof k)) == sizeof k)
            *key_slot(&part, k.key, strlen(k.key)) = k;
        if (!whole || got != 0)
            crew_die(crew, w, doing);
        close(crew->from[w][0]);
        int status = reap_child(crew->pid[w]);
        if (!ended_ok(status))
            die_child("worker", w, crew->pid[w], status, "%s", doing);
        totals_merge(out, &part);
    }
}

/* ---------- per-row and chunks: the parent reads, workers parse what it sends ---------- */

/* book:message-worker */
/* A message is a 4-byte length and that many bytes of whole lines. The worker reads the
 * length, then the lines, parses them, and at end-of-file sends its totals. */
static int message_worker(struct crew *crew, int w)
{
    static struct totals t;
    size_t cap = 1 << 16;
    char *body = malloc(cap);
    uint32_t len;
    totals_clear(&t);
    while (body && read_full(crew->to[w][0], &len, sizeof len) == sizeof len) {
        if (len > cap && !(body = realloc(body, cap = len)))
            break;
        if (read_full(crew->to[w][0], body, len) != len)
            return 4;
        for (char *line = body, *end = body + len; line < end;) {
            char *nl = memchr(line, '\n', (size_t)(end - line));
            enum row_result why = add_row(&t, line, (size_t)(nl - line));
            if (why != ROW_OK && why != ROW_EMPTY)
                return 3;
            line = nl + 1;
        }
    }
    return body && send_totals(crew->from[w][1], &t) ? 0 : 5;
}
/* end:message-worker */

/* Message number `sent` goes to worker sent % W; a worker that died shows as EPIPE. */
static void send_message(struct crew *crew, char *msg, size_t used, long sent)
{
    int w = (int)(sent % crew->c->workers);
    uint32_t len = (uint32_t)(used - sizeof len);
    memcpy(msg, &len, sizeof len);
    if (!write_full(crew->to[w][1], msg, used)) {
        char doing[160];
        snprintf(doing, sizeof doing, "while running %s, after it was sent %ld messages",
                 crew->c->name, sent / crew->c->workers);
        crew_die(crew, w, doing);
    }
}

/* book:messages */
/* The parent reads every line and packs K of them into a message (a 4-byte length, then
 * the lines), sent to the workers in turn: per-row is K = 1, one write() per row. */
void run_messages(const struct run_config *c, struct totals *out)
{
    struct crew crew = {.c = c, .work = message_worker};
    struct line_reader lr;
    const char *line;
    size_t len, used = sizeof(uint32_t), cap = 1 << 16;
    uint64_t at;
    long in_message = 0, sent = 0;
    int64_t lines = 0;
    char *msg = malloc(cap);
    int fd = open_file(c->path);
    if (!msg)
        die_errno("malloc");
    crew_start(&crew, true);
    reader_open(&lr, fd, 0, c->block);
    while ((c->line_limit < 0 || lines < c->line_limit) && next_line(&lr, &line, &len, &at)) {
        if (at == 0)
            continue;                           /* the header */
        if (used + len + 1 > cap && !(msg = realloc(msg, cap = 2 * (used + len + 1))))
            die_errno("realloc");
        memcpy(msg + used, line, len);
        msg[used + len] = '\n';
        used += len + 1;
        lines++;
        if (++in_message == c->rows_per_message) {
            send_message(&crew, msg, used, sent++);
            used = sizeof(uint32_t), in_message = 0;
        }
    }
    if (in_message)
        send_message(&crew, msg, used, sent++);
    for (int w = 0; w < c->workers; w++)
        close(crew.to[w][1]);                   /* end-of-file: send your totals */
    char doing[96];
    snprintf(doing, sizeof doing, "while running %s over the rows it was sent", c->name);
    crew_finish(&crew, out, doing);
    free(lr.buf), free(msg), close(fd);
}
/* end:messages */

/* ---------- byte ranges: every worker reads its own part of the file ---------- */

/* book:split */
/* Worker w of W gets bytes [size*w/W, size*(w+1)/W): any offset, not a line boundary. */
static struct range byte_range(const struct run_config *c, int w)
{
    return (struct range){c->size * (uint64_t)w / (uint64_t)c->workers,
                          c->size * (uint64_t)(w + 1) / (uint64_t)c->workers};
}
/* end:split */

/* The fault the tests switch on: the last worker starts one line late and loses a row. */
static struct range faulty(const struct run_config *c, int w, struct range r)
{
    if (c->drop_row && w == c->workers - 1 && w > 0) {
        int fd = open_file(c->path);
        struct line_reader lr;
        const char *line;
        size_t len;
        uint64_t at = r.begin;
        reader_open(&lr, fd, r.begin, c->block);
        skip_to_first_line(&lr, r.begin);
        if (next_line(&lr, &line, &len, &at))
            r.begin = at + len + 1;
        free(lr.buf), close(fd);
    }
    return r;
}

/* book:pread-worker */
/* The worker opens the file itself (as a spawned Python worker would) and scans its range
 * with pread; the parent learns nothing but its totals. */
static int pread_worker(struct crew *crew, int w)
{
    static struct totals t;
    struct scan_error e;
    int fd = open_file(crew->c->path);
    totals_clear(&t);
    if (!scan_file(fd, faulty(crew->c, w, byte_range(crew->c, w)), crew->c->block, -1, &t, &e))
        return 3;
    return send_totals(crew->from[w][1], &t) ? 0 : 5;
}
/* end:pread-worker */

static const char *range_doing(const struct run_config *c, char *buf, size_t n)
{
    snprintf(buf, n, "while running %s over its 1/%d of the file's %llu bytes", c->name,
             c->workers, (unsigned long long)c->size);
    return buf;
}

void run_byte_ranges_pread(const struct run_config *c, struct totals *out)
{
    struct crew crew = {.c = c, .work = pread_worker};
    char doing[128];
    crew_start(&crew, false);
    crew_finish(&crew, out, range_doing(c, doing, sizeof doing));
}

/* The whole file, mapped read-only: the page cache's pages become the worker's memory. */
static const char *map_file(const struct run_config *c)
{
    int fd = open_file(c->path);
    const char *data = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED)
        die_errno("mmap");
    close(fd);
    return data;
}

/* book:mapped-range */
/* The same rule on mapped bytes: start after the first '\n' at or past begin-1 (begin = 0
 * is a line start), stop at the first line that starts at or past end. */
static bool scan_mapped(const struct run_config *c, const char *data, struct range r,
                        struct totals *t)
{
    const char *p = data + r.begin, *end = data + r.end, *eof = data + c->size;
    if (r.begin > 0 && p[-1] != '\n') {
        p = memchr(p, '\n', (size_t)(eof - p));
        p = p ? p + 1 : eof;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(eof - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(eof - p);
        enum row_result why = p == data ? ROW_OK : add_row(t, p, len);   /* skip the header */
        if (why != ROW_OK && why != ROW_EMPTY)
            return false;
        p += len + 1;
    }
    return true;
}
/* end:mapped-range */

static int mmap_worker(struct crew *crew, int w)
{
    static struct totals t;
    const char *data = map_file(crew->c);
    totals_clear(&t);
    if (!scan_mapped(crew->c, data, faulty(crew->c, w, byte_range(crew->c, w)), &t))
        return 3;
    return send_totals(crew->from[w][1], &t) ? 0 : 5;
}

void run_byte_ranges_mmap(const struct run_config *c, struct totals *out)
{
    struct crew crew = {.c = c, .work = mmap_worker};
    char doing[128];
    crew_start(&crew, false);
    crew_finish(&crew, out, range_doing(c, doing, sizeof doing));
}

/* ---------- shared-output: one region, created once, a slice per worker ---------- */

struct shared_job {
    const struct run_config *c;
    struct totals *slices;
    size_t slice_bytes;
};

static struct totals *slice_of(const struct shared_job *job, int w)
{
    return (struct totals *)((char *)job->slices + (size_t)w * job->slice_bytes);
}

/* Worker w writes only slice w: no other process touches it, so there is nothing to lock. */
static int shared_worker(int w, void *arg)
{
    const struct shared_job *job = arg;
    const char *data = map_file(job->c);
    return scan_mapped(job->c, data, faulty(job->c, w, byte_range(job->c, w)), slice_of(job, w))
               ? 0 : 3;
}

/* book:shared-output */
/* The parent creates the region once (O_EXCL: a second creator fails, as each worker of the
 * Python recipe does), maps it, and removes the name at once: the workers inherit the mapping.
 * Slices are whole pages apart, so no two workers write the same cache line. */
void run_shared_output(const struct run_config *c, struct totals *out)
{
    struct shared_job job = {.c = c};
    char name[64], doing[128];
    long page = sysconf(_SC_PAGESIZE);
    job.slice_bytes = (sizeof(struct totals) + (size_t)page - 1) / (size_t)page * (size_t)page;
    size_t bytes = job.slice_bytes * (size_t)c->workers;
    snprintf(name, sizeof name, "/%s-%d-out", kit_prog, (int)getpid());
    int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
    if (fd == -1)
        die("shm_open %s: %s", name, strerror(errno));
    if (ftruncate(fd, (off_t)bytes) == -1 ||
        (job.slices = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        shm_unlink(name);
        die_errno("ftruncate/mmap of the shared output");
    }
    shm_unlink(name);
    close(fd);
    pid_t pid[c->workers];
    for (int w = 0; w < c->workers; w++)
        pid[w] = start_worker(w, c->pin, shared_worker, &job);
    totals_clear(out);
    for (int w = 0; w < c->workers; w++) {
        int status = reap_child(pid[w]);
        if (!ended_ok(status))
            die_child("worker", w, pid[w], status, "%s", range_doing(c, doing, sizeof doing));
        totals_merge(out, slice_of(&job, w));  /* read only after its writer has ended */
    }
    munmap(job.slices, bytes);
}
/* end:shared-output */
