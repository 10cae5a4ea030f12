"""What images and audio clips share on their way into the library's input structs: files by path or by bytes."""

import ctypes
import os


def is_numpy(x):
    return type(x).__module__ == "numpy" and type(x).__name__ == "ndarray"


def fill_file(inp, item, what, noun, keep):
    """Points inp (vkmm_image_input or vkmm_audio_input) at a path or at a file's bytes, keeping the bytes alive in
    keep; returns the name to give the input, or None when item is neither (the caller's other forms follow)."""
    if isinstance(item, (str, os.PathLike)):
        path = os.fsencode(item)
        if not path or b"\0" in path:
            raise ValueError(f"{what}: {'an empty path' if not path else 'a path with a NUL byte'}")
        inp.path = path
        return path
    if isinstance(item, (bytes, bytearray, memoryview)):
        data = bytes(item)
        if not data:
            raise ValueError(f"{what}: empty bytes, not {noun}")
        buf = ctypes.create_string_buffer(data, len(data))
        keep.append(buf)
        inp.data = ctypes.cast(buf, ctypes.c_void_p)
        inp.size = len(data)
        return what.encode()
    return None
