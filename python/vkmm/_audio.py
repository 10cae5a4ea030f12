"""Audio as the library takes it (vkmm_audio_input): file paths, the bytes of an encoded file (WAV, FLAC, OGG, MP3),
numpy float arrays (or array.array("f")) with their sample rate as (array, rate), and, for chat messages, OpenAI's input_audio parts
(base64 data with a format). numpy is used only when the caller hands over its arrays."""

import array
import base64
import binascii
import ctypes
import numbers
import os

from . import _lib
from ._media import MediaList, is_numpy as _is_numpy

# input_audio formats vkmm decodes (libsndfile): OpenAI's "wav" and "mp3", and the other containers it reads
AUDIO_FORMATS = ("wav", "mp3", "flac", "ogg", "opus", "aiff")


def from_input_audio(part, what):
    """The bytes of an OpenAI input_audio part: {"data": base64, "format": "wav" | "mp3" | ...}."""
    if not isinstance(part, dict):
        raise TypeError(f"{what}: input_audio must be a dict with 'data' (base64) and 'format', not "
                        f"{type(part).__name__}")
    data, fmt = part.get("data"), part.get("format")
    if not isinstance(data, str) or not data:
        raise ValueError(f"{what}: input_audio.data must be a non-empty base64 string")
    if fmt is not None and (not isinstance(fmt, str) or fmt.lower() not in AUDIO_FORMATS):
        raise ValueError(f"{what}: input_audio.format must be one of {', '.join(AUDIO_FORMATS)}, not {fmt!r}")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"{what}: input_audio.data does not decode as base64 ({e})") from None
    if not raw:
        raise ValueError(f"{what}: input_audio.data holds no bytes")
    return raw


def _check_rate(rate, what):
    # numbers.Integral takes Python's and numpy's integers alike; bool is one too, and no rate
    if isinstance(rate, bool) or not isinstance(rate, numbers.Integral) or not 1 <= int(rate) <= 1_000_000:
        raise ValueError(f"{what}: the sample rate must be an int in 1..1000000 Hz, not {rate!r}")


def _samples(arr, rate, what):
    """A numpy array of samples (n, or n x channels) and its rate as (contiguous float32 array, frames, channels)."""
    import numpy as np
    _check_rate(rate, what)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{what}: samples must be a numeric numpy array, not dtype {arr.dtype}")
    if arr.dtype.kind in "iu":  # integer PCM: scaled to [-1, 1] as decoders do
        info = np.iinfo(arr.dtype)
        arr = (arr.astype(np.float64) - (info.min + info.max + 1) / 2) / ((info.max - info.min + 1) / 2)
    if arr.ndim not in (1, 2) or arr.size == 0:
        raise ValueError(f"{what}: samples are a non-empty array of n (mono) or n x channels, not shape "
                         f"{tuple(arr.shape)}")
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{what}: the samples hold NaN or infinite values")
    channels = 1 if arr.ndim == 1 else int(arr.shape[1])
    return arr, int(arr.shape[0]), channels, int(rate)


class AudioList(MediaList):
    """A list of vkmm_audio_input built from Python objects; it keeps the memory they point to alive."""

    struct, keyword, things, noun = _lib.AudioInput, "audio", "clips", "an audio file"

    def __init__(self, items, label="audio"):
        super().__init__(items, label)

    @staticmethod
    def _is_single(items):
        return isinstance(items, (str, bytes, os.PathLike)) or _is_numpy(items) or (
            isinstance(items, tuple) and len(items) == 2 and _is_numpy(items[0]))

    def _fill_data(self, inp, item, what):
        if isinstance(item, (tuple, list)) and len(item) == 2 and _is_numpy(item[0]):
            arr, frames, channels, rate = _samples(item[0], item[1], what)
            self._keep.append(arr)
            inp.samples = arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            inp.n_frames, inp.channels, inp.sample_rate = frames, channels, rate
        elif isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], array.array):
            # mono float32 samples without numpy (array.array("f"))
            arr, rate = item
            if arr.typecode != "f" or not len(arr):
                raise TypeError(f"{what}: an array.array of samples must be non-empty typecode 'f' (float32), not "
                                f"{arr.typecode!r}")
            _check_rate(rate, what)
            buf = (ctypes.c_float * len(arr)).from_buffer_copy(arr)
            self._keep.append(buf)
            inp.samples = ctypes.cast(buf, ctypes.POINTER(ctypes.c_float))
            inp.n_frames, inp.channels, inp.sample_rate = len(arr), 1, int(rate)
        elif _is_numpy(item):
            raise TypeError(f"{what}: a numpy array of samples needs its sample rate: pass (array, rate)")
        else:
            raise TypeError(f"{what}: an audio clip is a path, the bytes of a WAV/FLAC/OGG/MP3 file or (numpy "
                            f"samples, sample rate), not {type(item).__name__}")
