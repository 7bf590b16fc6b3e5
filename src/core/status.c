/* Status messages. */
#include "nablas/status.h"

static const char *const messages[NB_STATUS_COUNT] = {
    [NB_OK] = "success",
    [NB_ERR_NULL] = "a required pointer argument is NULL",
    [NB_ERR_SHAPE] = "tensor shapes do not fit together (or a tensor is empty)",
    [NB_ERR_ARG] = "invalid argument value (unknown enum, or a non-finite or out-of-range number)",
    [NB_ERR_ALIAS] = "an output overlaps an input",
    [NB_ERR_NOMEM] = "out of memory",
    [NB_ERR_OVERFLOW] = "a size is too large (arithmetic overflow)",
    [NB_ERR_LOSS_ACT] =
        "the loss does not fit the output activation (softmax cross-entropy takes logits: use an identity output layer)",
    [NB_ERR_STATE] = "call out of order (e.g. backward without a forward on the current parameters)",
    [NB_ERR_IO] = "file input/output failed",
    [NB_ERR_BAD_MAGIC] = "not a file of the expected kind (bad magic number)",
    [NB_ERR_VERSION] = "unsupported file format version",
    [NB_ERR_TRUNCATED] = "the file is truncated",
    [NB_ERR_CHECKSUM] = "checksum mismatch: the file is corrupt",
    [NB_ERR_CORRUPT] = "inconsistent or out-of-bounds header or sizes: the file is corrupt",
    [NB_ERR_PARSE] = "a field could not be parsed",
    [NB_ERR_UNSUPPORTED] = "input uses a feature nablas does not support (or this build lacks)",
    [NB_ERR_NONFINITE] = "a non-finite value (NaN or infinity) where finite numbers are needed",
    [NB_ERR_LIMIT] = "the call would exceed a memory or size limit",
    [NB_ERR_CPU] = "this CPU lacks the instructions the call needs",
    [NB_ERR_MPI] = "an MPI call failed, or another rank reported an error",
    [NB_ERR_TYPE] = "wrong tensor element type (float32 / float64), or mixed element types",
};

const char *nb_status_str(nb_status s)
{
    if ((unsigned)s < (unsigned)NB_STATUS_COUNT && messages[s])
        return messages[s];
    return "unknown status code";
}
