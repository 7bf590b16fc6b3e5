/* CSV reader, stage 1: the text becomes records of unescaped, NUL-terminated fields, each
   remembering the line it began on. */
#include <stdlib.h>
#include <string.h>

#include "data/csv_table.h"

char *nb__csv_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void nb__csv_table_free(nb__csv_table *t)
{
    free(t->text);
    free(t->start);
    free(t->line);
    free(t->rec);
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t c = *cap ? *cap : 64;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return false;
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q)
        return false;
    *p = q;
    *cap = c;
    return true;
}

static bool put_char(nb__csv_table *t, char c)
{
    if (!grow((void **)&t->text, &t->text_cap, t->text_len + 1, 1))
        return false;
    t->text[t->text_len++] = c;
    return true;
}

static bool begin_field(nb__csv_table *t, size_t line)
{
    size_t n = t->n_fields, cap = t->fields_cap;
    if (!grow((void **)&t->start, &cap, n + 1, sizeof(size_t)))
        return false;
    cap = t->fields_cap;
    if (!grow((void **)&t->line, &cap, n + 1, sizeof(size_t)))
        return false;
    t->fields_cap = cap;
    t->start[n] = t->text_len;
    t->line[n] = line;
    t->n_fields++;
    return true;
}

static bool begin_record(nb__csv_table *t)
{
    if (!grow((void **)&t->rec, &t->recs_cap, t->n_recs + 2, sizeof(size_t)))
        return false;
    t->rec[t->n_recs++] = t->n_fields;
    return true;
}

static bool is_blank(char c, char delim) { return (c == ' ' || c == '\t') && c != delim; }

/* True if pos starts a line end (LF, CRLF or a lone CR, as old Mac files have); *next is past
   it. */
static bool at_eol(const char *s, size_t len, size_t pos, size_t *next)
{
    if (pos < len && s[pos] == '\n') {
        *next = pos + 1;
        return true;
    }
    if (pos < len && s[pos] == '\r') {
        *next = pos + 1 < len && s[pos + 1] == '\n' ? pos + 2 : pos + 1;
        return true;
    }
    return false;
}

/* Skips a blank or comment line at pos; returns false (pos unchanged) for a data line. */
static bool skip_ignored_line(const char *s, size_t len, char delim, size_t *pos)
{
    size_t p = *pos, next;
    while (p < len && is_blank(s[p], delim))
        p++;
    if (p < len && s[p] == '#') {
        while (p < len && !at_eol(s, len, p, &next))
            p++;
    }
    if (p == len) {
        *pos = p;
        return true;
    }
    if (at_eol(s, len, p, &next)) {
        *pos = next;
        return true;
    }
    return false;
}

nb_status nb__csv_split(const char *s, size_t len, char delim, nb__csv_table *t, nb_io_error *err)
{
    size_t pos = 0, line = 1, next;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* UTF-8 byte-order mark */
    while (pos < len) {
        if (skip_ignored_line(s, len, delim, &pos)) {
            line++;
            continue;
        }
        if (!begin_record(t))
            return NB_ERR_NOMEM;
        for (;;) { /* one field per iteration */
            size_t nul_check = pos;
            size_t col = t->n_fields - t->rec[t->n_recs - 1] + 1;
            if (!begin_field(t, line))
                return NB_ERR_NOMEM;
            while (pos < len && is_blank(s[pos], delim))
                pos++;
            if (pos < len && s[pos] == '"') {
                size_t first_line = line;
                pos++;
                for (;;) {
                    if (pos >= len)
                        return nb__csv_fail(err, NB_ERR_PARSE, first_line, col,
                                    "unterminated quoted field");
                    if (s[pos] == '"') {
                        if (pos + 1 < len && s[pos + 1] == '"') {
                            if (!put_char(t, '"'))
                                return NB_ERR_NOMEM;
                            pos += 2;
                            continue;
                        }
                        pos++;
                        break;
                    }
                    if (s[pos] == '\n' || (s[pos] == '\r' && (pos + 1 == len || s[pos + 1] != '\n')))
                        line++;
                    if (!put_char(t, s[pos++]))
                        return NB_ERR_NOMEM;
                }
                while (pos < len && is_blank(s[pos], delim))
                    pos++;
                if (pos < len && s[pos] != delim && !at_eol(s, len, pos, &next))
                    return nb__csv_fail(err, NB_ERR_PARSE, line, col,
                                "unexpected character after a closing quote");
            } else {
                size_t begin = t->text_len;
                while (pos < len && s[pos] != delim && !at_eol(s, len, pos, &next))
                    if (!put_char(t, s[pos++]))
                        return NB_ERR_NOMEM;
                while (t->text_len > begin && is_blank(t->text[t->text_len - 1], delim))
                    t->text_len--;
            }
            /* a NUL byte would end the field's C string early and hide what follows it */
            if (memchr(s + nul_check, '\0', pos - nul_check))
                return nb__csv_fail(err, NB_ERR_PARSE, line, col, "NUL byte in the field");
            if (!put_char(t, '\0'))
                return NB_ERR_NOMEM;
            if (pos < len && s[pos] == delim) {
                pos++;
                continue;
            }
            if (pos < len && at_eol(s, len, pos, &next))
                pos = next;
            line++;
            break;
        }
    }
    if (t->n_recs)
        t->rec[t->n_recs] = t->n_fields; /* begin_record left room for this sentinel */
    return NB_OK;
}
