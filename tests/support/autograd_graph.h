#pragma once
// Which kernels a tensor's autograd graph ran, for tests that check a path was taken.
#include <torch/csrc/autograd/function.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace gafx::test {

// Whether backward from `t` passes a node whose name holds `name`.
inline bool reaches(const torch::Tensor& t, const std::string& name) {
    std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
    while (!todo.empty()) {
        auto* node = todo.back();
        todo.pop_back();
        if (!node) continue;
        if (node->name().find(name) != std::string::npos) return true;
        for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
    }
    return false;
}

} // namespace gafx::test
