#pragma once
// NOT cuSPARSE: the names ATen/cuda/CUDAContext.h declares with (see cuda_runtime_api.h here).
typedef struct cusparseContext* cusparseHandle_t;
typedef enum { CUSPARSE_STATUS_SUCCESS = 0 } cusparseStatus_t;
const char* cusparseGetErrorString(cusparseStatus_t);
