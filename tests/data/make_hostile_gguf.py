#!/usr/bin/env python3
"""tests/data/make_hostile_gguf.py — writes the hand-made corpus of hostile GGUF files
(tests/data/hostile-gguf/*.gguf, with expected.tsv: file, a phrase the error must contain, the byte offset
it must name) and the valid seed files of the GGUF fuzzer (tests/fuzz/corpus/gguf/). Standard library only;
an encoder of its own, independent of loader/gguf_write.c, so the two cross-check each other.

usage: make_hostile_gguf.py           regenerate the files in the source tree
       make_hostile_gguf.py --check   fail if the committed files differ from what this script makes
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
HOSTILE_DIR = os.path.join(HERE, "hostile-gguf")
SEED_DIR = os.path.join(HERE, "..", "fuzz", "corpus", "gguf")

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
SCALAR_FMT = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<B",
              U64: "<Q", I64: "<q", F64: "<d"}
# ggml type id -> (elements per block, bytes per block), reference/gguf.md section 4
TYPES = {0: (1, 4), 1: (1, 2), 2: (32, 18), 8: (32, 34), 12: (256, 144), 24: (1, 1)}
F32T, F16T, Q4_0, Q8_0, Q4_K = 0, 1, 2, 8, 12


class Raw:
    """Bytes written as they are, in place of a value, key or string."""

    def __init__(self, data):
        self.data = data


class Str:
    """A string whose length field may lie."""

    def __init__(self, data, length=None):
        self.data = data if isinstance(data, bytes) else data.encode()
        self.length = len(self.data) if length is None else length


class Arr:
    """An array; count may lie."""

    def __init__(self, elem, items, count=None):
        self.elem, self.items = elem, items
        self.count = len(items) if count is None else count


class Out:
    def __init__(self):
        self.b = bytearray()
        self.marks = {}

    def mark(self, name):
        self.marks[name] = len(self.b)

    def u32(self, v):
        self.b += struct.pack("<I", v & 0xFFFFFFFF)

    def u64(self, v):
        self.b += struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)

    def string(self, s):
        if isinstance(s, Raw):
            self.b += s.data
            return
        if not isinstance(s, Str):
            s = Str(s)
        self.u64(s.length)
        self.b += s.data

    def value(self, typ, v, name):
        self.mark(name)
        if isinstance(v, Raw):
            self.b += v.data
        elif typ == STRING:
            self.string(v)
        elif typ == ARRAY:
            self.u32(v.elem)
            self.mark(name + ".count")
            self.u64(v.count)
            for i, item in enumerate(v.items):
                self.value(v.elem, item, "%s[%d]" % (name, i))
        else:
            self.b += struct.pack(SCALAR_FMT[typ], v)

    def pad(self, align):
        self.b += b"\0" * (-len(self.b) % align)


def nbytes(typ, ne):
    blk, size = TYPES[typ]
    n = ne[0] // blk * size
    for d in ne[1:]:
        n *= d
    return n


def gguf(kvs, tensors=(), version=3, magic=b"GGUF", n_kv=None, n_tensors=None, align=32, data=True):
    """kvs: (key, type, value); tensors: dicts with name, ne, type and optionally offset, n_dims.
    Returns (bytes, marks): marks name the offset of every field ('kv1.value', 't0.offset', ...)."""
    o = Out()
    o.b += magic
    o.mark("version")
    o.u32(version)
    o.mark("n_tensors")
    o.u64(len(tensors) if n_tensors is None else n_tensors)
    o.mark("n_kv")
    o.u64(len(kvs) if n_kv is None else n_kv)
    for i, (key, typ, val) in enumerate(kvs):
        o.mark("kv%d" % i)
        o.string(key)
        o.mark("kv%d.type" % i)
        o.u32(typ)
        o.value(typ, val, "kv%d.value" % i)
    offset = 0
    layout = []
    for i, t in enumerate(tensors):
        o.mark("t%d" % i)
        o.string(t["name"])
        o.mark("t%d.n_dims" % i)
        o.u32(t.get("n_dims", len(t["ne"])))
        o.mark("t%d.ne" % i)
        for d in t["ne"]:
            o.u64(d)
        o.mark("t%d.type" % i)
        o.u32(t["type"])
        off = t.get("offset", offset)
        o.mark("t%d.offset" % i)
        o.u64(off)
        size = t.get("nbytes")
        if size is None:
            size = nbytes(t["type"], t["ne"]) if t["type"] in TYPES else 0
        layout.append((off, 0 if t.get("nodata") else size))
        offset = off + size + (-(off + size) % align)
    o.mark("infos_end")
    if tensors and data:
        o.pad(align)
        o.mark("data")
        start = len(o.b)
        for i, (off, size) in enumerate(layout):
            if size == 0:
                continue
            o.b += b"\0" * (start + off - len(o.b))
            o.mark("t%d.data" % i)
            o.b += bytes((j * 37 + i) & 0xFF for j in range(size))
            o.pad(align)
    return bytes(o.b), o.marks


# ---- the valid base file that most hostile files bend ----

def base_kvs():
    # The long description puts the later fields far enough from the header that a file cut inside them
    # still passes the header's count check (n_kv * 14 + n_tensors * 33 bytes must remain), so the cut is
    # found where it is; cuts before it are caught by that count check instead (trunc-early-*).
    return [
        ("general.architecture", STRING, "llama"),                  # kv0
        ("general.description", STRING, "a valid file that the hostile ones bend " * 5),  # kv1
        ("llama.block_count", U32, 2),                              # kv2
        ("llama.rope.freq_base", F32, 10000.0),                     # kv3
        ("llama.list", ARRAY, Arr(U32, [1, 2, 3])),                 # kv4
        ("tokenizer.ggml.tokens", ARRAY, Arr(STRING, ["a", "bc", "def"])),  # kv5
        ("general.name", STRING, "hostile base file"),              # kv6
    ]


def base_tensors():
    return [
        {"name": "tok.weight", "ne": [8, 2], "type": F32T},   # t0: 64 bytes
        {"name": "q.weight", "ne": [32, 2], "type": Q4_0},    # t1: 36 bytes
    ]


def base(**kw):
    return gguf(kw.pop("kvs", base_kvs()), kw.pop("tensors", base_tensors()), **kw)


def with_kv(i, kv):
    kvs = base_kvs()
    kvs[i] = kv
    return kvs


def with_tensor(i, **fields):
    ts = base_tensors()
    ts[i] = dict(ts[i], **fields)
    return ts


def nested(depth, inner):
    v = inner
    for _ in range(depth):
        v = Arr(ARRAY, [v])
    return v


CASES = []  # (file name, bytes, phrase, byte offset or None)


def case(name, built, phrase, mark=None, at=None):
    data, marks = built
    if mark is not None:
        at = marks[mark] if isinstance(mark, str) else marks[mark[0]] + mark[1]
    CASES.append((name + ".gguf", data, phrase, at))


def truncated(name, mark, extra, phrase, at_mark=None, at_extra=0, **kw):
    """The base file cut `extra` bytes after a mark."""
    data, marks = base(**kw)
    cut = marks[mark] + extra
    at = marks[at_mark if at_mark else mark] + at_extra
    CASES.append((name + ".gguf", data[:cut], phrase, at))


def make_cases():
    # -- empty, magic, version --
    case("empty", (b"", {}), "the file is empty", at=0)
    data, _ = base()
    case("magic-wrong", (b"GGUG" + data[4:], {}), "not a GGUF file", at=0)
    case("magic-zero", (b"\0\0\0\0" + data[4:], {}), "not a GGUF file", at=0)
    case("magic-lowercase", (b"gguf" + data[4:], {}), "not a GGUF file", at=0)
    case("trunc-magic", (b"GG", {}), "truncated", at=0)
    case("trunc-version", (b"GGUF\x03\x00", {}), "truncated", at=4)
    case("version-0", base(version=0), "version 0", "version")
    case("version-1", base(version=1), "version 1 is no longer supported", "version")
    case("version-4", base(version=4), "version 4 is newer", "version")
    case("version-big-endian", base(version=0x03000000), "big-endian", "version")
    case("version-max", base(version=0xFFFFFFFF), "newer than this reader", "version")
    # -- counts --
    truncated("trunc-tensor-count", "n_tensors", 3, "truncated")
    truncated("trunc-kv-count", "n_kv", 5, "truncated")
    case("n-tensors-2p63", base(n_tensors=1 << 63), "not a valid count", "n_tensors")
    case("n-tensors-max", base(n_tensors=(1 << 64) - 1), "not a valid count", "n_tensors")
    case("n-kv-2p63", base(n_kv=1 << 63), "not a valid count", "n_kv")
    case("n-kv-max", base(n_kv=(1 << 64) - 1), "not a valid count", "n_kv")
    case("n-kv-absurd", base(n_kv=1 << 40), "cannot fit", "n_kv")
    case("n-tensors-absurd", base(n_tensors=1 << 40), "cannot fit", "n_tensors")
    case("n-kv-one-too-many", base(n_kv=8), "bytes long but only", ("t0.ne", 2))
    truncated("trunc-early-kv0-key", "kv0", 8 + 3, "metadata pairs cannot fit", "n_kv")
    truncated("trunc-early-kv1-value", "kv1.value", 20, "metadata pairs cannot fit", "n_kv")
    # -- truncated at every section of the metadata --
    truncated("trunc-kv-key-length", "kv2", 3, "truncated")
    truncated("trunc-kv-key", "kv2", 8 + 5, "bytes long but only", "kv2")
    truncated("trunc-kv-type", "kv2.type", 2, "truncated")
    truncated("trunc-kv-value-string-length", "kv6.value", 4, "truncated")
    truncated("trunc-kv-value-string", "kv6.value", 8 + 3, "bytes long but only", "kv6.value")
    truncated("trunc-kv-value-u32", "kv2.value", 2, "truncated")
    truncated("trunc-kv-value-f32", "kv3.value", 3, "truncated")
    truncated("trunc-array-type", "kv4.value", 2, "truncated")
    truncated("trunc-array-count", "kv4.value", 4 + 5, "truncated", "kv4.value", 4)
    truncated("trunc-array-elements", "kv4.value", 12 + 6, "cannot fit", "kv4.value.count")
    truncated("trunc-string-array-element", "kv5.value[2]", 8 + 1, "bytes long but only", "kv5.value[2]")
    # -- ... and of the tensor infos, the padding and the data --
    truncated("trunc-tensor-name", "t0", 8 + 4, "bytes long but only", "t0")
    truncated("trunc-tensor-n-dims", "t0.n_dims", 1, "truncated")
    truncated("trunc-tensor-ne", "t0.ne", 8 + 3, "truncated", "t0.ne", 8)
    truncated("trunc-tensor-type", "t0.type", 3, "truncated")
    truncated("trunc-tensor-offset", "t1.offset", 7, "truncated")
    data, marks = base()
    assert marks["data"] > marks["infos_end"] + 1, "the base file must have padding"
    case("trunc-padding", (data[:marks["infos_end"] + 1], marks), "before the tensor data", "infos_end")
    case("trunc-data", (data[:marks["t1.data"] + 10], marks), "runs past the end of the file", "t1.offset")
    case("trunc-data-first-tensor", (data[:marks["t0.data"] + 1], marks), "runs past the end of the file",
         "t0.offset")
    # -- lengths and counts that point past the end --
    case("key-length-max", base(kvs=with_kv(0, (Str("general.architecture", (1 << 64) - 1), STRING, "x"))),
         "bytes long but only", "kv0")
    case("key-length-past-eof", base(kvs=with_kv(6, (Str("general.name", 1 << 20), STRING, "x"))),
         "bytes long but only", "kv6")
    case("key-too-long", base(kvs=with_kv(1, ("k" * 65536, U32, 1))), "at most 65535", "kv1")
    case("string-length-2p63", base(kvs=with_kv(6, ("general.name", STRING, Str("abc", 1 << 63)))),
         "bytes long but only", "kv6.value")
    case("string-length-max", base(kvs=with_kv(6, ("general.name", STRING, Str("abc", (1 << 64) - 1)))),
         "bytes long but only", "kv6.value")
    case("string-length-one-past", base(kvs=with_kv(6, ("general.name", STRING, Str("abc", 4))), tensors=[]),
         "bytes long but only", "kv6.value")
    case("tensor-name-length-max", base(tensors=with_tensor(0, name=Str("tok.weight", (1 << 64) - 1))),
         "bytes long but only", "t0")
    case("array-count-2p63", base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(U8, [1], 1 << 63)))),
         "not a valid count", "kv4.value.count")
    case("array-count-max", base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(U32, [1], (1 << 64) - 1)))),
         "not a valid count", "kv4.value.count")
    case("array-count-huge", base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(U32, [1, 2], 1 << 40)))),
         "cannot fit", "kv4.value.count")
    case("string-array-count-huge",
         base(kvs=with_kv(5, ("tokenizer.ggml.tokens", ARRAY, Arr(STRING, ["a"], 1 << 32)))),
         "cannot fit", "kv5.value.count")
    case("string-array-count-one-more",
         base(kvs=with_kv(5, ("tokenizer.ggml.tokens", ARRAY, Arr(STRING, ["a", "bc", "def"], 4)))),
         "bytes long but only", "kv6.type")
    # -- arrays of arrays that go wrong --
    case("nested-too-deep", base(kvs=with_kv(4, ("llama.list", ARRAY, nested(8, Arr(U32, [7]))))),
         "nested more than 8 deep", ("kv4.value", 12 * 8))
    case("nested-count-huge", base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(ARRAY, [Arr(U8, [1])], 1 << 30)))),
         "cannot fit", "kv4.value.count")
    case("nested-inner-count-max",
         base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(ARRAY, [Arr(U8, [], (1 << 64) - 1)])))),
         "not a valid count", "kv4.value[0].count")
    case("nested-inner-type-unknown",
         base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(ARRAY, [Arr(13, [])])))),
         "unknown array element type 13", "kv4.value[0]")
    case("nested-inner-bool-3",
         base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(ARRAY, [Arr(BOOL, [1, 3])])))),
         "bool element 1 is 3", ("kv4.value[0]", 13))
    # -- value types --
    case("value-type-13", base(kvs=with_kv(2, ("llama.block_count", 13, Raw(b"\0\0\0\0")))),
         "unknown value type 13", "kv2.type")
    case("value-type-max", base(kvs=with_kv(2, ("llama.block_count", 0xFFFFFFFF, Raw(b"\0\0\0\0")))),
         "unknown value type 4294967295", "kv2.type")
    case("array-type-13", base(kvs=with_kv(4, ("llama.list", ARRAY, Arr(13, [])))),
         "unknown array element type 13", "kv4.value")
    case("bool-2", base(kvs=with_kv(2, ("llama.use_thing", BOOL, 2))), "bool value is 2", "kv2.value")
    case("bool-255", base(kvs=with_kv(2, ("llama.use_thing", BOOL, 255))), "bool value is 255", "kv2.value")
    case("bool-array-2", base(kvs=with_kv(4, ("llama.flags", ARRAY, Arr(BOOL, [0, 1, 2])))),
         "bool element 2 is 2", ("kv4.value", 12 + 2))
    # -- keys --
    case("key-empty", base(kvs=with_kv(2, ("", U32, 2))), "empty key", "kv2")
    case("key-with-nul", base(kvs=with_kv(2, (b"llama.block\0count", U32, 2))), "NUL byte", "kv2")
    kvs = base_kvs()
    kvs.append(("llama.block_count", U32, 3))
    case("key-duplicate", base(kvs=kvs), "duplicate key 'llama.block_count'", "kv7")
    kvs = base_kvs()
    kvs.append(("general.architecture", STRING, "gemma3"))
    case("key-duplicate-architecture", base(kvs=kvs), "duplicate key 'general.architecture'", "kv7")
    # -- general.alignment --
    def aligned(value_type, value):
        kvs = base_kvs()
        kvs.insert(2, ("general.alignment", value_type, value))
        return base(kvs=kvs)
    case("alignment-48", aligned(U32, 48), "nonzero power of two", "kv2.value")
    case("alignment-0", aligned(U32, 0), "nonzero power of two", "kv2.value")
    case("alignment-2p31", aligned(U32, 1 << 31), "nonzero power of two", "kv2.value")
    case("alignment-negative", aligned(I32, -32), "must be a u32 value", "kv2.value")
    case("alignment-string", aligned(STRING, "32"), "must be a u32 value", "kv2.value")
    case("alignment-float", aligned(F32, 32.0), "must be a u32 value", "kv2.value")
    # the format says u32: other integer types holding a good value are refused too
    case("alignment-u64", aligned(U64, 32), "must be a u32 value (as the GGUF format specifies), not a u64 value",
         "kv2.value")
    case("alignment-u16", aligned(U16, 32), "not a u16 value", "kv2.value")
    case("alignment-u8", aligned(U8, 32), "not a u8 value", "kv2.value")
    case("alignment-i32-positive", aligned(I32, 32), "not a i32 value", "kv2.value")
    case("alignment-bool", aligned(BOOL, 1), "not a bool value", "kv2.value")
    case("alignment-array", aligned(ARRAY, Arr(U32, [32])), "not a array", "kv2.value")
    # -- tensor infos --
    case("tensor-name-64", base(tensors=with_tensor(0, name="t" * 64)), "at most 63", "t0")
    case("tensor-name-empty", base(tensors=with_tensor(0, name="")), "empty tensor name", "t0")
    case("tensor-name-nul", base(tensors=with_tensor(0, name=b"tok\0weight")), "NUL byte", "t0")
    data, marks = base(tensors=with_tensor(1, name="tok.weight"))
    case("tensor-duplicate", (data, marks),
         "duplicate tensor name (first at byte %d) in tensor info 2 of 2 ('tok.weight')" % marks["t0"], "t1")
    # names with control characters still give a one-line message (found by the fuzzer)
    ts = base_tensors()
    ts[0]["name"] = ts[1]["name"] = "line\nbreak"
    case("tensor-duplicate-newline", base(tensors=ts), "tensor info 2 of 2 ('line?break')", "t1")
    case("tensor-name-newline-data-past-eof", base(tensors=with_tensor(1, name="q.w\ntght", offset=1 << 63,
                                                                       nodata=True)),
         "bytes) in tensor info 2 of 2 ('q.w?tght')", "t1.offset")
    case("key-newline-duplicate", base(kvs=base_kvs() + [("llama.\nx", U8, 1), ("llama.\nx", U8, 2)]),
         "duplicate key 'llama.?x'", "kv8")
    case("n-dims-5", base(tensors=with_tensor(0, ne=[8, 2, 1, 1, 1])), "5 dimensions", "t0.n_dims")
    case("n-dims-0", base(tensors=with_tensor(0, ne=[], nbytes=0)), "0 dimensions", "t0.n_dims")
    case("n-dims-max", base(tensors=with_tensor(0, n_dims=0xFFFFFFFF)), "4294967295 dimensions", "t0.n_dims")
    case("ne-negative", base(tensors=with_tensor(0, ne=[-8 & 0xFFFFFFFFFFFFFFFF, 2], nbytes=0)),
         "ne[0] = -8 is negative", "t0.ne")
    case("ne-negative-dim1", base(tensors=with_tensor(0, ne=[8, (1 << 64) - 1], nbytes=0)),
         "ne[1] = -1 is negative", ("t0.ne", 8))
    case("ne-element-overflow", base(tensors=with_tensor(0, ne=[1 << 32, 1 << 32], nbytes=0)),
         "element count", "t0.ne")
    case("ne-element-overflow-4d", base(tensors=with_tensor(0, ne=[1 << 16, 1 << 16, 1 << 16, 1 << 16], nbytes=0)),
         "element count", "t0.ne")
    case("ne-byte-overflow", base(tensors=with_tensor(0, ne=[1 << 62], nbytes=0)), "byte size", "t0.ne")
    case("ne-bytes-past-int64", base(tensors=with_tensor(0, ne=[1 << 61], nbytes=0)), "byte size", "t0.ne")
    case("type-unknown-43", base(tensors=with_tensor(0, type=43, nbytes=64)), "unknown tensor type 43", "t0.type")
    case("type-unknown-1000", base(tensors=with_tensor(0, type=1000, nbytes=64)), "unknown tensor type 1000",
         "t0.type")
    case("type-unknown-max", base(tensors=with_tensor(0, type=0xFFFFFFFF, nbytes=64)),
         "unknown tensor type 4294967295", "t0.type")
    for removed, name in ((4, "Q4_2"), (5, "Q4_3"), (31, "Q4_0_4_4"), (36, "IQ4_NL_4_4")):
        case("type-removed-%d" % removed, base(tensors=with_tensor(0, type=removed, nbytes=64)),
             "type %d (%s) was removed" % (removed, name), "t0.type")
    case("block-q4_0-ne0-33", base(tensors=with_tensor(1, ne=[33, 2], nbytes=36)),
         "ne[0] = 33 is not a multiple of the Q4_0 block size 32", "t1.ne")
    case("block-q4_k-ne0-32", base(tensors=with_tensor(1, type=Q4_K, ne=[32, 2], nbytes=36)),
         "not a multiple of the Q4_K block size 256", "t1.ne")
    # -- data offsets --
    case("offset-misaligned", base(tensors=with_tensor(1, offset=80)), "not a multiple of the alignment 32",
         "t1.offset")
    case("offset-misaligned-by-1", base(tensors=with_tensor(0, offset=1)), "not a multiple of the alignment 32",
         "t0.offset")
    kvs = base_kvs()
    kvs.insert(2, ("general.alignment", U32, 64))
    case("offset-misaligned-align64", base(kvs=kvs, tensors=with_tensor(1, offset=96), align=64),
         "not a multiple of the alignment 64", "t1.offset")
    case("data-offset-past-eof", base(tensors=with_tensor(1, offset=1 << 20, nodata=True)),
         "runs past the end of the file", "t1.offset")
    case("data-offset-max", base(tensors=with_tensor(1, offset=(1 << 64) - 32, nodata=True)),
         "runs past the end of the file", "t1.offset")
    case("data-offset-2p63", base(tensors=with_tensor(1, offset=1 << 63, nodata=True)),
         "runs past the end of the file", "t1.offset")
    case("data-size-past-eof", base(tensors=with_tensor(0, ne=[1024, 1024], nbytes=64)),
         "runs past the end of the file", "t0.offset")
    # -- tensors sharing bytes: aliased (same offset) or overlapping, whichever comes first in the file
    case("tensor-alias", base(tensors=with_tensor(1, offset=0)),
         "tensor data (36 bytes at data offset 0) overlaps the data of tensor 'tok.weight' (64 bytes at data "
         "offset 0) in tensor info 2 of 2 ('q.weight')", "t1.offset")
    case("tensor-alias-same-shape", base(tensors=with_tensor(1, type=F32T, ne=[8, 2], offset=0)),
         "overlaps the data of tensor 'tok.weight'", "t1.offset")
    case("tensor-overlap", base(tensors=with_tensor(1, offset=32)),
         "tensor data (36 bytes at data offset 32) overlaps the data of tensor 'tok.weight'", "t1.offset")
    ts = base_tensors()
    ts[0] = dict(ts[0], offset=64)                      # 64 bytes at 64
    ts[1] = dict(ts[1], offset=32)                      # 36 bytes at 32: the first by offset, so t0 is named
    case("tensor-overlap-first", base(tensors=ts),
         "overlaps the data of tensor 'q.weight' (36 bytes at data offset 32) in tensor info 1 of 2",
         "t0.offset")
    ts = base_tensors() + [{"name": "k.weight", "ne": [32, 2], "type": Q4_0, "offset": 96}]
    ts[0] = dict(ts[0], ne=[32, 1], offset=0)           # 128 bytes at 0
    ts[1] = dict(ts[1], offset=128)                     # 36 bytes at 128: fine
    case("tensor-overlap-third", base(tensors=ts),
         "(36 bytes at data offset 96) overlaps the data of tensor 'tok.weight' (128 bytes at data offset 0) in "
         "tensor info 3 of 3 ('k.weight')", "t2.offset")
    # -- what `vkmm info` itself requires --
    case("no-architecture", base(kvs=base_kvs()[1:]), "required key 'general.architecture' is missing")
    case("architecture-not-string", base(kvs=with_kv(0, ("general.architecture", U32, 7))),
         "holds a u32 value, not a string", "kv0.value")


def seeds():
    """Valid files for the fuzzer to start from (also checked to open with exit status 0)."""
    out = {}
    out["base.gguf"] = base()[0]
    out["v2.gguf"] = base(version=2)[0]
    kvs = base_kvs()
    kvs.insert(1, ("general.alignment", U32, 64))
    out["align64.gguf"] = base(kvs=kvs, align=64)[0]
    kvs = base_kvs() + [
        ("test.u8", U8, 200), ("test.i8", I8, -3), ("test.u16", U16, 60000), ("test.i16", I16, -30000),
        ("test.i32", I32, -7), ("test.u64", U64, 1 << 40), ("test.i64", I64, -(1 << 40)), ("test.f64", F64, 0.25),
        ("test.bool", BOOL, 1), ("test.bools", ARRAY, Arr(BOOL, [0, 1])),
        ("test.nested", ARRAY, Arr(ARRAY, [Arr(U32, [1, 2]), Arr(STRING, ["x", ""]), Arr(ARRAY, [Arr(F32, [0.5])])])),
        ("test.empty", ARRAY, Arr(F64, [])),
    ]
    out["all-types.gguf"] = base(kvs=kvs)[0]
    out["metadata-only.gguf"] = gguf(base_kvs())[0]
    # tensors whose data lie in another order than their infos: the overlap check sorts by offset
    ts = base_tensors()
    ts[0] = dict(ts[0], offset=64)
    ts[1] = dict(ts[1], offset=0)
    out["reordered-tensors.gguf"] = base(tensors=ts)[0]
    out["zero-size-tensor.gguf"] = gguf(base_kvs()[:1], [{"name": "empty", "ne": [0, 4], "type": F32T},
                                                         {"name": "next", "ne": [32], "type": Q8_0}])[0]
    return out


def outputs():
    make_cases()
    files = {}
    lines = ["# file\tphrase the error message must contain\tbyte offset it must name (- for none)"]
    for name, data, phrase, at in CASES:
        assert name not in files, name
        files[os.path.join(HOSTILE_DIR, name)] = data
        lines.append("%s\t%s\t%s" % (name, phrase, "-" if at is None else at))
    files[os.path.join(HOSTILE_DIR, "expected.tsv")] = ("\n".join(lines) + "\n").encode()
    for name, data in seeds().items():
        files[os.path.join(SEED_DIR, name)] = data
    return files


def main():
    check = "--check" in sys.argv[1:]
    files = outputs()
    stale = []
    for path, data in sorted(files.items()):
        if check:
            try:
                with open(path, "rb") as f:
                    same = f.read() == data
            except OSError:
                same = False
            if not same:
                stale.append(path)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
    if check:
        for d in (HOSTILE_DIR, SEED_DIR):
            for name in os.listdir(d):
                if os.path.join(d, name) not in files:
                    stale.append(os.path.join(d, name) + " (not made by this script)")
        if stale:
            print("stale or missing; run tests/data/make_hostile_gguf.py:\n  " + "\n  ".join(stale))
            return 1
        print("%d files up to date" % len(files))
        return 0
    print("wrote %d files" % len(files))
    return 0


if __name__ == "__main__":
    sys.exit(main())
