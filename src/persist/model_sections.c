/* The section framework of model files (version 2): checking, writing and walking the
   sequence of tagged sections.  What a section means is decided by its owner (model_meta.c for
   tags 1..3); here only the structure is handled.  Rules in io/model_sections.h. */
#include <string.h>

#include "core/le_codec.h"
#include "persist/model_sections.h"

nb_status nb__sections_prepare(nb__section *s, size_t n)
{
    if (n && !s)
        return NB_ERR_NULL;
    if (n > NB__MAX_SECTIONS)
        return NB_ERR_ARG;
    for (size_t i = 0; i < n; i++) {
        if (s[i].tag == 0 || (s[i].flags & ~NB__SECTION_REQUIRED)
            || (uint64_t)s[i].size > NB__MAX_SECTION_BYTES || (s[i].size && !s[i].data))
            return NB_ERR_ARG;
        /* insertion sort: a handful of sections */
        nb__section x = s[i];
        size_t j = i;
        for (; j > 0 && s[j - 1].tag > x.tag; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
    for (size_t i = 1; i < n; i++)
        if (s[i].tag == s[i - 1].tag)
            return NB_ERR_ARG;
    return NB_OK;
}

uint64_t nb__sections_bytes(const nb__section *s, size_t n)
{
    if (n == 0)
        return 0;
    uint64_t bytes = 4;
    for (size_t i = 0; i < n; i++)
        bytes += NB__SECTION_HEADER + (uint64_t)s[i].size; /* <= 64 * (16 + 2^40) */
    return bytes;
}

size_t nb__sections_put(uint8_t *p, const nb__section *s, size_t n)
{
    uint8_t *start = p;
    nb__le_put_u32(p, (uint32_t)n);
    p += 4;
    for (size_t i = 0; i < n; i++) {
        nb__le_put_u32(p, s[i].tag);
        nb__le_put_u32(p + 4, s[i].flags);
        nb__le_put_u64(p + 8, s[i].size);
        if (s[i].size)
            memcpy(p + NB__SECTION_HEADER, s[i].data, s[i].size);
        p += NB__SECTION_HEADER + s[i].size;
    }
    return (size_t)(p - start);
}

nb_status nb__sections_walk(const uint8_t *b, size_t size, size_t off, size_t *end)
{
    if (size - off < 4)
        return NB_ERR_TRUNCATED;
    uint32_t n = nb__le_get_u32(b + off);
    if (n == 0 || n > NB__MAX_SECTIONS)
        return NB_ERR_CORRUPT;
    off += 4;
    uint32_t last = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (size - off < NB__SECTION_HEADER)
            return NB_ERR_TRUNCATED;
        uint32_t tag = nb__le_get_u32(b + off), flags = nb__le_get_u32(b + off + 4);
        uint64_t len = nb__le_get_u64(b + off + 8);
        if (tag <= last || (flags & ~NB__SECTION_REQUIRED) || len > NB__MAX_SECTION_BYTES)
            return NB_ERR_CORRUPT;
        off += NB__SECTION_HEADER;
        if ((uint64_t)(size - off) < len)
            return NB_ERR_TRUNCATED;
        off += (size_t)len;
        last = tag;
    }
    *end = off;
    return NB_OK;
}

nb__section nb__sections_get(const uint8_t *b, size_t off, uint32_t i)
{
    off += 4;
    for (;;) {
        nb__section s = {nb__le_get_u32(b + off), nb__le_get_u32(b + off + 4),
                         b + off + NB__SECTION_HEADER, (size_t)nb__le_get_u64(b + off + 8)};
        if (i-- == 0)
            return s;
        off += NB__SECTION_HEADER + s.size;
    }
}
