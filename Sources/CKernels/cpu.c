#include "cpu.h"

int zipar_vector_level(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        cached = avx2 ? (__builtin_cpu_supports("avx512f") ? 2 : 1) : 0;
    }
    return cached;
#else
    return 0;
#endif
}
