/* The loss-curve image: a self-contained SVG that any browser opens. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/plot.h"

/* Text as XML character data: a file name in the title may hold & or <. */
static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++)
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        default:
            if ((unsigned char)*s >= 32)
                fputc(*s, f);
        }
}

enum { W = 760, H = 460, LEFT = 80, RIGHT = 30, TOP = 50, BOTTOM = 60 };

typedef struct axis {
    double lo, hi;
    bool log;
} axis;

static double to_px_y(const axis *a, double v)
{
    double t = a->log ? (log10(v) - log10(a->lo)) / (log10(a->hi) - log10(a->lo))
                      : (v - a->lo) / (a->hi - a->lo);
    return TOP + (1.0 - t) * (H - TOP - BOTTOM);
}

static double to_px_x(size_t epochs, double e)
{
    double span = epochs > 1 ? (double)(epochs - 1) : 1.0;
    return LEFT + (e - 1.0) / span * (W - LEFT - RIGHT);
}

/* 1, 2 or 5 times a power of ten, about range / target. */
static double nice_step(double range, int target)
{
    double raw = range / target, p = pow(10.0, floor(log10(raw))), f = raw / p;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

static void series(FILE *f, const double *v, size_t n, const axis *a, const char *color,
                   const char *dash)
{
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2.2\"%s points=\"", color, dash);
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i]) && (!a->log || v[i] > 0))
            fprintf(f, "%.1f,%.1f ", to_px_x(n, (double)i + 1), to_px_y(a, v[i]));
    fputs("\"/>\n", f);
    if (n <= 40)
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i]) && (!a->log || v[i] > 0))
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
                        to_px_x(n, (double)i + 1), to_px_y(a, v[i]), color);
}

static void y_axis(FILE *f, axis *a, double lo, double hi)
{
    a->log = lo > 0 && hi / lo > 30.0;
    if (a->log) {
        a->lo = pow(10.0, floor(log10(lo)));
        a->hi = pow(10.0, ceil(log10(hi)));
        if (a->hi <= a->lo)
            a->hi = a->lo * 10;
        for (double d = a->lo; d <= a->hi * 1.0001; d *= 10) {
            double y = to_px_y(a, d);
            fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n",
                    LEFT, y, W - RIGHT, y);
            fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", LEFT - 8, y + 4, d);
            for (int k = 2; k < 10 && d * k < a->hi; k++) {
                double ym = to_px_y(a, d * k);
                fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#f2f2f2\"/>\n",
                        LEFT, ym, W - RIGHT, ym);
            }
        }
        return;
    }
    double step = nice_step(hi > 0 ? hi : 1.0, 5);
    a->lo = 0.0;
    a->hi = ceil((hi > 0 ? hi : 1.0) / step) * step;
    for (double t = 0.0; t <= a->hi + step / 2; t += step) {
        double y = to_px_y(a, t);
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT,
                y, W - RIGHT, y);
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", LEFT - 8, y + 4, t);
    }
}

static void x_axis(FILE *f, size_t epochs)
{
    double step = epochs > 1 ? nice_step((double)epochs, 8) : 1.0;
    if (step < 1)
        step = 1;
    /* multiples of the step; epoch 1 too when it is not crowded by the first multiple */
    for (double e = step >= 4 || step == 1 ? 1 : step; e <= (double)epochs + 0.5;) {
        double x = to_px_x(epochs, e);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#888\"/>\n", x,
                H - BOTTOM, x, H - BOTTOM + 5);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%g</text>\n", x,
                H - BOTTOM + 20, e);
        e = e == 1 && step > 1 ? step : e + step;
    }
}

char *plot_loss_svg(const double *train, const double *val, size_t epochs, const char *title,
                    const char *loss_name, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    if (!f)
        return NULL;
    double lo = INFINITY, hi = 0;
    for (size_t i = 0; i < epochs; i++)
        for (int s = 0; s < 2; s++) {
            const double *v = s ? val : train;
            if (v && isfinite(v[i]) && v[i] >= 0) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        }
    if (!(lo <= hi))
        lo = hi = 1.0;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"13\">\n", W, H, W, H);
    fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
    fprintf(f, "<text x=\"%d\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">", W / 2);
    put_escaped(f, title);
    fputs("</text>\n", f);
    axis a;
    y_axis(f, &a, lo, hi);
    x_axis(f, epochs);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#888\"/>\n",
            LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
    series(f, train, epochs, &a, "#1f77b4", "");
    if (val)
        series(f, val, epochs, &a, "#ff7f0e", " stroke-dasharray=\"7 4\"");
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n",
            (LEFT + W - RIGHT) / 2, H - 18);
    fprintf(f, "<text transform=\"translate(22 %d) rotate(-90)\" text-anchor=\"middle\">"
               "loss (%s%s)</text>\n", (TOP + H - BOTTOM) / 2, loss_name, a.log ? ", log scale" : "");
    /* legend, top right inside the plot */
    int lx = W - RIGHT - 170, ly = TOP + 12;
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"160\" height=\"%d\" fill=\"white\" stroke=\"#ccc\"/>\n",
            lx, ly, val ? 50 : 28);
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#1f77b4\" stroke-width=\"2.2\"/>"
               "<text x=\"%d\" y=\"%d\">training</text>\n",
            lx + 10, ly + 15, lx + 40, ly + 15, lx + 48, ly + 19);
    if (val)
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ff7f0e\" stroke-width=\"2.2\" "
                   "stroke-dasharray=\"7 4\"/><text x=\"%d\" y=\"%d\">validation</text>\n",
                lx + 10, ly + 37, lx + 40, ly + 37, lx + 48, ly + 41);
    fputs("</svg>\n", f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
