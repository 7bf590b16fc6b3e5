/* Explicit little-endian encoding of fixed-width integers and IEEE-754 floats.  Files written
   by nablas use these so that their bytes are the same on every host, whatever its byte order:
   values are assembled from bytes by shifts, never by reinterpreting memory. */
#ifndef NB_IO_LE_CODEC_H
#define NB_IO_LE_CODEC_H

#include <stddef.h>
#include <stdint.h>

void nb__le_put_u16(uint8_t *p, uint16_t v);
void nb__le_put_u32(uint8_t *p, uint32_t v);
void nb__le_put_u64(uint8_t *p, uint64_t v);
void nb__le_put_f32(uint8_t *p, float v);
void nb__le_put_f64(uint8_t *p, double v);
uint16_t nb__le_get_u16(const uint8_t *p);
uint32_t nb__le_get_u32(const uint8_t *p);
uint64_t nb__le_get_u64(const uint8_t *p);
float nb__le_get_f32(const uint8_t *p);
double nb__le_get_f64(const uint8_t *p);

/* n floats to / from 4n bytes. */
void nb__le_put_f32s(uint8_t *p, const float *v, size_t n);
void nb__le_get_f32s(const uint8_t *p, float *v, size_t n);

#endif
