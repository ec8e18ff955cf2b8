#include "train/distributed.h"

#include "core/error.h"
#include "train/nccl_group.h"

#include <ATen/ATen.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <utility>

#if __has_include(<gloo/algorithm.h>) && __has_include(<torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1 // the header's own switch (libtorch's CMake package sets it too); libtorch_cpu holds the code
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#define GAFX_HAVE_GLOO 1
#endif

namespace gafx::train {
namespace {

long parse_number(const char* name, const char* text, long lo, long hi) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(text, &end, 10);
    if (!*text || *end || errno || v < lo || v > hi)
        throw Error(name, std::string("'") + text + "' is not a number from " + std::to_string(lo) + " to " +
                              std::to_string(hi),
                    "unset it, or set it as torchrun or Slurm would");
    return v;
}

} // namespace

std::string first_slurm_host(const std::string& nodelist) {
    // The first entry: up to a comma outside brackets.
    size_t end = 0;
    for (int depth = 0; end < nodelist.size(); ++end) {
        if (nodelist[end] == '[') ++depth;
        else if (nodelist[end] == ']') --depth;
        else if (nodelist[end] == ',' && depth == 0) break;
    }
    const std::string first = nodelist.substr(0, end);
    const size_t open = first.find('[');
    if (open == std::string::npos) return first;
    // prefix[a-b,c]suffix -> prefix + a (its digits as written: zero padding kept).
    const size_t close = first.find(']', open);
    std::string range = first.substr(open + 1, (close == std::string::npos ? first.size() : close) - open - 1);
    range = range.substr(0, std::min(range.find(','), range.find('-')));
    return first.substr(0, open) + range + (close == std::string::npos ? "" : first.substr(close + 1));
}

WorldSpec world_from_env(const std::function<const char*(const char*)>& getenv_fn) {
    const auto get = [&](const char* name) -> const char* {
        const char* v = getenv_fn ? getenv_fn(name) : std::getenv(name);
        return v && *v ? v : nullptr;
    };
    WorldSpec w;
    if (const char* t = get("GAFX_DIST_TIMEOUT")) w.timeout_seconds = double(parse_number("GAFX_DIST_TIMEOUT", t, 1, 86400));
    if (const char* port = get("MASTER_PORT")) w.master_port = int(parse_number("MASTER_PORT", port, 1, 65535));
    if (const char* addr = get("MASTER_ADDR")) w.master_addr = addr;
    if (const char* rank = get("RANK")) {
        w.source = "torchrun";
        const char* size = get("WORLD_SIZE");
        if (!size) throw Error("WORLD_SIZE", "RANK is set but WORLD_SIZE is not", "set both, as torchrun does");
        w.world_size = int(parse_number("WORLD_SIZE", size, 1, 65536));
        w.rank = int(parse_number("RANK", rank, 0, w.world_size - 1));
        if (const char* local = get("LOCAL_RANK")) w.local_rank = int(parse_number("LOCAL_RANK", local, 0, 65535));
        if (const char* n = get("LOCAL_WORLD_SIZE")) w.local_world_size = int(parse_number("LOCAL_WORLD_SIZE", n, 1, 65536));
        return w;
    }
    const char* procid = get("SLURM_PROCID");
    const char* ntasks = get("SLURM_NTASKS");
    if (procid && ntasks && parse_number("SLURM_NTASKS", ntasks, 1, 65536) > 1) {
        w.source = "slurm";
        w.world_size = int(parse_number("SLURM_NTASKS", ntasks, 1, 65536));
        w.rank = int(parse_number("SLURM_PROCID", procid, 0, w.world_size - 1));
        if (const char* local = get("SLURM_LOCALID")) w.local_rank = int(parse_number("SLURM_LOCALID", local, 0, 65535));
        if (!get("MASTER_ADDR")) {
            const char* nodes = get("SLURM_JOB_NODELIST");
            if (!nodes) nodes = get("SLURM_NODELIST");
            if (!nodes) throw Error("SLURM_JOB_NODELIST", "not set, so rank 0's host is unknown", "set MASTER_ADDR");
            w.master_addr = first_slurm_host(nodes);
        }
        if (!get("MASTER_PORT"))
            if (const char* job = get("SLURM_JOB_ID")) w.master_port = 29500 + int(parse_number("SLURM_JOB_ID", job, 0, 1L << 40) % 1000);
        return w;
    }
    return w;
}

bool have_gloo() {
#ifdef GAFX_HAVE_GLOO
    return true;
#else
    return false;
#endif
}

std::string resolve_backend(const std::string& requested, const std::string& device, int local_ranks) {
    const bool cuda = device.rfind("cuda", 0) == 0;
    if (requested.empty() || requested == "auto")
        return cuda && have_nccl() && local_ranks <= int(torch::cuda::device_count()) ? "nccl" : "gloo";
    if (requested == "gloo") return requested;
    if (requested != "nccl")
        throw Error("--backend " + requested, "not a c10d backend gafx knows", "use auto, gloo or nccl");
    require_nccl();
    if (!cuda)
        throw Error("--backend nccl", "NCCL moves CUDA tensors only, and this run trains on " + device,
                    "train with --device cuda, or use --backend gloo");
    return requested;
}

int rank_cuda_device(const std::string& device, int local_rank, int devices) {
    if (device.rfind("cuda:", 0) == 0) return int(parse_number("--device", device.c_str() + 5, 0, 65535));
    return local_rank % std::max(1, devices);
}

#ifdef GAFX_HAVE_GLOO

struct World::Impl {
    WorldSpec spec;
    c10::intrusive_ptr<c10d::Store> store;
    // Gloo's or NCCL's group, through the base class both share in this libtorch.
    c10::intrusive_ptr<C10dGroup> group;
    // NCCL's: this rank's GPU, where host tensors go for a collective. Unset for Gloo.
    std::optional<at::Device> wire;

    at::Tensor on_wire(const at::Tensor& t) const { return wire && t.device() != *wire ? t.to(*wire) : t; }

    // What a collective returns to wait on: ProcessGroup::Work in libtorch 1.x, c10d::Work in 2.x.
    using Work = decltype(std::declval<C10dGroup&>().allreduce(std::declval<std::vector<at::Tensor>&>()));
    struct Pending {
        Work work;
        std::vector<at::Tensor> wire; // what travels (on NCCL's GPU for a host tensor)
        at::Tensor dest;
    };
    std::vector<Pending> pending; // start_sum's, in the order started

    RankLost lost(const char* what, const std::exception& e) const {
        return RankLost("rank " + std::to_string(spec.rank) + " of " + std::to_string(spec.world_size),
                        std::string(what) + " failed: another rank stopped or cannot be reached (" + e.what() + ")",
                        "see the other ranks' output; the run is resumable from its last checkpoint");
    }

    // c10d reports a dead peer or a timeout as an exception with its own words; ours name the rank.
    template <typename F> void collective(const char* what, F&& f) {
        try {
            f()->wait(std::chrono::milliseconds(int64_t(spec.timeout_seconds * 1000)));
        } catch (const std::exception& e) {
            throw lost(what, e);
        }
    }
};

std::unique_ptr<World> World::join(const WorldSpec& given) {
    WorldSpec spec = given;
    spec.backend = resolve_backend(spec.backend, spec.device, spec.local_world_size);
    auto impl = std::make_unique<Impl>();
    impl->spec = spec;
    const std::string where = spec.master_addr + ":" + std::to_string(spec.master_port);
    try {
        c10d::TCPStoreOptions o;
        o.port = uint16_t(spec.master_port);
        o.isServer = spec.rank == 0;
        o.numWorkers = size_t(spec.world_size);
        o.waitWorkers = true;
        o.timeout = std::chrono::milliseconds(int64_t(spec.timeout_seconds * 1000));
        impl->store = c10::make_intrusive<c10d::TCPStore>(spec.master_addr, o);
        if (spec.backend == "nccl") {
            const int gpu = rank_cuda_device(spec.device, spec.local_rank, int(torch::cuda::device_count()));
            impl->group = nccl_group(impl->store, spec.rank, spec.world_size, o.timeout, gpu);
            impl->wire = at::Device(at::kCUDA, c10::DeviceIndex(gpu));
            return std::unique_ptr<World>(new World(std::move(impl)));
        }
        auto opts = c10d::ProcessGroupGloo::Options::create();
        opts->timeout = o.timeout;
        // Reach the others the way they reach rank 0: over loopback when it is this machine.
        opts->devices.push_back(spec.master_addr == "127.0.0.1" || spec.master_addr == "localhost"
                                    ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                    : c10d::ProcessGroupGloo::createDefaultDevice());
        impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, spec.rank, spec.world_size, opts);
    } catch (const Error&) {
        throw; // ours already names the file or flag and the fix
    } catch (const std::exception& e) {
        throw Error(where,
                    "rank " + std::to_string(spec.rank) + " of " + std::to_string(spec.world_size) +
                        " could not join within " + std::to_string(int(spec.timeout_seconds)) + " s (" + e.what() + ")",
                    spec.rank == 0 ? "is the port free, and did every rank start?"
                                   : "is rank 0 running, and are MASTER_ADDR and MASTER_PORT its address?");
    }
    return std::unique_ptr<World>(new World(std::move(impl)));
}

void World::broadcast(std::vector<at::Tensor>& tensors, int root) {
    c10d::BroadcastOptions o;
    o.rootRank = root;
    for (auto& t : tensors) {
        std::vector<at::Tensor> one{impl_->on_wire(t)};
        impl_->collective("broadcast", [&] { return impl_->group->broadcast(one, o); });
        if (!one[0].is_same(t)) t.copy_(one[0]);
    }
}

void World::average(std::vector<at::Tensor>& tensors, size_t bucket_bytes) { reduce(tensors, bucket_bytes, true); }
void World::sum(std::vector<at::Tensor>& tensors, size_t bucket_bytes) { reduce(tensors, bucket_bytes, false); }

void World::reduce(std::vector<at::Tensor>& tensors, size_t bucket_bytes, bool mean) {
    size_t i = 0;
    while (i < tensors.size()) {
        // A bucket: consecutive tensors of one dtype, up to bucket_bytes (at least one tensor).
        size_t j = i, bytes = 0;
        std::vector<at::Tensor> flat;
        while (j < tensors.size() && tensors[j].scalar_type() == tensors[i].scalar_type() &&
               (j == i || bytes + tensors[j].nbytes() <= bucket_bytes)) {
            bytes += tensors[j].nbytes();
            flat.push_back(tensors[j].reshape({-1}));
            ++j;
        }
        std::vector<at::Tensor> bucket{impl_->on_wire(at::cat(flat))};
        impl_->collective("gradient all-reduce", [&] { return impl_->group->allreduce(bucket); });
        if (mean) bucket[0].div_(double(impl_->spec.world_size));
        int64_t off = 0;
        for (size_t k = i; k < j; ++k) {
            const int64_t n = tensors[k].numel();
            tensors[k].copy_(bucket[0].narrow(0, off, n).view(tensors[k].sizes()));
            off += n;
        }
        i = j;
    }
}

void World::sum(at::Tensor& tensor) {
    std::vector<at::Tensor> one{impl_->on_wire(tensor)};
    impl_->collective("all-reduce", [&] { return impl_->group->allreduce(one); });
    if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
}

void World::start_sum(const at::Tensor& tensor) {
    Impl::Pending p;
    p.dest = tensor;
    p.wire = {impl_->on_wire(tensor)};
    try {
        p.work = impl_->group->allreduce(p.wire);
    } catch (const std::exception& e) {
        throw impl_->lost("gradient all-reduce", e);
    }
    impl_->pending.push_back(std::move(p));
}

void World::finish_sums() {
    std::vector<Impl::Pending> pending;
    pending.swap(impl_->pending); // a sum that fails leaves none pending for the next step
    for (auto& p : pending) {
        impl_->collective("gradient all-reduce", [&] { return p.work; });
        if (!p.wire[0].is_same(p.dest)) p.dest.copy_(p.wire[0]);
    }
}

std::vector<at::Tensor> World::all_gather(const at::Tensor& tensor) {
    std::vector<at::Tensor> in{impl_->on_wire(tensor.contiguous())};
    std::vector<std::vector<at::Tensor>> out(1);
    for (int r = 0; r < impl_->spec.world_size; ++r) out[0].push_back(at::empty_like(in[0]));
    impl_->collective("all-gather", [&] { return impl_->group->allgather(out, in); });
    for (auto& t : out[0]) t = t.to(tensor.device());
    return out[0];
}

void World::barrier() {
    impl_->collective("barrier", [&] { return impl_->group->barrier(); });
}

#else

struct World::Impl {
    WorldSpec spec;
};

std::unique_ptr<World> World::join(const WorldSpec& given) {
    WorldSpec spec = given;
    spec.backend = resolve_backend(spec.backend, spec.device, spec.local_world_size);
    if (spec.world_size == 1) {
        auto impl = std::make_unique<Impl>();
        impl->spec = spec;
        return std::unique_ptr<World>(new World(std::move(impl)));
    }
    throw Error("--nproc", "this gafx was built without c10d's Gloo process group (no gloo headers)",
                "install libgloo-dev and rebuild, or train with one process");
}
void World::broadcast(std::vector<at::Tensor>&, int) {}
void World::average(std::vector<at::Tensor>&, size_t) {}
void World::sum(std::vector<at::Tensor>&, size_t) {}
void World::reduce(std::vector<at::Tensor>&, size_t, bool) {}
void World::sum(at::Tensor&) {}
void World::start_sum(const at::Tensor&) {}
void World::finish_sums() {}
std::vector<at::Tensor> World::all_gather(const at::Tensor& t) { return {t}; }
void World::barrier() {}

#endif

World::World(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
World::~World() = default;
int World::rank() const { return impl_->spec.rank; }
int World::size() const { return impl_->spec.world_size; }
const WorldSpec& World::spec() const { return impl_->spec; }

} // namespace gafx::train
