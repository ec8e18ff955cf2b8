#pragma once
// NOT cuBLASLt: the handle ATen/cuda/CUDAContextLight.h of libtorch 2.x declares with.
typedef struct cublasLtContext* cublasLtHandle_t;
