#pragma once
// NOT cuBLAS: the names ATen/cuda/CUDAContext.h declares with (see cuda_runtime_api.h here).
typedef struct cublasContext* cublasHandle_t;
typedef enum { CUBLAS_STATUS_SUCCESS = 0, CUBLAS_STATUS_NOT_SUPPORTED = 15 } cublasStatus_t;
const char* cublasGetStatusString(cublasStatus_t);
