#pragma once
// Who this process is among a run's data-parallel ranks: the part of train/distributed.h that
// options carry, without its tensor headers.
#include <string>

namespace gafx::train {

struct WorldSpec {
    int rank = 0;
    int world_size = 1;
    int local_rank = 0;
    int local_world_size = 0; // ranks on this node (torchrun's LOCAL_WORLD_SIZE); 0: not known
    std::string master_addr = "127.0.0.1";
    int master_port = 29500;
    // gloo | nccl | auto (resolve_backend: NCCL for CUDA ranks where this gafx has it, else Gloo)
    std::string backend = "auto";
    std::string device = "cpu"; // where this rank trains (cpu, cuda:N); NCCL's ranks talk on that GPU
    double timeout_seconds = 300; // joining, and every collective after
    std::string source = "single"; // torchrun | slurm | single: where the numbers came from
};

} // namespace gafx::train
