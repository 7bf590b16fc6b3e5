/* gzip input: whole-buffer inflation through zlib, bounded in output size, stopping early on
   binary content, so that a small compressed file cannot make the reader allocate more than a
   plain file of the same limit would. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/gzip.h"

bool nb__is_gzip(const unsigned char *b, size_t n)
{
    return b && n >= 2 && b[0] == 0x1f && b[1] == 0x8b;
}

static nb_status fail(nb_io_error *err, nb_status st, const char *fmt, ...)
{
    if (err) {
        err->line = err->column = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* The output buffer's next capacity: doubled, at most max_out + 1 (one byte past the limit
   tells that the limit was passed). */
static size_t next_cap(size_t cap, size_t max_out)
{
    size_t top = max_out < SIZE_MAX - 1 ? max_out + 1 : SIZE_MAX - 1;
    return cap <= top / 2 ? cap * 2 : top;
}

static nb_status inflate_all(z_stream *zs, unsigned char **buf, size_t *len, size_t max_out,
                             bool text, nb_io_error *err)
{
    size_t cap = 0;
    for (;;) {
        if (*len == cap) {
            size_t c = cap ? next_cap(cap, max_out) : next_cap(2048, max_out);
            unsigned char *b = realloc(*buf, c + 1);
            if (!b)
                return fail(err, NB_ERR_NOMEM, "out of memory for the decompressed data");
            *buf = b;
            cap = c;
        }
        size_t room = cap - *len < UINT_MAX ? cap - *len : UINT_MAX;
        zs->next_out = *buf + *len;
        zs->avail_out = (uInt)room;
        int z = inflate(zs, Z_NO_FLUSH);
        size_t got = room - zs->avail_out;
        const unsigned char *nul = text && got ? memchr(*buf + *len, 0, got) : NULL;
        if (nul)
            return fail(err, NB_ERR_PARSE, "a NUL byte at offset %zu of the decompressed data: "
                        "binary data, not text", (size_t)(nul - *buf));
        *len += got;
        if (*len > max_out)
            return fail(err, NB_ERR_LIMIT, "decompresses to more than the %zu MiB limit",
                        max_out >> 20);
        if (z == Z_STREAM_END) {
            if (zs->avail_in == 0)
                return NB_OK;
            if (!nb__is_gzip(zs->next_in, zs->avail_in)) /* another member may follow */
                return fail(err, NB_ERR_PARSE, "%u bytes after the end of the gzip data",
                            zs->avail_in);
            if (inflateReset(zs) != Z_OK)
                return fail(err, NB_ERR_PARSE, "corrupt gzip data");
            continue;
        }
        if (z == Z_BUF_ERROR && zs->avail_in == 0)
            return fail(err, NB_ERR_TRUNCATED, "truncated gzip data: the file ends inside the "
                        "compressed stream (an interrupted download or copy?)");
        if (z == Z_MEM_ERROR)
            return fail(err, NB_ERR_NOMEM, "out of memory for the decompressor");
        if (z != Z_OK)
            return fail(err, NB_ERR_PARSE, "corrupt gzip data: %s", zs->msg ? zs->msg
                                                                              : "bad stream");
    }
}

nb_status nb__gunzip(unsigned char **out, size_t *out_size, const unsigned char *in, size_t n,
                     size_t max_out, bool text, nb_io_error *err)
{
    if (!out || !out_size || !in)
        return NB_ERR_NULL;
    if (!nb__is_gzip(in, n))
        return fail(err, NB_ERR_PARSE, "not gzip data (no 1f 8b magic bytes)");
    if (n > UINT_MAX)
        return fail(err, NB_ERR_LIMIT, "gzip data of more than %u bytes", UINT_MAX);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.next_in = (Bytef *)(uintptr_t)in; /* zlib's next_in is not const before 1.2.9 */
    zs.avail_in = (uInt)n;
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper only */
        return fail(err, NB_ERR_NOMEM, "out of memory for the decompressor");
    unsigned char *buf = NULL;
    size_t len = 0;
    nb_status st = inflate_all(&zs, &buf, &len, max_out, text, err);
    inflateEnd(&zs);
    if (st != NB_OK) {
        free(buf);
        return st;
    }
    buf[len] = '\0';
    *out = buf;
    *out_size = len;
    return NB_OK;
}
