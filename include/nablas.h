/* nablas: dense neural networks trained and run on whole mini-batches at BLAS speed.
   One header for the whole public API; see README.md for a tour. */
#ifndef NABLAS_H
#define NABLAS_H

#include "nablas/version.h"
#include "nablas/status.h"
#include "nablas/tensor.h"
#include "nablas/kernels.h"
#include "nablas/rng.h"
#include "nablas/threads.h"
#include "nablas/net.h"
#include "nablas/data.h"
#include "nablas/model.h"
#include "nablas/infer.h"
#include "nablas/predict.h"
#include "nablas/deriv.h"
#include "nablas/metrics.h"
#include "nablas/gradcheck.h"
#include "nablas/optim.h"
#include "nablas/fullbatch.h"
#include "nablas/safetensors.h"
#include "nablas/precision.h"
#include "nablas/checkpoint.h"
#include "nablas/onnx.h"

#endif
