/* Per-thread scratch for the GEMM kernels' packed panels: grown on demand, 64-byte aligned, kept for
   the thread's life (so the hot path allocates only the first time a larger panel is needed). */
#ifndef CK_SCRATCH_BUFFER_H
#define CK_SCRATCH_BUFFER_H
#include <stdlib.h>

/* Returns a buffer of at least `bytes` bytes in *buf (capacity *cap), replacing it when too small;
   NULL if the allocation fails. */
static inline void *ck_grow_scratch(void **buf, size_t *cap, size_t bytes) {
    if (bytes > *cap) {
        free(*buf);
        *buf = aligned_alloc(64, (bytes + 63) & ~(size_t)63);
        *cap = *buf ? bytes : 0;
    }
    return *buf;
}
#endif
