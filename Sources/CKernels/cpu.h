// Which vector instructions this processor has (checked once, at run time), for the kernels that choose.
#ifndef ZIPAR_CPU_H
#define ZIPAR_CPU_H

/// 2: AVX-512F (with AVX2 and FMA), 1: AVX2 and FMA, 0: neither (the portable code). Always 0 off x86-64.
int zipar_vector_level(void);

#endif
