/* report.h - an experiment's results: rows by variant and x, one table on the terminal and
 * the same rows as the kit's standard TSV, and lookups by name for the conclusion line.
 *
 *   report_start(&r, o, experiment, x_name)   an empty report; x_name labels the x column
 *   report_note(&r, fmt, ...)                 one more "# key=value" metadata line in the TSV
 *                                             (each call adds a line)
 *   report_add(&r, variant, x, unit, stats)   a row (variant and x identify it)
 *   report_comment(&r, fmt, ...)              a remark printed after the last row added
 *   report_find(&r, variant, x)               the row's stats, or NULL
 *   median_of(&r, variant, x)                 the row's median, or NAN when there is no row
 *   report_best(&r, variant, highest)         the variant's row with the highest (or lowest)
 *                                             median, the first added on a tie; NULL if none
 *   report_print(&r), report_write(&r)        the terminal table; the TSV (written whole)
 *   report_finish(&r)                         both, then frees the rows
 *   report_save(&r)                           the TSV only (a chapter that prints its own
 *                                             table), then frees the rows
 *   report_free(&r)                           the rows, once the conclusion has read them
 *
 * A conclusion is computed from the rows at hand, looked up by name, never by position:
 *     double fork = median_of(&r, "fork", 0), vfork = median_of(&r, "vfork", 0);
 *     if (fork > 2 * vfork) printf("  -> ...");
 * and a sentence the numbers do not support is not printed.
 *
 * Include bench.h first.
 */
#ifndef KIT_REPORT_H
#define KIT_REPORT_H

#include "bench.h"

struct report_row {
    char variant[64];
    double x;
    char unit[16];
    struct stats s;
    char comment[160];
};

struct report {
    const struct kit_opts *o;
    char experiment[64], x_name[64];
    char note[512];                 /* extra metadata lines, "" for none */
    struct report_row *rows;
    size_t count, capacity;
};

static inline void report_start(struct report *r, const struct kit_opts *o,
                                const char *experiment, const char *x_name)
{
    memset(r, 0, sizeof *r);
    r->o = o;
    snprintf(r->experiment, sizeof r->experiment, "%s", experiment);
    snprintf(r->x_name, sizeof r->x_name, "%s", x_name);
}

__attribute__((format(printf, 2, 3)))
static inline void report_note(struct report *r, const char *fmt, ...)
{
    size_t used = strlen(r->note);
    if (used && used + 3 < sizeof r->note)
        used += (size_t)snprintf(r->note + used, sizeof r->note - used, "\n# ");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + used, sizeof r->note - used, fmt, ap);
    va_end(ap);
}

static inline void report_add(struct report *r, const char *variant, double x, const char *unit,
                              struct stats s)
{
    if (r->count == r->capacity) {
        size_t more = r->capacity ? 2 * r->capacity : 16;
        struct report_row *rows = realloc(r->rows, more * sizeof *rows);
        if (!rows)
            die_errno("realloc");
        r->rows = rows;
        r->capacity = more;
    }
    struct report_row *row = &r->rows[r->count++];
    memset(row, 0, sizeof *row);
    snprintf(row->variant, sizeof row->variant, "%s", variant);
    snprintf(row->unit, sizeof row->unit, "%s", unit);
    row->x = x;
    row->s = s;
}

__attribute__((format(printf, 2, 3)))
static inline void report_comment(struct report *r, const char *fmt, ...)
{
    if (r->count == 0)
        die("report_comment before any row");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->rows[r->count - 1].comment, sizeof r->rows[0].comment, fmt, ap);
    va_end(ap);
}

static inline const struct stats *report_find(const struct report *r, const char *variant,
                                              double x)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->rows[i].variant, variant) == 0 && r->rows[i].x == x)
            return &r->rows[i].s;
    return NULL;
}

static inline double median_of(const struct report *r, const char *variant, double x)
{
    const struct stats *s = report_find(r, variant, x);
    return s ? s->median : NAN;
}

/* Which x served a variant best: its ->x says where, its ->s.median how well. */
static inline const struct report_row *report_best(const struct report *r, const char *variant,
                                                   bool highest)
{
    const struct report_row *best = NULL;
    for (size_t i = 0; i < r->count; i++) {
        const struct report_row *row = &r->rows[i];
        if (strcmp(row->variant, variant) == 0 &&
            (!best || (highest ? row->s.median > best->s.median
                               : row->s.median < best->s.median)))
            best = row;
    }
    return best;
}

/* The terminal table: median, min and max with the unit; a noisy point says so. */
static inline void report_print(const struct report *r)
{
    printf("  %-22s %10s %10s %10s %10s  %s\n", "variant", r->x_name, "median", "min", "max",
           "unit");
    for (size_t i = 0; i < r->count; i++) {
        const struct report_row *row = &r->rows[i];
        printf("  %-22s %10.6g %10.4g %10.4g %10.4g  %s%s%s%s\n", row->variant, row->x,
               row->s.median, row->s.min, row->s.max, row->unit,
               is_noisy(row->s) ? "  noisy" : "", row->comment[0] ? "  " : "", row->comment);
    }
}

static inline void report_write(const struct report *r)
{
    FILE *f = r->note[0] ? tsv_open_noted(r->o, r->experiment, r->x_name, "%s", r->note)
                         : tsv_open(r->o, r->experiment, r->x_name);
    for (size_t i = 0; i < r->count; i++)
        tsv_row(f, r->rows[i].variant, r->rows[i].x, r->rows[i].unit, r->rows[i].s);
    tsv_close(f);
}

static inline void report_free(struct report *r)
{
    free(r->rows);
    r->rows = NULL;
    r->count = r->capacity = 0;
}

static inline void report_save(struct report *r)
{
    report_write(r);
    report_free(r);
}

static inline void report_finish(struct report *r)
{
    report_print(r);
    report_save(r);
}

#endif
