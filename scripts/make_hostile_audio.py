#!/usr/bin/env python3
"""scripts/make_hostile_audio.py — writes tests/data/hostile-audio/: broken, truncated, lying and hostile audio
files, each with the words its error message must contain (expected.txt). Every one must make
`vkmm info --audio FILE` exit with status 1 and a one-line message naming the file (tests/loader/
test_image_hostile.py checks that). Standard library only, plus cuts of the committed tone files
(tests/data/audio, made by scripts/make_audio_vectors.py); deterministic."""
import math
import os
import random
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data")
OUT = os.path.join(ROOT, "hostile-audio")
TONES = os.path.join(ROOT, "audio")


def wav(channels=1, rate=16000, bits=16, fmt_tag=1, frames=1600, data=None, data_size=None, fmt_size=16,
        riff_size=None):
    if data is None:
        samples = [int(8000 * math.sin(2 * math.pi * 440 * i / max(rate, 1))) for i in range(frames * channels)]
        data = struct.pack("<%dh" % len(samples), *samples) if bits == 16 else b"\0" * (frames * channels * bits // 8)
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    fmt = (fmt + b"\0" * 64)[:fmt_size]
    body = b"WAVE" + b"fmt " + struct.pack("<I", fmt_size) + fmt
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body) if riff_size is None else riff_size) + body


def tone(name):
    with open(os.path.join(TONES, name), "rb") as f:
        return f.read()


def main():
    rng = random.Random(20261206)
    os.makedirs(OUT, exist_ok=True)
    nan = struct.pack("<f", float("nan"))
    cases = {
        "empty.wav": (b"", "empty file"),
        "random.bin": (bytes(rng.randrange(256) for _ in range(4096)), "not a WAV, FLAC"),
        "text.wav": (b"this is a text file, not audio\n", "not a WAV, FLAC"),
        "png_signature.wav": (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "not a WAV, FLAC"),
        "riff_only.wav": (b"RIFF\x04\0\0\0WAVE", "cannot decode"),
        "no_data_chunk.wav": (wav()[: 12 + 8 + 16], "cannot decode"),
        "truncated_data.wav": (wav(frames=10000)[:44 + 200], "truncated"),
        "zero_channels.wav": (wav(channels=0, data=b"\0" * 64), "cannot decode"),
        "many_channels.wav": (wav(channels=200, frames=4), "200 channels"),
        "huge_rate.wav": (wav(rate=4000000000, frames=16), "cannot decode"),
        "rate_1hz.wav": (wav(rate=1, frames=16), "sample rate 1 Hz"),
        "ten_hours.wav": (wav(rate=8000, frames=16, data=b"\0" * 32, data_size=8000 * 2 * 36000), "truncated"),
        "fmt_too_short.wav": (wav(fmt_size=4), "cannot decode"),
        "unknown_codec.wav": (wav(fmt_tag=0x1234), "cannot decode"),
        "nan_samples.wav": (wav(fmt_tag=3, bits=32, data=nan * 64 + struct.pack("<f", 0.5) * 64), "not a finite"),
        "inf_samples.wav": (wav(fmt_tag=3, bits=32, data=struct.pack("<f", float("inf")) * 16), "not a finite"),
        "flac_garbage.flac": (b"fLaC" + bytes(rng.randrange(256) for _ in range(2048)), "cannot decode"),
        "flac_truncated.flac": (tone("tone-48k-mono.flac")[:3000], "corrupt"),
        "ogg_garbage.ogg": (b"OggS" + bytes(rng.randrange(256) for _ in range(2048)), "cannot decode"),
        "ogg_truncated.ogg": (tone("tone-22k-stereo.ogg")[:1500], "cannot decode"),
        "id3_only.mp3": (b"ID3\x04\0\0\0\0\0\x10" + b"\0" * 16, "cannot decode"),
        "mp3_sync_garbage.mp3": (b"\xff\xfb" + bytes(rng.randrange(256) for _ in range(4096)), "cannot decode"),
        "mp3_truncated.mp3": (tone("tone-44k-mono.mp3")[:200], "cannot decode"),
        "aiff_garbage.aiff": (b"FORM\0\0\0\x20AIFF" + bytes(rng.randrange(256) for _ in range(32)), "cannot decode"),
    }
    with open(os.path.join(OUT, "expected.txt"), "w") as f:
        f.write("# FILE<TAB>words its error must contain (besides its name). Written by scripts/make_hostile_audio.py\n")
        for name in sorted(cases):
            data, words = cases[name]
            with open(os.path.join(OUT, name), "wb") as g:
                g.write(data)
            f.write("%s\t%s\n" % (name, words))
    print("wrote %d hostile audio files" % len(cases))


if __name__ == "__main__":
    main()
