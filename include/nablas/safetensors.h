/* nablas: PyTorch weights both ways, in the safetensors format (docs/safetensors.md).

   A network is stored as a PyTorch nn.Sequential of nn.Linear layers would be: tensor
   "{i}.weight" is layer k's weight as PyTorch holds it, out x in (the transpose of nablas'
   in x out), and "{i}.bias" its bias (out).  Activations are not in the file: the caller
   supplies them (nb_layer_spec) on import.

   Indices.  On export, layer k gets the index a Sequential with one activation module after
   every layer whose activation is not identity would give it: Linear, ReLU, Linear -> "0.*"
   and "2.*".  On import any increasing non-negative integers are accepted (0, 2, 4 or 0, 1, 2
   or 3, 7): layers are taken in the order of their indices.  A layer without "{i}.bias"
   (nn.Linear(bias=False)) gets a zero bias.  Any other tensor name is refused.

   Standardisation.  An input standardisation (nb_norm) is folded into the first layer on
   export: W' = W / std and b' = b - (mean / std) W, so that the exported Sequential gives the
   same outputs from raw inputs.  A target standardisation (nb_model.target_norm: the network
   predicts (y - mean) / std) is folded into the last layer, W' = W std and b' = b std + mean,
   which needs an identity output activation.  The file has no separate standardisation
   tensors; an imported network takes raw inputs and predicts in the targets' units.

   Dtypes.  Export writes F32.  Import converts F32, F16, BF16 and F64 to float; other dtypes
   are refused (NB_ERR_UNSUPPORTED), as is any value that is NaN, infinite or (F64) outside
   float's range (NB_ERR_NONFINITE).

   The reader trusts nothing in the file: header length at most 100 000 000 bytes
   (NB_ERR_LIMIT); NB_ERR_TRUNCATED when the file is shorter than its header says (every
   proper prefix of a valid file); NB_ERR_CORRUPT unless the header is one JSON object with no
   duplicate keys, every tensor has exactly a dtype, a shape and data_offsets whose byte size
   matches the shape, and the offsets tile the data buffer exactly (no overlap, no gap, no
   trailing bytes); NB_ERR_UNSUPPORTED for a dtype the format does not list, more than 8
   dimensions, a dtype that is not converted or a name that is not {i}.weight / {i}.bias;
   NB_ERR_SHAPE when the tensors do not fit the layer specification.  docs/safetensors.md
   lists every check.  On failure nothing is changed. */
#ifndef NABLAS_SAFETENSORS_H
#define NABLAS_SAFETENSORS_H

#include "net.h"
#include "data.h"

#ifdef __cplusplus
extern "C" {
#endif

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
   without that entry gives NB_ERR_ARG (give the layers), an unknown name NB_ERR_CORRUPT. */
nb_status nb_safetensors_load(nb_net **net, const char *path, const nb_layer_spec *layers,
                              size_t n_layers);
nb_status nb_safetensors_load_mem(nb_net **net, const void *data, size_t size,
                                  const nb_layer_spec *layers, size_t n_layers);

/* Overwrites the parameters of an existing network with the file's (shapes must match the
   network exactly; activations are the network's).  On failure the parameters are unchanged. */
nb_status nb_safetensors_fill(nb_net *net, const char *path);
nb_status nb_safetensors_fill_mem(nb_net *net, const void *data, size_t size);

#ifdef __cplusplus
}
#endif
#endif
