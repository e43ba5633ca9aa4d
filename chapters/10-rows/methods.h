/* methods.h - what the teaching file (methods.c) offers the driver (main.c): the row task
 * (parse a CSV row, aggregate per key) and the ways to run it over a file with processes. */
#ifndef CH10_METHODS_H
#define CH10_METHODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"

/* ---------- the row task ---------- */

enum {
    KEY_MAX = 31,           /* bytes in a key */
    KEY_SLOTS = 1024,       /* hash slots per table (a power of two) */
    KEYS_MAX = 512,         /* distinct keys accepted: the table stays at most half full */
    LINE_MAX_BYTES = 16 << 20,
};

struct key_total {          /* 64 bytes: one cache line per key */
    char key[KEY_MAX + 1];
    int64_t count, sum, min, max;
};

struct totals {
    int64_t rows;           /* rows added (header and empty lines are not rows) */
    int keys;
    struct key_total slot[KEY_SLOTS];
};

enum row_result {
    ROW_OK, ROW_EMPTY, ROW_QUOTED, ROW_FIELDS, ROW_ID, ROW_KEY, ROW_AMOUNT, ROW_TOO_MANY_KEYS,
    ROW_TOO_LONG,
};

void totals_clear(struct totals *t);
enum row_result add_row(struct totals *t, const char *line, size_t len);
void totals_merge(struct totals *into, const struct totals *from);

/* ---------- the methods ---------- */

struct range {
    uint64_t begin, end;
};

struct run_config {
    const char *name;       /* the method, for a worker's obituary */
    const char *path;       /* the CSV, opened by every worker (a name or /proc/PID/fd/N) */
    uint64_t size;
    int workers;
    enum kit_pin pin;
    size_t block;           /* pread buffer (grows for a longer line) */
    long rows_per_message;  /* chunks: K; per-row: 1 */
    int64_t line_limit;     /* message methods: lines after the header to send (<0: all) */
    bool drop_row;          /* a fault for the tests: the last byte-range worker skips a row */
};

/* A line the parser refused: its byte offset, and why. */
struct scan_error {
    enum row_result why;
    uint64_t offset;
};

bool scan_file(int fd, struct range r, size_t block, int64_t line_limit, struct totals *t,
               struct scan_error *e);

void run_sequential(const struct run_config *c, struct totals *out);
void run_messages(const struct run_config *c, struct totals *out);
void run_byte_ranges_pread(const struct run_config *c, struct totals *out);
void run_byte_ranges_mmap(const struct run_config *c, struct totals *out);
void run_shared_output(const struct run_config *c, struct totals *out);

#endif
