"""Model names, manifests and GGUF paths: the search path, the Hugging Face cache layout, an mmproj found beside
its model."""

import os
import shutil

import pytest

import vkmm
from conftest import ROOT, SCENE2, SCENE2_TEXT

DEMO = os.path.join(ROOT, "models", "demo")


def test_manifest_path_and_gguf_paths():
    for what, kw in ((os.path.join(DEMO, "demo.yaml"), {}),
                     (os.path.join(DEMO, "gemma3-demo.gguf"), {"mmproj": os.path.join(DEMO, "gemma3-demo-mmproj.gguf")})):
        with vkmm.MultimodalModel(what, **kw) as m:
            assert m.generate("Describe the image.", [SCENE2], temperature=0) == SCENE2_TEXT


def test_mmproj_found_beside_the_model(tmp_path):
    shutil.copy(os.path.join(DEMO, "gemma3-demo.gguf"), tmp_path / "model.gguf")
    shutil.copy(os.path.join(DEMO, "gemma3-demo-mmproj.gguf"), tmp_path / "mmproj-model-f16.gguf")
    with vkmm.MultimodalModel(str(tmp_path / "model.gguf")) as m:
        assert m.info.mmproj_path.endswith("mmproj-model-f16.gguf")
        assert m.generate("Describe the image.", [SCENE2], temperature=0) == SCENE2_TEXT


def test_hugging_face_cache_layout(tmp_path, monkeypatch):
    snap = tmp_path / "hub" / "models--ggml-org--gemma-3-4b-it-GGUF" / "snapshots" / "0123abcd"
    snap.mkdir(parents=True)
    os.symlink(os.path.join(DEMO, "gemma3-demo.gguf"), snap / "gemma-3-4b-it-Q4_K_M.gguf")
    os.symlink(os.path.join(DEMO, "gemma3-demo-mmproj.gguf"), snap / "mmproj-model-f16.gguf")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    with vkmm.MultimodalModel("gemma-3-4b") as m:
        assert m.info.model_path == str(snap / "gemma-3-4b-it-Q4_K_M.gguf")
        assert m.generate("Describe the image.", [SCENE2], temperature=0) == SCENE2_TEXT
    assert {k.name: k.present for k in vkmm.models()}["gemma-3-4b"]
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # $HF_HOME/hub
    with vkmm.MultimodalModel("gemma-3-4b") as m:
        assert m.info.arch == "gemma3"


def test_vkmm_models_folder_and_shadowing(tmp_path, monkeypatch):
    mine = tmp_path / "models"
    (mine / "mine").mkdir(parents=True)
    shutil.copy(os.path.join(DEMO, "gemma3-demo.gguf"), mine / "mine")
    shutil.copy(os.path.join(DEMO, "gemma3-demo-mmproj.gguf"), mine / "mine")
    (mine / "mine" / "mine.yaml").write_text("model: gemma3-demo.gguf\nmmproj: gemma3-demo-mmproj.gguf\n"
                                            "max_tokens: 5\nsampling:\n  temperature: 0\n")
    monkeypatch.setenv("VKMM_MODELS", str(mine))
    with vkmm.MultimodalModel("mine") as m:
        out = m.generate("Describe the image.", [SCENE2])  # the manifest's defaults: greedy, 5 tokens
        assert SCENE2_TEXT.startswith(out) and len(m.tokenize(out, add_special=False)) <= 5
        assert m.generate("Describe the image.", [SCENE2], max_tokens=100) == SCENE2_TEXT
    # a folder earlier in the search path answers first: its `demo` shadows the bundled one
    (mine / "demo.yaml").write_text(f"model: {os.path.join(DEMO, 'gemma3-demo.gguf')}\n")
    with vkmm.MultimodalModel("demo") as m:
        assert not m.info.has_vision and m.info.manifest == str(mine / "demo.yaml")
    known = vkmm.models()
    assert [k.name for k in known].count("demo") == 1


def test_broken_manifest_names_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: x.gguf\ncontext: lots\n")
    with pytest.raises(vkmm.FormatError) as e:
        vkmm.MultimodalModel(str(bad))
    assert "bad.yaml:2" in str(e.value)
    gone = tmp_path / "gone.yaml"
    gone.write_text("model: not-here.gguf\n")
    with pytest.raises(vkmm.FileError) as e:
        vkmm.MultimodalModel(str(gone))
    assert "not-here.gguf" in str(e.value)
