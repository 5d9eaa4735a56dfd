#!/usr/bin/env python3
"""Writes the small PyTorch .pt fixtures under Tests/ZipARTests/Fixtures/pt/ and expected.json beside them.

No torch needed (only numpy, for numpy values in the pickles): the files are made the way torch.save
(2.x) makes them. The pickle comes from Python's own Pickler with a persistent_id hook, with stand-ins
for torch.Tensor / Parameter / <X>Storage that reduce exactly as torch's do (torch._utils._rebuild_tensor_v2, _rebuild_parameter, torch._tensor._rebuild_from_type_v2,
persistent ids ("storage", torch.FloatStorage, key, "cpu", numel)). The archive is written byte for byte in
the layout of torch's PyTorchStreamWriter (miniz): stored entries, flags 0x0808, an "FB" extra field padding
each member's data to 64 bytes, data descriptors, and ZIP64 end records. expected.json holds, per fixture,
either the weights the reader must return (dtype, shape, row-major values as float) or an error substring.

Usage: python3 tools/make_pt_fixtures.py [output folder]
"""
import argparse
import io
import json
import os
import pickle
import random
import struct
import sys
import types
import zlib
import zipfile
from collections import OrderedDict

import numpy as np

# ---------------------------------------------------------------------------------------------------------
# Stand-ins for the torch names a checkpoint pickle refers to. They only need the right module and name.

torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch_tensor = types.ModuleType("torch._tensor")
sys.modules.update({"torch": torch, "torch._utils": torch_utils, "torch._tensor": torch_tensor})


def _module_function(module, name):
    def f(*args):
        raise RuntimeError("stand-in, never called")
    f.__module__, f.__name__, f.__qualname__ = module.__name__, name, name
    setattr(module, name, f)
    return f


_rebuild_tensor_v2 = _module_function(torch_utils, "_rebuild_tensor_v2")
_rebuild_parameter = _module_function(torch_utils, "_rebuild_parameter")
_rebuild_from_type_v2 = _module_function(torch_tensor, "_rebuild_from_type_v2")

# storage class name, struct format (None: packed by hand), safetensors-style dtype, bytes per element
STORAGE_TYPES = {
    "F32": ("FloatStorage", "<f", 4),
    "F16": ("HalfStorage", "<e", 2),
    "BF16": ("BFloat16Storage", None, 2),
    "F64": ("DoubleStorage", "<d", 8),
    "I64": ("LongStorage", "<q", 8),
}
for _name, _, _ in STORAGE_TYPES.values():
    setattr(torch, _name, type(_name, (), {"__module__": "torch"}))


class Tensor:
    """Reduces like torch.Tensor: _rebuild_tensor_v2, or _rebuild_from_type_v2 when it carries state."""

    def __init__(self, storage, offset, shape, strides=None, state=None):
        self.storage, self.offset, self.shape = storage, offset, tuple(shape)
        self.strides = tuple(strides) if strides is not None else contiguous_strides(shape)
        self.state = state

    def __reduce_ex__(self, protocol):
        args = (self.storage, self.offset, self.shape, self.strides, False, OrderedDict())
        if self.state is None:
            return (_rebuild_tensor_v2, args)
        return (_rebuild_from_type_v2, (_rebuild_tensor_v2, Tensor, args, self.state))

    def values(self):
        """Row-major values as the reader must return them (float)."""
        out = []
        for index in np.ndindex(*self.shape) if self.shape else [()]:
            out.append(self.storage.values[self.offset + sum(i * s for i, s in zip(index, self.strides))])
        return out


Tensor.__module__, Tensor.__qualname__ = "torch", "Tensor"
torch.Tensor = Tensor


class Parameter:
    """Reduces like torch.nn.Parameter: _rebuild_parameter(data, requires_grad, hooks)."""

    def __init__(self, data):
        self.data = data

    def __reduce_ex__(self, protocol):
        return (_rebuild_parameter, (self.data, True, OrderedDict()))


class Storage:
    """A typed storage: its elements as stored, and its bytes."""

    def __init__(self, dtype, values):
        name, fmt, size = STORAGE_TYPES[dtype]
        self.dtype, self.type = dtype, getattr(torch, name)
        if dtype == "BF16":
            bits = [struct.unpack("<I", struct.pack("<f", v))[0] >> 16 for v in values]
            self.raw = b"".join(struct.pack("<H", b) for b in bits)
            self.values = [struct.unpack("<f", struct.pack("<I", b << 16))[0] for b in bits]
        else:
            self.raw = b"".join(struct.pack(fmt, v) for v in values)
            self.values = [float(struct.unpack(fmt, struct.pack(fmt, v))[0]) for v in values]
        self.numel = len(values)


def contiguous_strides(shape):
    strides, acc = [], 1
    for d in reversed(shape):
        strides.insert(0, acc)
        acc *= d
    return tuple(strides)


def tensor(rng, dtype, shape):
    n = 1
    for d in shape:
        n *= d
    if dtype == "I64":
        values = [rng.randint(-1000, 1000) for _ in range(n)]
    else:
        values = [round(rng.uniform(-2, 2), 4) for _ in range(n)]
    return Tensor(Storage(dtype, values), 0, shape)


# ---------------------------------------------------------------------------------------------------------
# torch.save's pickling and archive layout.

def pickle_checkpoint(obj, protocol):
    """Pickles obj as torch.save does; returns (data.pkl bytes, {key: storage bytes})."""

    keys, storages = {}, {}

    class Pickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, Storage):
                key = keys.setdefault(id(o), str(len(keys)))
                storages[key] = o.raw
                return ("storage", o.type, key, "cpu", o.numel)
            return None

    buf = io.BytesIO()
    Pickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue(), storages


def zip_archive(members, force_zip64=False):
    """A stored ZIP archive in the layout of torch's PyTorchStreamWriter (miniz)."""
    out, central = bytearray(), []
    for name, data in members:
        name_b = name.encode()
        offset = len(out)
        pad = (64 - (offset + 30 + len(name_b) + 4) % 64) % 64
        extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 0, 0x0808, 0, 0, 0, 0, 0, 0, len(name_b), len(extra))
        out += name_b + extra + data
        crc = zlib.crc32(data) & 0xFFFFFFFF
        out += struct.pack("<IIII", 0x08074B50, crc, len(data), len(data))
        central.append((name_b, crc, len(data), offset))
    directory_offset = len(out)
    for name_b, crc, size, offset in central:
        if force_zip64:
            extra = struct.pack("<HHQQQ", 0x0001, 24, size, size, offset)
            size32 = offset32 = 0xFFFFFFFF
        else:
            extra, size32, offset32 = b"", size, offset
        out += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 0, 0, 0x0808, 0, 0, 0, crc, size32, size32,
                           len(name_b), len(extra), 0, 0, 0, 0, offset32)
        out += name_b + extra
    directory_size = len(out) - directory_offset
    zip64_offset = len(out)
    count = len(central)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x031E, 45, 0, 0, count, count, directory_size, directory_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, zip64_offset, 1)
    if force_zip64:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    else:
        out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, directory_size, directory_offset, 0)
    return bytes(out)


def torch_save(obj, folder, protocol=2, force_zip64=False, edit_storages=None):
    pkl, storages = pickle_checkpoint(obj, protocol)
    if edit_storages:
        edit_storages(storages)
    members = [(f"{folder}/data.pkl", pkl), (f"{folder}/.format_version", b"1"),
               (f"{folder}/.storage_alignment", b"64"), (f"{folder}/byteorder", b"little")]
    members += [(f"{folder}/data/{key}", storages[key]) for key in sorted(storages, key=int)]
    members += [(f"{folder}/version", b"3\n"), (f"{folder}/.data/serialization_id", b"1" * 40)]
    data = zip_archive(members, force_zip64)
    check = zipfile.ZipFile(io.BytesIO(data))
    assert check.testzip() is None and check.namelist() == [m[0] for m in members]
    return data


# ---------------------------------------------------------------------------------------------------------
# The fixtures.

def state_dict(rng, spec, ordered=False):
    sd = OrderedDict() if ordered else {}
    for name, dtype, shape in spec:
        sd[name] = tensor(rng, dtype, shape)
    return sd


def expected_weights(sd):
    out = {}
    for name, value in sd.items():
        t = value.data if isinstance(value, Parameter) else value
        if isinstance(t, Tensor):
            out[name] = {"dtype": t.storage.dtype, "shape": list(t.shape), "values": t.values()}
    return out


def optimizer_state(rng):
    """Adam-like optimizer state: tensors, ints, floats, a tuple, plus values of every kind a pickle may hold."""
    return {
        "state": {0: {"step": 10, "exp_avg": tensor(rng, "F32", [2, 2]), "exp_avg_sq": tensor(rng, "F32", [2, 2])}},
        "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.05, "params": [0, 1],
                          "amsgrad": False, "foreach": None}],
        "extras": {"big": 2 ** 70, "negative_big": -(2 ** 40), "bytes": b"\x00\x01raw", "set": {1, 2},
                   "frozen": frozenset({"a"}), "numpy": np.float64(1.5), "array": np.arange(3, dtype=np.int32),
                   "nested": [[1, [2, (3, None)]], "x" * 300]},
    }


def run_args():
    return argparse.Namespace(gpt_model="GPT-B", image_size=256, lr=1e-4, ema=True, results_dir="results",
                              mixed_precision="bf16", betas=(0.9, 0.95))


GPT_SPEC = [("tok_embeddings.weight", "F32", [6, 4]), ("layers.0.attention.wqkv.weight", "F32", [12, 4]),
            ("norm.weight", "F32", [4])]


def make_fixtures(out):
    rng = random.Random(1234)
    fixtures, expected = {}, {}

    # {"model": sd} at protocol 2, a Parameter among the tensors, optimizer / args / steps beside it.
    sd = state_dict(rng, GPT_SPEC)
    sd["output.weight"] = Parameter(tensor(rng, "F32", [6, 4]))
    fixtures["model_p2.pt"] = torch_save({"model": sd, "optimizer": optimizer_state(rng), "steps": 7,
                                          "args": run_args()}, "model_p2", protocol=2)
    expected["model_p2.pt"] = {"weights": expected_weights(sd)}

    # Training checkpoint at protocol 4: "ema" must win over "model".
    model, ema = state_dict(rng, GPT_SPEC, ordered=True), state_dict(rng, GPT_SPEC, ordered=True)
    fixtures["ema_p4.pt"] = torch_save({"model": model, "ema": ema, "optimizer": optimizer_state(rng),
                                        "steps": 10 ** 12, "args": run_args()}, "archive", protocol=4)
    expected["ema_p4.pt"] = {"weights": expected_weights(ema)}

    # {"module": sd} with float16, bfloat16, float64 and int64 storages, a 0-d tensor among them.
    sd = state_dict(rng, [("half.weight", "F16", [3, 5]), ("bf16.weight", "BF16", [5, 3]),
                          ("double.bias", "F64", [4]), ("codebook_used", "I64", [6]),
                          ("bn.num_batches_tracked", "I64", [])], ordered=True)
    fixtures["dtypes_module.pt"] = torch_save({"module": sd, "epoch": 2}, "dtypes_module")
    expected["dtypes_module.pt"] = {"weights": expected_weights(sd)}

    # {"state_dict": OrderedDict with _metadata}: two views of one storage (an offset, and a transposed
    # stride), a tensor that carries state (_rebuild_from_type_v2), and a non-tensor value to ignore.
    shared = Storage("F32", [round(rng.uniform(-2, 2), 4) for _ in range(24)])
    sd = OrderedDict()
    sd["a.weight"] = Tensor(shared, 2, [3, 4])
    sd["b.weight"] = Tensor(shared, 8, [4, 3], strides=[1, 4])
    sd["c.weight"] = Tensor(Storage("F32", [0.5, -1.25, 3.0]), 0, [3], state={"tag": "kept"})
    sd["not_a_tensor"] = 3
    sd._metadata = OrderedDict([("", {"version": 1}), ("a", {"version": 1})])
    fixtures["shared_state_dict.pt"] = torch_save({"state_dict": sd, "epoch": 1}, "shared_state_dict")
    expected["shared_state_dict.pt"] = {"weights": expected_weights(sd)}

    # A bare state dict (no wrapper) in a folder named like a released checkpoint.
    sd = state_dict(rng, GPT_SPEC)
    bare = torch_save(sd, "c2i_B_256")
    fixtures["bare.pt"] = bare
    expected["bare.pt"] = {"weights": expected_weights(sd)}

    # The same in an archive whose central directory needs its ZIP64 fields.
    fixtures["zip64.pt"] = torch_save(sd, "zip64", force_zip64=True)
    expected["zip64.pt"] = {"weights": expected_weights(sd)}

    # Failures: each must be one clear error, never a crash.
    fixtures["no_tensors.pt"] = torch_save({"steps": 3, "args": run_args()}, "no_tensors")
    expected["no_tensors.pt"] = {"error": "no tensors found"}

    fixtures["truncated.pt"] = bare[: len(bare) // 2]
    expected["truncated.pt"] = {"error": "truncated"}

    def shorten(storages):
        storages["0"] = storages["0"][:-4]
    fixtures["short_storage.pt"] = torch_save({"model": state_dict(rng, GPT_SPEC)}, "short_storage",
                                              edit_storages=shorten)
    expected["short_storage.pt"] = {"error": "short_storage/data/0"}

    fixtures["garbage_pkl.pt"] = zip_archive([("archive/data.pkl", b"\x80\x02}q\x00X\x05\x00\x00\x00modelq\x01\xff\xfe"),
                                              ("archive/byteorder", b"little")])
    expected["garbage_pkl.pt"] = {"error": "archive/data.pkl: unsupported pickle opcode 0xff"}

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("archive/data.pkl", date_time=(1980, 1, 1, 0, 0, 0)),
                   pickle_checkpoint({"w": tensor(rng, "F32", [2])}, 2)[0], compress_type=zipfile.ZIP_DEFLATED)
    fixtures["compressed.pt"] = buf.getvalue()
    expected["compressed.pt"] = {"error": "'archive/data.pkl' is compressed"}

    os.makedirs(out, exist_ok=True)
    for name, data in fixtures.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")
    total = sum(len(d) for d in fixtures.values())
    print(f"wrote {len(fixtures)} fixtures ({total} bytes) and expected.json to {out}")


if __name__ == "__main__":
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    make_fixtures(sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "Tests", "ZipARTests", "Fixtures", "pt"))
