/* CSV reader: the error reporting every stage shares (splitting, columns, classes). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "data/csv_table.h"

nb_status nb__csv_fail(nb_io_error *err, nb_status st, size_t line, size_t col, const char *fmt, ...)
{
    if (err) {
        err->line = line;
        err->column = col;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* A field's text for a message: at most 40 bytes, non-printable bytes as '?'. */
const char *nb__csv_shown(const char *s, char buf[48])
{
    size_t n = 0;
    for (; s[n] && n < 40; n++)
        buf[n] = (s[n] >= 32 && s[n] < 127) ? s[n] : '?';
    if (s[n]) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}
