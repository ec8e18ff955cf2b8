#include "train/op_table.h"

#include "core/error.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <utility>

namespace gafx::train {

struct OpTable::State {
    std::mutex mutex;
    std::map<std::pair<std::string, std::string>, OpRow> rows;
    at::CallbackHandle handle = 0;
    std::atomic<bool> recording{true};
    uint64_t generation = 0;
};

namespace {

using Clock = std::chrono::steady_clock;

std::mutex active_mutex;
std::shared_ptr<OpTable::State> active; // the table recording now, if any
uint64_t generations = 0;               // under active_mutex

// Self time needs each thread's open calls: a call's time is added to its caller's children.
// A stack left by a table that stopped mid-call is dropped when the next table's first call
// arrives on the thread.
struct Frame {
    Clock::time_point start;
    double children_s = 0;
};
struct ThreadCalls {
    uint64_t generation = 0;
    std::vector<Frame> open;
};
thread_local ThreadCalls calls;

struct Call : at::ObserverContext {
    std::shared_ptr<OpTable::State> state;
    std::string op, inputs;
    size_t depth = 0;
};

std::string dtype_name(c10::ScalarType t) {
    switch (t) {
    case at::kFloat: return "f32";
    case at::kBFloat16: return "bf16";
    case at::kHalf: return "f16";
    case at::kDouble: return "f64";
    case at::kLong: return "i64";
    case at::kInt: return "i32";
    case at::kBool: return "bool";
    case at::kByte: return "u8";
    default: return c10::toString(t);
    }
}

std::string describe(const at::Tensor& t) {
    if (!t.defined()) return "-";
    return describe_layout(t.sizes().vec(), t.strides().vec(), dtype_name(t.scalar_type()));
}

std::string describe_inputs(const at::RecordFunction& fn) {
    std::string s;
    for (const c10::IValue& v : fn.inputs()) {
        std::string one;
        if (v.isTensor()) {
            one = describe(v.toTensor());
        } else if (v.isTensorList()) {
            const auto list = v.toTensorVector();
            const bool same = std::all_of(list.begin(), list.end(),
                                          [&](const at::Tensor& t) { return describe(t) == describe(list.front()); });
            one = std::to_string(list.size()) + (list.empty() ? " tensors" : same ? "x" + describe(list.front()) : " tensors");
        } else {
            continue; // scalars and options do not change where the time goes
        }
        s += (s.empty() ? "" : " ") + one;
    }
    return s;
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
    std::shared_ptr<OpTable::State> state;
    {
        std::lock_guard<std::mutex> lock(active_mutex);
        state = active;
    }
    if (!state || !state->recording) return nullptr;
    if (calls.generation != state->generation) calls = {state->generation, {}};
    auto call = std::make_unique<Call>();
    call->state = std::move(state);
    call->op = fn.name();
    call->inputs = describe_inputs(fn);
    call->depth = calls.open.size();
    calls.open.push_back({Clock::now(), 0});
    return call;
}

void on_end(const at::RecordFunction&, at::ObserverContext* context) {
    auto* call = static_cast<Call*>(context);
    if (!call || calls.generation != call->state->generation || calls.open.size() != call->depth + 1) return;
    const Frame frame = calls.open.back();
    calls.open.pop_back();
    const double total = std::chrono::duration<double>(Clock::now() - frame.start).count();
    if (!calls.open.empty()) calls.open.back().children_s += total;
    if (!call->state->recording) return;
    std::lock_guard<std::mutex> lock(call->state->mutex);
    OpRow& row = call->state->rows[{call->op, call->inputs}];
    if (row.calls == 0) row.op = call->op, row.inputs = call->inputs;
    ++row.calls;
    row.self_s += std::max(0.0, total - frame.children_s);
    row.total_s += total;
}

bool contiguous(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides) {
    int64_t expected = 1;
    for (size_t i = sizes.size(); i-- > 0;) {
        if (sizes[i] != 1 && strides[i] != expected) return false;
        expected *= sizes[i];
    }
    return true;
}

} // namespace

std::string describe_layout(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                            const std::string& dtype) {
    std::string s = dtype + "[";
    for (size_t i = 0; i < sizes.size(); ++i) s += (i ? "," : "") + std::to_string(sizes[i]);
    s += "]";
    if (sizes.size() != strides.size() || contiguous(sizes, strides)) return s;
    auto ts = sizes, tt = strides;
    if (ts.size() >= 2) {
        std::swap(ts[ts.size() - 1], ts[ts.size() - 2]);
        std::swap(tt[tt.size() - 1], tt[tt.size() - 2]);
        if (contiguous(ts, tt)) return s + "T";
    }
    return s + "S";
}

OpTable::OpTable() : state_(std::make_shared<State>()) {
    std::lock_guard<std::mutex> lock(active_mutex);
    if (active) throw Error({}, "an operator table is recording already", "stop it before starting another");
    state_->generation = ++generations;
    state_->handle = at::addGlobalCallback(
        at::RecordFunctionCallback(on_start, on_end)
            .needsInputs(true)
            .scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION, at::RecordScope::USER_SCOPE}));
    active = state_;
}

OpTable::~OpTable() { stop(); }

void OpTable::stop() {
    std::lock_guard<std::mutex> lock(active_mutex);
    if (active != state_) return;
    state_->recording = false;
    at::removeCallback(state_->handle);
    active.reset();
}

std::vector<OpRow> OpTable::rows() const {
    std::vector<OpRow> out;
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        for (const auto& [key, row] : state_->rows) out.push_back(row);
    }
    std::stable_sort(out.begin(), out.end(), [](const OpRow& a, const OpRow& b) { return a.self_s > b.self_s; });
    return out;
}

} // namespace gafx::train
