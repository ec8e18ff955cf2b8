#pragma once
// The narrow libtorch headers the engine uses (never torch/torch.h): tensors, autograd and the
// nn modules the models are built from. Precompiled once for the engine target.
#include <ATen/ATen.h>
#include <torch/nn/functional.h>
#include <torch/nn/module.h>
#include <torch/nn/modules.h>
#include <torch/types.h>
