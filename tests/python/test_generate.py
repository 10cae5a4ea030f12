"""MultimodalModel.generate and chat against the CLI: the README's example, greedy output token for token equal
to `vkmm run --json --temp 0` on the demo model and on synthetic pairs of both architectures, images of every
kind, streaming, stop strings, lengths."""

import base64
import io
import os

import pytest

import vkmm
from conftest import EXAMPLES, SCENE2, SCENE2_TEXT, run_cli

SCENE5 = os.path.join(EXAMPLES, "scene-5.png")


def test_readme_example():
    from vkmm import MultimodalModel
    model = MultimodalModel(model="demo")
    response = model.generate(text="Describe the image.", images=[SCENE2])
    assert response == SCENE2_TEXT
    model.close()


# (prompt, images, system) as `vkmm run` takes them
REQUESTS = {
    "text": ("Describe the image.", [], None),
    "one-image": ("Describe the image.", [SCENE2], None),
    "two-images": ("Compare <__media__> with <__media__>.", [SCENE2, SCENE5], None),
    "system": ("How many shapes are there?", [SCENE5], "You answer questions about pictures."),
}


def _model_args(which, synth):
    if which == "demo":
        return ["-m", "demo"], "demo", {}
    model, mmproj = synth[which]
    return ["-m", model, "--mmproj", mmproj], model, {"mmproj": mmproj}


@pytest.mark.parametrize("which", ["demo", "gemma3", "mistral3"])
def test_greedy_equals_cli(which, synth, vkmm_bin):
    args, model, kw = _model_args(which, synth)
    n = None if which == "demo" else 10  # random weights never end their turn
    with vkmm.MultimodalModel(model, **kw) as m:
        for name, (prompt, images, system) in REQUESTS.items():
            ids, text, lps = run_cli(vkmm_bin, args, prompt, images, system, n)
            msgs = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
            gen = m.generate(prompt, images, system=system, temperature=0, max_tokens=n)
            assert gen == text, (which, name)
            parts = [{"type": "text", "text": prompt}]
            if images:
                # the same layout through chat parts: images where the markers were, or first
                pieces = prompt.split("<__media__>")
                if len(pieces) == len(images) + 1:
                    parts = []
                    for i, p in enumerate(pieces):
                        if p:
                            parts.append({"type": "text", "text": p})
                        if i < len(images):
                            parts.append({"type": "image_url", "image_url": {"url": images[i]}})
                else:
                    parts = [{"type": "image_url", "image_url": {"url": im}} for im in images] + parts
            msgs[-1]["content"] = parts
            r = m.chat(msgs, temperature=0, max_tokens=n, logprobs=True, top_logprobs=10)
            assert r.tokens == ids, (which, name)
            assert r.text == text
            assert [round(t.logprob, 4) for t in r.logprobs] == pytest.approx([round(x, 4) for x in lps], abs=2e-4)
            assert all(len(t.top_logprobs) == 10 for t in r.logprobs)
            assert r.finish_reason == ("stop" if n is None else "length")
            assert r.usage.completion_tokens == len(ids)
            assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def _same_picture_four_ways(path):
    import numpy as np
    from PIL import Image
    with open(path, "rb") as f:
        data = f.read()
    img = Image.open(io.BytesIO(data))
    img.load()
    return [path, data, np.asarray(img.convert("RGB")), img]


def test_image_kinds_agree(demo):
    outs = [demo.generate("Describe the image.", [x], temperature=0) for x in _same_picture_four_ways(SCENE2)]
    assert outs == [SCENE2_TEXT] * 4
    import pathlib
    assert demo.generate("Describe the image.", [pathlib.Path(SCENE2)], temperature=0) == SCENE2_TEXT
    assert demo.generate("Describe the image.", [bytearray(open(SCENE2, "rb").read())], temperature=0) == SCENE2_TEXT


def test_alpha_like_the_cli(demo, tmp_path, vkmm_bin):
    """An RGBA picture: a PNG file (composited by the decoder), the same pixels as a numpy H x W x 4 array and as
    a PIL RGBA image give the CLI's answer."""
    import numpy as np
    from PIL import Image
    rgb = np.asarray(Image.open(SCENE5).convert("RGB"))
    alpha = np.full(rgb.shape[:2], 255, np.uint8)
    alpha[:, : rgb.shape[1] // 3] = 90  # a translucent left third
    rgba = np.dstack([rgb, alpha])
    path = str(tmp_path / "rgba.png")
    Image.fromarray(rgba, "RGBA").save(path)
    _, want, _ = run_cli(vkmm_bin, ["-m", "demo"], "Describe the image.", [path])
    for x in (path, rgba, Image.fromarray(rgba, "RGBA")):
        assert demo.generate("Describe the image.", [x], temperature=0) == want


def test_stream_joins_to_the_answer(demo):
    pieces = list(demo.generate("Describe the image.", [SCENE2], temperature=0, stream=True))
    assert len(pieces) > 5 and all(isinstance(p, str) and p for p in pieces)
    assert "".join(pieces) == SCENE2_TEXT
    s = demo.chat([{"role": "user", "content": "Describe the image."}], temperature=0, stream=True)
    text = "".join(s)
    assert s.result.text == text and s.result.finish_reason == "stop"


def test_chat_data_uri_equals_generate_path(demo):
    b64 = base64.b64encode(open(SCENE2, "rb").read()).decode()
    msgs = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64}},
                                         {"type": "text", "text": "Describe the image."}]}]
    r = demo.chat(msgs, temperature=0)
    assert r.text == demo.generate("Describe the image.", [SCENE2], temperature=0) == SCENE2_TEXT
    assert r.usage.prompt_tokens == 33 and r.usage.completion_tokens == len(r.tokens)
    file_url = "file://" + os.path.abspath(SCENE2)
    msgs[0]["content"][0]["image_url"]["url"] = file_url
    assert demo.chat(msgs, temperature=0).text == SCENE2_TEXT


def test_stop_strings_and_lengths(demo):
    full = demo.generate("Describe the image.", [SCENE2], temperature=0)
    r = demo.chat([{"role": "user", "content": [{"type": "image", "image": SCENE2},
                                                {"type": "text", "text": "Describe the image."}]}],
                  temperature=0, stop=["square"])
    assert r.text == full[: full.index("square")] and r.finish_reason == "stop"
    assert demo.generate("Describe the image.", [SCENE2], temperature=0, stop="zzz") == full
    assert "".join(demo.generate("Describe the image.", [SCENE2], temperature=0, stop=[" small", "yellow"],
                                 stream=True)) == full[: full.index(" small")]
    r = demo.chat([{"role": "user", "content": "Describe the image."}], temperature=0, max_tokens=3)
    assert r.finish_reason == "length" and r.usage.completion_tokens == 3 and len(r.tokens) == 3
    r = demo.chat([{"role": "user", "content": "Describe the image."}], temperature=0, max_tokens=0)
    assert r.text == "" and r.tokens == [] and r.finish_reason == "length"


def test_sampling_is_seeded(demo):
    kw = dict(temperature=1.5, top_k=0, top_p=1.0, min_p=0.0, seed=1234)
    a = demo.generate("Describe the image.", [SCENE2], **kw)
    b = demo.generate("Describe the image.", [SCENE2], **kw)
    assert a == b


def test_session_keeps_the_conversation(demo):
    with demo.session() as s:
        first = s.generate("Describe the image.", [SCENE2], temperature=0)
        used = s.n_ctx_used
        second = s.generate("How many shapes are there?", [SCENE2], temperature=0)
        assert s.n_ctx_used > used
        assert [h["role"] for h in s.history] == ["user", "assistant", "user", "assistant"]
    # the same conversation in one go
    msgs = [{"role": "user", "content": [{"type": "image", "image": SCENE2}, {"type": "text", "text": "Describe the image."}]},
            {"role": "assistant", "content": first},
            {"role": "user", "content": [{"type": "image", "image": SCENE2},
                                         {"type": "text", "text": "How many shapes are there?"}]}]
    assert first == SCENE2_TEXT
    assert demo.chat(msgs, temperature=0).text == second


def test_tokenize_like_the_cli(demo, vkmm_bin):
    import subprocess
    text = "Describe the image. <start_of_turn>"
    for special in (False, True):
        cmd = [vkmm_bin, "tokenize", "-m", demo.info.model_path, "-p", text, "--ids"] + (["--special"] if special else [])
        p = subprocess.run(cmd, capture_output=True, text=True, check=True)
        want = [int(x) for x in p.stdout.replace(",", " ").replace("[", " ").replace("]", " ").split()]
        assert demo.tokenize(text, parse_special=special) == want
    ids = demo.tokenize("Describe the image.", add_special=False)
    assert demo.detokenize(ids).strip() == "Describe the image."
    assert demo.token_bytes(demo.tokenize("<start_of_turn>", add_special=False, parse_special=True)[0]) == b"<start_of_turn>"


def test_info_devices_models(demo, vkmm_bin):
    import json
    import subprocess
    i = demo.info
    assert (i.arch, i.has_vision, i.n_layer, i.n_embd, i.n_vocab) == ("gemma3", True, 6, 128, 549)
    assert i.manifest.endswith("demo.yaml") and i.model_path.endswith("gemma3-demo.gguf")
    devs = json.loads(subprocess.run([vkmm_bin, "devices", "--json"], capture_output=True, text=True,
                                     check=True).stdout)
    got = vkmm.devices()
    assert [d.name for d in got] == [d["name"] for d in devs]
    assert got[0].subgroup_size == devs[0]["subgroup_size"] and got[0].heaps
    assert i.device == got[0].name
    names = {k.name: k for k in vkmm.models()}
    assert {"demo", "gemma-3-4b", "gemma-3-12b", "gemma-3-27b", "mistral-small-3.1"} <= set(names)
    assert names["demo"].present and names["gemma-3-27b"].huggingface == "ggml-org/gemma-3-27b-it-GGUF"
