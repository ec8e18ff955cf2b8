#pragma once
// NOT CUDA: ATen/cuda/ATenCUDAGeneral.h includes it; nothing of it is used here (see cuda_runtime_api.h).
