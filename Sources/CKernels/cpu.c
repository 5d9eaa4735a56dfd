#include "cpu.h"
#include <stdatomic.h>

int zipar_vector_level(void) {
#if defined(__x86_64__)
    /* Atomic: the pool's workers may ask first, at the same time; every thread computes the same value. */
    static atomic_int cached = -1;
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        level = avx2 ? (__builtin_cpu_supports("avx512f") ? 2 : 1) : 0;
        atomic_store_explicit(&cached, level, memory_order_relaxed);
    }
    return level;
#else
    return 0;
#endif
}
