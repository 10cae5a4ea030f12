"""Images as the library takes them (vkmm_image_input): file paths, encoded bytes, numpy arrays, PIL images and,
for chat messages, data: URIs. numpy and Pillow are used only when the caller hands over their objects."""

import base64
import binascii
import ctypes
import os
import urllib.parse

from . import _lib
from ._media import MediaList, is_numpy as _is_numpy




def _is_pil(x):
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image" for c in type(x).__mro__)


def _pil_pixels(img):
    """Pixels of a PIL image as (bytes, width, height, channels), alpha kept for the library to composite."""
    mode = img.mode
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        img = img.convert("RGBA" if "A" in mode else "RGB")
    channels = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[img.mode]
    return img.tobytes(), img.width, img.height, channels


def _numpy_pixels(arr, what):
    import numpy as np
    if arr.dtype != np.uint8:
        raise TypeError(f"{what}: a numpy image must have dtype uint8, not {arr.dtype}")
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"{what}: a numpy image is H x W x 3 (RGB) or H x W x 4 (RGBA) (also H x W grey), "
                         f"not shape {tuple(arr.shape)}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{what}: the numpy image is empty ({arr.shape[0]} x {arr.shape[1]})")
    arr = np.ascontiguousarray(arr)
    return arr, int(arr.shape[1]), int(arr.shape[0]), int(arr.shape[2])


def from_url(url, what, allow_paths=True):
    """An OpenAI image_url's url: a data: URI, a file:// URL or (allow_paths) a plain path."""
    if not isinstance(url, str):
        raise TypeError(f"{what}: image_url.url must be a string, not {type(url).__name__}")
    low = url[:16].lower()
    if low.startswith("data:"):
        head, sep, body = url.partition(",")
        if not sep:
            raise ValueError(f"{what}: a data: URI needs a ',' before its data")
        media = head[5:].split(";")
        if media[0] and not media[0].lower().startswith("image/"):
            raise ValueError(f"{what}: a data: URI of type {media[0]!r}, not an image")
        if "base64" in (m.lower() for m in media[1:]):
            try:
                data = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError) as e:
                raise ValueError(f"{what}: the data: URI's base64 does not decode ({e})") from None
        else:
            data = urllib.parse.unquote_to_bytes(body)
        if not data:
            raise ValueError(f"{what}: the data: URI holds no data")
        return data
    if low.startswith(("http://", "https://")):
        raise ValueError(f"{what}: vkmm does not fetch URLs ({url[:80]}); pass the image's bytes, a path or a "
                         "data: URI")
    if low.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(url).path)
    if allow_paths:
        return url
    raise ValueError(f"{what}: image_url must be a data: URI")


class ImageList(MediaList):
    """A list of vkmm_image_input built from Python objects; it keeps the memory they point to alive."""

    struct, keyword, things, noun = _lib.ImageInput, "images", "images", "an image"

    def __init__(self, items, label="image"):
        super().__init__(items, label)

    @staticmethod
    def _is_single(items):
        return isinstance(items, (str, bytes, os.PathLike)) or _is_numpy(items) or _is_pil(items)

    def _fill_data(self, inp, item, what):
        if _is_numpy(item):
            arr, w, h, c = _numpy_pixels(item, what)
            self._keep.append(arr)
            inp.pixels = arr.ctypes.data_as(ctypes.POINTER(ctypes.c_uint8))
            inp.width, inp.height, inp.channels = w, h, c
        elif _is_pil(item):
            data, w, h, c = _pil_pixels(item)
            buf = ctypes.create_string_buffer(data, len(data))
            self._keep.append(buf)
            inp.pixels = ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8))
            inp.width, inp.height, inp.channels = w, h, c
        else:
            raise TypeError(f"{what}: an image is a path, bytes of a PNG/JPEG/BMP, a numpy uint8 array (H x W x 3 "
                            f"or 4) or a PIL image, not {type(item).__name__}")
