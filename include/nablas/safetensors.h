/* nablas: PyTorch weights both ways, in the safetensors format (docs/safetensors.md).

   Layers.  A dense layer is a module of a PyTorch state_dict: tensor "M.weight" (out x in, the
   transpose of nablas' in x out) and optionally "M.bias" (out; without it the bias is zero),
   where M is the module's name: "0", "net.0", "model.layers.3", "fc1", "encoder.fc1" (a lone
   nn.Linear's "weight" and "bias" are the module ""). Activations are not in PyTorch's
   tensors: nablas' exporter names them in the metadata, otherwise the caller supplies them
   (nb_layer_spec).

   Order.  By default the layers are the modules in natural order of their names: digit runs
   compare as numbers (net.2 < net.10, fc2 < fc10), the rest byte by byte (fc1 < fc2 < out).
   The file's own order is not used: the reference writer (safetensors.torch.save_file) sorts
   the tensors by name, not by the module order of the state_dict.  nb_st_names.order gives
   the modules in another order (encoder.fc1, decoder.fc1); nb_st_names.skip names modules or
   keys to leave out (BatchNorm statistics, an embedding).  Every other tensor must belong to
   a layer: a key that is not "M.weight"/"M.bias" (running_mean, num_batches_tracked) is
   refused (NB_ERR_UNSUPPORTED), as is a module missing from a given order; a weight that is
   not 2-D, a bias that does not fit its weight, a weight whose width does not follow the
   layer before are refused as NB_ERR_SHAPE.  nb_st_error names the key and says why.

   On export, layer k is the module a PyTorch nn.Sequential with one activation module after
   every layer whose activation is not identity would give it: Linear, ReLU, Linear -> "0.*"
   and "2.*".

   Metadata.  nb_safetensors_save_model writes, besides "nablas.activations", the model's loss
   ("nablas.loss": mse, bce or softmax-ce), its class, feature and target names
   ("nablas.class_names", "nablas.feature_names", "nablas.target_names": JSON arrays of strings)
   and its standardisations ("nablas.feature_mean", "nablas.feature_std", "nablas.target_mean",
   "nablas.target_std": JSON arrays of numbers, each float written with 17 significant digits
   so that it reads back bit for bit); nb_safetensors_load_model reads them back, so that the
   loaded model predicts exactly as the saved one.  Such a file's weights take standardised
   inputs and give standardised targets: PyTorch users apply the metadata's standardisations,
   or export folded.

   Folding.  nb_safetensors_save, and nb_safetensors_save_model with fold, fold an input
   standardisation (nb_norm) into the first layer: W' = W / std and b' = b - (mean / std) W, so
   that the Sequential gives the same outputs from raw inputs, and a target standardisation
   (the network predicts (y - mean) / std) into the last layer, W' = W std and b' = b std +
   mean, which needs an identity output activation; no standardisation is then in the
   metadata (the outputs agree with the original to float rounding, not bit for bit).

   Dtypes.  Export writes F32.  Import converts F32, F16, BF16 and F64 to float; other dtypes
   are refused (NB_ERR_UNSUPPORTED), as is any value that is NaN, infinite or (F64) outside
   float's range (NB_ERR_NONFINITE).

   The reader trusts nothing in the file: header length at most 100 000 000 bytes
   (NB_ERR_LIMIT); NB_ERR_TRUNCATED when the file is shorter than its header says (every
   proper prefix of a valid file); NB_ERR_CORRUPT unless the header is one JSON object with no
   duplicate keys, every tensor has exactly a dtype, a shape and data_offsets whose byte size
   matches the shape, and the offsets tile the data buffer exactly (no overlap, no gap, no
   trailing bytes), and unless nablas' metadata entries are well formed and fit the network;
   NB_ERR_UNSUPPORTED for a dtype the format does not list, more than 8 dimensions, a dtype
   that is not converted or a key that is not a layer's; NB_ERR_SHAPE when the tensors do not
   fit the layer specification.  docs/safetensors.md lists every check.  On failure nothing is
   changed. */
#ifndef NABLAS_SAFETENSORS_H
#define NABLAS_SAFETENSORS_H

#include "net.h"
#include "data.h"
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the layers are found in the tensor names (see Order above).  order: n_order module names
   ("fc1", "net.0"), the layers in that order, or NULL (n_order 0) for natural order.  skip:
   n_skip module names or keys; a key K is left out when an entry equals K or K's module
   ("bn" skips bn.weight, bn.running_mean, ...).  Strings are the caller's. */
typedef struct nb_st_names {
    const char *const *order;
    size_t n_order;
    const char *const *skip;
    size_t n_skip;
} nb_st_names;

/* Where an import stopped: the key (a tensor's, a metadata entry's, or an order entry; empty
   when the problem is not one key) and a sentence saying why that names it, e.g. "key
   'fc1.weight' has shape [16,4], which does not follow 'fc0.weight' [8,4]". */
typedef struct nb_st_error {
    char key[256];
    char reason[512];
} nb_st_error;

/* Writes net to path atomically (see nb_write_file_atomic), with the input standardisation
   norm and the target standardisation target_norm folded in (either may be NULL).
   NB_ERR_NONFINITE if a parameter (or a folded one) is not finite; NB_ERR_SHAPE if norm does
   not have the network's inputs or target_norm its outputs; NB_ERR_UNSUPPORTED for a
   target_norm when the last activation is not identity. */
nb_status nb_safetensors_save(const nb_net *net, const nb_norm *norm, const nb_norm *target_norm,
                              const char *path);
/* The same bytes into a malloc'd buffer (free with free()). */
nb_status nb_safetensors_save_mem(void **data, size_t *size, const nb_net *net, const nb_norm *norm,
                                  const nb_norm *target_norm);

/* Builds a network from a file.  layers[k].act is layer k's activation; layers[k].units must
   equal the file's output width of layer k, or be 0 (take it from the file).  The number of
   inputs is the first weight's width.  *net is set only on success.
   layers NULL with n_layers 0: the activations the file's metadata names
   ("nablas.activations", written by nb_safetensors_save), every width from the file; a file
   without that entry gives NB_ERR_ARG (give the layers), an unknown name NB_ERR_CORRUPT.
   Layers in natural order, nothing skipped.  A file whose metadata holds a standardisation
   (written by nb_safetensors_save_model without fold) gives NB_ERR_UNSUPPORTED: its network
   takes standardised inputs, which a bare network could not say; load it with
   nb_safetensors_load_model. */
nb_status nb_safetensors_load(nb_net **net, const char *path, const nb_layer_spec *layers,
                              size_t n_layers);
nb_status nb_safetensors_load_mem(nb_net **net, const void *data, size_t size,
                                  const nb_layer_spec *layers, size_t n_layers);

/* Overwrites the parameters of an existing network with the file's (shapes must match the
   network exactly; activations are the network's).  On failure the parameters are unchanged.
   NB_ERR_UNSUPPORTED for a file with a standardisation in its metadata (as nb_safetensors_load). */
nb_status nb_safetensors_fill(nb_net *net, const char *path);
nb_status nb_safetensors_fill_mem(nb_net *net, const void *data, size_t size);

/* Writes the model m (m->net and whatever else m holds: loss, standardisations, names) to
   path atomically.  fold false: the network's own parameters, the standardisations in the
   metadata (nb_safetensors_load_model gives back a model that predicts bit for bit as m).
   fold true: the standardisations folded into the weights as nb_safetensors_save does (then
   NB_ERR_UNSUPPORTED for a target standardisation when the last activation is not identity).
   NB_ERR_NULL if m or m->net is NULL; NB_ERR_SHAPE if a standardisation or a name list does
   not fit the network; NB_ERR_NONFINITE for a non-finite parameter; NB_ERR_UNSUPPORTED for a
   name that is not UTF-8 (JSON strings must be).  Nothing is written on failure. */
nb_status nb_safetensors_save_model(const nb_model *m, bool fold, const char *path);
nb_status nb_safetensors_save_model_mem(void **data, size_t *size, const nb_model *m, bool fold);

/* Builds a model from a file: its network (layers as for nb_safetensors_load, found in the
   names as names says; names NULL: natural order, nothing skipped) and what the file's
   metadata holds: loss (NB_LOSS_MSE when absent), standardisations, class, feature and target
   names.  *m is set only on success and freed with nb_model_free; its version and crc32 are
   0.  err may be NULL; on failure it names the key and says why.  Statuses as
   nb_safetensors_load, plus NB_ERR_ARG for an empty or repeated order entry or an empty skip
   entry; NB_ERR_CORRUPT for a nablas.* metadata entry that is malformed or does not fit the
   network (a mean or std list of another width, a std not > 0, a target standardisation with
   a loss other than mse). */
nb_status nb_safetensors_load_model(nb_model *m, const char *path, const nb_layer_spec *layers,
                                    size_t n_layers, const nb_st_names *names, nb_st_error *err);
nb_status nb_safetensors_load_model_mem(nb_model *m, const void *data, size_t size,
                                        const nb_layer_spec *layers, size_t n_layers,
                                        const nb_st_names *names, nb_st_error *err);

#ifdef __cplusplus
}
#endif
#endif
