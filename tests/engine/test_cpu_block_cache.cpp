// core/cpu_block_cache: libtorch's CPU tensors of 32 MiB and more come back from kept blocks
// (the same memory, no new mapping), smaller ones stay with libtorch's allocator, a block that
// does not fit is not handed out, release() unmaps what is kept, the raw interface works for
// both sizes, and threads allocating and freeing at once leave the books balanced.
#include "core/cpu_block_cache.h"

#include <c10/core/CPUAllocator.h>
#include <torch/types.h>

#include <QtTest>

#include <thread>
#include <vector>

using namespace gafx;

namespace {

// A float tensor of at least `mib` MiB.
torch::Tensor big(int64_t mib) { return torch::empty({mib << 18}, torch::kFloat32); }

} // namespace

class TestCpuBlockCache : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        install_cpu_block_cache();
        install_cpu_block_cache(); // idempotent
        QVERIFY(cpu_block_cache_installed());
        QVERIFY(cpu_block_cache_stats().limit_bytes >= int64_t(kCachedBlockMin));
    }
    void init() { release_cpu_block_cache(); }

    void freedBlockIsReused() {
        void* first = nullptr;
        {
            auto t = big(40);
            first = t.data_ptr();
            t.fill_(3.f);
        }
        const auto before = cpu_block_cache_stats();
        QCOMPARE(before.live_bytes, int64_t(0));
        QVERIFY(before.cached_bytes >= int64_t(40) << 20);
        auto again = big(40);
        QCOMPARE(again.data_ptr(), first);
        const auto after = cpu_block_cache_stats();
        QCOMPARE(after.hits, before.hits + 1);
        QCOMPARE(after.misses, before.misses);
        QCOMPARE(after.cached_bytes, int64_t(0));
        // Kept memory is ordinary memory: results are right in it.
        again.copy_(torch::arange(again.numel(), torch::kFloat32));
        QCOMPARE(again[12345].item<float>(), 12345.f);
    }

    void smallTensorsBypassTheCache() {
        const auto before = cpu_block_cache_stats();
        { auto t = torch::ones({(31 << 18)}, torch::kFloat32); QCOMPARE(t.sum().item<float>(), float(31 << 18)); }
        const auto after = cpu_block_cache_stats();
        QCOMPARE(after.hits + after.misses, before.hits + before.misses);
        QCOMPARE(after.cached_bytes, before.cached_bytes);
    }

    // A kept 34 MiB block cannot serve 80 MiB, nor an 80 MiB block a 34-36 MiB request (it
    // would waste more than an eighth of itself).
    void onlyFittingBlocksAreHandedOut() {
        void* small_block = nullptr;
        { auto t = big(34); small_block = t.data_ptr(); }
        auto large = big(80);
        QVERIFY(large.data_ptr() != small_block);
        void* large_block = large.data_ptr();
        large.reset();
        const auto before = cpu_block_cache_stats();
        auto medium = big(36);
        QVERIFY(medium.data_ptr() != large_block);
        QCOMPARE(cpu_block_cache_stats().misses, before.misses + 1);
    }

    // A kept block that cannot serve a request is unmapped rather than kept beside a new one
    // when both together would exceed the most ever live at once by more than an eighth.
    void keptBlocksAddNoPeak() {
        release_cpu_block_cache();
        { auto a = big(100); } // the live peak is 100 MiB now: the tests above stay under it
        QVERIFY(cpu_block_cache_stats().cached_bytes >= int64_t(100) << 20);
        { auto b = big(120); } // does not fit the 100 MiB block; 220 MiB would pass 120 + 15
        const auto s = cpu_block_cache_stats();
        QCOMPARE(s.live_bytes, int64_t(0));
        QVERIFY2(s.cached_bytes <= int64_t(120) << 20, qPrintable(QString::number(s.cached_bytes >> 20)));
        auto c = big(120); // the 120 MiB block is kept and reused
        QCOMPARE(cpu_block_cache_stats().hits, s.hits + 1);
    }

    void releaseUnmapsKeptBlocks() {
        { auto a = big(33), b = big(50); }
        QVERIFY(cpu_block_cache_stats().cached_bytes > 0);
        release_cpu_block_cache();
        QCOMPARE(cpu_block_cache_stats().cached_bytes, int64_t(0));
        const auto before = cpu_block_cache_stats();
        auto t = big(33); // maps afresh
        QCOMPARE(cpu_block_cache_stats().misses, before.misses + 1);
    }

    // raw_allocate / raw_deallocate go through the same deleter for cached and small blocks.
    void rawInterface() {
        c10::Allocator* a = c10::GetCPUAllocator();
        for (size_t bytes : {size_t(1000), size_t(kCachedBlockMin) + 1}) {
            void* p = a->raw_allocate(bytes);
            QVERIFY(p);
            static_cast<char*>(p)[bytes - 1] = 7;
            a->raw_deallocate(p);
        }
        QCOMPARE(cpu_block_cache_stats().live_bytes, int64_t(0));
    }

    void threadsKeepTheBooksBalanced() {
        const auto before = cpu_block_cache_stats();
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([] {
                for (int i = 0; i < 25; ++i) {
                    auto x = big(33);
                    x.data_ptr<float>()[0] = float(i);
                }
            });
        for (auto& th : threads) th.join();
        const auto after = cpu_block_cache_stats();
        QCOMPARE(after.live_bytes, int64_t(0));
        QCOMPARE((after.hits - before.hits) + (after.misses - before.misses), int64_t(100));
        QVERIFY(after.misses - before.misses <= 4); // one block per thread at most
    }
};

QTEST_GUILESS_MAIN(TestCpuBlockCache)
#include "test_cpu_block_cache.moc"
