#pragma once
// The narrow libtorch headers the engine uses (never torch/torch.h): tensors, autograd, nn, optim.
#include <ATen/ATen.h>
#include <torch/types.h>
