#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fuzz_targets.h"
#include "persist/model_sections.h"
#include "persist/st_format.h"
#include "nablas.h"

#define CHECK(cond) \
    do {            \
        if (!(cond)) \
            abort(); \
    } while (0)

/* Whether an accepted model file holds checkpoint sections (tags 16..18), which a plain model
   loads past and does not re-encode. */
static bool has_checkpoint_sections(const uint8_t *data, size_t size)
{
    nb__section want[3] = {{NB__TAG_OPTIM_STATE, 0, NULL, 0},
                           {NB__TAG_TRAIN_POSITION, 0, NULL, 0},
                           {NB__TAG_NOTE, 0, NULL, 0}};
    nb_model m;
    CHECK(nb__model_load_mem_ext(&m, data, size, want, 3) == NB_OK);
    nb_model_free(&m);
    return want[0].data || want[1].data || want[2].data;
}

/* The checkpoint loader on the same bytes: outputs untouched on failure; an accepted
   checkpoint re-encodes to exactly its bytes (less skipped unknown sections, when it had
   them: then it re-encodes to itself), and its trainer answers. */
static void checkpoint_once(const uint8_t *data, size_t size)
{
    nb_model m;
    memset(&m, 0x5a, sizeof m);
    nb_model before = m;
    nb_trainer *tr = (nb_trainer *)&before;
    char *note = (char *)&before;
    nb_status st = nb_checkpoint_load_mem(&m, &tr, &note, data, size);
    if (st != NB_OK) {
        CHECK(memcmp(&m, &before, sizeof m) == 0);
        CHECK(tr == (nb_trainer *)&before && note == (char *)&before);
        return;
    }
    CHECK(tr != NULL);
    void *again;
    size_t again_size;
    CHECK(nb_checkpoint_save_mem(&again, &again_size, tr, &m, note) == NB_OK);
    if (m.skipped_sections == 0) {
        CHECK(again_size == size && memcmp(again, data, size) == 0);
    } else {
        nb_model m2;
        nb_trainer *tr2;
        char *note2;
        void *third;
        size_t third_size;
        CHECK(nb_checkpoint_load_mem(&m2, &tr2, &note2, again, again_size) == NB_OK);
        CHECK(nb_checkpoint_save_mem(&third, &third_size, tr2, &m2, note2) == NB_OK);
        CHECK(third_size == again_size && memcmp(third, again, again_size) == 0);
        free(third);
        free(note2);
        nb_trainer_free(tr2);
        nb_model_free(&m2);
    }
    free(again);
    nb_train_position pos;
    CHECK(nb_trainer_position(tr, &pos) == NB_OK);
    CHECK(pos.best_epoch <= pos.epochs_done);
    free(note);
    nb_trainer_free(tr);
    nb_model_free(&m);
}

/* A loaded model re-encodes to exactly the bytes it came from (without the unknown optional
   sections it skipped, and the checkpoint sections), and it runs. */
static void model_once(const uint8_t *data, size_t size)
{
    checkpoint_once(data, size);
    nb_model m;
    memset(&m, 0x5a, sizeof m);
    nb_model before = m;
    nb_status st = nb_model_load_mem(&m, data, size);
    if (st != NB_OK) {
        CHECK(memcmp(&m, &before, sizeof m) == 0);
        return;
    }
    void *again;
    size_t again_size;
    CHECK(nb_model_save_mem(&again, &again_size, &m) == NB_OK);
    if (m.skipped_sections == 0 && !has_checkpoint_sections(data, size)) {
        CHECK(again_size == size && memcmp(again, data, size) == 0);
    } else { /* the unknown or checkpoint sections are dropped: the rest re-encodes to itself */
        nb_model m2;
        void *third;
        size_t third_size;
        CHECK(nb_model_load_mem(&m2, again, again_size) == NB_OK);
        CHECK(m2.skipped_sections == 0);
        CHECK(nb_model_save_mem(&third, &third_size, &m2) == NB_OK);
        CHECK(third_size == again_size && memcmp(third, again, again_size) == 0);
        free(third);
        nb_model_free(&m2);
    }
    free(again);
    nb_infer_ctx *ctx;
    size_t in = nb_net_inputs(m.net), out = nb_net_outputs(m.net);
    if (nb_infer_ctx_create(&ctx, m.net, m.norm, 2) == NB_OK) {
        float *x = calloc(2 * in, sizeof(float)), *y = calloc(2 * out, sizeof(float));
        if (x && y) {
            nb_tensor X = nb_tensor_view(x, 2, in), Y = nb_tensor_view(y, 2, out);
            CHECK(nb_infer_predict(ctx, &X, &Y) == NB_OK);
        }
        free(x);
        free(y);
        nb_infer_ctx_free(ctx);
    }
    nb_model_free(&m);
}

/* The bytes as they are, then re-signed with a correct CRC-32 so that mutations also reach
   the checks behind the checksum. */
void nb_fuzz_model(const uint8_t *data, size_t size)
{
    model_once(data, size);
    if (size < 4)
        return;
    uint8_t *copy = malloc(size);
    if (!copy)
        return;
    memcpy(copy, data, size);
    uint32_t crc = (uint32_t)crc32(0L, copy, (uInt)(size - 4));
    for (int i = 0; i < 4; i++)
        copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
    model_once(copy, size);
    free(copy);
}

/* The first byte picks the options; the rest is the CSV text. */
void nb_fuzz_csv(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    static const char delims[] = {',', ';', '\t', ' '};
    static const char *const cols[] = {"0", "-1", "y", "1,0"};
    static const char *const fixed[] = {"a", "b", "0", "1"};
    uint8_t sel = data[0];
    nb_csv_opts o = nb_csv_opts_default();
    o.delimiter = delims[sel & 3];
    o.header = (sel >> 2) & 1;
    if ((sel >> 3) & 1)
        o.label_column = cols[(sel >> 4) & 1];
    else if ((sel >> 4) & 1)
        o.target_columns = cols[2 + ((sel >> 5) & 1)];
    if (o.label_column && (sel >> 6) & 1) {
        o.classes = fixed;
        o.n_classes = 4;
    }
    nb_dataset d;
    nb_io_error e;
    nb_status st = nb_csv_read_mem(&d, (const char *)data + 1, size - 1, &o, &e);
    if (st != NB_OK) {
        CHECK(memchr(e.message, '\0', sizeof e.message) != NULL);
        return;
    }
    CHECK(d.X.rows >= 1 && d.X.cols == d.n_features && d.X.data);
    if (d.T.data)
        CHECK(d.T.rows == d.X.rows);
    if (d.n_classes) {
        CHECK(d.T.cols == d.n_classes);
        for (size_t i = 0; i < d.T.rows; i++) {
            float s = 0;
            for (size_t k = 0; k < d.T.cols; k++)
                s += d.T.data[i * d.T.cols + k];
            CHECK(s == 1.0f);
        }
    }
    nb_dataset_free(&d);
}

/* An accepted array survives a write and a re-read unchanged. */
void nb_fuzz_npy(const uint8_t *data, size_t size)
{
    nb_tensor t = {0};
    if (nb_npy_read_mem(&t, data, size) != NB_OK) {
        CHECK(t.data == NULL);
        return;
    }
    void *out;
    size_t out_size;
    CHECK(nb_npy_write_mem(&out, &out_size, &t) == NB_OK);
    nb_tensor u;
    CHECK(nb_npy_read_mem(&u, out, out_size) == NB_OK);
    CHECK(u.rows == t.rows && u.cols == t.cols);
    CHECK(memcmp(u.data, t.data, t.rows * t.cols * sizeof(float)) == 0);
    free(out);
    nb_tensor_free(&t);
    nb_tensor_free(&u);
}

/* The first byte picks the layer specification (1 to 4 layers, activations); the rest is the
   safetensors file.  An accepted file runs, re-exports and re-imports to the same parameters,
   and fills a network of its shape. */
void nb_fuzz_safetensors(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    nb_layer_spec spec[4];
    size_t n = (size_t)(data[0] & 3) + 1;
    for (size_t l = 0; l < n; l++) {
        spec[l].units = 0;
        spec[l].act = (nb_act)(((data[0] >> 2) + l) % NB_ACT_COUNT);
        spec[l].dropout = 0; /* training-only; the file cannot set it */
    }
    nb_net *sentinel = (nb_net *)&spec, *net = sentinel;
    /* the size the header declares, which bounds the file reader: any bytes, no crash */
    uint64_t declared = 0;
    nb_status ds = nb__st_declared_size(data + 1, size - 1, &declared);
    /* the layers the metadata names, if any: loads or fails cleanly, with the same widths */
    if (nb_safetensors_load_mem(&net, data + 1, size - 1, NULL, 0) == NB_OK) {
        /* an accepted file is exactly as long as its header says: the reader stops there */
        CHECK(ds == NB_OK && declared == size - 1);
        CHECK(nb_net_num_layers(net) >= 1);
        nb_net_free(net);
    } else {
        CHECK(net == sentinel);
    }
    /* the whole model (the metadata's loss, standardisations, names): loads or fails cleanly;
       an accepted one re-exports to a file that loads and re-exports to the same bytes */
    nb_model m;
    if (nb_safetensors_load_model_mem(&m, data + 1, size - 1, NULL, 0, NULL, NULL) == NB_OK) {
        void *b1, *b2;
        size_t s1, s2;
        nb_model m2;
        CHECK(nb_safetensors_save_model_mem(&b1, &s1, &m, false) == NB_OK);
        if (nb_net_num_layers(m.net) <= 64) { /* the exporter names at most 64 activations */
            CHECK(nb_safetensors_load_model_mem(&m2, b1, s1, NULL, 0, NULL, NULL) == NB_OK);
            CHECK(nb_safetensors_save_model_mem(&b2, &s2, &m2, false) == NB_OK);
            CHECK(s1 == s2 && memcmp(b1, b2, s1) == 0);
            free(b2);
            nb_model_free(&m2);
        }
        free(b1);
        nb_model_free(&m);
    }
    net = sentinel;
    if (nb_safetensors_load_mem(&net, data + 1, size - 1, spec, n) != NB_OK) {
        CHECK(net == sentinel);
        return;
    }
    CHECK(nb_net_num_layers(net) == n);
    void *again;
    size_t again_size;
    CHECK(nb_safetensors_save_mem(&again, &again_size, net, NULL, NULL) == NB_OK);
    nb_net *back;
    CHECK(nb_safetensors_load_mem(&back, again, again_size, spec, n) == NB_OK);
    size_t np = nb_net_num_params(net);
    CHECK(nb_net_num_params(back) == np && nb_net_inputs(back) == nb_net_inputs(net));
    CHECK(memcmp(nb_net_params(back), nb_net_params(net), np * sizeof(float)) == 0);
    memset(nb_net_params(back), 0, np * sizeof(float));
    CHECK(nb_safetensors_fill_mem(back, data + 1, size - 1) == NB_OK);
    CHECK(memcmp(nb_net_params(back), nb_net_params(net), np * sizeof(float)) == 0);
    size_t in = nb_net_inputs(net), out = nb_net_outputs(net);
    float *x = calloc(2 * in, sizeof(float)), *y = calloc(2 * out, sizeof(float));
    if (x && y) {
        nb_tensor X = nb_tensor_view(x, 2, in), Y = nb_tensor_view(y, 2, out);
        CHECK(nb_net_predict(net, &X, &Y) == NB_OK);
    }
    free(x);
    free(y);
    free(again);
    nb_net_free(back);
    nb_net_free(net);
}

/* ONNX: the importer either refuses (leaving the model untouched) or gives a model whose export
   loads back to the same parameters and predicts finite numbers on zeros. */
void nb_fuzz_onnx(const uint8_t *data, size_t size)
{
    if (!nb_onnx_available())
        return;
    nb_model m, sentinel;
    memset(&sentinel, 0xa5, sizeof sentinel);
    m = sentinel;
    nb_onnx_error err;
    if (nb_onnx_load_mem(&m, data, size, &err) != NB_OK) {
        CHECK(memcmp(&m, &sentinel, sizeof m) == 0);
        CHECK(memchr(err.reason, 0, sizeof err.reason) && memchr(err.node, 0, sizeof err.node));
        return;
    }
    CHECK(m.net && nb_net_num_layers(m.net) >= 1);
    void *again;
    size_t again_size;
    CHECK(nb_onnx_save_mem(&again, &again_size, &m) == NB_OK);
    nb_model back;
    CHECK(nb_onnx_load_mem(&back, again, again_size, NULL) == NB_OK);
    size_t np = nb_net_num_params(m.net);
    CHECK(nb_net_num_params(back.net) == np && nb_net_inputs(back.net) == nb_net_inputs(m.net));
    CHECK(memcmp(nb_net_params(back.net), nb_net_params(m.net), np * sizeof(float)) == 0);
    CHECK(back.loss == m.loss && !back.norm == !m.norm && !back.target_norm == !m.target_norm);
    free(again);
    nb_model_free(&back);
    nb_model_free(&m);
}
