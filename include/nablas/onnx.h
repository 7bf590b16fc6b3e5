/* nablas: models to and from ONNX files (docs/onnx.md).

   Export writes an ONNX model at opset NB_ONNX_OPSET (IR version 7) that ONNX Runtime and
   onnx.checker accept: one graph input "input" of shape [batch, inputs] (batch symbolic, any
   size), one output "output" of shape [batch, outputs], float32 throughout.  Its nodes are,
   in order: the input standardisation as Sub(mean) and Div(std) when the model has one; per
   dense layer a Gemm (weight in x out, bias out) and its activation (none for identity; Relu,
   LeakyRelu alpha 0.01, Sigmoid, Tanh, Softmax axis 1, Softplus, Elu alpha 1 as one node;
   GELU as Div/Erf/Add/Mul/Mul, its tanh form as Mul/Mul/Mul/Add/Mul/Tanh/Add/Mul/Mul and SiLU
   as Sigmoid/Mul, the nodes torch.onnx.export writes before opset 20); a final Softmax for a
   softmax-ce model (whose network gives logits: the graph gives the probabilities nablas
   predict gives); the target standardisation as Mul(std) and Add(mean).  The graph takes and
   returns the user's units.  metadata_props holds "nablas.loss" and, when the model has them,
   "nablas.class_names", "nablas.feature_names" and "nablas.target_names" (JSON arrays of
   strings).

   Import reads the chain of nodes exporters write for a multilayer perceptron: Gemm (alpha,
   beta, transA after a Transpose, transB), MatMul followed by Add, element-wise Sub, Div, Mul,
   Add with constants (read as the input standardisation before the first layer, as the target
   standardisation after the last, folded into the layers elsewhere), Relu, LeakyRelu (alpha
   0.01 only: nablas' slope), Sigmoid, Tanh, Softplus, Elu (alpha 1 only), Gelu (opset 20) and
   the three patterns above, Softmax and LogSoftmax over the last axis (LogSoftmax only as the
   graph's last node: the model then holds the logits with the softmax-ce loss; the same for a
   final Softmax when the metadata names softmax-ce), Identity, Dropout, Flatten and Reshape
   that keep [batch, width], Transpose (only into a Gemm with transA), Constant nodes and
   initializers (also when listed as graph inputs), float32, float16, bfloat16 and float64
   data in raw_data or the typed fields.  Two dense layers in a row give a layer with the
   identity activation.  Anything else is refused; err then names the node and its op type.
   The loss and the names come from nablas' metadata when present (loss otherwise MSE, or
   softmax-ce after LogSoftmax).

   The reader checks every claim of the file: at most NB_ONNX_MAX_FILE bytes (NB_ERR_LIMIT);
   the protobuf must parse (NB_ERR_CORRUPT); a tensor's dims (at most 8, each below 2^31) must
   give exactly the number of values its data holds (NB_ERR_CORRUPT); at most
   NB_ONNX_MAX_NODES nodes and as many initializers (NB_ERR_LIMIT); names of values must be
   unique and every input of a node defined (NB_ERR_CORRUPT); widths must chain (NB_ERR_SHAPE);
   weights must be finite in float (NB_ERR_NONFINITE); external data, other data types, other
   domains, ops and attributes are NB_ERR_UNSUPPORTED.

   Without the build's onnx feature (protobuf-c) every function returns NB_ERR_UNSUPPORTED;
   nb_onnx_available() says which. */
#ifndef NABLAS_ONNX_H
#define NABLAS_ONNX_H

#include <stdbool.h>
#include <stddef.h>
#include "model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NB_ONNX_OPSET 13               /* the opset export writes */
#define NB_ONNX_MAX_FILE 0x7fffffffu   /* protobuf's own limit: larger models use external data */
#define NB_ONNX_MAX_NODES 100000u      /* nodes, and initializers, in a graph */

/* Where an import stopped: the node (its name, or "#k" for the k-th unnamed node, 0-based; empty
   when the problem is not in one node), its op type, and why, all NUL-terminated. */
typedef struct nb_onnx_error {
    char node[128];
    char op_type[64];
    char reason[256];
} nb_onnx_error;

/* True when this build reads and writes ONNX (the onnx feature). */
bool nb_onnx_available(void);

/* Writes m (its net, norm, target_norm, names and loss) to path atomically (see
   nb_write_file_atomic).  NB_ERR_NULL if m or m->net is NULL; NB_ERR_SHAPE if a
   standardisation or a name list does not fit the network; NB_ERR_NONFINITE if a parameter is
   not finite; NB_ERR_UNSUPPORTED without the onnx feature or for a name that is not UTF-8
   (JSON strings must be).  Nothing is written on failure. */
nb_status nb_onnx_save(const nb_model *m, const char *path);
/* The same bytes into a malloc'd buffer (free with free()). */
nb_status nb_onnx_save_mem(void **data, size_t *size, const nb_model *m);

/* Builds a model from an ONNX file (see above).  *m is set only on success and is freed with
   nb_model_free; its version and crc32 fields are 0.  err may be NULL; on failure it says
   where and why (statuses above). */
nb_status nb_onnx_load(nb_model *m, const char *path, nb_onnx_error *err);
nb_status nb_onnx_load_mem(nb_model *m, const void *data, size_t size, nb_onnx_error *err);

#ifdef __cplusplus
}
#endif
#endif
