/* Little-endian encoding by shifts, so the result does not depend on the host's byte order. */
#include <string.h>

#include "core/le_codec.h"

void nb__le_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

void nb__le_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

void nb__le_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t nb__le_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

uint32_t nb__le_get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t nb__le_get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* A float's bits as an integer of its width: memcpy is the defined way to reinterpret them
   (the integer's byte order then follows the float's, which is the same on every supported
   host).  One definition for both widths: nb__le_{put,get}_f32 and nb__le_{put,get}_f64. */
#define LE_FLOAT(BITS, FLOAT)                            \
    void nb__le_put_f##BITS(uint8_t *p, FLOAT v)         \
    {                                                    \
        uint##BITS##_t u;                                \
        memcpy(&u, &v, sizeof u);                        \
        nb__le_put_u##BITS(p, u);                        \
    }                                                    \
    FLOAT nb__le_get_f##BITS(const uint8_t *p)           \
    {                                                    \
        uint##BITS##_t u = nb__le_get_u##BITS(p);        \
        FLOAT v;                                         \
        memcpy(&v, &u, sizeof v);                        \
        return v;                                        \
    }

LE_FLOAT(32, float)
LE_FLOAT(64, double)

void nb__le_put_f32s(uint8_t *p, const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        nb__le_put_f32(p + 4 * i, v[i]);
}

void nb__le_get_f32s(const uint8_t *p, float *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        v[i] = nb__le_get_f32(p + 4 * i);
}
