#ifndef NB_CLI_PLOT_H
#define NB_CLI_PLOT_H

#include <stddef.h>

/* An SVG line chart of the training (and, if val is not NULL, validation) loss per epoch, as a
   malloc'd string of *len bytes, or NULL if out of memory.  The y axis is logarithmic when the
   losses span more than a factor of 30, linear from 0 otherwise. */
char *plot_loss_svg(const double *train, const double *val, size_t epochs, const char *title,
                    const char *loss_name, size_t *len);

#endif
