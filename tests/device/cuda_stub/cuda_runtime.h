#pragma once
// NOT CUDA: for the cuda_graph_syntax test.
#include "cuda_runtime_api.h"
