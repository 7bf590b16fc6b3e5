/* The CSV reader's internals, shared by csv_split.c (stage 1: text -> fields), csv_classes.c
   (class lists) and csv.c (stage 2: columns and values, the public API). */
#ifndef NB_IO_CSV_TABLE_H
#define NB_IO_CSV_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include "core/base.h"
#include "nablas/data.h"

enum { NB__CSV_MAX_CLASSES = 65536, NB__CSV_MAX_NAME = 255 };

/* Every field of the file, unescaped and NUL-terminated, in one buffer. */
typedef struct nb__csv_table {
    char *text;       /* all fields, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *start;    /* per field: offset into text */
    size_t *line;     /* per field: line where it began */
    size_t n_fields, fields_cap;
    size_t *rec;      /* per record: index of its first field; rec[n_recs] = n_fields */
    size_t n_recs, recs_cap;
} nb__csv_table;

/* Splits len bytes of CSV text into records (blank and comment lines skipped). */
nb_status nb__csv_split(const char *s, size_t len, char delim, nb__csv_table *t, nb_io_error *err);
void nb__csv_table_free(nb__csv_table *t);

static inline const char *nb__csv_field(const nb__csv_table *t, size_t rec, size_t col)
{
    return t->text + t->start[t->rec[rec] + col];
}

static inline size_t nb__csv_field_line(const nb__csv_table *t, size_t rec, size_t col)
{
    return t->line[t->rec[rec] + col];
}

/* Fills err (if not NULL) and returns st. */
nb_status nb__csv_fail(nb_io_error *err, nb_status st, size_t line, size_t col, const char *fmt, ...);
/* A field's text for a message: at most 40 bytes, non-printable bytes as '?'. */
const char *nb__csv_shown(const char *s, char buf[48]);
char *nb__csv_dup(const char *s);

/* The classes of a label column: names[k] is class k. */
typedef struct nb__csv_named {
    const char *name;
    size_t idx;
} nb__csv_named;

typedef struct nb__csv_classes {
    char **names;          /* n owned names */
    size_t n;
    nb__csv_named *sorted; /* (name, index) sorted by name, for nb__csv_class_of */
} nb__csv_classes;

/* The fixed list o->classes, or the classes derived from the labels in column col of records
   first..: 0..max if all are small non-negative integers, else the distinct labels sorted. */
nb_status nb__csv_classes_make(const nb__csv_table *t, size_t first, size_t col,
                               const nb_csv_opts *o, nb__csv_classes *c, nb_io_error *err);
/* The index of a label's class, or -1. */
long nb__csv_class_of(const nb__csv_classes *c, const char *label);
/* Frees the lookup table, and the names too unless keep_names (they were handed over). */
void nb__csv_classes_free(nb__csv_classes *c, bool keep_names);

#endif
