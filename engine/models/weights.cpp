#include "models/weights.h"

#include "core/error.h"
#include "models/safetensors.h"
#include "models/torch_zip.h"


#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace gafx::models {
namespace {

const char* kFix = "give a .safetensors file or a state dict saved with torch.save (PyTorch >= 1.6)";

std::vector<char> read_all(const std::string& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) throw Error(path, "no such weights file", "check the path");
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) throw Error(path, "cannot read the weights file");
    return bytes;
}

std::string shape_of(const torch::Tensor& t) {
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

void collect(const c10::IValue& v, const std::string& prefix, StateDict& out) {
    if (v.isTensor()) {
        out.emplace_back(prefix, v.toTensor());
    } else if (v.isGenericDict()) {
        for (const auto& kv : v.toGenericDict()) {
            if (!kv.key().isString()) continue;
            collect(kv.value(), prefix.empty() ? kv.key().toStringRef() : prefix + "." + kv.key().toStringRef(), out);
        }
    }
}

StateDict read_torch_zip(const std::vector<char>& bytes, const std::string& path) {
    // Our own reader (models/torch_zip.h): libtorch's pickle_load turns OrderedDict into None.
    // It throws gafx::Error naming the file for anything it cannot read.
    const c10::IValue root = read_torch_zip_object(bytes, path);
    if (root.isGenericDict()) {
        // Checkpoints often wrap the weights: {"state_dict": {...}} or {"model": {...}}.
        for (const char* key : {"state_dict", "model", "model_state_dict"}) {
            for (const auto& kv : root.toGenericDict())
                if (kv.key().isString() && kv.key().toStringRef() == key && kv.value().isGenericDict()) {
                    StateDict out;
                    collect(kv.value(), "", out);
                    if (!out.empty()) return out;
                }
        }
    }
    StateDict out;
    collect(root, "", out);
    return out;
}

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

bool any_prefix(const std::string& s, const std::vector<std::string>& prefixes) {
    for (const auto& p : prefixes)
        if (starts_with(s, p)) return true;
    return false;
}

} // namespace

StateDict read_state_dict(const std::string& path, std::map<std::string, std::string>* metadata) {
    const std::vector<char> bytes = read_all(path);
    StateDict out;
    // safetensors first: its 8-byte header length may begin with any byte, 0x80 ('PK' cannot:
    // a header of 0x4b50 bytes is followed by '{', which a zip's local header is not).
    const bool safetensors = bytes.size() >= 9 && bytes[8] == '{';
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(bytes[i]); };
    if (safetensors)
        out = parse_safetensors(bytes, path, metadata);
    else if (bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K')
        out = read_torch_zip(bytes, path);
    else if (bytes.size() >= 3 && byte(0) == 0x80 && byte(1) >= 2 && byte(1) <= 5)
        throw Error(path, "a PyTorch file in the legacy (pre-1.6) format",
                    "load and re-save it once with torch.save in a current PyTorch");
    else
        out = parse_safetensors(bytes, path, metadata);
    if (out.empty()) throw Error(path, "holds no tensors", kFix);
    return out;
}

LoadReport load_state_dict(torch::nn::Module& module, const StateDict& state, const std::string& file,
                           const LoadOptions& options) {
    std::map<std::string, torch::Tensor> by_name;
    for (const auto& [raw, tensor] : state) {
        std::string name = raw;
        for (const auto& p : options.strip_prefixes)
            if (starts_with(name, p)) name = name.substr(p.size());
        if (!any_prefix(name, options.ignore)) by_name[name] = tensor;
    }
    LoadReport report;
    torch::NoGradGuard no_grad;
    std::map<std::string, bool> used;
    auto place = [&](const std::string& name, torch::Tensor& target) {
        auto it = by_name.find(name);
        if (it == by_name.end()) {
            if (any_prefix(name, options.optional)) {
                report.left_initialised.push_back(name);
                return;
            }
            throw Error(file, "tensor '" + name + "' " + shape_of(target) + " is not in the file",
                        "is this a weights file for this model and size?");
        }
        if (it->second.sizes() != target.sizes())
            throw Error(file, "tensor '" + name + "': expected shape " + shape_of(target) + ", found " +
                                  shape_of(it->second),
                        "the file is for another model size or configuration");
        target.copy_(it->second.to(target.dtype()));
        used[name] = true;
        report.loaded.push_back(name);
    };
    for (auto& p : module.named_parameters(true)) place(p.key(), p.value());
    for (auto& b : module.named_buffers(true)) place(b.key(), b.value());
    for (const auto& [name, t] : by_name)
        if (!used.count(name)) report.unused.push_back(name);
    return report;
}

} // namespace gafx::models
