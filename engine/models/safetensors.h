#pragma once
// The safetensors format (8-byte header length, JSON header, raw little-endian tensors): what
// timm ships weights in, and what gafx writes checkpoints and exported weights in, so Python
// reads them with safetensors.torch.load_file as they are.
#include "models/weights.h"

#include <map>
#include <string>
#include <vector>

namespace gafx::models {

// Throws gafx::Error naming `path` for a truncated or malformed file. String metadata, when
// asked for, is copied into `metadata`.
StateDict parse_safetensors(const std::vector<char>& bytes, const std::string& path,
                            std::map<std::string, std::string>* metadata = nullptr);

// Atomically (core/atomic_file.h); tensors in the given order.
void write_safetensors(const std::string& path, const StateDict& tensors,
                       const std::map<std::string, std::string>& metadata = {});

} // namespace gafx::models
