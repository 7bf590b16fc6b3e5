/* The held error message of a rank other than 0 under mpirun (held.h). */
#include <stdio.h>
#include <string.h>

#include "cli/held.h"

static bool holding;
static int held_rank;
static char held[1024]; /* "nablas CMD: rank N: MESSAGE", or "" */

void cli_held_begin(int rank)
{
    holding = true;
    held_rank = rank;
}

bool cli_held_take(const char *cmd, const char *fmt, va_list ap)
{
    if (!holding)
        return false;
    if (held[0])
        return true;
    char body[768];
    vsnprintf(body, sizeof body, fmt, ap);
    if (strncmp(body, "rank ", 5) == 0) /* the message names the rank itself */
        snprintf(held, sizeof held, "nablas %.64s: %s", cmd, body);
    else
        snprintf(held, sizeof held, "nablas %.64s: rank %d: %s", cmd, held_rank, body);
    return true;
}

bool cli_held_any(void) { return held[0] != '\0'; }

void cli_held_say(void)
{
    if (held[0])
        fprintf(stderr, "%s\n", held);
    held[0] = '\0';
}

void cli_held_drop(void) { held[0] = '\0'; }
