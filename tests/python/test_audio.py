"""Audio through the Python package on a tiny synthetic Gemma 4 E-style pair (vkmm-dev synth --arch gemma4 --size
tiny-e: one mmproj with the vision and audio towers): generate(audio=[...]) with a path, the file's bytes and its
samples with their rate give the CLI's greedy answer (`vkmm run --audio`); chat's input_audio parts (base64 WAV)
and audio placed among images by the parts' order; the errors: a model without an audio tower, bad input_audio,
samples without a rate."""

import array
import base64
import os
import subprocess
import wave

import pytest

import vkmm
from conftest import ROOT, _env, run_cli

WAV = os.path.join(ROOT, "tests", "data", "audio", "tone-16k-mono-pcm16.wav")
MP3 = os.path.join(ROOT, "tests", "data", "audio", "tone-44k-mono.mp3")
SCENE2 = os.path.join(ROOT, "examples", "scene-2.png")


@pytest.fixture(scope="module")
def gemma4e(tmp_path_factory):
    """(model, mmproj): the mmproj not named mmproj-*.gguf, so the model alone loads text-only"""
    d = tmp_path_factory.mktemp("gemma4e")
    model, mmproj = str(d / "gemma4e.gguf"), str(d / "towers-gemma4e.gguf")
    subprocess.run([_env("VKMM_DEV_BIN"), "synth", "--arch", "gemma4", "--size", "tiny-e", "--tokenizer",
                    _env("VKMM_GEMMA3_TOKENIZER"), "-o", model, "--mmproj-out", mmproj], check=True,
                   capture_output=True)
    return model, mmproj


@pytest.fixture(scope="module")
def model(gemma4e):
    m = vkmm.MultimodalModel(gemma4e[0], mmproj=gemma4e[1], image_tokens=70)
    yield m
    m.close()


def _wav_samples(path):
    with wave.open(path) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1
        raw = w.readframes(w.getnframes())
        rate = w.getframerate()
    pcm = array.array("h")
    pcm.frombytes(raw)
    return array.array("f", (v / 32768.0 for v in pcm)), rate


def test_info(model):
    assert model.info.has_audio and model.info.has_vision


def test_audio_kinds_equal_cli(model, gemma4e, vkmm_bin):
    prompt = "What is said?"
    ids, text, _ = run_cli(vkmm_bin, ["-m", gemma4e[0], "--mmproj", gemma4e[1]], prompt, n=6,
                           extra=["--audio", WAV])
    assert ids
    by_path = model.generate(prompt, audio=[WAV], temperature=0, max_tokens=6)
    assert by_path == text
    with open(WAV, "rb") as f:
        assert model.generate(prompt, audio=[f.read()], temperature=0, max_tokens=6) == text
    samples, rate = _wav_samples(WAV)  # the same int16 samples libsndfile reads, at 16 kHz: nothing to resample
    assert model.generate(prompt, audio=[(samples, rate)], temperature=0, max_tokens=6) == text


def test_numpy_samples(model):
    np = pytest.importorskip("numpy")
    samples, rate = _wav_samples(WAV)
    x = np.array(samples, dtype=np.float32)
    want = model.generate("Hi", audio=[(samples, rate)], temperature=0, max_tokens=4)
    assert model.generate("Hi", audio=[(x, rate)], temperature=0, max_tokens=4) == want
    stereo = np.stack([x, x], axis=1)  # two equal channels mix to the same mono signal
    assert model.generate("Hi", audio=[(stereo, rate)], temperature=0, max_tokens=4) == want
    with pytest.raises(TypeError, match="sample rate"):
        model.generate("Hi", audio=[x])


def test_chat_input_audio(model, gemma4e, vkmm_bin):
    with open(WAV, "rb") as f:
        b64 = base64.b64encode(f.read()).decode()
    prompt = "Listen <__media__> and look <__media__> now"
    ids, text, _ = run_cli(vkmm_bin, ["-m", gemma4e[0], "--mmproj", gemma4e[1], "--image-tokens", "70"], prompt,
                           n=5, extra=["--audio", WAV, "--image", SCENE2])
    parts = [{"type": "text", "text": "Listen "},
             {"type": "input_audio", "input_audio": {"data": b64, "format": "wav"}},
             {"type": "text", "text": " and look "},
             {"type": "image_url", "image_url": {"url": SCENE2}},
             {"type": "text", "text": " now"}]
    r = model.chat([{"role": "user", "content": parts}], temperature=0, max_tokens=5)
    assert r.text == text and r.tokens == ids
    # an mp3 through input_audio decodes too
    with open(MP3, "rb") as f:
        mp3 = base64.b64encode(f.read()).decode()
    r = model.chat([{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": mp3, "format": "mp3"}},
                                                 {"type": "text", "text": "Hi"}]}], temperature=0, max_tokens=2)
    assert r.usage.prompt_tokens > 10


def test_errors(model, gemma4e):
    with pytest.raises(ValueError, match="base64"):
        model.chat([{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "@@", "format": "wav"}}]}])
    with pytest.raises(ValueError, match="format"):
        model.chat([{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "AAAA", "format": "aac"}}]}])
    with pytest.raises(TypeError, match="list"):
        model.generate("Hi", audio=WAV)
    with pytest.raises(vkmm.errors.FormatError, match="audio 1: cannot decode"):
        model.generate("Hi", audio=[b"RIFF\x10\x00\x00\x00WAVEfmt "])
    with vkmm.MultimodalModel(gemma4e[0]) as text_only:
        assert not text_only.info.has_audio
        with pytest.raises(vkmm.errors.UnsupportedError, match="audio"):
            text_only.generate("Hi", audio=[WAV])
