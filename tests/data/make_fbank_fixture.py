#!/usr/bin/python3
"""Writes the fbank parity fixture for tests/engine/test_fbank.cpp.

Run with Debian's python3 (torch 1.13 + torchaudio 0.13), from anywhere:
    /usr/bin/python3 tests/data/make_fbank_fixture.py

For each rate it writes fbank_<rate>.wav (16-bit PCM, so the floats the C++ side decodes are
exactly the ones fed to torchaudio here) and fbank_<rate>.bin: the int32 header
"GFBK" magic, version 1, sample rate, frames, bins, then frames x bins float32 little-endian,
from torchaudio.compliance.kaldi.fbank called exactly as AST's dataloader calls it.
"""
import math
import os
import struct
import wave

import torch
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))
SECONDS = 3.3  # not a whole number of hops, so the snip_edges remainder is exercised


def music_like(rate: int) -> torch.Tensor:
    """Tones with vibrato, noise bursts, a chirp, a digital-silence gap and a clipped peak."""
    g = torch.Generator().manual_seed(20240 + rate)
    n = int(SECONDS * rate)
    t = torch.arange(n, dtype=torch.float64) / rate
    x = torch.zeros(n, dtype=torch.float64)
    # A harmonic note with 5.5 Hz vibrato, and a second voice a fifth above entering later.
    for f0, start, amp in ((220.0, 0.0, 0.25), (329.6, 1.2, 0.15)):
        phase = 2 * math.pi * torch.cumsum(f0 * (1 + 0.01 * torch.sin(2 * math.pi * 5.5 * t)), 0) / rate
        env = torch.clamp((t - start) * 20, 0, 1) * torch.exp(-0.4 * torch.clamp(t - start, min=0))
        for h in range(1, 9):
            x += amp * env * torch.sin(h * phase) / h
    # Percussive noise bursts every 0.5 s, low-passed a little by a moving average.
    noise = torch.randn(n, generator=g, dtype=torch.float64)
    noise = torch.nn.functional.avg_pool1d(noise.view(1, 1, -1), 3, 1, 1, count_include_pad=False).view(-1)
    for k in range(int(SECONDS / 0.5)):
        x += 0.4 * noise * torch.exp(-30 * torch.clamp(t - 0.5 * k - 0.05, min=0)) * (t >= 0.5 * k + 0.05)
    # A chirp from 100 Hz to 0.4 x the sample rate over the whole clip.
    f1 = 0.4 * rate
    x += 0.1 * torch.sin(2 * math.pi * (100.0 * t + (f1 - 100.0) * t * t / (2 * SECONDS)))
    # A DC offset, which per-frame DC removal must take out.
    x += 0.02
    # A clipped peak.
    x[int(0.8 * rate):int(0.82 * rate)] *= 6
    x = torch.clamp(x, -1.0, 1.0)
    # 0.1 s of digital silence: whole frames hit the epsilon floor.
    x[int(2.6 * rate):int(2.7 * rate)] = 0
    return torch.round(x * 32767).to(torch.int16)


def write_wav(path: str, pcm: torch.Tensor, rate: int) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.numpy().astype("<i2").tobytes())


def main() -> None:
    for rate in (22050, 16000):
        pcm = music_like(rate)
        wav_path = os.path.join(HERE, f"fbank_{rate}.wav")
        write_wav(wav_path, pcm, rate)
        # What torchaudio.load hands AST: int16 / 32768 as float32, shape [1, T].
        waveform, sr = torchaudio.load(wav_path)
        assert sr == rate and torch.equal(waveform[0], pcm.float() / 32768)
        fbank = torchaudio.compliance.kaldi.fbank(
            waveform, htk_compat=True, sample_frequency=sr, use_energy=False,
            window_type="hanning", num_mel_bins=128, dither=0.0, frame_shift=10)
        frames, bins = fbank.shape
        with open(os.path.join(HERE, f"fbank_{rate}.bin"), "wb") as f:
            f.write(b"GFBK" + struct.pack("<iiii", 1, rate, frames, bins))
            f.write(fbank.contiguous().numpy().astype("<f4").tobytes())
        print(f"{rate} Hz: {pcm.numel()} samples -> {frames} x {bins}, "
              f"range {fbank.min().item():.3f} .. {fbank.max().item():.3f}")


if __name__ == "__main__":
    main()
