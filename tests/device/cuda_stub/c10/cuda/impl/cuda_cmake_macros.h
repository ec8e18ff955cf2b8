#pragma once
// NOT CUDA: what a CUDA build of libtorch generates here, for the cuda_code_syntax test.
#define C10_CUDA_BUILD_SHARED_LIBS
