/* Linked into second builds of the kernel tests: they then run the portable loops that CPUs
   without AVX-512 use instead of the row-wise vector kernels (src/kernels/vmath.h), so that both paths
   are tested on a machine that has AVX-512. */
extern int nb__vrows_off;

__attribute__((constructor)) static void use_portable_loops(void)
{
    nb__vrows_off = 1;
}
