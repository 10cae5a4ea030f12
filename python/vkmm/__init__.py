"""vkmm: multimodal language models (images and text in, text out) on any Vulkan GPU, from Python.

    from vkmm import MultimodalModel
    model = MultimodalModel(model="demo")
    print(model.generate(text="Describe the image.", images=["examples/scene-2.png"]))

A thin layer over the C library libvkmm (ctypes; no compiler needed). numpy and Pillow are optional: images
may be numpy arrays or PIL images when those are installed.
"""

import ctypes
from ctypes import byref

from . import _lib
from .errors import (DeviceLostError, Error, FileError, FormatError, HostMemoryError, InternalError,
                     InvalidArgumentError, ModelNotFoundError, NoDeviceError, OutOfMemoryError, UnsupportedError,
                     VulkanError)
from .model import ClosedError, MultimodalModel, Session, TextStream
from .results import ChatResult, Device, KnownModel, ModelInfo, TokenLogprob, TopLogprob, Usage

__version__ = _lib.lib.vkmm_version().decode()
library_path = _lib.path


def devices():
    """Every Vulkan device with what vkmm probed (list of Device); the same as `vkmm devices`."""
    arr = ctypes.POINTER(_lib.DeviceInfo)()
    n = ctypes.c_int()
    err = _lib.Error_()
    st = _lib.lib.vkmm_devices_list(byref(arr), byref(n), byref(err))
    if st:
        from .errors import from_status
        raise from_status(st, err.msg.decode("utf-8", "replace"))
    out = []
    try:
        for i in range(n.value):
            d = _lib.at(arr, i, _lib.DeviceInfo)
            v = d.api_version
            out.append(Device(
                index=d.index, name=d.name.decode("utf-8", "replace"), vendor=d.vendor.decode("utf-8", "replace"),
                kind=_lib.DEVICE_KINDS.get(d.kind, "other"), driver_name=d.driver_name.decode("utf-8", "replace"),
                driver_info=d.driver_info.decode("utf-8", "replace"),
                api_version=f"{(v >> 22) & 0x7f}.{(v >> 12) & 0x3ff}.{v & 0xfff}",
                subgroup_size=d.subgroup_size, fp16=d.fp16, int8=d.int8, coopmat_nv=d.coopmat_nv,
                coopmat_khr=d.coopmat_khr, shared_memory=d.shared_memory,
                max_storage_buffer_range=d.max_storage_buffer_range, max_allocation_size=d.max_allocation_size,
                device_local_bytes=d.device_local_bytes,
                heaps=[{"size": d.heaps[k].size, "device_local": bool(d.heaps[k].device_local)}
                       for k in range(min(d.heap_count, _lib.MAX_HEAPS))],
                usable=bool(d.usable), unusable_reason=d.unusable_reason.decode("utf-8", "replace")))
    finally:
        _lib.libc.free(arr)
    return out


def models():
    """Every model name MultimodalModel(model=NAME) and `vkmm run --model NAME` know: a list of KnownModel with
    the files each names and whether they are on this machine (`vkmm models`)."""
    cat = _lib.ModelCatalog()
    err = _lib.Error_()
    st = _lib.lib.vkmm_model_catalog_load(byref(cat), byref(err))
    if st:
        from .errors import from_status
        raise from_status(st, err.msg.decode("utf-8", "replace"))
    try:
        t = _lib.text
        return [KnownModel(name=t(e.name), manifest=t(e.manifest), description=t(e.description),
                           huggingface=t(e.repo), model_file=t(e.model_file), mmproj_file=t(e.mmproj_file),
                           model_path=t(e.model_path), mmproj_path=t(e.mmproj_path), present=bool(e.present),
                           problem=t(e.problem))
                for e in (_lib.at(cat.models, i, _lib.ModelEntry) for i in range(cat.n_models))]
    finally:
        _lib.lib.vkmm_model_catalog_free(byref(cat))


__all__ = ["MultimodalModel", "Session", "TextStream", "ChatResult", "Usage", "TokenLogprob", "TopLogprob",
           "ModelInfo", "Device", "KnownModel", "devices", "models", "Error", "InvalidArgumentError", "FileError",
           "FormatError", "UnsupportedError", "NoDeviceError", "OutOfMemoryError", "HostMemoryError",
           "DeviceLostError", "VulkanError", "InternalError", "ModelNotFoundError", "ClosedError", "__version__"]
