#!/usr/bin/python3
"""Writes the reference files the HDemucs port is checked against (run with Debian's
/usr/bin/python3, which has torch 1.13 and torchaudio 0.13):

  hdemucs_high_names.txt    name<TAB>shape of torchaudio's hdemucs_high state_dict (paper model)
  hdemucs_small_names.txt   the same for the small CPU preset (gafx::models::hdemucs_small)
  hdemucs_small_weights.bin that preset's state_dict, float32 little-endian, in file order
  hdemucs_small_output.bin  its output on a fixed input, every 8th sample, float32

The input is a formula (see fixture_input) so it need not be stored; the weights are
perturbed away from their initial values so that LayerScale (1e-4 at init) does not hide
the DConv, BLSTM and attention branches from the comparison."""
import math
import os
import sys

import torch
import torchaudio
from torchaudio.models._hdemucs import HDemucs

SOURCES = ["drums", "bass", "other", "vocals"]
HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE_SAMPLES = 13000  # > 200 frames at hop 64, so the BLSTM's chunking runs
OUTPUT_STRIDE = 8


def small_model():
    # Keep in step with hdemucs_small() in engine/models/hdemucs.cpp.
    return HDemucs(SOURCES, channels=4, nfft=256, depth=4, norm_starts=2, dconv_attn=2, dconv_lstm=2)


def fixture_input():
    t = torch.arange(FIXTURE_SAMPLES, dtype=torch.float64)
    left = 0.5 * torch.sin(2 * math.pi * 440.0 * t / 16000.0) + 0.1 * torch.sin(0.37 * t)
    right = 0.3 * torch.sin(2 * math.pi * 97.0 * t / 16000.0) + 0.2 * torch.cos(0.011 * t)
    return torch.stack([left, right])[None].float()


def write_names(model, path):
    with open(path, "w") as f:
        for name, tensor in model.state_dict().items():
            f.write("%s\t%s\n" % (name, ",".join(str(d) for d in tensor.shape)))


def main():
    high = torchaudio.models.hdemucs_high(sources=SOURCES)
    write_names(high, os.path.join(HERE, "hdemucs_high_names.txt"))
    print("hdemucs_high parameters:", sum(p.numel() for p in high.parameters()))

    torch.manual_seed(0)
    small = small_model().eval()
    with torch.no_grad():
        for name, p in small.named_parameters():
            if name.endswith(".scale"):
                p.copy_(0.5 + 0.1 * torch.randn_like(p))
            elif "norm" in name or name.endswith((".1.weight", ".1.bias", ".4.weight", ".4.bias", ".6.weight", ".6.bias")):
                p.add_(0.1 * torch.randn_like(p))
    write_names(small, os.path.join(HERE, "hdemucs_small_names.txt"))
    print("hdemucs_small parameters:", sum(p.numel() for p in small.parameters()))
    with open(os.path.join(HERE, "hdemucs_small_weights.bin"), "wb") as f:
        for tensor in small.state_dict().values():
            f.write(tensor.detach().float().contiguous().numpy().astype("<f4").tobytes())
    with torch.no_grad():
        out = small(fixture_input())
    with open(os.path.join(HERE, "hdemucs_small_output.bin"), "wb") as f:
        f.write(out[..., ::OUTPUT_STRIDE].contiguous().numpy().astype("<f4").tobytes())
    print("output", tuple(out.shape), "stored every", OUTPUT_STRIDE, "th sample, abs mean", out.abs().mean().item())
    return 0


if __name__ == "__main__":
    sys.exit(main())
