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


class MediaList:
    """A list of input structs (vkmm_image_input, vkmm_audio_input) built from Python objects; it keeps the memory
    they point to alive. A subclass names its struct, the keyword and what one item is, says which objects are a
    single item passed by mistake, and fills the forms other than a path or bytes (_fill_data)."""

    struct = None  # the ctypes struct of one input
    keyword = ""   # "images"
    things = ""    # "images", as in "a list of images"
    noun = ""      # "an image", as in "empty bytes, not an image"

    def __init__(self, items, label):
        if self._is_single(items):
            raise TypeError(f"{self.keyword} must be a list of {self.things}, not a single {type(items).__name__}; "
                            f"write {self.keyword}=[x]")
        items = list(items)
        self._keep = []
        self.array = (self.struct * max(1, len(items)))()
        self.n = len(items)
        for i, item in enumerate(items):
            self._fill(self.array[i], item, f"{label} {i + 1}")

    def _fill(self, inp, item, what):
        inp.struct_size = ctypes.sizeof(inp)  # array elements skip Sized.__init__
        name = fill_file(inp, item, what, self.noun, self._keep)
        if name is None:
            name = what.encode()
            self._fill_data(inp, item, what)
        self._keep.append(name)
        inp.name = name
