/* Sections of model files, format version 2 (docs/model-format.md has the bytes).

   A version-2 file is the version-1 layout followed, after the parameters and before the
   CRC-32, by a u32 section count N (1..NB__MAX_SECTIONS) and N sections, each
       u32 tag, u32 flags, u64 payload length, payload.
   Rules (the loader enforces them; the saver produces them):
   - tags are strictly increasing (so no tag appears twice) and never 0;
   - flags bit 0 = required: a loader that does not know the tag refuses the file with
     NB_ERR_UNSUPPORTED; an unknown optional section is skipped (and counted in
     nb_model.skipped_sections).  Other flag bits are 0.  A known tag must carry the flags its
     definition gives it (so every file has exactly one encoding);
   - payload lengths are at most NB__MAX_SECTION_BYTES and lie inside the file (a proper
     prefix of a valid file is NB_ERR_TRUNCATED, like every other field);
   - a file without sections is written as version 1, and a version-2 file has N >= 1.

   Adding a section (e.g. tags 16 and 17 for checkpoints): pick its tag below, document its
   payload in docs/model-format.md, then
   - saving: encode the payload yourself (le_codec) and pass it in `extra` to
     nb__model_save_mem_ext (any order; the saver sorts by tag);
   - loading: read the file (nb__read_checked), call nb__model_load_mem_ext with a `want` entry
     per tag you understand (tag and flags set); each comes back pointing into your buffer
     (data == NULL when the file has no such section).  Decode it strictly and bounded: the
     loader checked only that it lies inside the file and that the checksum holds. */
#ifndef NB_IO_MODEL_SECTIONS_H
#define NB_IO_MODEL_SECTIONS_H

#include <stddef.h>
#include <stdint.h>
#include "nablas.h"

#define NB__SECTION_REQUIRED 1u
#define NB__MAX_SECTIONS 64u
#define NB__MAX_SECTION_BYTES ((uint64_t)1 << 40)
#define NB__SECTION_HEADER 16u /* u32 tag, u32 flags, u64 length */

enum nb__section_tag {
    NB__TAG_TARGET_NORM = 1,     /* required: f32 mean[outputs], f32 std[outputs] */
    NB__TAG_FEATURE_NAMES = 2,   /* optional: names of the input columns */
    NB__TAG_TARGET_NAMES = 3,    /* optional: names of the target columns */
    /* Checkpoints (io/checkpoint.c): optional, known to every loader (never counted as
       skipped), decoded only by nb_checkpoint_load. */
    NB__TAG_OPTIM_STATE = 16,    /* optional: the optimizer (options, steps, state buffers) */
    NB__TAG_TRAIN_POSITION = 17, /* optional: position, recorded options, dropout, best */
    NB__TAG_NOTE = 18,           /* optional: the checkpoint's note (bytes, no NUL) */
};
#define NB__TAG_CKPT_FIRST NB__TAG_OPTIM_STATE
#define NB__TAG_CKPT_LAST NB__TAG_NOTE

/* One section: its tag, flags and payload bytes. */
typedef struct nb__section {
    uint32_t tag, flags;
    const uint8_t *data;
    size_t size;
} nb__section;

/* ---- the generic framework (model_sections.c) ---- */

/* Checks a caller's list of sections for saving (tags non-zero and distinct, flags only bit
   0, sizes bounded, data non-NULL when size > 0) and sorts it by tag.  NB_ERR_ARG otherwise. */
nb_status nb__sections_prepare(nb__section *s, size_t n);
/* Bytes the count and the sections take in the file (0 when n == 0: version 1). */
uint64_t nb__sections_bytes(const nb__section *s, size_t n);
/* Writes the count and the sections at p (prepared; n >= 1); returns the bytes written. */
size_t nb__sections_put(uint8_t *p, const nb__section *s, size_t n);

/* Walks the sections area of b[0, size) from off, where the count is.  Checks the structure
   in file order (count, headers, tag order, flags, lengths), stops where the sections end and
   sets *end there.  Reads only inside [0, size).  NB_ERR_TRUNCATED or NB_ERR_CORRUPT. */
nb_status nb__sections_walk(const uint8_t *b, size_t size, size_t off, size_t *end);
/* The i-th section of a walked area that starts at off (i < the count). */
nb__section nb__sections_get(const uint8_t *b, size_t off, uint32_t i);

/* ---- with the model (model_io.c) ---- */

/* nb_model_save_mem plus the caller's sections; their tags must not be the model's own
   (1..3), else NB_ERR_ARG. */
nb_status nb__model_save_mem_ext(void **data, size_t *size, const nb_model *m,
                                 const nb__section *extra, size_t n_extra);
/* nb_model_load_mem that also hands back the sections listed in want (tag and flags set by
   the caller; a file section with that tag but other flags is NB_ERR_CORRUPT).  want[i].data
   and .size are set on success only (NULL / 0 when absent). */
nb_status nb__model_load_mem_ext(nb_model *m, const void *data, size_t size, nb__section *want,
                                 size_t n_want);
/* Reads a model file's bytes (bounded, stopping at the first byte that cannot belong to a
   model file) into a malloc'd buffer: nb_model_load's reading, for loaders that decode more. */
nb_status nb__model_read(const char *path, unsigned char **data, size_t *size);

#endif
