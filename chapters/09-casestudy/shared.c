/* shared.c - the plumbing of the shared-memory object the values live in (rungs.c creates it,
 * maps it and reads it): where its parts start, its size, unmapping and closing it, and the
 * buffer a worker reads batches into.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "bench.h"
#include "rungs.h"

/* The values, rounded up to a cache line: the checksums start after them. */
static size_t values_bytes(size_t count) { return (count * sizeof(float) + 63) & ~(size_t)63; }

/* The control part (counter, partial sums) fills whole pages, so that the data part (values,
 * then checksums) starts on a page boundary and can be mapped by itself, or not at all. */
void lay_out(struct shared *m, size_t count)
{
    m->checks_offset = m->data_offset + values_bytes(count);
    m->next_block = (_Atomic uint64_t *)m->base;
    m->partials = (double *)(m->base + 64);
    m->values = m->data ? (float *)m->data : NULL;
    m->checks = m->data ? (uint64_t *)(m->data + (m->checks_offset - m->data_offset)) : NULL;
}

void size_parts(struct shared *m, size_t count, size_t blocks)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    m->data_offset = (64 + blocks * sizeof(double) + page - 1) / page * page;
    m->bytes = m->data_offset + values_bytes(count) + blocks * sizeof(uint64_t);
}

void unmap_shared(struct shared *m)
{
    if (m->reach == REACH_MAP_READ_ONLY)
        munmap(m->data, m->bytes - m->data_offset);
    munmap(m->base, m->reach == REACH_MAP_READ_WRITE ? m->bytes : m->data_offset);
}

void free_shared(struct shared *m)
{
    unmap_shared(m);
    close(m->fd);
}

/* Allocated for the first batch, reused for every other; grown only for a larger batch. */
bool fit_buffer(struct batch_buffer *buf, size_t blocks)
{
    if (blocks <= buf->blocks)
        return true;
    free(buf->values);
    buf->values = malloc(blocks * (BLOCK_VALUES * sizeof(float) + sizeof(uint64_t)));
    if (!buf->values)
        return false;
    buf->checks = (uint64_t *)(buf->values + blocks * BLOCK_VALUES);
    buf->blocks = blocks;
    return true;
}
