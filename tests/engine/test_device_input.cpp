// train/device_input: on a CPU nothing is pinned, copied or autotuned; asked for a GPU that this
// libtorch cannot reach, it falls back to plain copies instead of claiming pinned ones; with a
// CUDA device, pinned batches reach it intact.
#include "train/device_input.h"

#include <ATen/Context.h>
#include <torch/cuda.h>

#include <QtTest>

#include <map>

using namespace gafx::train;

namespace {

std::map<std::string, std::string> said(const DevicePath& path, const torch::Device& device) {
    std::map<std::string, std::string> out;
    for (const auto& [what, how] : describe(path, device)) out[what] = how;
    return out;
}

} // namespace

class TestDeviceInput : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cpuUsesTheBatchWhereItLies() {
        const torch::Device cpu(torch::kCPU);
        const DevicePath path = prepare_device(cpu);
        QVERIFY(!path.pinned_input);
        QVERIFY(!path.cudnn_autotune);
        QVERIFY(!at::globalContext().benchmarkCuDNN());
        const torch::Tensor batch = torch::randn({2, 1, 100});
        QCOMPARE(to_device(batch, cpu).data_ptr(), batch.data_ptr()); // no copy
        const auto s = said(path, cpu);
        QCOMPARE(s.at("input"), std::string("host memory, no copy"));
        QCOMPARE(s.at("cudnn_autotune"), std::string("off (CPU)"));
    }

    // A CUDA device named to a libtorch without CUDA (this machine's): the path claims neither
    // pinned memory nor cuDNN, which would throw when the loader pinned its first batch.
    void cudaWithoutCudaFallsBack() {
        if (at::globalContext().hasCUDA()) QSKIP("this libtorch has CUDA: the fallback is not taken");
        const torch::Device cuda(torch::kCUDA);
        const DevicePath path = prepare_device(cuda);
        QVERIFY(!path.pinned_input);
        QVERIFY(!path.cudnn_autotune);
        QVERIFY(!at::globalContext().benchmarkCuDNN());
        const auto s = said(path, cuda);
        QCOMPARE(s.at("input"), std::string("pageable, copied and waited for"));
        QCOMPARE(s.at("cudnn_autotune"), std::string("off (no cuDNN in this libtorch)"));
    }

    void cudaGetsPinnedBatchesIntact() {
        if (!torch::cuda::is_available()) QSKIP("no CUDA device");
        const torch::Device cuda(torch::kCUDA, 0);
        const DevicePath path = prepare_device(cuda);
        QVERIFY(path.pinned_input);
        QCOMPARE(at::globalContext().benchmarkCuDNN(), path.cudnn_autotune);
        const torch::Tensor expected = torch::randn({4, 1, 1 << 18});
        const torch::Tensor host = expected.pin_memory();
        const torch::Tensor there = to_device(host, cuda);
        QVERIFY(there.is_cuda());
        QVERIFY(torch::equal(there.cpu(), expected));
        at::globalContext().setBenchmarkCuDNN(false);
    }
};

QTEST_GUILESS_MAIN(TestDeviceInput)
#include "test_device_input.moc"
