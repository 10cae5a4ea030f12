"""The C library behind the package: finding libvkmm, and ctypes mirrors of the structs and functions of vkmm.h.

Nothing here is public; the rest of the package speaks Python. Every struct mirrors its C declaration field
for field, in order (ctypes applies the C compiler's alignment rules). Structs that start with struct_size get
it set to their ctypes size when made (Sized), so a newer library reads only the fields this mirror knows;
arrays the library allocates are walked by their elements' struct_size (at)."""

import ctypes
import ctypes.util
import os
from ctypes import (POINTER, Structure, c_bool, c_char, c_char_p, c_double, c_float, c_int, c_int32, c_size_t,
                    c_uint8, c_uint32, c_uint64, c_void_p)

TOP_LOGPROBS = 10
MAX_STOP = 16
MAX_HEAPS = 16


class Sized(Structure):
    """A struct whose first field is its size as this side knows it (vkmm.h: "how this API grows")."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.struct_size = ctypes.sizeof(self)


def at(array, i, cls):
    """Element i of a library-allocated array whose stride is its first element's struct_size."""
    base = ctypes.cast(array, c_void_p).value
    stride = array[0].struct_size or ctypes.sizeof(cls)
    return cls.from_address(base + i * stride)


class Error_(Structure):
    _fields_ = [("code", c_int), ("msg", c_char * 1024)]


class Sampling(Sized):
    _fields_ = [("struct_size", c_uint32), ("temperature", c_float), ("top_k", c_int32), ("top_p", c_float), ("min_p", c_float),
                ("repeat_penalty", c_float), ("repeat_last_n", c_int32), ("seed", c_uint64),
                ("ignore_eog", c_bool), ("stop", POINTER(c_char_p)), ("n_stop", c_uint32)]


class ModelRef(Sized):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("manifest", c_char_p), ("model", c_char_p),
                ("mmproj", c_char_p), ("chat_template", c_char_p), ("system", c_char_p), ("context", c_uint32),
                ("max_tokens", c_uint32), ("set", c_uint32), ("sampling", Sampling)]


# bits of ModelRef.set
REF_CHAT_TEMPLATE, REF_SYSTEM, REF_CONTEXT, REF_MAX_TOKENS = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REF_TEMPERATURE, REF_TOP_K, REF_TOP_P, REF_MIN_P, REF_REPEAT_PENALTY, REF_SEED = (1 << 4, 1 << 5, 1 << 6, 1 << 7,
                                                                                  1 << 8, 1 << 9)


class ModelEntry(Sized):
    _fields_ = [("struct_size", c_uint32), ("name", c_char_p), ("manifest", c_char_p), ("description", c_char_p), ("repo", c_char_p),
                ("model_file", c_char_p), ("mmproj_file", c_char_p), ("model_path", c_char_p),
                ("mmproj_path", c_char_p), ("present", c_bool), ("problem", c_char_p)]


class ModelCatalog(Sized):
    _fields_ = [("struct_size", c_uint32), ("models", POINTER(ModelEntry)), ("n_models", c_uint32), ("dirs", POINTER(c_char_p)),
                ("n_dirs", c_uint32)]


PROGRESS_FN = ctypes.CFUNCTYPE(None, c_char_p, c_uint64, c_uint64, c_void_p)


class ModelParams(Sized):
    _fields_ = [("struct_size", c_uint32), ("model_path", c_char_p), ("mmproj_path", c_char_p), ("device", c_char_p), ("validation", c_int),
                ("memory_budget", c_uint64), ("chat_template", c_char_p), ("progress", PROGRESS_FN),
                ("progress_user", c_void_p), ("kv_tokens", c_uint32), ("max_batch", c_uint32),
                ("image_tokens", c_uint32)]


class ModelInfo(Structure):
    _fields_ = [("arch", c_char_p), ("name", c_char_p), ("chat_template", c_char_p), ("device", c_char_p),
                ("n_layer", c_uint32), ("n_embd", c_uint32), ("n_vocab", c_uint32), ("n_ctx_train", c_uint32),
                ("has_vision", c_bool), ("weight_bytes", c_uint64), ("n_expert", c_uint32), ("n_expert_used", c_uint32)]


class ModelStats(Structure):
    _fields_ = [("kv_pages", c_uint32), ("kv_pages_used", c_uint32), ("ring_pages", c_uint32),
                ("ring_pages_used", c_uint32), ("kv_bytes", c_uint64), ("kv_positions", c_uint32),
                ("generating", c_uint32), ("queued", c_uint32), ("decode_steps", c_uint64), ("decode_tokens", c_uint64)]


class SessionParams(Sized):
    _fields_ = [("struct_size", c_uint32), ("n_ctx", c_uint32), ("n_batch", c_uint32), ("profile", c_bool), ("all_logits", c_bool)]


class ImageInput(Sized):
    _fields_ = [("struct_size", c_uint32), ("path", c_char_p), ("data", c_void_p), ("size", c_size_t), ("pixels", POINTER(c_uint8)),
                ("width", c_uint32), ("height", c_uint32), ("channels", c_uint32), ("name", c_char_p)]


class Message(Sized):
    _fields_ = [("struct_size", c_uint32), ("role", c_char_p), ("text", c_char_p), ("images", POINTER(c_char_p)), ("n_images", c_uint32),
                ("image_inputs", POINTER(ImageInput)), ("n_image_inputs", c_uint32)]


class TopEntry(Structure):
    _fields_ = [("id", c_int32), ("logprob", c_float)]


class TokenEvent(Sized):
    _fields_ = [("struct_size", c_uint32), ("id", c_int32), ("piece", c_char_p), ("logprob", c_float), ("n_top", c_uint32),
                ("top", TopEntry * TOP_LOGPROBS), ("finish", c_int)]


FINISH_NONE, FINISH_EOG, FINISH_STOP, FINISH_LENGTH, FINISH_CANCELLED = range(5)


class Stats(Structure):
    _fields_ = [("n_images", c_uint32), ("image_ms", c_double), ("n_prompt", c_uint32), ("prompt_ms", c_double),
                ("n_gen", c_uint32), ("gen_ms", c_double), ("n_ctx_used", c_uint32),
                ("decode_recordings", c_uint32), ("last_prompt", c_uint32), ("last_cached", c_uint32),
                ("last_gen", c_uint32), ("last_finish", c_int)]


class Heap(Structure):
    _fields_ = [("size", c_uint64), ("device_local", c_bool)]


class DeviceInfo(Sized):
    _fields_ = [
        ("struct_size", c_uint32), ("index", c_int), ("name", c_char * 256), ("vendor", c_char * 32), ("driver_name", c_char * 256),
        ("driver_info", c_char * 256), ("vendor_id", c_uint32), ("device_id", c_uint32),
        ("driver_version", c_uint32), ("driver_version_str", c_char * 32), ("api_version", c_uint32),
        ("kind", c_int), ("device_uuid", c_uint8 * 16), ("driver_uuid", c_uint8 * 16),
        ("pipeline_cache_uuid", c_uint8 * 16),
        ("subgroup_size", c_uint32), ("subgroup_size_min", c_uint32), ("subgroup_size_max", c_uint32),
        ("subgroup_ops", c_uint32), ("subgroup_size_control", c_bool), ("subgroup_full", c_bool),
        ("fp16", c_bool), ("int8", c_bool), ("int16", c_bool), ("int64", c_bool),
        ("storage8", c_bool), ("storage16", c_bool), ("int_dot", c_bool), ("coopmat_nv", c_bool),
        ("coopmat_khr", c_bool), ("debug_utils", c_bool), ("timestamps", c_bool),
        ("timestamp_period_ns", c_float),
        ("shared_memory", c_uint32), ("max_workgroup_invocations", c_uint32),
        ("max_workgroup_size", c_uint32 * 3), ("max_workgroup_count", c_uint32 * 3),
        ("max_push_constants", c_uint32),
        ("max_storage_buffer_range", c_uint64), ("max_allocation_size", c_uint64),
        ("min_storage_offset_alignment", c_uint64),
        ("heap_count", c_uint32), ("heaps", Heap * MAX_HEAPS), ("device_local_bytes", c_uint64),
        ("queue_family_compute", c_int), ("queue_family_transfer", c_int),
        ("usable", c_bool), ("unusable_reason", c_char * 160),
    ]


DEVICE_KINDS = {0: "other", 1: "integrated", 2: "discrete", 3: "virtual", 4: "cpu"}


def _candidates():
    """Where libvkmm may be, in the order tried."""
    env = os.environ.get("VKMM_LIBRARY")
    if env:
        return [env]  # an explicit choice is the only one tried
    here = os.path.dirname(os.path.abspath(__file__))
    out = []
    try:
        from . import _install  # written by `meson install`
        out.append(os.path.join(_install.LIBDIR, "libvkmm.so.0"))
    except ImportError:
        pass
    checkout = os.path.dirname(os.path.dirname(here))  # python/vkmm -> the checkout
    out.append(os.path.join(checkout, "build", "libvkmm.so"))
    found = ctypes.util.find_library("vkmm")
    if found:
        out.append(found)
    out.append("libvkmm.so.0")
    return out


def _load():
    tried = []
    for path in _candidates():
        if os.path.isabs(path) and not os.path.exists(path):
            tried.append(f"{path} (not there)")
            continue
        try:
            return ctypes.CDLL(path), path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError("vkmm: cannot find the libvkmm shared library; build it (./scripts/setup), install it "
                      "(meson install) or point VKMM_LIBRARY at libvkmm.so. Tried: " + "; ".join(tried))


lib, path = _load()

# Every call that takes a vkmm_error * returns a vkmm_status.
_E = POINTER(Error_)
_protos = {
    "vkmm_version": (c_char_p, []),
    "vkmm_version_number": (c_uint32, []),
    "vkmm_status_name": (c_char_p, [c_int]),
    "vkmm_finish_name": (c_char_p, [c_int]),
    "vkmm_devices_list": (c_int, [POINTER(POINTER(DeviceInfo)), POINTER(c_int), _E]),
    "vkmm_sampling_defaults": (None, [POINTER(Sampling), c_uint32]),
    "vkmm_model_resolve": (c_int, [c_char_p, c_char_p, POINTER(ModelRef), _E]),
    "vkmm_model_ref_free": (None, [POINTER(ModelRef)]),
    "vkmm_model_catalog_load": (c_int, [POINTER(ModelCatalog), _E]),
    "vkmm_model_catalog_free": (None, [POINTER(ModelCatalog)]),
    "vkmm_model_load": (c_int, [POINTER(ModelParams), POINTER(c_void_p), _E]),
    "vkmm_model_free": (None, [c_void_p]),
    "vkmm_model_info_get": (None, [c_void_p, POINTER(ModelInfo), c_uint32]),
    "vkmm_model_stats_get": (None, [c_void_p, POINTER(ModelStats), c_uint32]),
    "vkmm_model_tokenize": (c_int, [c_void_p, c_char_p, c_bool, c_bool, POINTER(c_int32), c_uint32,
                                    POINTER(c_uint32), _E]),
    "vkmm_model_token_bytes": (c_int, [c_void_p, c_int32, c_void_p, c_size_t, POINTER(c_size_t), _E]),
    "vkmm_model_detokenize": (c_int, [c_void_p, POINTER(c_int32), c_uint32, c_void_p, c_size_t,
                                      POINTER(c_size_t), _E]),
    "vkmm_session_create": (c_int, [c_void_p, POINTER(SessionParams), POINTER(c_void_p), _E]),
    "vkmm_session_free": (None, [c_void_p]),
    "vkmm_session_reset": (None, [c_void_p]),
    "vkmm_session_add_message": (c_int, [c_void_p, POINTER(Message), _E]),
    "vkmm_session_begin": (c_int, [c_void_p, POINTER(Sampling), c_uint32, _E]),
    "vkmm_session_next": (c_int, [c_void_p, POINTER(TokenEvent), _E]),
    "vkmm_session_end": (c_int, [c_void_p, _E]),
    "vkmm_session_cancel": (None, [c_void_p]),
    "vkmm_session_stats_get": (None, [c_void_p, POINTER(Stats), c_uint32]),
}
for _name, (_res, _args) in _protos.items():
    _fn = getattr(lib, _name)
    _fn.restype = _res
    _fn.argtypes = _args

def _getter(fn, cls):
    """The by-value getters of vkmm.h are inline wrappers; these do what they do."""
    def get(*args):
        out = cls()
        fn(*args, ctypes.byref(out), ctypes.sizeof(cls))
        return out
    return get


sampling_default = _getter(lib.vkmm_sampling_defaults, Sampling)
model_info = _getter(lib.vkmm_model_info_get, ModelInfo)
model_stats = _getter(lib.vkmm_model_stats_get, ModelStats)
session_stats = _getter(lib.vkmm_session_stats_get, Stats)

libc = ctypes.CDLL(None)
libc.free.argtypes = [c_void_p]
libc.free.restype = None


def text(b):
    """A C string (bytes or None) as str (None stays None); invalid UTF-8 becomes U+FFFD."""
    return None if b is None else b.decode("utf-8", "replace")
