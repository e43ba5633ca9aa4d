/* cli.h - the kit's command line, errors and stop signals.
 *
 * Every chapter program takes the same standard options (kit_usage_common), rejects bad
 * input with one line that names the argument and the accepted range, then its usage, and
 * exit code 2 -- before any work starts. Runtime failures exit 1; a stop signal cleans up
 * and re-raises the signal.
 *
 *   die(), die_errno(call)       a runtime failure: one line, exit 1
 *   die_usage()                  bad input: one line, the usage, exit 2
 *   verification_failed()        a wrong answer: exit 1, however fast it came
 *   warn(), progress()           stderr, never the results
 *   catch_stop_signals(cleanup)  SIGINT/SIGTERM set a flag; exit_if_stopped() acts on it
 *   add_kit_cleanup(fn)          run at exit() and after a stop signal (children, open TSVs)
 *   parse_count(), parse_size()  numbers with a name and a range; format_size()
 *   parse_choice()               one word of a list: "--inject: 'x' is not a fault (accepted: ..)"
 *   kit_defaults(), kit_std_option(), check_only(), wanted(), prepare_out_dir()
 *   parse_kit_options()          the standard options, the chapter's own (struct kit_option,
 *                                positional arguments too) and --only, in one loop;
 *                                die_extra_argument() for one argument too many
 *   by_mode()                    one value per mode: quick, default, full
 *
 * Functions are `static inline`; the few variables every file of a program shares (the
 * program's name, the stop flag, the cleanups, the children) are defined once, in kit.c.
 */
#ifndef KIT_CLI_H
#define KIT_CLI_H

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

enum kit_mode { MODE_QUICK, MODE_DEFAULT, MODE_FULL };
enum kit_pin { PIN_NONE, PIN_SAME, PIN_SPREAD };

struct kit_opts {
    const char *prog;       /* "ch01-fork": chapter number and program name */
    const char *usage;      /* the chapter's usage text */
    enum kit_mode mode;
    long trials;            /* 0 until set: the chapter picks its mode's default */
    long workers;           /* online CPUs unless --workers */
    unsigned long seed;
    const char *out_dir;
    const char *only;       /* NULL = every experiment */
    enum kit_pin pin;
    bool pin_given;         /* --pin was on the command line (even --pin none) */
    double effective_cpus;  /* 0 until measured; written into the TSV metadata */
    char args[512];         /* the command line, for the TSV metadata */
};

/* Shared by every file of a program, defined once in kit.c. */
extern const char *kit_prog;
extern const char *kit_usage;

static const char kit_usage_common[] =
    "Standard options (every chapter):\n"
    "  --quick | --full    CI size (<= 3 s) | publication size; default: classroom size\n"
    "  --trials N          measured trials per point, after one warm-up (1..100000)\n"
    "  --workers N         processes for parallel experiments (1..1024; default: online CPUs)\n"
    "  --seed S            seed for generated data (0..2^63)\n"
    "  --out DIR           where the TSV files go (default: results)\n"
    "  --only NAME         run one experiment\n"
    "  --pin none|same|spread  placement: as the scheduler likes | all on CPU 0 | one CPU each\n"
    "  --help              this text\n"
    "Exit status: 0 ok, 1 runtime or verification failure, 2 usage error.\n";

/* ---------- errors ---------- */

/* "ch01-fork: <tag><message>" on stderr, after whatever stdout still holds. */
static inline void print_message(const char *tag, const char *fmt, va_list ap)
{
    fflush(stdout);
    fprintf(stderr, "%s: %s", kit_prog, tag);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

#define KIT_MESSAGE(tag)            \
    do {                            \
        va_list ap;                 \
        va_start(ap, fmt);          \
        print_message(tag, fmt, ap);\
        va_end(ap);                 \
    } while (0)

__attribute__((format(printf, 1, 2), noreturn))
static inline void die(const char *fmt, ...)
{
    KIT_MESSAGE("");
    exit(EXIT_RUNTIME);
}

/* A failed system call, named where it was made: "ch01-fork: fork: Resource ...". */
__attribute__((noreturn))
static inline void die_errno(const char *call)
{
    die("%s: %s", call, strerror(errno));
}

/* Bad input: one line naming the argument and the accepted range, then the usage. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void die_usage(const char *fmt, ...)
{
    KIT_MESSAGE("");
    fprintf(stderr, "\n%s\n%s", kit_usage, kit_usage_common);
    exit(EXIT_USAGE);
}

/* Every benchmark checks its answer; a wrong one is a failure however fast. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void verification_failed(const char *fmt, ...)
{
    KIT_MESSAGE("verification failed: ");
    exit(EXIT_RUNTIME);
}

__attribute__((format(printf, 1, 2)))
static inline void warn(const char *fmt, ...)
{
    KIT_MESSAGE("warning: ");
}

/* Progress of anything longer than a couple of seconds: stderr, never the results. */
__attribute__((format(printf, 1, 2)))
static inline void progress(const char *fmt, ...)
{
    KIT_MESSAGE("");
}

/* ---------- stop signals ----------
 * SIGINT/SIGTERM only set a flag (no SA_RESTART, so a blocked waitpid or read
 * returns EINTR). The program checks the flag where it is safe to stop, runs
 * its cleanup, then dies of the same signal so its parent (make, a shell)
 * sees the interruption for what it was. */

extern volatile sig_atomic_t stop_signal;
extern void (*stop_cleanup)(void);

static inline void on_stop_signal(int sig) { stop_signal = sig; }

static inline void catch_stop_signals(void (*cleanup)(void))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    stop_cleanup = cleanup;
    if (sigaction(SIGINT, &sa, NULL) == -1 || sigaction(SIGTERM, &sa, NULL) == -1)
        die_errno("sigaction");
}

/* In a forked child: back to the default action, so a signal just ends it. */
static inline void default_stop_signals(void)
{
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
}

/* The kit's own cleanups (kill and reap this program's children, remove a TSV not yet
 * complete) run at exit() and after a stop signal alike, after the chapter's own. */
enum { KIT_CLEANUPS = 8 };
extern void (*kit_cleanups[KIT_CLEANUPS])(void);
extern int kit_cleanup_count;

static inline void run_kit_cleanups(void)
{
    while (kit_cleanup_count > 0)
        kit_cleanups[--kit_cleanup_count]();
}

static inline void add_kit_cleanup(void (*cleanup)(void))
{
    for (int i = 0; i < kit_cleanup_count; i++)
        if (kit_cleanups[i] == cleanup)
            return;
    if (kit_cleanup_count == 0 && atexit(run_kit_cleanups) != 0)
        die("atexit failed");
    if (kit_cleanup_count == KIT_CLEANUPS)
        die("more than %d kit cleanups", KIT_CLEANUPS);
    kit_cleanups[kit_cleanup_count++] = cleanup;
}

static inline void exit_if_stopped(void)
{
    int sig = stop_signal;
    if (!sig)
        return;
    if (stop_cleanup)
        stop_cleanup();
    run_kit_cleanups();
    fflush(stdout);
    fprintf(stderr, "%s: stopped by %s; cleaned up\n", kit_prog, strsignal(sig));
    signal(sig, SIG_DFL);
    raise(sig);
    _exit(128 + sig);
}

/* ---------- parsing ---------- */

/* "--trials" matches "--trials" and "--trials=5". */
static inline bool is_opt(const char *arg, const char *name)
{
    size_t len = strlen(name);
    return strncmp(arg, name, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

static inline const char *option_value(int argc, char **argv, int *i, const char *name)
{
    const char *eq = strchr(argv[*i], '=');
    if (eq)
        return eq + 1;
    if (*i + 1 >= argc)
        die_usage("%s needs a value", name);
    return argv[++*i];
}

static inline long long parse_count(const char *name, const char *text, long long min,
                                    long long max)
{
    char *end;
    errno = 0;
    long long value = strtoll(text, &end, 10);
    if (end == text || *end != '\0')
        die_usage("%s: '%s' is not a whole number (accepted: %lld to %lld)", name, text, min, max);
    if (errno == ERANGE || value < min || value > max)
        die_usage("%s: %s is out of range (accepted: %lld to %lld)", name, text, min, max);
    return value;
}

/* The index of `text` in names[], or exit 2 naming what it should be and the choices. */
static inline int parse_choice(const char *name, const char *text, const char *what,
                               const char *const names[], size_t count)
{
    char list[256] = "";
    for (size_t k = 0; k < count; k++) {
        if (strcmp(text, names[k]) == 0)
            return (int)k;
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
    }
    die_usage("%s: '%s' is not %s (accepted: %s)", name, text, what, list);
}

/* Bytes in a readable unit: "64", "4K", "1.5M", "2G" (binary multiples). */
static inline const char *format_size(unsigned long long bytes, char *buf, size_t len)
{
    const char *units = "BKMGT";
    double value = (double)bytes;
    int u = 0;
    while (value >= 1024 && u < 4) {
        value /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%llu", bytes);
    else if (value == (double)(long long)value)
        snprintf(buf, len, "%lld%c", (long long)value, units[u]);
    else
        snprintf(buf, len, "%.1f%c", value, units[u]);
    return buf;
}

/* A size with an optional K, M or G suffix (binary: 1K = 1024). */
static inline unsigned long long parse_size(const char *name, const char *text,
                                            unsigned long long min, unsigned long long max)
{
    char lo[32], hi[32];
    char *end;
    format_size(min, lo, sizeof lo);
    format_size(max, hi, sizeof hi);
    errno = 0;
    unsigned long long value = strtoull(text, &end, 10);
    int shift = 0;
    if (*end == 'K' || *end == 'k') shift = 10;
    else if (*end == 'M' || *end == 'm') shift = 20;
    else if (*end == 'G' || *end == 'g') shift = 30;
    if (shift)
        end++;
    if (end == text || *end != '\0' || text[0] == '-')
        die_usage("%s: '%s' is not a size (a whole number with an optional K, M or G suffix; "
                  "accepted: %s to %s)",
                  name, text, lo, hi);
    if (errno == ERANGE || value > (ULLONG_MAX >> shift))
        die_usage("%s: %s is out of range (accepted: %s to %s)", name, text, lo, hi);
    value <<= shift;
    if (value < min || value > max)
        die_usage("%s: %s is out of range (accepted: %s to %s)", name, text, lo, hi);
    return value;
}

/* ---------- the standard options ---------- */

static inline struct kit_opts kit_defaults(const char *prog, const char *usage, int argc,
                                           char **argv)
{
    struct kit_opts o;
    memset(&o, 0, sizeof o);
    o.prog = kit_prog = prog;
    o.usage = kit_usage = usage;
    o.mode = MODE_DEFAULT;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.workers = cpus > 0 ? cpus : 1;
    o.seed = 1;
    o.out_dir = "results";
    /* Line-buffered even into a file or pipe: progress shows as it happens, and a
     * forked child never inherits half a buffer of the parent's output. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* Past a file-size limit, write() fails with EFBIG and the program says so, instead of
     * dying of SIGXFSZ without a word. */
    signal(SIGXFSZ, SIG_IGN);
    size_t used = 0;
    for (int i = 1; i < argc && used + 1 < sizeof o.args; i++) {
        int n = snprintf(o.args + used, sizeof o.args - used, "%s%s", i > 1 ? " " : "", argv[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    return o;
}

/* Handles argv[*i] if it is a standard option; returns false otherwise. */
static inline bool kit_std_option(struct kit_opts *o, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
        printf("%s\n%s", o->usage, kit_usage_common);
        exit(0);
    } else if (strcmp(arg, "--quick") == 0) {
        o->mode = MODE_QUICK;
    } else if (strcmp(arg, "--full") == 0) {
        o->mode = MODE_FULL;
    } else if (is_opt(arg, "--trials")) {
        o->trials = (long)parse_count("--trials", option_value(argc, argv, i, "--trials"),
                                      1, 100000);
    } else if (is_opt(arg, "--workers")) {
        o->workers = (long)parse_count("--workers", option_value(argc, argv, i, "--workers"),
                                       1, 1024);
    } else if (is_opt(arg, "--seed")) {
        o->seed = (unsigned long)parse_count("--seed", option_value(argc, argv, i, "--seed"),
                                             0, LLONG_MAX);
    } else if (is_opt(arg, "--out")) {
        o->out_dir = option_value(argc, argv, i, "--out");
        if (o->out_dir[0] == '\0')
            die_usage("--out: needs a directory name");
    } else if (is_opt(arg, "--only")) {
        o->only = option_value(argc, argv, i, "--only");
    } else if (is_opt(arg, "--pin")) {
        static const char *const pins[] = {"none", "same", "spread"};   /* enum kit_pin */
        o->pin = parse_choice("--pin", option_value(argc, argv, i, "--pin"), "a placement", pins,
                              3);
        o->pin_given = true;
    } else {
        return false;
    }
    return true;
}

/* --only must name one of the chapter's experiments. */
static inline void check_only(const struct kit_opts *o, const char *const names[], size_t count)
{
    if (o->only)
        parse_choice("--only", o->only, "an experiment", names, count);
}

#define KIT_COUNT(array) (sizeof (array) / sizeof (array)[0])

/* A chapter's own option: the text of its value lands in *text (NULL until given), or, for
 * a flag, *flag becomes true. A name without a leading '-' ("R") is a positional argument:
 * the next argument that is not an option fills the first such *text still NULL (a number,
 * even "-5", is an argument, so its range check can name it). The chapter checks the text
 * once the loop is done. */
struct kit_option {
    const char *name;
    const char **text;
    bool *flag;
};

/* Too many arguments: "unexpected argument '9' (give R and N once)", naming the positional
 * ones; a chapter without any calls every argument an option. */
__attribute__((noreturn))
static inline void die_extra_argument(const char *arg, const struct kit_option *own, size_t count)
{
    char names[128] = "";
    for (size_t k = 0; k < count; k++) {
        size_t used = strlen(names);
        if (own[k].name[0] != '-')
            snprintf(names + used, sizeof names - used, "%s%s", used ? " and " : "", own[k].name);
    }
    if (!names[0])
        die_usage("unknown option '%s'", arg);
    die_usage("unexpected argument '%s' (give %s once)", arg, names);
}

/* One loop over argv: the chapter's own options (first: one may tighten a standard one,
 * e.g. a smaller --workers), the standard ones, then --only against the experiments.
 * Anything else is exit 2. */
static inline void parse_kit_options(struct kit_opts *o, int argc, char **argv,
                                     const struct kit_option *own, size_t own_count,
                                     const char *const experiments[], size_t experiment_count)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool positional = arg[0] != '-' || arg[1] == '\0' || (arg[1] >= '0' && arg[1] <= '9');
        size_t k = 0;
        while (k < own_count && !(positional ? own[k].name[0] != '-' && !*own[k].text
                                  : own[k].flag ? strcmp(arg, own[k].name) == 0
                                  : is_opt(arg, own[k].name)))
            k++;
        if (k < own_count && own[k].flag)
            *own[k].flag = true;
        else if (k < own_count)
            *own[k].text = positional ? arg : option_value(argc, argv, &i, own[k].name);
        else if (positional)
            die_extra_argument(arg, own, own_count);
        else if (!kit_std_option(o, argc, argv, &i))
            die_usage("unknown option '%s'", arg);
    }
    check_only(o, experiments, experiment_count);
}

static inline bool wanted(const struct kit_opts *o, const char *experiment)
{
    return o->only == NULL || strcmp(o->only, experiment) == 0;
}

/* Create --out (like mkdir -p) and prove it is writable, before any work. */
static inline void prepare_out_dir(const struct kit_opts *o)
{
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", o->out_dir) >= (int)sizeof path)
        die_usage("--out: path too long");
    for (char *p = path + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0777) == -1 && errno != EEXIST)
                die_usage("--out: cannot create '%s': %s", path, strerror(errno));
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    struct stat st;
    if (stat(o->out_dir, &st) == 0 && !S_ISDIR(st.st_mode))
        die_usage("--out: '%s' is not a directory", o->out_dir);
    if (access(o->out_dir, W_OK | X_OK) == -1)
        die_usage("--out: cannot write to '%s': %s", o->out_dir, strerror(errno));
}

static inline const char *mode_name(enum kit_mode mode)
{
    return mode == MODE_QUICK ? "quick" : mode == MODE_FULL ? "full" : "default";
}

/* A value per mode, so each chapter states its three sizes in one place. */
static inline long long by_mode(const struct kit_opts *o, long long quick, long long normal,
                                long long full)
{
    return o->mode == MODE_QUICK ? quick : o->mode == MODE_FULL ? full : normal;
}

/* A sweep over 1..2W processes forks about 2W^2 of them per trial: quadratic in --workers.
 * A mode allows the W it can finish in minutes (never fewer than the CPUs); --full any.
 * forks_per_trial says how many processes one trial of the whole sweep starts. */
static inline void refuse_long_sweep(const struct kit_opts *o, const char *experiment,
                                     long long forks_per_trial, const char *what)
{
    long long cpus = sysconf(_SC_NPROCESSORS_ONLN), most = o->mode == MODE_QUICK ? 8 : 32;
    most = most > cpus ? most : cpus;
    if (!wanted(o, experiment) || o->mode == MODE_FULL || o->workers <= most)
        return;
    die_usage("--workers: %ld makes the %s experiment fork %lld processes per trial (%s); "
              "%s allows up to %lld (use --full to run it anyway, or --only another experiment)",
              o->workers, experiment, forks_per_trial, what,
              o->mode == MODE_QUICK ? "--quick" : "the default mode", most);
}

#endif
