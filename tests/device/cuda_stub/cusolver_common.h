#pragma once
// NOT cuSOLVER: the names ATen/cuda/Exceptions.h declares with (see cuda_runtime_api.h here).
typedef enum {
    CUSOLVER_STATUS_SUCCESS = 0, CUSOLVER_STATUS_INVALID_VALUE = 3, CUSOLVER_STATUS_EXECUTION_FAILED = 6
} cusolverStatus_t;
