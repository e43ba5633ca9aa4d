/* main.c - chapter 10's driver: options, the data file, the experiments, the shell tools,
 * the tables and what they mean. The methods themselves are in methods.c.
 *
 * Usage: build/ch10-rows [--rows N] [--input FILE] [--chunk K] [--only methods] ...
 * Exit status: 0 ok, 1 runtime or verification failure, 2 usage error (also a bad --input).
 * Sample line:  byte-ranges-mmap   2   31.2   29.8   33.0  Mrows/s
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statvfs.h>

#include "report.h"
#include "csvgen.h"
#include "methods.h"

static const char usage[] =
    "Usage: ch10-rows [options]\n"
    "Processing many rows: one row task (parse id,key,amount,text; value = amount * (id % 7 + 1)\n"
    "+ length(text); per key: count, sum, min, max) over one CSV file, run by one process, by\n"
    "workers sent rows by the parent (one or K per message), by workers that each read a byte\n"
    "range of the file (pread, mmap), and by GNU parallel --pipepart + awk and a single awk.\n"
    "Every method's totals must equal the sequential pass's exactly (else exit 1).\n"
    "\n"
    "Options:\n"
    "  --rows N        rows to generate (1000..10^9; --quick 100000, default 1000000,\n"
    "                  --full 26000000 = 1.1 GB, 1.02 GiB); the file is made in\n"
    "                  $TMPDIR/ch10-rows-PID-XXXXXX/ and unlinked with it as soon as it is\n"
    "                  open: every process reaches it as /proc/PID/fd/N, nothing is left behind\n"
    "  --input FILE    process FILE instead (the shell tools are skipped: their awk program\n"
    "                  assumes the generated format)\n"
    "  --chunk K       rows per message for `chunks` (1..1000000; default 1000)\n"
    "  --messages N    messages a message method sends per trial at most (1..10^8; --quick 2000,\n"
    "                  default 20000, --full 200000): per-row handles the first N rows\n"
    "  --block SIZE    pread buffer of the parent and the workers (4K..64M; default 256K)\n"
    "  --generate FILE write the CSV (--rows, --seed) to FILE and exit\n"
    "  --totals FILE   also write the sequential totals as text: key count sum min max\n"
    "  --inject drop-row   a fault for the tests: the last byte-range worker skips a row\n"
    "\n"
    "The CSV subset: the first line is a header (skipped); then lines of exactly 4 fields\n"
    "id,key,amount,text: id a whole number >= 0 (at most 16 digits), key 1..31 bytes, amount\n"
    "a whole number in -10^9..10^9, text any bytes but ',' and '\"'. Lines end with LF or CRLF;\n"
    "the last may lack it; empty lines are skipped; at most 512 distinct keys; a line may be\n"
    "longer than --block. Quoted fields are refused (exit 2), as is any other line outside it.\n"
    "\n"
    "Experiments (--only NAME), one TSV each, Mrows/s (10^6 rows per second, median after a\n"
    "warm-up; in --quick the shell tools run without one):\n"
    "  methods     every method at W = --workers (x = processes); cat and wc -l: the read ceiling\n"
    "  chunksize   chunks with K = 1 .. 100000 rows per message (x = K)\n"
    "  workers     byte-ranges-mmap, byte-ranges-pread and chunks, W = 1 .. 2 x --workers\n"
    "  cold        sequential, byte ranges and cat with the file cached (x = 0) and after\n"
    "              posix_fadvise(DONTNEED) (x = 1), where the filesystem allows it\n"
    "Linux only (pipe2, shm_open, posix_fadvise, mincore).\n";

static const char *const experiments[] = {"methods", "chunksize", "workers", "cold"};

struct chapter {
    struct kit_opts o;
    long long rows;             /* --rows */
    const char *input;          /* --input, or NULL: generate */
    long chunk, messages;
    size_t block;
    bool drop_row;
    const char *generate, *totals_out;
    /* the data */
    char dir[PATH_MAX], path[PATH_MAX + 16];
    uint64_t size;
    int64_t lines, data_lines;  /* lines in the file; lines after the header */
    struct totals expected;     /* the sequential pass over the whole file */
    const char *awk;            /* mawk when installed, else awk; NULL: no shell tools */
    bool have_parallel;
};

static struct chapter ch;
static pid_t data_owner;

/* ---------- the generated files: unlinked as soon as they are open ---------- */

/* They are made in a private directory ($TMPDIR/ch10-rows-PID-XXXXXX), opened, and unlinked
 * at once with the directory, so nothing is left behind even if the program is killed with
 * SIGKILL. Every process then reaches them by the parent's descriptors, /proc/PID/fd/N: a
 * worker that opens that path gets an open file description of its own (its own offset and
 * readahead), as if it had opened the file by name. */
enum data_file { ROWS_CSV, PARTIAL_AWK, MERGE_AWK, OUT_TXT, DATA_FILES };
static const char *const data_names[DATA_FILES] = {"rows.csv", "partial.awk", "merge.awk",
                                                   "out.txt"};
static char data_path[DATA_FILES][64];
static int data_fd[DATA_FILES];

/* Whatever names still exist (a stop between creating and unlinking): removed. */
static void remove_data(void)
{
    char path[PATH_MAX + 16];
    if (getpid() != data_owner || ch.dir[0] == '\0')
        return;                 /* a worker's exit(): the data is its parent's */
    for (int i = 0; i < DATA_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", ch.dir, data_names[i]);
        unlink(path);
    }
    rmdir(ch.dir);
    ch.dir[0] = '\0';
}

static void make_data_dir(void)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    snprintf(ch.dir, sizeof ch.dir, "%s/%s-%d-XXXXXX", tmp, kit_prog, (int)getpid());
    data_owner = getpid();
    add_kit_cleanup(remove_data);
    if (!mkdtemp(ch.dir)) {
        int err = errno;
        ch.dir[0] = '\0';
        die("mkdtemp in %s: %s", tmp, strerror(err));
    }
}

static void make_data_files(void)
{
    char path[PATH_MAX + 16];
    make_data_dir();
    for (int i = 0; i < DATA_FILES; i++) {
        snprintf(path, sizeof path, "%s/%s", ch.dir, data_names[i]);
        data_fd[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (data_fd[i] == -1)
            die("open %s: %s", path, strerror(errno));
        snprintf(data_path[i], sizeof data_path[i], "/proc/%d/fd/%d", (int)getpid(), data_fd[i]);
    }
    remove_data();              /* the names go now; the files live on through data_fd */
}

/* book:awk */
/* The same row task in awk: the partial totals of a block, then the merge of the blocks. */
static const char partial_awk[] =
    "$1 != \"id\" && NF {\n"
    "    v = $3 * ($1 % 7 + 1) + length($4)\n"
    "    if (!($2 in n)) { n[$2] = 0; s[$2] = 0; lo[$2] = v; hi[$2] = v }\n"
    "    n[$2]++; s[$2] += v\n"
    "    if (v < lo[$2]) lo[$2] = v\n"
    "    if (v > hi[$2]) hi[$2] = v\n"
    "}\n"
    "END { for (k in n) printf \"%s %.0f %.0f %.0f %.0f\\n\", k, n[k], s[k], lo[k], hi[k] }\n";
static const char merge_awk[] =
    "{ k = $1\n"
    "  if (!(k in n)) { n[k] = 0; s[k] = 0; lo[k] = $4 + 0; hi[k] = $5 + 0 }\n"
    "  n[k] += $2; s[k] += $3\n"
    "  if ($4 + 0 < lo[k]) lo[k] = $4 + 0\n"
    "  if ($5 + 0 > hi[k]) hi[k] = $5 + 0 }\n"
    "END { for (k in n) printf \"%s %.0f %.0f %.0f %.0f\\n\", k, n[k], s[k], lo[k], hi[k] }\n";
/* end:awk */

static void generate_data(void)
{
    make_data_files();
    uint64_t start = now_ns();
    ch.size = write_csv(data_fd[ROWS_CSV], ch.rows, ch.o.seed);
    if (!write_full(data_fd[PARTIAL_AWK], partial_awk, strlen(partial_awk)) ||
        !write_full(data_fd[MERGE_AWK], merge_awk, strlen(merge_awk)))
        die_errno("write (the awk programs)");
    snprintf(ch.path, sizeof ch.path, "%s", data_path[ROWS_CSV]);
    progress("generated %lld rows (%.1f MB) in %.2f s, already unlinked: %s", ch.rows,
             ch.size / 1e6, (double)(now_ns() - start) / 1e9, ch.path);
}

/* --input must be a readable regular file with a header and at least one row. */
static void check_input(void)
{
    struct stat st;
    int fd = open(ch.input, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die_usage("--input: cannot open '%s': %s", ch.input, strerror(errno));
    if (fstat(fd, &st) == -1)
        die_errno("fstat");
    if (!S_ISREG(st.st_mode))
        die_usage("--input: '%s' is not a regular file", ch.input);
    char byte;
    if (read(fd, &byte, 1) == -1)
        die_usage("--input: cannot read '%s': %s", ch.input, strerror(errno));
    close(fd);
    snprintf(ch.path, sizeof ch.path, "%s", ch.input);
    ch.size = (uint64_t)st.st_size;
    if (ch.size == 0)
        die_usage("--input: '%s' is empty (a header line and at least one row are needed)",
                  ch.input);
}

/* Why the parser refused a line: the CSV subset, rule by rule. */
static const char *row_result_text(enum row_result r)
{
    switch (r) {
    case ROW_OK: return "ok";
    case ROW_EMPTY: return "empty";
    case ROW_QUOTED: return "a double quote: quoted fields are outside this chapter's CSV subset";
    case ROW_FIELDS: return "not 4 comma-separated fields (id,key,amount,text)";
    case ROW_ID: return "id is not a whole number >= 0 of at most 16 digits followed by ','";
    case ROW_KEY: return "key is empty or longer than 31 bytes";
    case ROW_AMOUNT: return "amount is not a whole number from -10^9 to 10^9";
    case ROW_TOO_MANY_KEYS: return "more than 512 distinct keys";
    case ROW_TOO_LONG: return "a line longer than 16 MiB";
    }
    return "?";
}

/* Lines in the file (the last may lack its '\n'): what wc -l must report, and the limit
 * for the message methods. */
static void count_lines(int fd)
{
    char buf[1 << 16];
    ssize_t n;
    off_t at = 0;
    char last = '\n';
    ch.lines = 0;
    while ((n = pread(fd, buf, sizeof buf, at)) > 0) {
        for (char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
            ch.lines++;
        last = buf[n - 1];
        at += n;
    }
    if (n == -1)
        die_errno("pread");
    ch.data_lines = ch.lines + (last != '\n') - 1;
}

static long long line_number_at(int fd, uint64_t offset)
{
    char buf[1 << 16];
    long long line = 1;
    for (uint64_t at = 0; at < offset;) {
        size_t want = offset - at < sizeof buf ? (size_t)(offset - at) : sizeof buf;
        size_t n = pread_full(fd, buf, want, (off_t)at);
        if (n == 0)
            die("the file ended before byte %llu", (unsigned long long)offset);
        for (size_t i = 0; i < n; i++)
            line += buf[i] == '\n';
        at += n;
    }
    return line;
}

/* The sequential pass that every method is checked against; a line outside the CSV
 * subset is bad input (exit 2, with its line number). */
static void reference_pass(void)
{
    struct scan_error e;
    int fd = open(ch.path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die("open %s: %s", ch.path, strerror(errno));
    totals_clear(&ch.expected);
    if (!scan_file(fd, (struct range){0, ch.size}, ch.block, -1, &ch.expected, &e)) {
        if (!ch.input)
            die("the generated file fails its own parser at byte %llu: %s",
                (unsigned long long)e.offset, row_result_text(e.why));
        die_usage("--input: '%s', line %lld: %s", ch.input, line_number_at(fd, e.offset),
                  row_result_text(e.why));
    }
    if (ch.expected.rows == 0)
        die_usage("--input: '%s' has no rows after its header line", ch.path);
    count_lines(fd);
    close(fd);
}

/* ---------- totals as text: compared, digested, and what the shell tools print ---------- */

static int compare_keys(const void *a, const void *b)
{
    return strcmp((*(const struct key_total *const *)a)->key,
                  (*(const struct key_total *const *)b)->key);
}

/* "key count sum min max\n" per key, sorted by key (LC_ALL=C sort's order). */
static char *totals_text(const struct totals *t)
{
    const struct key_total *sorted[KEY_SLOTS];
    int n = 0;
    for (int i = 0; i < KEY_SLOTS; i++)
        if (t->slot[i].count)
            sorted[n++] = &t->slot[i];
    qsort(sorted, (size_t)n, sizeof sorted[0], compare_keys);
    size_t cap = (size_t)n * 96 + 1, used = 0;
    char *text = malloc(cap);
    if (!text)
        die_errno("malloc");
    text[0] = '\0';
    for (int i = 0; i < n; i++)
        used += (size_t)snprintf(text + used, cap - used, "%s %lld %lld %lld %lld\n",
                                 sorted[i]->key, (long long)sorted[i]->count,
                                 (long long)sorted[i]->sum, (long long)sorted[i]->min,
                                 (long long)sorted[i]->max);
    return text;
}

static uint64_t text_digest(const char *text)
{
    uint64_t h = 1469598103934665603u;
    for (const char *p = text; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return h;
}

/* The first line where two texts differ, for the failure message. */
static void first_difference(const char *want, const char *got, char *buf, size_t n)
{
    while (*want && *want == *got) {
        size_t line = strcspn(want, "\n") + 1;
        if (strncmp(want, got, line) != 0)
            break;
        want += line, got += line;
    }
    snprintf(buf, n, "expected '%.*s', got '%.*s'", (int)strcspn(want, "\n"), want,
             (int)strcspn(got, "\n"), got);
}

static void check_text(const char *variant, const char *want, const char *got)
{
    char diff[256];
    if (strcmp(want, got) == 0)
        return;
    first_difference(want, got, diff, sizeof diff);
    verification_failed("%s: per-key totals differ from the sequential pass: %s", variant, diff);
}

static void check_totals(const char *variant, const struct totals *want, const struct totals *got)
{
    if (got->rows != want->rows)
        verification_failed("%s: %lld rows counted, the sequential pass counted %lld", variant,
                            (long long)got->rows, (long long)want->rows);
    char *a = totals_text(want), *b = totals_text(got);
    check_text(variant, a, b);
    free(a), free(b);
}

/* The expected totals of the first `lines` lines after the header (all when < 0). */
static const struct totals *expected_for(int64_t lines)
{
    static struct totals prefix;
    static int64_t prefix_lines = -1;
    if (lines < 0 || lines >= ch.data_lines)
        return &ch.expected;
    if (prefix_lines != lines) {
        struct scan_error e;
        int fd = open(ch.path, O_RDONLY | O_CLOEXEC);
        if (fd == -1)
            die_errno("open");
        totals_clear(&prefix);
        if (!scan_file(fd, (struct range){0, ch.size}, ch.block, lines, &prefix, &e))
            die("the file changed while it was read");
        close(fd);
        prefix_lines = lines;
    }
    return &prefix;
}

/* ---------- one trial of a C method ---------- */

typedef void (*method_fn)(const struct run_config *c, struct totals *out);

struct method {
    const char *name;
    method_fn run;
    bool messages;              /* rows sent by the parent: limited to --messages x K rows */
};

static const struct method c_methods[] = {
    {"sequential", run_sequential, false},
    {"per-row", run_messages, true},
    {"chunks", run_messages, true},
    {"byte-ranges-pread", run_byte_ranges_pread, false},
    {"byte-ranges-mmap", run_byte_ranges_mmap, false},
    {"shared-output", run_shared_output, false},
};

static const struct method *method_named(const char *name)
{
    for (size_t i = 0; i < sizeof c_methods / sizeof c_methods[0]; i++)
        if (strcmp(c_methods[i].name, name) == 0)
            return &c_methods[i];
    die("no method %s", name);
}

struct trial {
    const struct method *m;
    struct run_config c;
    const struct totals *want;
    bool cold;                  /* evict the file from the page cache before each trial */
    double most_resident;       /* after eviction, the largest fraction still cached */
    const char *command;        /* a shell command instead of a C method */
    int shell_check;            /* what the command's output must be */
};

static double evict(void);

static struct trial c_trial(const char *method, int workers, long k)
{
    struct trial t = {.m = method_named(method)};
    t.c = (struct run_config){.name = method, .path = ch.path, .size = ch.size,
                              .workers = workers, .pin = ch.o.pin, .block = ch.block,
                              .rows_per_message = strcmp(method, "per-row") == 0 ? 1 : k,
                              .line_limit = -1, .drop_row = ch.drop_row};
    if (strcmp(method, "sequential") == 0)
        t.c.workers = 1;
    if (t.m->messages && ch.messages * t.c.rows_per_message < ch.data_lines)
        t.c.line_limit = ch.messages * t.c.rows_per_message;
    t.want = expected_for(t.c.line_limit);
    return t;
}

/* Mrows/s of one run; the totals checked before the number counts. */
static double run_c_trial(void *arg)
{
    static struct totals got;
    struct trial *t = arg;
    if (t->cold) {
        double resident = evict();
        t->most_resident = resident > t->most_resident ? resident : t->most_resident;
    }
    uint64_t start = now_ns();
    t->m->run(&t->c, &got);
    double seconds = (double)(now_ns() - start) / 1e9;
    check_totals(t->c.name, t->want, &got);
    return (double)t->want->rows / seconds / 1e6;
}

/* ---------- the page cache: evict the file, and check that it went ---------- */

/* The fraction of the file's pages in the page cache (mincore on a fresh mapping). */
static double resident_fraction(int fd)
{
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (size_t)((ch.size + (uint64_t)page - 1) / (uint64_t)page), in = 0;
    unsigned char *vec = malloc(pages);
    void *map = mmap(NULL, ch.size, PROT_READ, MAP_SHARED, fd, 0);
    if (!vec || map == MAP_FAILED)
        die_errno("mmap for mincore");
    if (mincore(map, ch.size, vec) == -1)
        die_errno("mincore");
    for (size_t i = 0; i < pages; i++)
        in += vec[i] & 1;
    munmap(map, ch.size);
    free(vec);
    return (double)in / (double)pages;
}

/* Dirty pages cannot be dropped: write them back, then advise the kernel to drop the file's
 * pages. Advice only (tmpfs keeps its only copy): returns what stayed cached. */
static double evict(void)
{
    int fd = open(ch.path, O_RDONLY | O_CLOEXEC);
    if (fd == -1)
        die_errno("open");
    if (fdatasync(fd) == -1)
        die_errno("fdatasync");
    int err = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (err)
        die_err(err, "posix_fadvise DONTNEED");
    double resident = resident_fraction(fd);
    close(fd);
    return resident;
}

/* ---------- the shell tools: GNU parallel + awk, a single awk, wc -l, cat ---------- */

enum shell_check { SHELL_TOTALS, SHELL_LINES, SHELL_EXIT_ONLY };

static bool in_path(const char *name)
{
    char path[PATH_MAX];
    return find_in_path(name, path, sizeof path);
}

static void write_text_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        die("open %s: %s", path, strerror(errno));
    if (!write_full(fd, text, strlen(text)) || close(fd) == -1)
        die("write %s: %s", path, strerror(errno));
}

static void find_shell_tools(void)
{
    if (ch.input) {
        printf("shell tools: skipped for --input (their awk program assumes the generated"
               " format)\n");
        return;
    }
    ch.awk = in_path("mawk") ? "mawk" : in_path("awk") ? "awk" : NULL;
    ch.have_parallel = in_path("parallel");
    if (!ch.awk)
        warn("no awk in PATH: the awk rows are skipped");
    if (!ch.have_parallel)
        warn("GNU parallel is not installed (apt-get install parallel): its row is skipped");
}

/* sh -c COMMAND in its own process group (killed whole on a stop or an error). */
static void run_shell(const char *variant, const char *command)
{
    char *const argv[] = {"/bin/sh", "-c", (char *)command, NULL};
    int status = reap_child(start_program(argv, -1, -1));
    if (!ended_ok(status)) {
        char how[96];
        die("%s: the shell command %s: %s", variant, how_it_ended(status, how, sizeof how),
            command);
    }
}

static char *read_text_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd == -1 || fstat(fd, &st) == -1)
        die("open %s: %s", path, strerror(errno));
    char *text = malloc((size_t)st.st_size + 1);
    if (!text)
        die_errno("malloc");
    text[read_full(fd, text, (size_t)st.st_size)] = '\0';
    close(fd);
    return text;
}

static void check_shell_output(const struct trial *t, const char *variant)
{
    if (t->shell_check == SHELL_EXIT_ONLY)
        return;
    char *got = read_text_file(data_path[OUT_TXT]);
    if (t->shell_check == SHELL_LINES) {
        if (strtoll(got, NULL, 10) != ch.lines)
            verification_failed("%s: wc -l counted %s lines, the file has %lld", variant,
                                strtok(got, "\n"), (long long)ch.lines);
    } else {
        char *want = totals_text(&ch.expected);
        check_text(variant, want, got);
        free(want);
    }
    free(got);
}

static double run_shell_trial(void *arg)
{
    struct trial *t = arg;
    if (t->cold) {
        double resident = evict();
        t->most_resident = resident > t->most_resident ? resident : t->most_resident;
    }
    uint64_t start = now_ns();
    run_shell(t->c.name, t->command);
    double seconds = (double)(now_ns() - start) / 1e9;
    check_shell_output(t, t->c.name);
    return (double)ch.expected.rows / seconds / 1e6;
}

/* The shell tool `name` (parallel+awk, awk, wc-l, cat) as a trial; false if not installed. */
static bool shell_trial(const char *name, int workers, struct trial *t, char *command, size_t n)
{
    const char *f = ch.path, *a = ch.awk, *o = data_path[OUT_TXT];
    const char *partial = data_path[PARTIAL_AWK], *merge = data_path[MERGE_AWK];
    *t = (struct trial){.command = command, .shell_check = SHELL_TOTALS};
    t->c.name = name;
    t->c.workers = 1;
    if (strcmp(name, "parallel+awk") == 0) {
        if (!ch.have_parallel || !a)
            return false;
        t->c.workers = workers;
        snprintf(command, n, "parallel --will-cite --pipepart -a %s --block %llu -j %d "
                 "%s -F, -f %s | %s -f %s | LC_ALL=C sort > %s", f,
                 (unsigned long long)(ch.size / (uint64_t)workers + 1), workers, a, partial, a,
                 merge, o);
    } else if (strcmp(name, "awk") == 0) {
        if (!a)
            return false;
        snprintf(command, n, "%s -F, -f %s %s | LC_ALL=C sort > %s", a, partial, f, o);
    } else if (strcmp(name, "wc-l") == 0) {
        t->shell_check = SHELL_LINES;
        snprintf(command, n, "wc -l < %s > %s", f, o);
    } else {
        t->shell_check = SHELL_EXIT_ONLY;
        snprintf(command, n, "cat %s > /dev/null", f);
    }
    return !ch.input;
}

/* ---------- the experiments ---------- */

static long c_trials(void) { return trials_for(&ch.o, 2, 3, 7); }
static long shell_trials(void) { return trials_for(&ch.o, 1, 3, 5); }

/* A shell tool's trials: after a warm-up, except in --quick, where starting perl for GNU
 * parallel twice would cost more than the rest of the table. */
static struct stats measure_shell(struct trial *t)
{
    if (ch.o.mode != MODE_QUICK)
        return measure(run_shell_trial, t, shell_trials());
    long n = shell_trials();
    double *samples = malloc((size_t)n * sizeof *samples);
    if (!samples)
        die_errno("malloc");
    for (long i = 0; i < n; i++) {
        exit_if_stopped();
        samples[i] = run_shell_trial(t);
    }
    struct stats s = stats_of(samples, (size_t)n);
    free(samples);
    return s;
}

/* CPU seconds of this process and of every child it has reaped (and theirs): the work done,
 * whoever else shares the CPUs. */
static double cpu_seconds(void)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return (double)(rusage_cpu_ns(&self) + rusage_cpu_ns(&children)) / 1e9;
}

/* "sequential:95,per-row:4100,...": CPU ns per row of each row so far, for the TSV note. */
static char cpu_per_row[512];

static void add_cpu_per_row(struct report *r, const char *variant, double cpu_s, double rows,
                            const char *also)
{
    double ns = cpu_s / rows * 1e9;
    size_t used = strlen(cpu_per_row);
    snprintf(cpu_per_row + used, sizeof cpu_per_row - used, "%s%s:%.0f", used ? "," : "",
             variant, ns);
    report_comment(r, "CPU %.0f ns/row%s", ns, also);
}

static void add_c_row(struct report *r, const char *method, int workers, long k, double x)
{
    struct trial t = c_trial(method, workers, k);
    char also[64] = "";
    double cpu = cpu_seconds();
    report_add(r, method, x, "Mrows/s", measure(run_c_trial, &t, c_trials()));
    if (t.c.line_limit >= 0)
        snprintf(also, sizeof also, "; first %lld rows", (long long)t.c.line_limit);
    add_cpu_per_row(r, method, cpu_seconds() - cpu, (double)t.want->rows * (double)(c_trials() + 1),
                    also);
}

static void add_shell_row(struct report *r, const char *name, int workers)
{
    struct trial t;
    char command[PATH_MAX * 6];
    if (!shell_trial(name, workers, &t, command, sizeof command))
        return;
    double cpu = cpu_seconds();
    report_add(r, name, t.c.workers, "Mrows/s", measure_shell(&t));
    add_cpu_per_row(r, name, cpu_seconds() - cpu,
                    (double)ch.expected.rows *
                        (double)(shell_trials() + (ch.o.mode != MODE_QUICK)), "");
}

static const char *const c_names[] = {"sequential", "per-row", "chunks", "byte-ranges-pread",
                                      "byte-ranges-mmap", "shared-output"};
static const char *const shell_names[] = {"parallel+awk", "awk", "wc-l", "cat"};

/* What the methods table means, from its medians; a missing row skips its sentence. */
static void methods_conclusions(const struct report *r, int w)
{
    double seq = median_of(r, "sequential", 1), pread = median_of(r, "byte-ranges-pread", w);
    double map = median_of(r, "byte-ranges-mmap", w), per_row = median_of(r, "per-row", w);
    const char *best = map >= pread ? "byte-ranges-mmap" : "byte-ranges-pread";
    double br = map >= pread ? map : pread, eff = ch.o.effective_cpus;
    double goal = 0.8 * (eff < w ? eff : w);
    printf("  -> %s: %.2fx sequential with %d processes; the goal %.2fx (0.8 x %.2f effective CPUs"
           " at W = %d) is %s\n", best, br / seq, w, goal, eff < w ? eff : w, w,
           br / seq >= goal ? "met" : "NOT met");
    printf("  -> %s: %.1fx per-row (one row per message; goal >= 10x: %s), %.1fx chunks of %ld\n",
           best, br / per_row, br / per_row >= 10 ? "met" : "NOT met",
           br / median_of(r, "chunks", w), ch.chunk);
    double par = median_of(r, "parallel+awk", w), awk = median_of(r, "awk", 1);
    if (!isnan(par))
        printf("  -> %s: %.1fx GNU parallel --pipepart + %s (goal: faster: %s), %.1fx one %s\n",
               best, br / par, ch.awk, br > par ? "met" : "NOT met", br / awk, ch.awk);
    double cat = median_of(r, "cat", 1), wc = median_of(r, "wc-l", 1);
    if (!isnan(cat))
        printf("  -> %s ran at %.0f%% of cat's rate (%s) and %.0f%% of wc -l's (one pass looking"
               " for '\\n'), with %d processes against 1\n", best, 100 * br / cat,
               br < cat ? "the read ceiling: one process reading the file, no parsing"
                        : "no ceiling here: cat is one process that copies every byte, timed "
                          "with its shell's start",
               100 * br / wc, w);
}

static void experiment_methods(void)
{
    struct report r;
    int w = (int)ch.o.workers;
    progress("methods: %zu C methods and the shell tools, W = %d",
             sizeof c_names / sizeof c_names[0], w);
    report_start(&r, &ch.o, "methods", "processes");
    cpu_per_row[0] = '\0';
    for (size_t i = 0; i < sizeof c_names / sizeof c_names[0]; i++)
        add_c_row(&r, c_names[i], w, ch.chunk, strcmp(c_names[i], "sequential") == 0 ? 1 : w);
    for (size_t i = 0; i < sizeof shell_names / sizeof shell_names[0]; i++)
        add_shell_row(&r, shell_names[i], w);
    report_note(&r, "rows=%lld bytes=%llu chunk=%ld messages=%ld awk=%s cpu_ns_per_row=%s",
                (long long)ch.expected.rows, (unsigned long long)ch.size, ch.chunk, ch.messages,
                ch.awk ? ch.awk : "none", cpu_per_row);
    printf("\nmethods: the whole file, Mrows/s (10^6 rows per second, median of %ld; shell: %ld);"
           " CPU: every process's user + system time per row, warm-up included\n",
           c_trials(), shell_trials());
    report_print(&r);
    methods_conclusions(&r, w);
    report_write(&r);
    free(r.rows);
}

static void experiment_chunksize(void)
{
    static const long ks[] = {1, 10, 100, 1000, 10000, 100000};
    struct report r, ref;
    int w = (int)ch.o.workers;
    progress("chunksize: chunks with K = 1 .. 100000 rows per message, W = %d", w);
    report_start(&r, &ch.o, "chunksize", "rows_per_message");
    report_start(&ref, &ch.o, "chunksize", "rows_per_message");
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++)
        add_c_row(&r, "chunks", w, ks[i], (double)ks[i]);
    add_c_row(&ref, "sequential", 1, 1, 1);
    add_c_row(&ref, "byte-ranges-mmap", w, 1, w);
    double seq = median_of(&ref, "sequential", 1), br = median_of(&ref, "byte-ranges-mmap", w);
    report_note(&r, "sequential_mrows=%.4g byte_ranges_mrows=%.4g workers=%d messages=%ld",
                seq, br, w, ch.messages);
    printf("\nchunksize: chunks, W = %d, against K rows per message (Mrows/s; at most %ld messages"
           " a trial)\n", w, ch.messages);
    report_print(&r);
    printf("  (same run: sequential %.3g, byte-ranges-mmap %.3g Mrows/s)\n", seq, br);
    const struct report_row *best = report_best(&r, "chunks", true);
    printf("  -> the best K was %g: %.1fx K = 1 (per-row), %.2fx sequential, %.0f%% of"
           " byte-ranges-mmap\n",
           best->x, best->s.median / median_of(&r, "chunks", 1), best->s.median / seq,
           100 * best->s.median / br);
    report_write(&r);
    free(r.rows), free(ref.rows);
}

static void experiment_workers(void)
{
    static const char *const names[] = {"byte-ranges-mmap", "byte-ranges-pread", "chunks"};
    struct report r, ref;
    int most = 2 * (int)ch.o.workers;
    progress("workers: W = 1 .. %d", most);
    report_start(&r, &ch.o, "workers", "processes");
    report_start(&ref, &ch.o, "workers", "processes");
    for (size_t v = 0; v < sizeof names / sizeof names[0]; v++)
        for (int w = 1; w <= most; w++)
            add_c_row(&r, names[v], w, ch.chunk, w);
    add_c_row(&ref, "sequential", 1, 1, 1);
    double seq = median_of(&ref, "sequential", 1);
    report_note(&r, "sequential_mrows=%.4g chunk=%ld", seq, ch.chunk);
    printf("\nworkers: Mrows/s against the number of processes W (sequential: %.3g Mrows/s)\n",
           seq);
    report_print(&r);
    for (size_t v = 0; v < sizeof names / sizeof names[0]; v++) {
        double one = median_of(&r, names[v], 1), two = median_of(&r, names[v], 2);
        printf("  -> %s: W = 2 is %.2fx W = 1; W = %d is %.2fx W = 1 (effective CPUs %.2f)\n",
               names[v], two / one, most, median_of(&r, names[v], most) / one, ch.o.effective_cpus);
    }
    report_write(&r);
    free(r.rows), free(ref.rows);
}

static void experiment_cold(void)
{
    static const char *const names[] = {"sequential", "byte-ranges-pread", "byte-ranges-mmap"};
    struct report r;
    int w = (int)ch.o.workers;
    double resident = 0;
    char command[PATH_MAX * 6];
    progress("cold: the file cached, and evicted before each trial");
    report_start(&r, &ch.o, "cold", "evicted");
    for (int cold = 0; cold <= 1; cold++) {
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            struct trial t = c_trial(names[i], w, ch.chunk);
            t.cold = cold;
            report_add(&r, names[i], cold, "Mrows/s", measure(run_c_trial, &t, c_trials()));
            resident = t.most_resident > resident ? t.most_resident : resident;
        }
        struct trial t;
        if (shell_trial("cat", 1, &t, command, sizeof command)) {
            t.cold = cold;
            report_add(&r, "cat", cold, "Mrows/s", measure_shell(&t));
            resident = t.most_resident > resident ? t.most_resident : resident;
        }
    }
    report_note(&r, "most_resident_after_evict=%.4f workers=%d", resident, w);
    printf("\ncold: x = 0 the file in the page cache, x = 1 evicted before each trial (Mrows/s)\n");
    report_print(&r);
    if (resident > 0.5)
        printf("  -> eviction did NOT take effect (%.0f%% of the file stayed cached: tmpfs?): the "
               "cold rows are warm ones\n", 100 * resident);
    else
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            printf("  -> %s: cold %.2fx its warm rate (at most %.1f%% of the file stayed cached)\n",
                   names[i], median_of(&r, names[i], 1) / median_of(&r, names[i], 0),
                   100 * resident);
    report_write(&r);
    free(r.rows);
}

/* ---------- options and main ---------- */

static void parse_option(int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (kit_std_option(&ch.o, argc, argv, i))
        return;
    if (is_opt(arg, "--rows"))
        ch.rows = parse_count("--rows", option_value(argc, argv, i, "--rows"), 1000, 1000000000);
    else if (is_opt(arg, "--input"))
        ch.input = option_value(argc, argv, i, "--input");
    else if (is_opt(arg, "--chunk"))
        ch.chunk = (long)parse_count("--chunk", option_value(argc, argv, i, "--chunk"), 1, 1000000);
    else if (is_opt(arg, "--messages"))
        ch.messages = (long)parse_count("--messages", option_value(argc, argv, i, "--messages"),
                                        1, 100000000);
    else if (is_opt(arg, "--block"))
        ch.block = (size_t)parse_size("--block", option_value(argc, argv, i, "--block"),
                                      4096, 64 << 20);
    else if (is_opt(arg, "--generate"))
        ch.generate = option_value(argc, argv, i, "--generate");
    else if (is_opt(arg, "--totals"))
        ch.totals_out = option_value(argc, argv, i, "--totals");
    else if (is_opt(arg, "--inject")) {
        const char *what = option_value(argc, argv, i, "--inject");
        if (strcmp(what, "drop-row") != 0)
            die_usage("--inject: '%s' is not a fault (accepted: drop-row)", what);
        ch.drop_row = true;
    } else
        die_usage("unknown option '%s'", arg);
}

static void parse_options(int argc, char **argv)
{
    ch.chunk = 1000;
    ch.block = 256 << 10;
    for (int i = 1; i < argc; i++)
        parse_option(argc, argv, &i);
    if (ch.input && ch.rows)
        die_usage("--rows: not with --input (the file has the rows it has)");
    if (ch.input && ch.generate)
        die_usage("--generate: not with --input");
    if (ch.input && !ch.input[0])
        die_usage("--input: needs a file name");
    if (!ch.rows)
        ch.rows = by_mode(&ch.o, 100000, 1000000, 26000000);
    if (!ch.messages)
        ch.messages = (long)by_mode(&ch.o, 2000, 20000, 200000);
    check_only(&ch.o, experiments, sizeof experiments / sizeof experiments[0]);
}

/* About 45 bytes a row: refuse a file the temporary directory cannot hold. */
static void check_room(void)
{
    struct statvfs fs;
    const char *tmp = getenv("TMPDIR");
    tmp = tmp && *tmp ? tmp : "/tmp";
    unsigned long long need = (unsigned long long)ch.rows * 48;
    if (statvfs(tmp, &fs) == 0 && need > (unsigned long long)fs.f_bavail * fs.f_frsize)
        die_usage("--rows: %lld rows need about %llu MB, more than the %llu MB free in %s",
                  ch.rows, need / 1000000, (unsigned long long)fs.f_bavail * fs.f_frsize / 1000000,
                  tmp);
}

static void write_generated(void)
{
    int fd = open(ch.generate, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd == -1)
        die_usage("--generate: cannot create '%s': %s", ch.generate, strerror(errno));
    uint64_t bytes = write_csv(fd, ch.rows, ch.o.seed);
    if (close(fd) == -1)
        die_errno("close");
    printf("%s: %lld rows, %llu bytes (seed %lu)\n", ch.generate, ch.rows,
           (unsigned long long)bytes, ch.o.seed);
}

static void describe_data(void)
{
    char *text = totals_text(&ch.expected);
    printf("data: %s, %lld rows, %.1f MB, %d keys, %lld lines; totals digest %016llx\n",
           ch.input ? ch.input : "generated", (long long)ch.expected.rows, ch.size / 1e6,
           ch.expected.keys, (long long)ch.lines, (unsigned long long)text_digest(text));
    if (ch.totals_out)
        write_text_file(ch.totals_out, text);
    free(text);
}

int main(int argc, char **argv)
{
    ch.o = kit_defaults("ch10-rows", usage, argc, argv);
    parse_options(argc, argv);
    signal(SIGPIPE, SIG_IGN);           /* a dead worker's pipe: EPIPE, reported */
    catch_stop_signals(NULL);           /* the data goes with the kit's cleanups */
    if (ch.generate) {
        write_generated();
        return 0;
    }
    if (ch.input)
        check_input();
    else
        check_room();
    prepare_out_dir(&ch.o);             /* a bad --out is bad input: before any work */
    if (!ch.input)
        generate_data();
    reference_pass();
    print_run_header(&ch.o, "processing many rows: per-row tasks vs chunks vs byte ranges");
    describe_data();
    report_effective_cpus(&ch.o, calibration_spins(&ch.o));
    find_shell_tools();
    if (wanted(&ch.o, "methods"))
        experiment_methods();
    if (wanted(&ch.o, "chunksize"))
        experiment_chunksize();
    if (wanted(&ch.o, "workers"))
        experiment_workers();
    if (wanted(&ch.o, "cold"))
        experiment_cold();
    printf("\nverification: every method's per-key count, sum, min and max equal the sequential"
           " pass's, every row counted once\n");
    return 0;
}
