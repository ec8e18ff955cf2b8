// train::OpTable (`gafx bench train --ops`): calls keyed by operator and input layout, self time
// without the calls made inside, calls on other threads, nothing recorded before or after, and
// one table at a time.
#include "core/error.h"
#include "train/op_table.h"

#include <ATen/record_function.h>
#include <torch/types.h>

#include <QtTest>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

using namespace gafx;

namespace {

const train::OpRow* find(const std::vector<train::OpRow>& rows, const std::string& op, const std::string& inputs) {
    for (const auto& r : rows)
        if (r.op == op && r.inputs == inputs) return &r;
    return nullptr;
}

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

} // namespace

class TestOpTable : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void layouts() {
        QCOMPARE(train::describe_layout({4, 3}, {3, 1}, "f32"), std::string("f32[4,3]"));
        QCOMPARE(train::describe_layout({4, 3}, {1, 4}, "bf16"), std::string("bf16[4,3]T"));
        QCOMPARE(train::describe_layout({2, 4, 3}, {12, 1, 4}, "f32"), std::string("f32[2,4,3]T"));
        QCOMPARE(train::describe_layout({4, 3}, {6, 1}, "f32"), std::string("f32[4,3]S")); // every other row
        QCOMPARE(train::describe_layout({4, 1}, {1, 7}, "f32"), std::string("f32[4,1]"));  // a size-1 stride is free
        QCOMPARE(train::describe_layout({}, {}, "f64"), std::string("f64[]"));
    }

    void keys_by_operator_and_layout() {
        const auto a = torch::randn({8, 16}), b = torch::randn({16, 4});
        const auto before = torch::mm(a, b); // not recorded: no table yet
        train::OpTable table;
        for (int i = 0; i < 3; ++i) torch::mm(a, b);
        torch::mm(a.t().contiguous().t(), b);  // the same sizes, a transposed view
        torch::mm(a.to(torch::kBFloat16), b.to(torch::kBFloat16));
        table.stop();
        torch::mm(a, b); // not recorded: stopped
        const auto rows = table.rows();
        const auto* plain = find(rows, "aten::mm", "f32[8,16] f32[16,4]");
        QVERIFY(plain);
        QCOMPARE(plain->calls, int64_t(3));
        QVERIFY(plain->self_s > 0 && plain->self_s <= plain->total_s);
        const auto* transposed = find(rows, "aten::mm", "f32[8,16]T f32[16,4]");
        QVERIFY(transposed);
        QCOMPARE(transposed->calls, int64_t(1));
        QVERIFY(find(rows, "aten::mm", "bf16[8,16] bf16[16,4]"));
        QVERIFY(find(rows, "aten::to", "f32[8,16]") || find(rows, "aten::_to_copy", "f32[8,16]"));
        for (size_t i = 1; i < rows.size(); ++i) QVERIFY(rows[i - 1].self_s >= rows[i].self_s);
    }

    void self_time_leaves_out_the_calls_inside() {
        train::OpTable table;
        {
            RECORD_USER_SCOPE("outer");
            sleep_ms(5);
            {
                RECORD_USER_SCOPE("inner");
                sleep_ms(60);
            }
        }
        const auto rows = table.rows();
        const auto *outer = find(rows, "outer", ""), *inner = find(rows, "inner", "");
        QVERIFY(outer && inner);
        QVERIFY(inner->self_s >= 0.06);
        QVERIFY(outer->total_s >= outer->self_s + inner->total_s - 1e-9);
        QVERIFY(outer->self_s >= 0.005);
        QVERIFY2(outer->total_s - outer->self_s >= 0.06, "the inner scope's time was counted as the outer's own");
        QCOMPARE(rows.front().op, std::string("inner"));
    }

    void records_other_threads() {
        const auto a = torch::randn({5, 7}), b = torch::randn({7, 3});
        train::OpTable table;
        std::thread worker([&] {
            RECORD_USER_SCOPE("worker");
            torch::mm(a, b);
        });
        worker.join();
        const auto rows = table.rows();
        QVERIFY(find(rows, "worker", ""));
        QVERIFY(find(rows, "aten::mm", "f32[5,7] f32[7,3]"));
    }

    void one_table_at_a_time() {
        train::OpTable first;
        QVERIFY_EXCEPTION_THROWN(train::OpTable second, Error);
        first.stop();
        train::OpTable third; // the first one stopped
        torch::relu(torch::ones({2}));
        QVERIFY(find(third.rows(), "aten::relu", "f32[2]"));
        QVERIFY(!find(first.rows(), "aten::relu", "f32[2]"));
    }
};

QTEST_GUILESS_MAIN(TestOpTable)
#include "test_op_table.moc"
