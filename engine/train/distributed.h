#pragma once
// Data-parallel ranks on PyTorch's c10d: who this process is (torchrun's environment, Slurm's, or
// a world of one), the rendezvous through c10d's TCPStore, and a joined process group (Gloo;
// NCCL where a CUDA libtorch has it) with the two collectives data parallelism needs: parameters
// broadcast from rank 0, and gradients averaged in buckets. No transport or collective of our own.
#include "core/error.h"
#include "train/world_spec.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace gafx::train {

// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT when RANK is set; else
// Slurm's SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of SLURM_JOB_NODELIST and
// MASTER_PORT (or 29500 + the job id's last three digits, so two jobs on one node differ) when
// SLURM_PROCID is set and SLURM_NTASKS > 1; else a world of one. Throws gafx::Error naming the
// variable whose value does not parse or fit (a rank outside 0..size-1). GAFX_DIST_TIMEOUT
// (seconds) bounds the join and every collective (default 300).
WorldSpec world_from_env(const std::function<const char*(const char*)>& getenv_fn = {});

// The first host of a Slurm node list: "gpu[07-09,12],cpu1" -> "gpu07".
std::string first_slurm_host(const std::string& nodelist);

// Whether this build has the Gloo process group (Debian's libtorch does, with libgloo-dev).
bool have_gloo();

// The backend a run's ranks use: "auto" (or empty) is NCCL for ranks on CUDA where this build
// has it (train/nccl_group.h) and each of the `local_ranks` on this node (0: not known) can have
// a GPU of its own, else Gloo. Throws gafx::Error naming --backend for an unknown name, for NCCL
// on a CPU run, or for NCCL in a build without it.
std::string resolve_backend(const std::string& requested, const std::string& device, int local_ranks = 0);

// The CUDA device a rank trains on: N for "cuda:N"; for plain "cuda", one GPU per rank on a node,
// its local rank modulo the `devices` it sees (as Slurm's --gpus-per-task leaves each rank only
// its own).
int rank_cuda_device(const std::string& device, int local_rank, int devices);

// A collective failed because another rank stopped or cannot be reached: the run stops where
// its last checkpoint is, resumable at any world size. `path` names this rank.
class RankLost : public Error {
public:
    using Error::Error;
};

class World {
public:
    // Joins: rank 0 serves the store at master_addr:master_port, the others connect to it; all
    // wait until world_size have come. The backend is resolve_backend(spec.backend, spec.device,
    // spec.local_world_size), and spec() holds the one chosen. Over NCCL, host tensors travel
    // through this rank's GPU. Throws gafx::Error within timeout_seconds when the store cannot be
    // reached or not everyone came, naming the address and what to check.
    static std::unique_ptr<World> join(const WorldSpec& spec);
    ~World();

    int rank() const;
    int size() const;
    const WorldSpec& spec() const;

    // Every rank's `tensors` become rank `root`'s.
    void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
    // Every tensor becomes the mean over ranks. Summed in flat buckets of about `bucket_bytes`
    // (one collective per bucket, in the given order), then divided by the world size: the
    // semantics of DDP's gradient averaging. Throws RankLost when another rank is gone.
    void average(std::vector<at::Tensor>& tensors, size_t bucket_bytes = 25u << 20);
    // The same buckets, summed and not divided: for gradients of a loss already divided by the
    // global batch, each rank's share of it.
    void sum(std::vector<at::Tensor>& tensors, size_t bucket_bytes = 25u << 20);
    // Sum over ranks, in place.
    void sum(at::Tensor& tensor);
    // Starts summing `tensor` over ranks in place and returns at once (the collective runs on the
    // backend's own threads or streams); finish_sums() waits for every sum started, in the order
    // they were started, and throws RankLost as sum() does. Every rank must start the same sums
    // in the same order. `tensor` must stay alive and untouched until then.
    void start_sum(const at::Tensor& tensor);
    void finish_sums();
    // Rank r's tensor of every rank, in rank order (same shape on every rank).
    std::vector<at::Tensor> all_gather(const at::Tensor& tensor);
    void barrier();

private:
    void reduce(std::vector<at::Tensor>& tensors, size_t bucket_bytes, bool mean);
    struct Impl;
    explicit World(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

} // namespace gafx::train
