/* csvgen.c - the chapter's data: a CSV that depends only on the row count and --seed.
 *
 *   id,key,amount,text
 *   0,k042,-513877,qhvzmcpe
 *
 * id counts from 0; key is one of k000..k099; amount is a whole number in -10^6..10^6;
 * text is 4..40 lowercase letters (about 42 bytes a row). The same --rows and --seed give
 * the same bytes on every machine, so Python and the shell tools can read the same file.
 */
#define _GNU_SOURCE
#include "bench.h"
#include "csvgen.h"

/* One row into buf (at least 96 bytes): its length. */
static size_t format_row(char *buf, int64_t id, uint64_t seed)
{
    uint64_t h = mix64(seed * 0x9e3779b97f4a7c15u ^ (uint64_t)id);
    int64_t amount = (int64_t)(mix64(h) % 2000001) - 1000000;
    int n = sprintf(buf, "%lld,k%03d,%lld,", (long long)id, (int)(h % CSV_KEYS), (long long)amount);
    size_t len = 4 + (size_t)((h >> 32) % 37);
    uint64_t letters = mix64(h + 1);
    for (size_t i = 0; i < len; i++) {
        if (i % 12 == 11)
            letters = mix64(letters);
        buf[n++] = (char)('a' + (letters >> (5 * (i % 12))) % 26);
    }
    buf[n++] = '\n';
    return (size_t)n;
}

uint64_t write_csv(int fd, int64_t rows, uint64_t seed)
{
    enum { BUF = 1 << 20 };
    static char buf[BUF + 128];
    size_t used = (size_t)sprintf(buf, "id,key,amount,text\n");
    uint64_t total = 0;
    for (int64_t id = 0; id < rows; id++) {
        used += format_row(buf + used, id, seed);
        if (used >= BUF || id + 1 == rows) {
            if (!write_full(fd, buf, used))
                die_errno("write (the CSV)");
            total += used;
            used = 0;
            exit_if_stopped();
        }
    }
    return total;
}
