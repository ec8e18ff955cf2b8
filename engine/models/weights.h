#pragma once
// Pretrained weights in the formats others ship them: `.safetensors` (timm) and PyTorch
// state-dict files written by torch.save's zip format (the AST reference checkpoints,
// torchaudio's hdemucs_high_trained.pt). Names are matched to a module's parameters and
// buffers; every mismatch names the tensor, both shapes and the file.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace gafx::models {

using StateDict = std::vector<std::pair<std::string, torch::Tensor>>; // in file order

// Unwraps the usual nesting ({"state_dict": ...}, {"model": ...}). Throws gafx::Error naming
// the file when it is missing, of another format, or holds no tensors.
// `metadata` (optional) receives a safetensors file's string metadata.
StateDict read_state_dict(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

struct LoadOptions {
    // Removed from the front of file names before matching ("module." from DataParallel).
    std::vector<std::string> strip_prefixes = {"module."};
    // Module names (prefix match) left as initialised when the file lacks them (a new head).
    std::vector<std::string> optional;
    // File names (prefix match) ignored (e.g. a head trained for other classes).
    std::vector<std::string> ignore;
};

struct LoadReport {
    std::vector<std::string> loaded;
    std::vector<std::string> left_initialised; // optional names the file did not have
    std::vector<std::string> unused;           // file tensors the module has no place for
};

// Copies matching tensors into `module` (converting dtype). A module tensor missing from the
// file (and not optional) or of another shape throws gafx::Error naming it and `file`.
LoadReport load_state_dict(torch::nn::Module& module, const StateDict& state, const std::string& file,
                           const LoadOptions& options = {});

} // namespace gafx::models
