#include "core/cpu_block_cache.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/util/Exception.h>

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gafx {
namespace {

constexpr size_t kGranule = size_t(2) << 20; // huge-page size: blocks are whole huge pages

size_t round_up(size_t n) { return (n + kGranule - 1) / kGranule * kGranule; }

size_t default_limit() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    const size_t physical = pages > 0 && page > 0 ? size_t(pages) * size_t(page) : size_t(8) << 30;
    return std::min(physical / 4, size_t(16) << 30);
}

void* map_block(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); // fewer faults and TLB misses; advice only
#endif
    return p;
}

void free_block(void* p);

// Both allocate() signatures: libtorch 1.13 declares it const, 2.x not; copy_data is 2.x's.
class BlockCache final : public c10::Allocator {
public:
    explicit BlockCache(c10::Allocator* base) : base_(base), base_deleter_(base->raw_deleter()) {}

    c10::DataPtr allocate(size_t n) const { return const_cast<BlockCache*>(this)->take(n); }
    c10::DataPtr allocate(size_t n) { return take(n); }
    c10::DeleterFnPtr raw_deleter() const override { return &free_block; }
    void copy_data(void* dest, const void* src, size_t count) const {
        if (count) std::copy_n(static_cast<const char*>(src), count, static_cast<char*>(dest));
    }

    void give_back(void* p) {
        std::unique_lock<std::mutex> lock(mutex_);
        const auto it = live_.find(p);
        if (it == live_.end()) {
            lock.unlock();
            // A small block made through raw_allocate: its own allocator's.
            if (base_deleter_) base_deleter_(p);
            return;
        }
        const size_t bytes = it->second;
        live_.erase(it);
        live_bytes_ -= bytes;
        if (cached_bytes_ + bytes > limit_) {
            lock.unlock();
            munmap(p, bytes);
            return;
        }
        free_.emplace(bytes, p);
        cached_bytes_ += bytes;
    }

    void release() {
        std::multimap<size_t, void*> blocks;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            blocks.swap(free_);
            cached_bytes_ = 0;
        }
        for (const auto& [bytes, p] : blocks) munmap(p, bytes);
    }

    CpuBlockCacheStats stats() {
        std::lock_guard<std::mutex> lock(mutex_);
        return {hits_, misses_, int64_t(cached_bytes_), int64_t(live_bytes_), int64_t(limit_)};
    }

private:
    c10::DataPtr take(size_t n) {
        if (n < kCachedBlockMin) return base_->allocate(n);
        const size_t want = round_up(n);
        void* p = nullptr;
        size_t bytes = want;
        std::vector<std::pair<size_t, void*>> evicted;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            // The smallest kept block that fits, if it wastes under an eighth of itself.
            const auto it = free_.lower_bound(want);
            if (it != free_.end() && it->first - want <= it->first / 8) {
                bytes = it->first;
                p = it->second;
                free_.erase(it);
                cached_bytes_ -= bytes;
                ++hits_;
            } else {
                // Mapped memory stays within an eighth over the most that was ever in use at
                // once: kept blocks that do not fit this request go (largest first) rather than
                // add to the peak. The eighth lets a step whose sizes come in a different order
                // than the last one's settle instead of unmapping and mapping at every miss.
                peak_live_ = std::max(peak_live_, live_bytes_ + want);
                while (!free_.empty() && live_bytes_ + cached_bytes_ + want > peak_live_ + peak_live_ / 8) {
                    const auto largest = std::prev(free_.end());
                    evicted.emplace_back(largest->first, largest->second);
                    cached_bytes_ -= largest->first;
                    free_.erase(largest);
                }
            }
        }
        for (const auto& [size, block] : evicted) munmap(block, size);
        const bool hit = p != nullptr;
        if (!hit) {
            p = map_block(want);
            if (!p) {
                release(); // kept blocks that did not fit may be what the kernel is missing
                p = map_block(want);
            }
            TORCH_CHECK(p, "not enough memory: tried to allocate ", n, " bytes (", want >> 20,
                        " MiB) for a CPU tensor");
        }
        std::lock_guard<std::mutex> lock(mutex_);
        if (!hit) ++misses_;
        live_.emplace(p, bytes);
        live_bytes_ += bytes;
        return c10::DataPtr(p, p, &free_block, c10::Device(c10::DeviceType::CPU));
    }

    c10::Allocator* base_;
    c10::DeleterFnPtr base_deleter_;
    std::mutex mutex_;
    std::multimap<size_t, void*> free_; // kept blocks by size
    std::unordered_map<void*, size_t> live_;
    size_t cached_bytes_ = 0, live_bytes_ = 0, peak_live_ = 0;
    const size_t limit_ = default_limit();
    int64_t hits_ = 0, misses_ = 0;
};

std::atomic<BlockCache*> installed{nullptr};
std::mutex install_mutex;

void free_block(void* p) { installed.load()->give_back(p); }

} // namespace

void install_cpu_block_cache() {
    std::lock_guard<std::mutex> lock(install_mutex);
    if (installed.load()) return;
    // Never destroyed: tensors may be freed during static destruction.
    auto* cache = new BlockCache(c10::GetCPUAllocator());
    installed.store(cache);
    c10::SetCPUAllocator(cache, /*priority=*/1);
}

bool cpu_block_cache_installed() { return installed.load() != nullptr; }

void release_cpu_block_cache() {
    if (auto* cache = installed.load()) cache->release();
}

CpuBlockCacheStats cpu_block_cache_stats() {
    if (auto* cache = installed.load()) return cache->stats();
    return {};
}

} // namespace gafx
