#pragma once
// c10d's NCCL process group: the collectives of CUDA ranks, each on its own GPU. Built only
// against a CUDA libtorch with NCCL's header (GAFX_HAVE_NCCL, engine/CMakeLists.txt); elsewhere
// nccl_group refuses, naming the way out. Kept apart from train/distributed.cpp so that only this
// file needs the CUDA and NCCL headers.
#include <c10/util/intrusive_ptr.h>
#include <torch/version.h>

#include <chrono>
#include <string>

namespace c10d {
class Store;
class Backend;
class ProcessGroup;
} // namespace c10d

namespace gafx::train {

// The class c10d's concrete groups (Gloo, NCCL) derive from, with the same collective calls:
// ProcessGroup in libtorch 1.x, Backend in 2.x.
#if TORCH_VERSION_MAJOR >= 2
using C10dGroup = c10d::Backend;
#else
using C10dGroup = c10d::ProcessGroup;
#endif

// Whether this build has c10d's NCCL group.
bool have_nccl();
// Throws gafx::Error naming --backend nccl and what this build lacks, unless have_nccl().
void require_nccl();

// Binds this process to CUDA device `device_index`, checks through `store` that no two ranks
// share a GPU (NCCL refuses that), and returns the NCCL group of `size` ranks. Its collectives
// block the calling thread until done or `timeout` (as Gloo's do), so a lost rank surfaces as an
// exception from the collective's wait. Throws gafx::Error without NCCL, or naming the two ranks
// that share a GPU.
c10::intrusive_ptr<C10dGroup> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                         std::chrono::milliseconds timeout, int device_index);

} // namespace gafx::train
