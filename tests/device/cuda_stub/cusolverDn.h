#pragma once
// NOT cuSOLVER: the names ATen/cuda/CUDAContext.h declares with (see cuda_runtime_api.h here).
#include <cusolver_common.h>
typedef struct cusolverDnContext* cusolverDnHandle_t;
