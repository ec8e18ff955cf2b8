#pragma once
// libtorch's CPU tensors of 32 MiB and more kept for reuse instead of handed back to the kernel.
// glibc maps blocks above its mmap threshold afresh and unmaps them when freed, and that
// threshold cannot be set above 32 MiB (cpu_tuning sets it there), so every training step
// page-faulted in and zeroed its largest tensors again: the N x N attention matrices past ~900
// tokens in fp32 or ~1300 in bf16 (GAFX-U feeds AST 938 tokens, 3308 frames give 1650), paper-
// size GAFX-U activations. Unfused bf16 attention at 1650 tokens ran 0.49 s forward and
// backward with glibc's blocks and 0.06 s with kept ones (tests/bench/README.md). Blocks are
// mapped with transparent huge pages where the kernel offers them. Kept and live blocks together
// stay within an eighth over the most that was ever live at once (kept blocks that do not fit a
// request are unmapped first). Smaller tensors stay with libtorch's own allocator (glibc's heap,
// which keeps them).
#include <cstddef>
#include <cstdint>

namespace gafx {

// Allocations of at least this many bytes go through the cache.
constexpr size_t kCachedBlockMin = size_t(32) << 20;

struct CpuBlockCacheStats {
    int64_t hits = 0;         // large allocations served from a kept block
    int64_t misses = 0;       // large allocations that mapped a new block
    int64_t cached_bytes = 0; // free blocks kept now
    int64_t live_bytes = 0;   // large blocks in use now
    int64_t limit_bytes = 0;  // most free bytes kept: a quarter of physical memory, at most 16 GiB
};

// Routes libtorch's CPU allocations through the cache from now on (tensors made before keep
// their allocator); idempotent and thread-safe. tune_cpu_runtime calls it.
void install_cpu_block_cache();
bool cpu_block_cache_installed();

// Unmaps every kept free block: after a run, so an idle workbench gives its peak back.
void release_cpu_block_cache();

CpuBlockCacheStats cpu_block_cache_stats();

} // namespace gafx
