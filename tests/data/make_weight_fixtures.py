#!/usr/bin/python3
"""Writes the small weight files tests/engine/test_weights.cpp and tests/engine/test_torch_zip.cpp read, in the formats other projects
ship: torch.save zip (with DataParallel's `module.` prefix and a {"model": ...} wrapper, as the
AST and DeiT checkpoints have), safetensors (written by hand: the format is an 8-byte header
length, a JSON header and raw little-endian data), and the legacy pre-1.6 torch.save format.
Run with Debian's python3 (python3-torch): /usr/bin/python3 tests/data/make_weight_fixtures.py
"""
import collections
import io
import json
import os
import pickle
import struct
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def tensors():
    return collections.OrderedDict(
        [
            ("fc1.weight", torch.arange(12, dtype=torch.float32).reshape(3, 4) / 10),
            ("fc1.bias", torch.tensor([1.0, 2.0, 3.0])),
            ("fc2.weight", torch.full((2, 3), 0.5)),
            ("fc2.bias", torch.tensor([-1.0, 1.0])),
        ]
    )


def write_safetensors(path, named):
    header, blobs, offset = {}, [], 0
    for name, t in named.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def mixed():
    """What tests/engine/test_torch_zip.cpp reads from torch_zip_mixed.pt; keep the two in step."""
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    lin = torch.nn.Linear(2, 2)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
        lin.bias.copy_(torch.tensor([0.5, -0.5]))
    return collections.OrderedDict(
        [
            ("half", torch.tensor([1.5, -2.0, 65504.0], dtype=torch.float16)),
            ("bf16", torch.tensor([1.0, -0.5, 3.0e38], dtype=torch.bfloat16)),
            ("long", torch.tensor([-(2**40), 0, 2**62], dtype=torch.int64)),
            ("double", torch.tensor([[0.1, -1e300]], dtype=torch.float64)),
            ("int8", torch.tensor([-128, 127], dtype=torch.int8)),
            ("bool", torch.tensor([True, False, True])),
            ("scalar", torch.tensor(7.25)),
            ("empty", torch.zeros(0, 3)),
            # Views into one storage, saved together: the storage is written once.
            ("view.base", base),
            ("view.col", base[:, 1]),
            ("view.t", base.t()),
            ("view.tail", base.view(-1)[5:9]),
            ("param", torch.nn.Parameter(torch.tensor([0.25, 0.75]))),
            ("nested", {"inner": collections.OrderedDict([("w", torch.ones(2)), ("deeper", {"b": torch.full((1,), -3.0)})])}),
            ("linear", lin.state_dict()),  # an OrderedDict with a _metadata attribute (BUILD)
            ("epoch", 7),
            ("neg", -5),
            ("big", 2**40),
            ("lr", 0.125),
            ("name", "gafx \u00e9"),
            ("flag", True),
            ("nothing", None),
            ("list", [1, 2.5, "x", torch.tensor([9, 8], dtype=torch.int32)]),
            ("tuple", (1, "two")),
            ("device", torch.device("cpu")),  # an unknown global: a placeholder
            ("dtype", torch.float32),
        ]
    )


def write_v2_style(path):
    """A file as PyTorch 2.x writes some: an `archive/` folder, a byteorder record, protocol 4
    opcodes, a torch.storage.UntypedStorage persistent id and _rebuild_tensor_v3 with a
    torch.float32 dtype object. Torch 1.13 lacks those names, so stand-ins are pickled under them."""

    class UntypedStorage:
        pass

    def _rebuild_tensor_v3(*args):
        raise NotImplementedError

    UntypedStorage.__module__, UntypedStorage.__qualname__ = "torch.storage", "UntypedStorage"
    _rebuild_tensor_v3.__module__, _rebuild_tensor_v3.__qualname__ = "torch._utils", "_rebuild_tensor_v3"
    torch.storage.UntypedStorage = UntypedStorage
    torch._utils._rebuild_tensor_v3 = _rebuild_tensor_v3

    class Storage:
        def __init__(self, key, data):
            self.key, self.data = key, data

    class V3Tensor:
        def __init__(self, storage, offset, size, stride, dtype):
            self.args = (storage, offset, size, stride, False, collections.OrderedDict(), dtype)

        def __reduce__(self):
            return (_rebuild_tensor_v3, self.args)

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", UntypedStorage, obj.key, "cpu", len(obj.data))
            return None

    raw = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    st = Storage("0", raw)
    obj = {
        "state_dict": collections.OrderedDict(
            [
                ("w", V3Tensor(st, 0, (2, 2), (2, 1), torch.float32)),
                ("w_col", V3Tensor(st, 1, (2,), (2,), torch.float32)),
            ]
        ),
        "step": 3,
    }
    buf = io.BytesIO()
    Pickler(buf, protocol=4).dump(obj)
    del torch.storage.UntypedStorage, torch._utils._rebuild_tensor_v3
    records = [
        ("archive/data.pkl", buf.getvalue()),
        ("archive/byteorder", b"little"),
        ("archive/data/0", raw),
        ("archive/version", b"3\n"),
        ("archive/.data/serialization_id", b"0123456789"),
    ]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, data in records:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data)


def vit_state(dim, depth, in_chans, grid_f, grid_t, classes, prefix=""):
    """A DeiT-shaped state dict (timm names) with deterministic values, no timm needed."""
    g = torch.Generator().manual_seed(5)
    sd = collections.OrderedDict()
    sd[prefix + "cls_token"] = torch.randn(1, 1, dim, generator=g)
    sd[prefix + "dist_token"] = torch.randn(1, 1, dim, generator=g)
    sd[prefix + "pos_embed"] = torch.randn(1, 2 + grid_f * grid_t, dim, generator=g)
    sd[prefix + "patch_embed.proj.weight"] = torch.randn(dim, in_chans, 16, 16, generator=g)
    sd[prefix + "patch_embed.proj.bias"] = torch.randn(dim, generator=g)
    for i in range(depth):
        b = prefix + "blocks.%d." % i
        for n, shape in [("norm1.weight", [dim]), ("norm1.bias", [dim]), ("attn.qkv.weight", [3 * dim, dim]),
                         ("attn.qkv.bias", [3 * dim]), ("attn.proj.weight", [dim, dim]), ("attn.proj.bias", [dim]),
                         ("norm2.weight", [dim]), ("norm2.bias", [dim]), ("mlp.fc1.weight", [4 * dim, dim]),
                         ("mlp.fc1.bias", [4 * dim]), ("mlp.fc2.weight", [dim, 4 * dim]), ("mlp.fc2.bias", [dim])]:
            sd[b + n] = torch.randn(*shape, generator=g)
    sd[prefix + "norm.weight"] = torch.randn(dim, generator=g)
    sd[prefix + "norm.bias"] = torch.randn(dim, generator=g)
    # DeiT's own ImageNet heads, which AST checkpoints also carry under v.
    sd[prefix + "head.weight"] = torch.randn(classes, dim, generator=g)
    sd[prefix + "head.bias"] = torch.randn(classes, generator=g)
    sd[prefix + "head_dist.weight"] = torch.randn(classes, dim, generator=g)
    sd[prefix + "head_dist.bias"] = torch.randn(classes, generator=g)
    return sd


def main():
    sd = tensors()
    wrapped = {"model": collections.OrderedDict(("module." + k, v) for k, v in sd.items()), "epoch": 3}
    torch.save(wrapped, os.path.join(HERE, "weights_tiny.pt"))
    torch.save(sd, os.path.join(HERE, "weights_tiny_legacy.pt"), _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(HERE, "weights_tiny.safetensors"), sd)
    torch.save(mixed(), os.path.join(HERE, "torch_zip_mixed.pt"))
    write_v2_style(os.path.join(HERE, "torch_zip_v2_style.pt"))
    # ImageNet DeiT as timm ships it (RGB patches, square 4 x 4 grid here; 14 x 14 for real).
    write_safetensors(os.path.join(HERE, "deit_like.safetensors"), vit_state(8, 1, 3, 4, 4, 1000))
    # The AST reference AudioSet checkpoint: DataParallel's module., the DeiT under v., mono
    # patches, an overlapping 12 x 5 grid, and mlp_head for 527 classes.
    ast = vit_state(8, 1, 1, 12, 5, 1000, prefix="module.v.")
    g = torch.Generator().manual_seed(6)
    ast["module.mlp_head.0.weight"] = torch.randn(8, generator=g)
    ast["module.mlp_head.0.bias"] = torch.randn(8, generator=g)
    ast["module.mlp_head.1.weight"] = torch.randn(527, 8, generator=g)
    ast["module.mlp_head.1.bias"] = torch.randn(527, generator=g)
    torch.save(ast, os.path.join(HERE, "ast_like.pth"))


if __name__ == "__main__":
    main()
