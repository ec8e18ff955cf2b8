#!/usr/bin/env python3
"""Writes the hostile inputs of tests/data/fuzz/<target>/ (replayed by test_fuzz_regressions and
seeding the fuzzers): each named for what it tries. Inputs the fuzzers find are added beside them
by hand, named for their finding. Standard library only; run from this folder."""
import io
import json
import os
import struct
import zipfile


def put(target, name, data):
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy(header, payload=b""):
    header = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + payload


# npy: shapes that claim far more than the file holds, overflow, numbers out of range.
put("npy", "huge-shape-tiny-file", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (30000000000,), }", b"\0" * 16))
put("npy", "product-overflows", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }"))
put("npy", "dimension-out-of-range", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }"))
put("npy", "negative-dimension", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", b"\0" * 16))
put("npy", "no-closing-paren", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + "1," * 20000))
put("npy", "header-longer-than-file", b"\x93NUMPY\x01\x00\xff\xff{'descr'")


def safetensors(header, payload=b""):
    h = json.dumps(header).encode() if not isinstance(header, bytes) else header
    return struct.pack("<Q", len(h)) + h + payload


# safetensors: a shape far beyond its offsets, a list where an object belongs, bad BOOL bytes,
# a header length beyond the file, offsets that overlap or run backwards.
put("safetensors", "shape-beyond-offsets", safetensors({"w": {"dtype": "F32", "shape": [1 << 20, 1 << 20], "data_offsets": [0, 4]}}, b"\0" * 4))
put("safetensors", "tensor-is-a-list", safetensors({"w": []}))
put("safetensors", "bool-byte-not-0-or-1", safetensors({"b": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}, b"\x01\x07"))
put("safetensors", "header-length-beyond-file", struct.pack("<Q", 1 << 62) + b"{}")
put("safetensors", "offsets-backwards", safetensors({"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\0" * 4))
put("safetensors", "shape-product-overflows", safetensors({"w": {"dtype": "F32", "shape": [1 << 40, 1 << 40, 1 << 40], "data_offsets": [0, 4]}}, b"\0" * 4))
put("safetensors", "not-json", safetensors(b"{\"w\": {\"dtype\": \"F32\", \"shape\": [1], "))


def torch_zip(pickle_bytes, extra=()):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        for name, data in extra:
            z.writestr("archive/" + name, data)
        z.writestr("archive/version", "3\n")
    return buf.getvalue()


def unicode(s):
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


# .pt: one big key re-set many times, dicts nested so their dotted names grow, a pickle that
# stops half way, a tensor whose storage entry is missing.
big = unicode("k" * 4096)
put("torch_zip", "big-key-reset", torch_zip(b"\x80\x02}" + (big + b"K\x00s") * 12 + b"."))
depth = 12
nested = b"\x80\x02" + (b"}" + big) * depth + b"K\x01" + b"s" * depth + b"."
put("torch_zip", "nested-long-names", torch_zip(nested))
put("torch_zip", "pickle-cut-short", torch_zip(b"\x80\x02}q\x00(X\x01\x00\x00\x00wq"))
put("torch_zip", "not-a-zip", b"PK\x03\x04" + b"\xff" * 60)
tensor = (b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n(X\x07\x00\x00\x00storagectorch\nFloatStorage\n"
          b"X\x01\x00\x00\x009X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04\x85K\x01\x85\x89ccollections\nOrderedDict\n)R\x00tR\x00s.")
put("torch_zip", "storage-missing", torch_zip(tensor))
put("torch_zip", "storage-too-short", torch_zip(tensor, [("data/9", b"\0" * 4)]))

# experiment: a grid of 10^10 runs, wrong types, truncated JSON, deep nesting.
put("experiment", "grid-too-large", json.dumps({"name": "big", "base": {"dataset": "demo"},
                                                "grid": {k: list(range(100)) for k in ["seed", "lr", "epochs", "batch_size", "warmup_steps"]}}))
put("experiment", "base-is-a-list", '{"name": "x", "base": []}')
put("experiment", "truncated", '{"name": "x", "base": {"dataset": "demo", "epochs": ')
put("experiment", "deep-nesting", '{"name": ' + "[" * 5000 + "]" * 5000 + "}")
put("experiment", "seed-out-of-range", '{"name": "x", "base": {"dataset": "demo", "seed": 1e300}}')

# csv: an unterminated quote, text after a closing quote, a BOM and CRLF, NUL bytes.
put("csv", "unterminated-quote", 'YTID, start, end, labels\nabc, 0, 10, "/m/01,/m/02\n')
put("csv", "text-after-quote", 'a,"b"c,d\n')
put("csv", "bom-crlf-blank", "\ufeff# comment\r\n\r\na, \"b\"\"c\" ,d\r\n")
put("csv", "nul-bytes", b"a,\0b,\"\0\"\n\0")

# audio: random bytes (libsndfile would guess header-less RAW), a WAV header claiming more data
# than is there, an AU header with a zero rate.
put("audio", "random-bytes", bytes((i * 131 + 7) % 256 for i in range(4000)))
wav = (b"RIFF" + struct.pack("<I", 36 + (1 << 30)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 22050, 88200, 4, 16)
       + b"data" + struct.pack("<I", 1 << 30) + b"\0" * 64)
put("audio", "wav-truncated", wav)
put("audio", "au-zero-rate", b".snd" + struct.pack(">IIIII", 24, 64, 3, 0, 1) + b"\0" * 64)
put("audio", "wav-zero-channels", b"RIFF" + struct.pack("<I", 100) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 0, 22050, 0, 0, 16)
    + b"data" + struct.pack("<I", 64) + b"\0" * 64)

# waveform cache entries: frames that overflow, a payload shorter than claimed, a wrong hash.
def entry(rate, channels, frames, payload, h=0):
    return b"GAFXWAVE" + struct.pack("<IiiiqQ", 2, rate, channels, 0, frames, h) + payload


put("waveform_cache", "frames-overflow", entry(16000, 3, 1 << 62, b"\0" * 24))
put("waveform_cache", "payload-short", entry(16000, 1, 1000, b"\0" * 400))
put("waveform_cache", "hash-wrong", entry(16000, 1, 4, b"\0" * 16, 12345))
put("waveform_cache", "negative-channels", entry(16000, -2, 4, b"\0" * 16))

# feature cache entries (.fb), under the key the fuzz feed asks for: rows x cols that overflow,
# a payload shorter than claimed, a wrong payload hash, negative rows, no columns, another key.
def features(rows, cols, payload, h=0, key=0x6166786662):
    return b"GAFXFBNK" + struct.pack("<IIqqQQ", 1, 0, rows, cols, key, h) + payload


put("feature_cache", "rows-overflow", features(1 << 61, 8, b"\0" * 32))
put("feature_cache", "payload-short", features(100, 128, b"\0" * 400))
put("feature_cache", "hash-wrong", features(2, 2, b"\0" * 16, 12345))
put("feature_cache", "negative-rows", features(-2, 2, b"\0" * 16))
put("feature_cache", "zero-cols", features(2, 0, b""))
put("feature_cache", "other-key", features(1, 1, b"\0" * 4, 0, 1))
# Whole and valid: no rows, so the payload hash is XXH3-64 of nothing.
put("feature_cache", "valid-empty", features(0, 128, b"", 0x2D06800538D394C2))

# Valid inputs beside the hostile ones, so the fuzzers start from files that parse.
put("npy", "valid-2x3", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", struct.pack("<6f", *range(6))))
put("csv", "valid-segments", "# Segments csv created Sun Mar  5 10:54:31 2017\n# YTID, start_seconds, end_seconds, positive_labels\n"
    "--PJHxphWEs, 30.000, 40.000, \"/m/09x0r,/t/dd00088\"\n--ZhevVpy1s, 50.000, 60.000, \"/m/012xff\"\n")
put("csv", "valid-groups", "track,group\nblues/blues.00000.wav,a\n\"rock/rock,00001.wav\",\"b \"\"c\"\"\"\n")
pcm = struct.pack("<100h", *[(i * 997) % 32768 - 16384 for i in range(100)])
put("audio", "valid-wav-16bit", b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    + b"data" + struct.pack("<I", len(pcm)) + pcm)
put("audio", "valid-au-16bit", b".snd" + struct.pack(">IIIII", 24, len(pcm), 3, 22050, 1) + pcm[::-1])
