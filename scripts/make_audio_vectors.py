#!/usr/bin/env python3
"""scripts/make_audio_vectors.py — reference data for the audio loader tests, made with numpy (and, for the encoded
files, Debian's python3-soundfile), independently of vkmm's C code:

  tests/data/audio/signal.f32   a deterministic 16 kHz test signal (1.37 s: tones, a chirp, noise), raw f32 LE
  tests/data/audio/mel.f32      its Gemma 4 log-mel features, frames × 128, raw f32 LE
  tests/data/audio/mel.json     frame counts and the parameters used
  tests/data/audio/tone-*.{wav,flac,ogg,mp3}   440 Hz + 1 kHz tones (left 0.5, right 0.3 amplitude) in several
                                containers, rates and channel counts, for the decoder and resampler tests

The features follow the Hugging Face Gemma4AudioFeatureExtractor as documented there: zero-pad to a multiple of
128 samples, 160 zeros in front (semicausal), frames of 321 samples every 160 of which the first 320 are used,
periodic Hann window (float32), rfft of 512 points, magnitude, HTK mel filters 0-8 kHz without normalisation,
natural log of mel + 1e-3; frames whose window reaches into the padding are zero. Run from the repository root:
    /usr/bin/python3 scripts/make_audio_vectors.py
"""

import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "audio")
RATE = 16000


def signal(n, rate):
    t = np.arange(n, dtype=np.float64) / rate
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 2500 * t + 0.3)
    x += 0.15 * np.sin(2 * np.pi * (200 * t + 1500 * t * t))  # chirp 200 Hz upwards
    state = np.uint64(12345)
    noise = np.empty(n)
    for i in range(n):  # a fixed LCG, so the data never depends on numpy's generators
        state = np.uint64((int(state) * 6364136223846793005 + 1442695040888963407) % (1 << 64))
        noise[i] = ((int(state) >> 40) / float(1 << 24)) - 0.5
    x += 0.05 * noise
    x[: n // 20] *= np.linspace(0, 1, n // 20)  # a fade-in
    return x.astype(np.float32)


def hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + f / 700.0)


def mel_to_hz(m):
    return 700.0 * (np.power(10.0, m / 2595.0) - 1.0)


def mel_filters(bins, n_mel, fmin, fmax, rate):
    fft_freqs = np.linspace(0, rate // 2, bins)
    pts = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mel + 2))
    diff = np.diff(pts)
    slopes = pts[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    return np.maximum(0.0, np.minimum(down, up))


def log_mel(x):
    frame, hop, fft, n_mel = 320, 160, 512, 128
    n = len(x)
    padded = np.pad(x, (0, (-n) % 128))
    mask = np.pad(np.ones(n, np.int64), (0, (-n) % 128))
    w = np.pad(padded, (frame // 2, 0))
    mask = np.pad(mask, (frame // 2, 0))
    count = (len(w) - (frame + 1)) // hop + 1
    frames = np.stack([w[i * hop: i * hop + frame + 1] for i in range(count)])[:, :-1]
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame) / frame)).astype(np.float32)
    spec = np.abs(np.fft.rfft(frames * window, n=fft, axis=-1))
    mel = np.log(spec @ mel_filters(fft // 2 + 1, n_mel, 0.0, 8000.0, RATE) + 1e-3).astype(np.float32)
    valid = mask[np.arange(count) * hop + frame].astype(bool)
    return mel * valid[:, None], count, int(valid.sum())


def main():
    os.makedirs(OUT, exist_ok=True)
    x = signal(21920, RATE)  # 1.37 s, not a multiple of 128: padding and masked frames are exercised
    x.tofile(os.path.join(OUT, "signal.f32"))
    mel, frames, valid = log_mel(x)
    mel.astype("<f4").tofile(os.path.join(OUT, "mel.f32"))
    with open(os.path.join(OUT, "mel.json"), "w") as f:
        json.dump({"samples": len(x), "frames": frames, "valid": valid, "bins": 128, "frame_length": 320, "hop": 160,
                   "fft": 512, "fmin": 0.0, "fmax": 8000.0, "floor": 1e-3, "pad_to": 128}, f, indent=1)
        f.write("\n")
    import soundfile as sf
    for name, rate, channels, subtype in (("tone-44k-stereo-pcm16.wav", 44100, 2, "PCM_16"),
                                          ("tone-48k-mono.flac", 48000, 1, "PCM_24"),
                                          ("tone-22k-stereo.ogg", 22050, 2, "VORBIS"),
                                          ("tone-44k-mono.mp3", 44100, 1, "MPEG_LAYER_III"),
                                          ("tone-8k-mono-float.wav", 8000, 1, "FLOAT"),
                                          ("tone-16k-mono-pcm16.wav", 16000, 1, "PCM_16")):
        t = np.arange(int(0.6 * rate)) / rate
        left, right = 0.5 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 1000 * t)
        data = np.stack([left, right], 1) if channels == 2 else (0.5 * left + 0.5 * right)[:, None] * 1.0
        sf.write(os.path.join(OUT, name), data, rate, subtype=subtype)
    print(f"wrote {frames} mel frames ({valid} valid) and the tone files to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
