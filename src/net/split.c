/* Batch splitting for small networks: a training step's rows split into parts, each computing
   its rows' forward and backward with single-threaded products into a gradient buffer of its
   own (train/step.c runs them on the thread pool and sums the buffers in part order).  Part 0
   is the network itself; part k >= 1 runs on shard k - 1, a copy of the network's description
   (sharing its layers and parameters, read only during the parts) with a workspace and a
   gradient buffer of its own, all allocated by nb__net_prepare before the first step. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/pool.h"
#include "core/threads.h"
#include "net/network.h"

static atomic_int policy; /* NB_SPLIT_AUTO, _OFF or _ALWAYS */

void nb__split_policy(int mode) { atomic_store(&policy, mode); }

int nb__split_parts(const nb_net *net, size_t rows)
{
    int mode = atomic_load_explicit(&policy, memory_order_relaxed);
    int threads = nb_get_threads();
    if (mode == NB_SPLIT_OFF || threads < 2 || net->bf16 || rows < 2)
        return 1; /* bf16: its oneDNN context is one per network */
    size_t limit = threads < NB_POOL_MAX ? (size_t)threads : NB_POOL_MAX;
    if (mode == NB_SPLIT_ALWAYS)
        return (int)(rows < limit ? rows : limit);
    double mac_row = 0.0; /* multiply-adds of one row's forward */
    for (size_t l = 0; l < net->n_layers; l++) {
        const nb_layer *L = &net->layers[l];
        /* a product large enough for BLAS threads: they split it better than rows would */
        if (nb__threads_for(rows, L->in, L->out) > 1)
            return 1;
        mac_row += (double)L->in * (double)L->out;
    }
    if ((double)rows * mac_row < NB_SPLIT_MIN_MAC)
        return 1;
    size_t parts = rows / NB_SPLIT_MIN_ROWS;
    parts = parts < limit ? parts : limit;
    return parts < 2 ? 1 : (int)parts;
}

static void free_shard(nb_net *s)
{
    free(s->acts);
    free(s->pre);
    free(s->gbuf[0]);
    free(s->gbuf[1]);
    free(s->drop);
    free(s->grads);
}

void nb__split_free(nb_net *net)
{
    for (size_t i = 0; i < net->n_shards; i++)
        free_shard(&net->shards[i]);
    free(net->shards);
    net->shards = NULL;
    net->n_shards = 0;
}

/* Shard s takes the network's current description; its own buffers stay. */
static void sync(nb_net *s, const nb_net *net)
{
    nb_net own = *s;
    *s = *net;
    s->grads = own.grads;
    s->acts = own.acts;
    s->pre = own.pre;
    s->gbuf[0] = own.gbuf[0];
    s->gbuf[1] = own.gbuf[1];
    s->cap_batch = own.cap_batch;
    s->drop = own.drop;
    s->drop_cap = own.drop_cap;
    s->bf16 = NULL;
    s->shards = NULL;
    s->n_shards = 0;
    s->x_last = NULL;
    s->batch_last = 0;
    s->dropped_last = false;
    s->ready = false;
}

nb_status nb__split_reserve(nb_net *net, size_t rows)
{
    int parts = nb__split_parts(net, rows);
    if (parts < 2)
        return NB_OK;
    nb__pool_reserve(parts); /* the workers, made now rather than in a step */
    size_t need = (size_t)parts - 1, cap = (rows + (size_t)parts - 1) / (size_t)parts;
    if (net->n_shards < need) {
        nb_net *sh = calloc(need, sizeof *sh);
        if (!sh)
            return NB_ERR_NOMEM;
        if (net->n_shards)
            memcpy(sh, net->shards, net->n_shards * sizeof *sh);
        free(net->shards);
        net->shards = sh;
        for (size_t i = net->n_shards; i < need; i++) {
            sh[i].grads = nb__alloc_floats(net->n_params);
            if (!sh[i].grads) { /* the shards made so far stay; a later reserve retries */
                for (size_t j = net->n_shards; j <= i; j++)
                    free_shard(&sh[j]);
                memset(sh + net->n_shards, 0, (need - net->n_shards) * sizeof *sh);
                return NB_ERR_NOMEM;
            }
        }
        net->n_shards = need;
    }
    for (size_t i = 0; i < need; i++) {
        sync(&net->shards[i], net);
        NB_TRY(nb__net_reserve(&net->shards[i], cap));
    }
    return NB_OK;
}

nb_net *nb__split_shard(nb_net *net, int k, size_t rows, size_t row0)
{
    if (k < 1 || (size_t)k > net->n_shards)
        return NULL;
    nb_net *s = &net->shards[k - 1];
    bool drop = net->drop_on && net->any_dropout;
    if (s->cap_batch < rows || (drop && (!s->drop || s->drop_cap < rows)))
        return NULL; /* not reserved for this (nb_set_threads or dropout changed since) */
    sync(s, net);
    s->drop_row0 = net->drop_row0 + row0;
    return s;
}
