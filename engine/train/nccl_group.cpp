#include "train/nccl_group.h"

#include "core/error.h"

#if TORCH_VERSION_MAJOR >= 2
#include <torch/csrc/distributed/c10d/Backend.hpp>
#else
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#endif

#ifdef GAFX_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1 // the header's own switch (a CUDA libtorch's CMake package sets it too)
#endif
#include "train/heartbeat.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>

#include <cstdio>
#include <cstdlib>
#endif

namespace gafx::train {

bool have_nccl() {
#ifdef GAFX_HAVE_NCCL
    return true;
#else
    return false;
#endif
}

void require_nccl() {
    if (!have_nccl())
        throw Error("--backend nccl",
                    "this gafx was built without c10d's NCCL group (it needs a CUDA libtorch and NCCL's header)",
                    "use --backend gloo, or build against a CUDA libtorch (docs/cluster.md, \"NCCL\")");
}

#ifdef GAFX_HAVE_NCCL

namespace {

// This GPU as every rank can compare it: host and PCI address (device indices differ between
// ranks that see different CUDA_VISIBLE_DEVICES).
std::string gpu_address(int device_index) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(device_index);
    char pci[32];
    std::snprintf(pci, sizeof pci, "%04x:%02x:%02x", unsigned(p->pciDomainID), unsigned(p->pciBusID),
                  unsigned(p->pciDeviceID));
    return host_name() + " " + pci;
}

void check_own_gpu(c10d::Store& store, int rank, int size, int device_index) {
    const std::string mine = gpu_address(device_index);
    store.set("gafx/gpu/" + std::to_string(rank), std::vector<uint8_t>(mine.begin(), mine.end()));
    int shared_with = -1;
    for (int r = 0; r < size; ++r) {
        if (r == rank) continue;
        const auto v = store.get("gafx/gpu/" + std::to_string(r));
        if (shared_with < 0 && std::string(v.begin(), v.end()) == mine) shared_with = r;
    }
    // Rank 0 serves the store: it stays until every rank has read, so that a refusal reaches all
    // of them as this message rather than as a lost store.
    const std::string done = "gafx/gpu/read/" + std::to_string(rank);
    store.set(done, std::vector<uint8_t>{1});
    if (rank == 0) {
        std::vector<std::string> all;
        for (int r = 0; r < size; ++r) all.push_back("gafx/gpu/read/" + std::to_string(r));
        store.wait(all);
    }
    if (shared_with >= 0) {
        const int r = shared_with;
        throw Error("--backend nccl",
                    "ranks " + std::to_string(std::min(r, rank)) + " and " + std::to_string(std::max(r, rank)) +
                        " are on one GPU (" + mine + "); NCCL gives each rank its own",
                    "start at most one rank per GPU, or use --backend gloo to share one");
    }
}

} // namespace

c10::intrusive_ptr<C10dGroup> nccl_group(const c10::intrusive_ptr<c10d::Store>& store, int rank, int size,
                                         std::chrono::milliseconds timeout, int device_index) {
    c10::cuda::set_device(c10::DeviceIndex(device_index));
    check_own_gpu(*store, rank, size, device_index);
    // A collective waits on the host until done or the timeout, then throws: a lost rank ends the
    // run as with Gloo, instead of NCCL's watchdog killing the process. Libtorch 1.x reads the
    // first name, 2.x the second. A user's own setting is kept.
    ::setenv("NCCL_BLOCKING_WAIT", "1", 0);
    ::setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank, size, opts);
}

#else

c10::intrusive_ptr<C10dGroup> nccl_group(const c10::intrusive_ptr<c10d::Store>&, int, int, std::chrono::milliseconds,
                                         int) {
    require_nccl();
    return {};
}

#endif

} // namespace gafx::train
