#pragma once
// Our own reader for files written by torch.save's zip format (PyTorch >= 1.6): libtorch's
// torch::jit::pickle_load only knows TorchScript's pickles (in 1.13 it turns
// collections.OrderedDict, i.e. every real state dict, into None), so the pickle in
// `<archive>/data.pkl` is read here by a small unpickler that understands what torch.save
// writes (protocol 2; protocol 4 opcodes too), and the storages `<archive>/data/<key>` are
// loaded once each and shared by the tensors that view them.
//
// Never executes anything: globals other than the few below become opaque placeholders
// (None in the result), and a placeholder used as a tensor, like any malformed input, throws
// gafx::Error naming the file.
#include "models/weights.h"

#include <ATen/core/ivalue.h>

#include <string>
#include <vector>

namespace gafx::models {

// The whole pickled object: dicts (also collections.OrderedDict) become GenericDicts keyed by
// their str/int/float/bool keys in file order (other keys are dropped), lists become
// GenericLists, tuples Tuples, str and bytes strings, tensors (and nn.Parameter) tensors that
// share storage as they did when saved; anything else becomes None.
c10::IValue read_torch_zip_object(const std::vector<char>& bytes, const std::string& path);

// The tensors of the object in file order, nested dicts flattened with "." ({"a": {"b": t}}
// gives "a.b"); non-tensor values and non-string keys are skipped. No unwrapping of
// {"state_dict": ...}: read_state_dict (weights.h) does that.
StateDict read_torch_zip_state(const std::vector<char>& bytes, const std::string& path);

} // namespace gafx::models
