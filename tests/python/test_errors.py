"""Every error class provoked through the Python API, each with the library's message, and the process (and the
model) still usable afterwards; wrong argument types and values refused before anything reaches C."""

import os
import shutil

import pytest

import vkmm
from conftest import ROOT, SCENE2, SCENE2_TEXT


def still_works(model):
    assert model.generate("Describe the image.", [SCENE2], temperature=0) == SCENE2_TEXT


def test_missing_model_file(demo, tmp_path):
    with pytest.raises(vkmm.FileError) as e:
        vkmm.MultimodalModel(str(tmp_path / "nope.gguf"))
    assert "nope.gguf" in str(e.value) and isinstance(e.value, OSError)
    still_works(demo)


def test_not_a_gguf(demo, tmp_path):
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"this is not a GGUF file at all, just text" * 10)
    with pytest.raises(vkmm.FormatError) as e:
        vkmm.MultimodalModel(str(bad))
    assert "model.gguf" in str(e.value)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01binary")
    with pytest.raises(vkmm.FormatError):  # neither a GGUF nor a manifest
        vkmm.MultimodalModel(str(junk))
    still_works(demo)


def test_corrupt_image(demo, tmp_path):
    data = open(SCENE2, "rb").read()
    cut = tmp_path / "cut.png"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(vkmm.FormatError) as e:
        demo.generate("Describe the image.", [str(cut)])
    assert "cut.png" in str(e.value)
    with pytest.raises(vkmm.UnsupportedError) as e:  # no known magic: not a format vkmm reads
        demo.generate("Describe the image.", [b"these bytes are not an image"])
    assert "not a PNG, JPEG or BMP" in str(e.value)
    with pytest.raises(vkmm.UnsupportedError):
        demo.generate("Describe the image.", [b"GIF89a\x01\x00\x01\x00 a GIF header"])
    with pytest.raises(vkmm.FileError):
        demo.generate("Describe the image.", [str(tmp_path / "missing.png")])
    with pytest.raises(ValueError):  # http URLs are never fetched
        demo.chat([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}])
    with pytest.raises(ValueError):
        demo.chat([{"role": "user", "content": [{"type": "image_url",
                                                 "image_url": {"url": "data:image/png;base64,@@@"}}]}])
    still_works(demo)


def test_unknown_name_lists_the_known(demo):
    with pytest.raises(vkmm.ModelNotFoundError) as e:
        vkmm.MultimodalModel("no-such-model")
    msg = str(e.value)
    assert "no-such-model" in msg and "demo" in msg and "gemma-3-27b" in msg
    assert isinstance(e.value, LookupError)
    still_works(demo)


def test_named_model_missing_files_says_what_to_download(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(vkmm.ModelNotFoundError) as e:
        vkmm.MultimodalModel("gemma-3-4b")
    msg = str(e.value)
    for words in ("gemma-3-4b-it-Q4_K_M.gguf", "mmproj-model-f16.gguf", "https://huggingface.co/ggml-org/gemma-3-4b-it-GGUF",
                  "huggingface-cli download", "nothing is downloaded"):
        assert words in msg
    still_works(demo)


def test_model_over_the_memory_budget(demo, monkeypatch):
    with pytest.raises(vkmm.OutOfMemoryError) as e:
        vkmm.MultimodalModel("demo", memory_budget=1 << 20)
    assert "does not fit" in str(e.value)
    monkeypatch.setenv("VKMM_MEMORY_BUDGET", "1M")
    with pytest.raises(vkmm.OutOfMemoryError):
        vkmm.MultimodalModel("demo")
    monkeypatch.delenv("VKMM_MEMORY_BUDGET")
    still_works(demo)


def test_image_tokens_for_a_fixed_tower():
    with pytest.raises(vkmm.InvalidArgumentError) as e:
        vkmm.MultimodalModel("demo", image_tokens=280)
    assert "fixed number of tokens" in str(e.value)
    with pytest.raises(ValueError):
        vkmm.MultimodalModel("demo", image_tokens=0)


def test_prompt_longer_than_the_context(demo):
    with pytest.raises(vkmm.InvalidArgumentError) as e:
        demo.generate("Describe the image. " * 200)
    assert "context" in str(e.value)
    still_works(demo)


def test_wrong_types_and_values(demo):
    bad = [
        lambda: demo.generate(42),
        lambda: demo.generate(b"bytes"),
        lambda: demo.generate("x", images=SCENE2),  # a single image, not a list
        lambda: demo.generate("x", images=[3.5]),
        lambda: demo.generate("x", temperature="hot"),
        lambda: demo.generate("x", max_tokens=1.5),
        lambda: demo.generate("x", top_k=True),
        lambda: demo.chat("not a list"),
        lambda: demo.chat([{"role": "user", "content": 7}]),
        lambda: demo.chat([["user", "hi"]]),
        lambda: demo.chat([{"role": "user", "content": "hi"}], logprobs="yes"),
        lambda: demo.tokenize(None),
        lambda: vkmm.MultimodalModel(model=12),
    ]
    for f in bad:
        with pytest.raises(TypeError):
            f()
    bad = [
        lambda: demo.generate("x", temperature=-1),
        lambda: demo.generate("x", top_p=0),
        lambda: demo.generate("x", min_p=1),
        lambda: demo.generate("x", max_tokens=-5),
        lambda: demo.generate("x", seed=-1),
        lambda: demo.generate("x", stop=[""]),
        lambda: demo.generate("x", stop=["s"] * 17),
        lambda: demo.generate("nul\0inside"),
        lambda: demo.generate("lone \udc80 surrogate"),
        lambda: demo.generate("x", images=[b""]),
        lambda: demo.chat([]),
        lambda: demo.chat([{"role": "robot", "content": "hi"}]),
        lambda: demo.chat([{"role": "user", "content": [{"type": "audio"}]}]),
        lambda: demo.chat([{"role": "user", "content": "hi"}], top_logprobs=11),
        lambda: vkmm.MultimodalModel(model=""),
    ]
    for f in bad:
        with pytest.raises(ValueError):
            f()
    import numpy as np
    with pytest.raises(TypeError):
        demo.generate("x", images=[np.zeros((8, 8, 3), np.float32)])
    with pytest.raises(ValueError):
        demo.generate("x", images=[np.zeros((8, 8, 5), np.uint8)])
    with pytest.raises(vkmm.InvalidArgumentError):  # two markers, one image
        demo.generate("<__media__> and <__media__>", images=[SCENE2])
    still_works(demo)


def test_text_model_refuses_images(demo, synth):
    with vkmm.MultimodalModel(synth["gemma3"][0], mmproj=None) as m:
        # its mmproj sits beside it (mmproj-gemma3.gguf), so it has vision; load a copy alone
        assert m.info.has_vision
    d = os.path.dirname(synth["gemma3"][0])
    alone = os.path.join(d, "alone")
    os.makedirs(alone, exist_ok=True)
    path = os.path.join(alone, "text-only.gguf")
    if not os.path.exists(path):
        os.link(synth["gemma3"][0], path) if hasattr(os, "link") else shutil.copy(synth["gemma3"][0], path)
    with vkmm.MultimodalModel(path) as m:
        assert not m.info.has_vision
        with pytest.raises(vkmm.InvalidArgumentError) as e:
            m.generate("x", [SCENE2])
        assert "vision" in str(e.value)
        assert isinstance(m.generate("hello", temperature=0, max_tokens=2), str)
    still_works(demo)


def test_closed_model_and_session(tmp_path):
    m = vkmm.MultimodalModel("demo")
    s = m.session()
    m.close()
    assert m.closed
    with pytest.raises(vkmm.ClosedError):
        m.generate("Describe the image.", [SCENE2])
    with pytest.raises(vkmm.ClosedError):
        s.generate("Describe the image.")
    with pytest.raises(vkmm.ClosedError):
        m.tokenize("x")
    m.close()  # twice is fine
    with vkmm.MultimodalModel("demo") as m2:
        still_works(m2)
    assert m2.closed
