#pragma once
// Where a stretch of training spends its time, by operator and by the layout of its inputs
// (`gafx bench train --ops`). The legacy profiler's trace records no input shapes in this
// libtorch, so "copy_ 4 %" could not say which casts or which transposes were copied; this table
// keys each call by name and its inputs' dtypes, sizes and contiguity, and counts self time
// (a call's time less the calls it made), as a profile's "self" column does.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gafx::train {

struct OpRow {
    std::string op;     // "aten::mm", "gafx::softmax_rows_forward", a user scope's name
    std::string inputs; // "bf16[2056,192] bf16[192,768]T": T a transposed view, S any other strided one
    int64_t calls = 0;
    double self_s = 0;  // without the time of the calls it made
    double total_s = 0; // with them
};

// Records every operator that runs on any thread from construction to stop() (or destruction).
// One table records at a time in a process; constructing a second while one records throws.
class OpTable {
public:
    OpTable();
    ~OpTable();
    OpTable(const OpTable&) = delete;
    OpTable& operator=(const OpTable&) = delete;
    void stop();
    std::vector<OpRow> rows() const; // by self time, largest first

    struct State;

private:
    std::shared_ptr<State> state_;
};

// "bf16[4,3,514,64]S": dtype, sizes, and T or S when the tensor is not contiguous.
std::string describe_layout(const std::vector<int64_t>& sizes, const std::vector<int64_t>& strides,
                            const std::string& dtype);

} // namespace gafx::train
