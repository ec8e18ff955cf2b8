// c10d from our engine (train/distributed.h): the world read from torchrun's and Slurm's
// environment, two processes on 127.0.0.1 broadcasting and averaging in buckets as DDP does, a
// rank that cannot reach the store failing within its timeout with the address named, and a rank
// whose peer died failing instead of hanging.
#include "core/error.h"
#include "test_support.h"
#include "train/distributed.h"
#include "train/nccl_group.h"

#include <ATen/ATen.h>
#include <QElapsedTimer>
#include <torch/cuda.h>
#include <QtTest>

#include <map>

#include <sys/wait.h>
#include <unistd.h>

using namespace gafx;

namespace {


train::WorldSpec spec(int rank, int port, double timeout = 30) {
    train::WorldSpec w;
    w.rank = rank;
    w.world_size = 2;
    w.master_port = port;
    w.timeout_seconds = timeout;
    return w;
}

// What both ranks do; returns an empty string when every check held.
std::string collectives(int rank, int port) {
    auto world = train::World::join(spec(rank, port));
    if (world->spec().backend != "gloo") return "backend " + world->spec().backend + " for CPU ranks";
    std::vector<at::Tensor> params{rank == 0 ? at::arange(3, at::kFloat) : at::zeros({3})};
    world->broadcast(params);
    if (!params[0].equal(at::arange(3, at::kFloat))) return "broadcast";
    for (size_t bucket : {size_t(8), size_t(1) << 20}) { // a bucket per tensor, and one for all
        std::vector<at::Tensor> grads{at::full({3}, float(rank + 1)), at::full({2, 2}, 10.0f * float(rank + 1))};
        world->average(grads, bucket);
        if (!grads[0].equal(at::full({3}, 1.5f)) || !grads[1].equal(at::full({2, 2}, 15.0f))) return "average";
    }
    const auto all = world->all_gather(at::full({2}, float(rank)));
    if (all.size() != 2 || all[1][0].item<float>() != 1.0f) return "all_gather";
    world->barrier();
    return {};
}

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() {
        if (!train::have_gloo()) QSKIP("this build has no Gloo process group (libgloo-dev missing when it was built)");
    }

    void theWorldComesFromTorchrunOrSlurm() {
        const auto from = [](std::map<std::string, std::string> env) {
            return train::world_from_env([env](const char* name) -> const char* {
                const auto it = env.find(name);
                return it == env.end() ? nullptr : it->second.c_str();
            });
        };
        const auto single = from({});
        QCOMPARE(single.world_size, 1);
        QCOMPARE(single.source, std::string("single"));
        const auto tr = from({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "n1"},
                              {"MASTER_PORT", "1234"}});
        QCOMPARE(tr.rank, 3);
        QCOMPARE(tr.world_size, 4);
        QCOMPARE(tr.local_rank, 1);
        QCOMPARE(tr.local_world_size, 0);
        QCOMPARE(from({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_WORLD_SIZE", "2"}}).local_world_size, 2);
        QCOMPARE(tr.master_addr, std::string("n1"));
        QCOMPARE(tr.master_port, 1234);
        const auto sl = from({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                              {"SLURM_JOB_NODELIST", "gpu[07-09,12],cpu1"}, {"SLURM_JOB_ID", "4242"}});
        QCOMPARE(sl.source, std::string("slurm"));
        QCOMPARE(sl.rank, 5);
        QCOMPARE(sl.world_size, 8);
        QCOMPARE(sl.master_addr, std::string("gpu07"));
        QCOMPARE(sl.master_port, 29500 + 242);
        // One Slurm task is not a world: an sbatch script's single task trains alone.
        QCOMPARE(from({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).world_size, 1);
        QCOMPARE(train::first_slurm_host("a1,b2"), std::string("a1"));
        QCOMPARE(train::first_slurm_host("node[001-004]-ib"), std::string("node001-ib"));
        QVERIFY(test::error_of([&] { from({{"RANK", "4"}, {"WORLD_SIZE", "4"}}); }).contains("RANK"));
        QVERIFY(test::error_of([&] { from({{"RANK", "0"}}); }).contains("WORLD_SIZE"));
        QVERIFY(test::error_of([&] { from({{"MASTER_PORT", "http"}}); }).contains("MASTER_PORT"));
    }

    // Gloo on CPU, NCCL on CUDA where built, and a choice that cannot work refused before any rank
    // waits for the others.
    void theBackendFollowsTheDevice() {
        QCOMPARE(train::resolve_backend("auto", "cpu"), std::string("gloo"));
        QCOMPARE(train::resolve_backend("", "cpu"), std::string("gloo"));
        QCOMPARE(train::resolve_backend("gloo", "cuda:1"), std::string("gloo"));
        const bool nccl = train::have_nccl() && torch::cuda::device_count() >= 1;
        QCOMPARE(train::resolve_backend("auto", "cuda"), std::string(nccl ? "nccl" : "gloo"));
        // More ranks on this node than GPUs: they share, which only Gloo allows.
        QCOMPARE(train::resolve_backend("auto", "cuda", int(torch::cuda::device_count()) + 1), std::string("gloo"));
        QString error = test::error_of([] { train::resolve_backend("mpi", "cpu"); });
        QVERIFY2(error.contains(QStringLiteral("--backend mpi")) && error.contains(QStringLiteral("auto, gloo or nccl")),
                 qPrintable(error));
        error = test::error_of([] { train::resolve_backend("nccl", "cpu"); });
        QVERIFY2(error.contains(QStringLiteral("--backend nccl")), qPrintable(error));
        QVERIFY2(error.contains(train::have_nccl() ? QStringLiteral("--device cuda") : QStringLiteral("without c10d's NCCL")),
                 qPrintable(error));
        // Refused at once, before the store: rank 1 would otherwise wait for a rank 0 that never comes.
        QElapsedTimer t;
        t.start();
        train::WorldSpec w = spec(1, test::free_loopback_port(), 30);
        w.backend = "nccl";
        error = test::error_of([&] { train::World::join(w); });
        QVERIFY2(error.contains(QStringLiteral("--backend nccl")), qPrintable(error));
        QVERIFY2(t.elapsed() < 10000, "it waited for the store before refusing");
        QCOMPARE(train::rank_cuda_device("cuda:3", 0, 8), 3);
        QCOMPARE(train::rank_cuda_device("cuda", 5, 4), 1);
        QCOMPARE(train::rank_cuda_device("cuda", 2, 0), 0);
    }

    void twoRanksBroadcastAndAverage() {
        const std::string bad = test::run_two_ranks(collectives);
        QVERIFY2(bad.empty(), bad.c_str());
    }

    void aRankThatCannotReachTheStoreSaysSo() {
        QElapsedTimer t;
        t.start();
        const QString error = test::error_of([&] { train::World::join(spec(1, test::free_loopback_port(), 2)); });
        QVERIFY2(error.contains(QStringLiteral("could not join within 2 s")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("127.0.0.1:")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("is rank 0 running")), qPrintable(error));
        QVERIFY2(t.elapsed() < 60000, "it waited far past its timeout");
    }

    void aDeadPeerStopsTheOtherRank() {
        const int port = test::free_loopback_port();
        const pid_t child = fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            try {
                auto world = train::World::join(spec(1, port, 5));
                world->barrier();
            } catch (...) {
            }
            _exit(0); // gone before the gradients
        }
        auto world = train::World::join(spec(0, port, 5));
        world->barrier();
        waitpid(child, nullptr, 0);
        QElapsedTimer t;
        t.start();
        std::vector<at::Tensor> grads{at::ones({4})};
        const QString error = test::error_of([&] { world->average(grads); });
        QVERIFY2(error.contains(QStringLiteral("another rank stopped")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("rank 0 of 2")), qPrintable(error));
        QVERIFY2(t.elapsed() < 60000, "it waited far past its timeout");
    }
};

QTEST_GUILESS_MAIN(TestDistributed)
#include "test_distributed.moc"
