#!/usr/bin/env python3
"""The issue's speed comparison in one command: AST-Tiny training step, C++ engine against the
PyTorch eager peer, fp32 and bf16, interleaved over several rounds so that a noisy neighbour on a
shared machine slows both sides alike. Prints each round and the median of the rounds.

Usage: tests/bench/compare_peer.py [--gafx build/app/gafx] [--rounds 3] [--steps 10] [--warmup 2]
                                   [--peer-env same|default] [--frames 1024] [--precisions fp32,bf16]
--frames 1876 gives AST the 938 tokens GAFX-U feeds it, 3308 gives 1650 tokens.
--peer-env same (the default) runs the peer under the process settings gafx gives itself
(engine/core/cpu_tuning.h: allocator, GOMP_SPINCOUNT, ATEN_CPU_CAPABILITY, OPENBLAS_CORETYPE),
so the ratio measures the engine's code; "default" runs it as a user would start it (with
OPENBLAS_CORETYPE only where OpenBLAS would otherwise pick its Prescott kernel).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def gafx_env(gafx):
    """The variables gafx sets for itself, read back from `gafx --version`."""
    out = subprocess.run([gafx, "--version"], capture_output=True, text=True, check=True).stdout
    env = {}
    for line in out.splitlines():
        if line.startswith("tuning") and "=" in line:
            k, v = line.split(None, 1)[1].split("=", 1)
            env[k] = v
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gafx", default=os.path.join(HERE, "..", "..", "build", "app", "gafx"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--peer-env", choices=["same", "default"], default="same")
    ap.add_argument("--frames", type=int, default=1024)
    ap.add_argument("--precisions", default="fp32,bf16")
    a = ap.parse_args()

    tuned = gafx_env(a.gafx)
    peer_env = dict(os.environ)
    if a.peer_env == "same":
        peer_env.update(tuned)
        # gafx sets these two with mallopt(); glibc reads the same values from its tunables.
        peer_env["GLIBC_TUNABLES"] = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912"
    elif "OPENBLAS_CORETYPE" in tuned:
        peer_env["OPENBLAS_CORETYPE"] = tuned["OPENBLAS_CORETYPE"]
    print(f"gafx tuning: {tuned}; peer env: {a.peer_env}", flush=True)

    precisions = [p for p in a.precisions.split(",") if p]
    common = ["--frames", str(a.frames), "--batch", "4", "--steps", str(a.steps), "--warmup", str(a.warmup),
              "--threads", str(a.threads)]
    rows = {(side, p): [] for side in ("cpp", "peer") for p in precisions}
    for r in range(a.rounds):
        for p in precisions:
            cpp = json.loads(subprocess.run(
                [a.gafx, "bench", "train", "--extractor", "none", "--classifier", "ast-tiny", "--precision", p,
                 "--json"] + common, capture_output=True, text=True, check=True).stdout)
            peer = json.loads(subprocess.run(
                [sys.executable, os.path.join(HERE, "peer_train_step.py"), "--precision", p, "--json"] + common,
                capture_output=True, text=True, check=True, env=peer_env).stdout)["results"][0]
            rows[("cpp", p)].append((cpp["median_s"], cpp["classifier_gflops"], cpp["matmul_peak_gflops"]))
            rows[("peer", p)].append((peer["median_s"], peer["gflops"], peer["peak_gflops"]))
            print(f"round {r + 1} {p}: C++ {cpp['median_s']:.3f} s ({cpp['classifier_gflops']:.0f} GFLOP/s, "
                  f"peak {cpp['matmul_peak_gflops']:.0f}), peer {peer['median_s']:.3f} s "
                  f"({peer['gflops']:.0f} GFLOP/s) -> {peer['median_s'] / cpp['median_s']:.2f}x", flush=True)

    print(f"\nmedian of {a.rounds} rounds (each the median of {a.steps} steps), {a.frames} frames:")
    print(f"{'precision':9} {'C++ s':>7} {'peer s':>7} {'speed-up':>8} {'C++ GFLOP/s':>11} {'matmul peak':>11} {'% of peak':>9}")
    for p in precisions:
        c = statistics.median(t for t, _, _ in rows[("cpp", p)])
        q = statistics.median(t for t, _, _ in rows[("peer", p)])
        g = statistics.median(x for _, x, _ in rows[("cpp", p)])
        pk = statistics.median(x for _, _, x in rows[("cpp", p)])
        print(f"{p:9} {c:7.3f} {q:7.3f} {q / c:7.2f}x {g:11.1f} {pk:11.1f} {100 * g / pk:8.0f}%")


if __name__ == "__main__":
    main()
