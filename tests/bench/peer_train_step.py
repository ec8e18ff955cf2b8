#!/usr/bin/python3
"""PyTorch-eager peer of `gafx bench train`: one AST training step, timed.

Mirrors engine/models/ast.{h,cpp} and engine/models/vit_block.{h,cpp} op for op (no timm):
[B, frames, 128] -> unsqueeze(1).transpose(2, 3) -> [B, 1, 128, frames] -> 16x16/16 patch conv ->
[B, f*t, D] frequency-major -> cat(cls, dist, patches) + pos_embed -> pre-norm blocks (LayerNorm
eps 1e-6, softmax in fp32, exact GELU) -> norm -> mean of the cls and dist outputs -> LayerNorm ->
Linear.

A timed step is: forward on a random input + cross-entropy on random labels + backward + Adam
step (lr 5e-5). bf16 runs the forward under torch.autocast('cpu', dtype=torch.bfloat16) and takes
the loss on fp32 logits, as engine/train/step.cpp does (1.13's CPU autocast runs cross_entropy in
fp32 anyway); the attention softmax stays fp32 because the model asks for it.

Run with Debian's python, which has torch (1.13, the same libtorch the C++ engine links):
    /usr/bin/python3 tests/bench/peer_train_step.py --precision both --steps 10 --warmup 2
On a GPU (--device cuda; scripts/device/run.sh runs it beside `gafx bench train --device cuda`)
it mirrors the engine's GPU path instead: attention through scaled_dot_product_attention,
autocast on CUDA, the batch copied from pinned host memory each step, torch.optim.Adam's default
(multi-tensor) update, a synchronisation at the end of every timed step, and the caching
allocator's peak memory.
"""
import argparse
import json
import math
import os
import statistics
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["ast-tiny", "ast-small"], default="ast-tiny")
    p.add_argument("--frames", type=int, default=1024)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--steps", type=int, default=20, help="timed steps per precision")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per precision")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--precision", choices=["fp32", "bf16", "both"], default="both")
    p.add_argument("--classes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    p.add_argument("--profile", action="store_true",
                   help="also profile one step per precision with torch.profiler; top ops by self CPU")
    p.add_argument("--profile-top", type=int, default=8)
    return p.parse_args()


ARGS = parse_args()
# OpenBLAS keeps its own thread pool; match it to --threads before torch loads it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", str(ARGS.threads))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

CONFIGS = {  # embed_dim, depth, heads, mlp_ratio (DeiT-Tiny, DeiT-Small)
    "ast-tiny": (192, 12, 3, 4),
    "ast-small": (384, 12, 6, 4),
}
BINS, PATCH = 128, 16


def trunc_normal_(t, std=0.02, lo=-2.0, hi=2.0):
    # As engine/models/vit_block.cpp (and torch.nn.init.trunc_normal_): init only, not timed.
    with torch.no_grad():
        return nn.init.trunc_normal_(t, std=std, a=lo, b=hi)


def vit_layer_norm(dim):
    return nn.LayerNorm(dim, eps=1e-6)


def vit_linear(i, o):
    lin = nn.Linear(i, o)
    trunc_normal_(lin.weight)
    nn.init.zeros_(lin.bias)
    return lin


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = 1.0 / math.sqrt(dim // heads)
        self.qkv = vit_linear(dim, 3 * dim)
        self.proj = vit_linear(dim, dim)

    def forward(self, x):
        b, n, d = x.shape
        parts = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = parts[0], parts[1], parts[2]  # [B, H, N, hd]
        if ARGS.device == "cuda":  # the engine's fused path on a GPU (vit_block.cpp, libtorch 2.x)
            out = F.scaled_dot_product_attention(q, k, v)
            return self.proj(out.transpose(1, 2).reshape(b, n, d))
        # scaled_dot_attention: q scaled first, softmax in fp32, cast back to v's dtype.
        scores = torch.matmul(q * self.scale, k.transpose(-2, -1))
        out = torch.matmul(torch.softmax(scores, -1, dtype=torch.float32).to(v.dtype), v)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = vit_linear(dim, hidden)
        self.fc2 = vit_linear(hidden, dim)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU


class VitBlock(nn.Module):
    def __init__(self, dim, heads, mlp_ratio):
        super().__init__()
        self.norm1 = vit_layer_norm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = vit_layer_norm(dim)
        self.mlp = Mlp(dim, dim * mlp_ratio)

    def forward(self, x):
        y = x + self.attn(self.norm1(x))
        return y + self.mlp(self.norm2(y))


class PatchEmbed(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.proj = nn.Conv2d(1, dim, PATCH, stride=PATCH)  # default (kaiming-uniform) init, as C++


class Ast(nn.Module):
    def __init__(self, dim, depth, heads, mlp_ratio, frames, classes):
        super().__init__()
        self.frames = frames
        self.f, self.t = BINS // PATCH, frames // PATCH
        tokens = 2 + self.f * self.t
        self.patch_embed = PatchEmbed(dim)
        self.cls_token = nn.Parameter(trunc_normal_(torch.empty(1, 1, dim)))
        self.dist_token = nn.Parameter(trunc_normal_(torch.empty(1, 1, dim)))
        self.pos_embed = nn.Parameter(trunc_normal_(torch.empty(1, tokens, dim)))
        self.blocks = nn.ModuleList(VitBlock(dim, heads, mlp_ratio) for _ in range(depth))
        self.norm = vit_layer_norm(dim)
        self.mlp_head = nn.Sequential(vit_layer_norm(dim), vit_linear(dim, classes))

    def forward_features(self, features):
        b = features.shape[0]
        # [B, frames, bins] -> image [B, 1, bins, frames]: frequency is the height, as in AST.
        x = self.patch_embed.proj(features.unsqueeze(1).transpose(2, 3))  # [B, D, f, t]
        x = x.flatten(2).transpose(1, 2)  # [B, f*t, D], frequency-major
        x = torch.cat([self.cls_token.expand(b, -1, -1).to(x.dtype),
                       self.dist_token.expand(b, -1, -1).to(x.dtype), x], 1)
        x = x + self.pos_embed  # (pos_drop: dropout 0)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x).narrow(1, 0, 2)

    def forward(self, features):
        return self.mlp_head(self.forward_features(features).mean(1))


def cpp_parameter_count(d, depth, mlp_ratio, frames, classes):
    """engine/models/ast.cpp ast_parameter_count, transcribed."""
    h = d * mlp_ratio
    block = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * h + h) + (h * d + d)
    patch = PATCH * PATCH * d + d
    tokens = 2 + (BINS // PATCH) * (frames // PATCH)
    return patch + 2 * d + tokens * d + depth * block + 2 * d + 2 * d + d * classes + classes


def train_step_flops(d, depth, mlp_ratio, frames, batch, classes):
    """Matmul/conv FLOPs of one training step (1 multiply-add = 2 FLOPs).

    With P = (128/16) * (frames/16) patches, N = P + 2 tokens, h = mlp_ratio * d, B = batch,
    C = classes, L = depth, the forward is
        patch conv   2 * B * P * (16*16*1) * d
        per block (x L):
          qkv        2 * B * N * d * 3d
          scores     2 * B * N * N * d        (q k^T, summed over heads: H * N*N*(d/H))
          weighted   2 * B * N * N * d        (softmax(.) v)
          proj       2 * B * N * d * d
          mlp        2 * B * N * d * h * 2    (fc1 + fc2)
        head         2 * B * d * C
    and forward + backward = 3 x forward (backward = grad wrt inputs + grad wrt weights, each
    about one forward). Norms, GELU, softmax, adds and Adam are not counted (elementwise). The
    patch conv's grad wrt its input is not actually computed (the input needs no grad), so the
    true figure is lower by 2*B*P*256*d, under 1% here.
    """
    p = (BINS // PATCH) * (frames // PATCH)
    n = p + 2
    h = d * mlp_ratio
    b = batch
    conv = 2 * b * p * PATCH * PATCH * d
    block = (2 * b * n * d * 3 * d + 2 * b * n * n * d + 2 * b * n * n * d + 2 * b * n * d * d
             + 2 * b * n * d * h * 2)
    head = 2 * b * d * classes
    return 3 * (conv + depth * block + head)


def percentile(xs, q):
    s = sorted(xs)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def peak_gflops(dtype, n=2048, reps=11):
    # As gafx bench's matmul_gflops: the median of single products, since on a shared VM one
    # product in five runs at half or double speed.
    # A GPU sample is 20 products and one synchronisation, as there.
    a = torch.randn(n, n, device=ARGS.device).to(dtype)
    b = torch.randn(n, n, device=ARGS.device).to(dtype)
    per_sample = 20 if ARGS.device == "cuda" else 1
    torch.mm(a, b)  # warm-up (thread pool, packing buffers)
    sync()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(per_sample):
            torch.mm(a, b)
        sync()
        times.append(time.perf_counter() - t0)
    return 2 * n ** 3 * per_sample / sorted(times)[reps // 2] / 1e9


def sync():
    if ARGS.device == "cuda":
        torch.cuda.synchronize()


def make_step(model, opt, x, y, precision):
    # As engine/train/step.cpp train_step: autocast around the forward; the loss is taken on the
    # logits cast to fp32 (sum / batch, i.e. the mean); loss.item() and the correct count are read
    # every step; gradients are reset to none; Adam as engine/train/adam.cpp (torch's own Adam
    # does the same arithmetic: bias-corrected, eps added after the sqrt, no weight decay).
    # (Under torch 1.13 CPU autocast, cross_entropy runs in fp32 anyway, so taking the loss inside
    # the autocast region would give the same ops.)
    def step():
        # The batch starts on the host each step (pinned on a GPU), as the engine's loader's does.
        xd, yd = x.to(ARGS.device, non_blocking=True), y.to(ARGS.device, non_blocking=True)
        with torch.autocast(ARGS.device, dtype=torch.bfloat16, enabled=(precision == "bf16")):
            logits = model(xd)
        loss = F.cross_entropy(logits.float(), yd, reduction="sum") / xd.shape[0]
        value = loss.item()
        logits.detach().argmax(1).eq(yd).sum().item()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return value
    return step


def build(seed):
    d, depth, heads, ratio = CONFIGS[ARGS.model]
    torch.manual_seed(seed)
    model = Ast(d, depth, heads, ratio, ARGS.frames, ARGS.classes).to(ARGS.device)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-5)
    x = torch.randn(ARGS.batch, ARGS.frames, BINS)
    y = torch.randint(0, ARGS.classes, (ARGS.batch,))
    if ARGS.device == "cuda":
        x, y = x.pin_memory(), y.pin_memory()
    return model, opt, x, y


def blas_summary():
    lines = [l.strip() for l in torch.__config__.show().splitlines() if l.strip()]
    keep = [l for l in lines[1:] if not l.startswith("- Build settings")][:5]
    blas = ""
    for l in lines:
        if "BLAS_INFO=" in l:
            blas = l.split("BLAS_INFO=")[1].split(",")[0]
    libs = []
    try:  # which libblas the process actually mapped (Debian's generic BLAS is an alternative)
        with open("/proc/self/maps") as f:
            for l in f:
                path = l.split()[-1] if len(l.split()) >= 6 else ""
                if any(k in path for k in ("blas", "mkl", "dnnl")) and path not in libs:
                    libs.append(path)
    except OSError:
        pass
    core = None
    for path in libs:  # OpenBLAS's runtime kernel choice (DYNAMIC_ARCH builds pick by CPUID)
        if "openblas" in path and ".so" in path:
            try:
                import ctypes
                lib = ctypes.CDLL(path)
                lib.openblas_get_corename.restype = ctypes.c_char_p
                core = lib.openblas_get_corename().decode()
                break
            except (OSError, AttributeError):
                pass
    return keep, blas, libs, core


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main():
    load_start = loadavg()
    torch.set_num_threads(ARGS.threads)
    d, depth, heads, ratio = CONFIGS[ARGS.model]
    precisions = ["fp32", "bf16"] if ARGS.precision == "both" else [ARGS.precision]

    model, _, _, _ = build(ARGS.seed)
    n_params = sum(p.numel() for p in model.parameters())
    expected = cpp_parameter_count(d, depth, ratio, ARGS.frames, ARGS.classes)
    assert n_params == expected, f"parameter count {n_params} != C++ ast_parameter_count {expected}"
    if ARGS.model == "ast-tiny" and ARGS.frames == 1024 and ARGS.classes == 10:
        assert n_params == 5_489_482, n_params
    del model

    flops = train_step_flops(d, depth, ratio, ARGS.frames, ARGS.batch, ARGS.classes)
    cfg_lines, blas, libs, core = blas_summary()
    if not ARGS.json:
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
              f"BLAS_INFO={blas}, OpenBLAS core {core}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
              f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}")
        for l in cfg_lines:
            print("  " + l)
        if libs:
            print("  mapped: " + ", ".join(libs))
        print(f"{ARGS.model}: {n_params:,} parameters (C++ count {expected:,}), frames {ARGS.frames}, "
              f"batch {ARGS.batch}, tokens {2 + (BINS // PATCH) * (ARGS.frames // PATCH)}, "
              f"{flops / 1e9:.1f} GFLOP per training step")
        print(f"load average at start: {load_start} ({os.cpu_count()} CPUs; other processes slow every figure)")

    results, profiles = [], {}
    for prec in precisions:
        dtype = torch.float32 if prec == "fp32" else torch.bfloat16
        peak = peak_gflops(dtype)
        model, opt, x, y = build(ARGS.seed)
        step = make_step(model, opt, x, y, prec)
        if ARGS.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        for _ in range(ARGS.warmup):
            step()
        warmup_peak = None
        if ARGS.device == "cuda":
            warmup_peak = torch.cuda.max_memory_allocated() / 2**20
            torch.cuda.reset_peak_memory_stats()
        times, cpu = [], []
        for i in range(ARGS.steps):
            c0, t0 = time.process_time(), time.perf_counter()
            loss = step()
            sync()
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            if not ARGS.json:
                rate = flops / times[-1] / 1e9
                print(f"  {prec} step {i + 1:2d}: {times[-1]:.3f} s  {rate:6.1f} GFLOP/s "
                      f"({100 * rate / peak:5.1f}% of {prec} peak)  loss {loss:.4f}  "
                      f"cpu share {100 * cpu[-1] / times[-1] / ARGS.threads:3.0f}%")
        med = statistics.median(times)
        res = {
            "precision": prec,
            "median_s": med,
            "p10_s": percentile(times, 0.10),
            "p90_s": percentile(times, 0.90),
            "steps_per_s": 1.0 / med,
            "gflop_per_step": flops / 1e9,
            "gflops": flops / med / 1e9,
            "peak_gflops": peak,
            "pct_of_peak": 100.0 * flops / med / 1e9 / peak,
            # process CPU seconds / (wall seconds x threads): well under 100% means other
            # processes took the cores (spinning BLAS threads count as busy, so it is an upper bound)
            "cpu_share": sum(cpu) / sum(times) / ARGS.threads,
            # the caching allocator's peaks over the timed steps, and over the warm-up (as gafx bench)
            "device_peak_allocated_mib": (torch.cuda.max_memory_allocated() / 2**20
                                          if ARGS.device == "cuda" else None),
            "device_peak_reserved_mib": (torch.cuda.max_memory_reserved() / 2**20
                                         if ARGS.device == "cuda" else None),
            "device_warmup_peak_allocated_mib": warmup_peak,
        }
        results.append(res)
        if ARGS.profile:
            from torch.profiler import ProfilerActivity, profile
            with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
                step()
            avgs = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
            total = sum(e.self_cpu_time_total for e in avgs)
            profiles[prec] = [{"op": e.key, "self_cpu_ms": e.self_cpu_time_total / 1e3,
                               "pct": 100.0 * e.self_cpu_time_total / total, "calls": e.count}
                              for e in avgs[:ARGS.profile_top]]
            profiles[prec + "_total_ms"] = total / 1e3
        del model, opt
        if ARGS.device == "cuda":
            torch.cuda.empty_cache()

    if ARGS.json:
        out = {"model": ARGS.model, "frames": ARGS.frames, "batch": ARGS.batch, "device": ARGS.device,
               "threads": torch.get_num_threads(), "torch_version": torch.__version__,
               "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"), "openblas_core": core,
               "loadavg_start": load_start, "loadavg_end": loadavg(), "results": results}
        if ARGS.profile:
            out["profile"] = profiles
        print(json.dumps(out))
        return

    print()
    print(f"{'precision':9} {'median s':>9} {'p10 s':>7} {'p90 s':>7} {'steps/s':>8} "
          f"{'GFLOP/step':>10} {'GFLOP/s':>8} {'peak':>7} {'% peak':>7} {'cpu share':>9}")
    for r in results:
        print(f"{r['precision']:9} {r['median_s']:9.3f} {r['p10_s']:7.3f} {r['p90_s']:7.3f} "
              f"{r['steps_per_s']:8.3f} {r['gflop_per_step']:10.1f} {r['gflops']:8.1f} "
              f"{r['peak_gflops']:7.1f} {r['pct_of_peak']:6.1f}% {100 * r['cpu_share']:8.0f}%")
    print("(peak: one 2048x2048 torch.mm at the same precision and thread count, median of 11)")
    print(f"load average at end: {loadavg()}")
    for prec in precisions:
        if prec not in profiles:
            continue
        print(f"\nprofile, one {prec} step ({profiles[prec + '_total_ms']:.0f} ms self CPU in all), "
              f"top {ARGS.profile_top} ops by self CPU:")
        for e in profiles[prec]:
            print(f"  {e['op']:42} {e['self_cpu_ms']:9.1f} ms {e['pct']:5.1f}%  {e['calls']:5d} calls")


if __name__ == "__main__":
    main()
