/* Allocation counting.  Normal builds interpose malloc and friends in the test executable and
   forward to glibc's __libc_* entry points; AddressSanitizer builds (which own malloc) use its
   allocator hook instead. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_count.h"

#if defined(__SANITIZE_ADDRESS__)
#define NB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NB_ASAN 1
#endif
#endif

enum { MAX_CALLERS = 4096 };
static atomic_int counting;
static atomic_size_t count;
static void *callers[MAX_CALLERS]; /* return addresses, classified after counting stops */

static void note(void *caller)
{
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        size_t i = atomic_fetch_add_explicit(&count, 1, memory_order_relaxed);
        if (i < MAX_CALLERS)
            callers[i] = caller;
    }
}

#ifdef NB_ASAN
/* From the sanitizer runtime (sanitizer/allocator_interface.h, not always installed). */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));

static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    note(NULL);
}

static void on_free(const volatile void *p) { (void)p; }

__attribute__((constructor)) static void install_hooks(void)
{
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
}
#else
void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void __libc_free(void *p);

void *malloc(size_t n)
{
    note(__builtin_return_address(0));
    return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
    note(__builtin_return_address(0));
    return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
    note(__builtin_return_address(0));
    return __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
    note(__builtin_return_address(0));
    return __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
    note(__builtin_return_address(0));
    void *p = __libc_memalign(align, n);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void free(void *p) { __libc_free(p); }
#endif

void alloc_count_start(void)
{
    atomic_store(&count, 0);
    atomic_store(&counting, 1);
}

size_t alloc_count_stop(void)
{
    atomic_store(&counting, 0);
    return atomic_load(&count);
}

int alloc_count_knows_callers(void)
{
#ifdef NB_ASAN
    return 0;
#else
    return 1;
#endif
}

size_t alloc_count_blas(void)
{
    size_t n = atomic_load(&count), blas = 0;
    for (size_t i = 0; i < n && i < MAX_CALLERS; i++) {
        Dl_info info;
        if (!callers[i] || !dladdr(callers[i], &info) || !info.dli_fname)
            continue;
        /* OpenBLAS, or the libblas.so.3 alternative; not libnablas.so, whose name also holds
           "blas" (matching it would discount every allocation of nablas itself) */
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        if (strstr(base, "openblas") || strncmp(base, "libblas", 7) == 0)
            blas++;
    }
    return blas;
}

size_t alloc_count_from(const char *prefix)
{
    size_t n = atomic_load(&count), k = 0;
    for (size_t i = 0; i < n && i < MAX_CALLERS; i++) {
        Dl_info info;
        if (!callers[i] || !dladdr(callers[i], &info) || !info.dli_fname)
            continue;
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        if (strncmp(base, prefix, strlen(prefix)) == 0)
            k++;
    }
    return k;
}
