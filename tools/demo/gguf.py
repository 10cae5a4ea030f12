"""tools/demo/gguf.py — a minimal GGUF v3 writer and reader (metadata, F32/F16 tensors, 32-byte alignment), enough
to export the demo model and to read it back for checks. Writes go to a temporary file renamed into place."""
import os
import struct

import numpy as np

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
GGML_F32, GGML_F16 = 0, 1
ALIGN = 32
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q",
           I64: "<q", F64: "<d"}


def _str(s):
    b = s.encode("utf-8") if isinstance(s, str) else s
    return struct.pack("<Q", len(b)) + b


class Writer:
    def __init__(self):
        self.kv = []  # (key, type, value, elem_type)
        self.tensors = []  # (name, ggml_type, ne, bytes)

    def add(self, key, vtype, value, elem=None):
        self.kv.append((key, vtype, value, elem))

    def u32(self, k, v): self.add(k, U32, v)
    def f32(self, k, v): self.add(k, F32, v)
    def bool(self, k, v): self.add(k, BOOL, v)
    def str(self, k, v): self.add(k, STRING, v)
    def arr(self, k, elem, v): self.add(k, ARRAY, v, elem)

    def tensor(self, name, array, ggml_type):
        """array in row-major (numpy) order; GGUF's ne lists the dimensions innermost first."""
        a = np.ascontiguousarray(array, dtype=np.float32 if ggml_type == GGML_F32 else np.float16)
        self.tensors.append((name, ggml_type, list(reversed(a.shape)), a.tobytes()))

    def _value(self, vtype, v, elem):
        if vtype == STRING:
            return _str(v)
        if vtype == ARRAY:
            head = struct.pack("<IQ", elem, len(v))
            if elem == STRING:
                return head + b"".join(_str(x) for x in v)
            return head + b"".join(struct.pack(_SCALAR[elem], x) for x in v)
        return struct.pack(_SCALAR[vtype], v)

    def write(self, path):
        out = [b"GGUF", struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))]
        for k, t, v, e in self.kv:
            out += [_str(k), struct.pack("<I", t), self._value(t, v, e)]
        off = 0
        for name, t, ne, data in self.tensors:
            out += [_str(name), struct.pack("<I", len(ne)), b"".join(struct.pack("<Q", n) for n in ne),
                    struct.pack("<IQ", t, off)]
            off += (len(data) + ALIGN - 1) // ALIGN * ALIGN
        head = b"".join(out)
        blob = [head, b"\0" * (-len(head) % ALIGN)]
        for _, _, _, data in self.tensors:
            blob += [data, b"\0" * (-len(data) % ALIGN)]
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(b"".join(blob))
        os.replace(tmp, path)


def read(path):
    """(metadata dict, {name: numpy array in row-major order}) of an F32/F16 GGUF."""
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v[0] if len(v) == 1 else v

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(t):
        if t == STRING:
            return string()
        if t == ARRAY:
            e, n = take("<IQ")
            return [value(e) for _ in range(n)]
        return take(_SCALAR[t])

    assert data[:4] == b"GGUF", path
    pos = 4
    version, n_t, n_kv = take("<IQQ")
    assert version == 3
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("<I"))
    infos = []
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        ne = [take("<Q") for _ in range(nd)]
        t, off = take("<IQ")
        infos.append((name, ne, t, off))
    base = (pos + ALIGN - 1) // ALIGN * ALIGN
    tensors = {}
    for name, ne, t, off in infos:
        dt = np.float32 if t == GGML_F32 else np.float16
        n = int(np.prod(ne))
        a = np.frombuffer(data, dtype=dt, count=n, offset=base + off)
        tensors[name] = a.reshape(list(reversed(ne))).astype(np.float32)
    return meta, tensors
