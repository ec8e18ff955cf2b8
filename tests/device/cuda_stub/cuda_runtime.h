#pragma once
// NOT CUDA: for the cuda_code_syntax test.
#include "cuda_runtime_api.h"
