"""Shared fixtures of the Python package's tests: the vkmm CLI to compare with, the demo model, synthetic GGUF
pairs of both architectures (made once per run with `vkmm-dev synth`), and a helper that runs `vkmm run --json`."""

import json
import os
import subprocess

import pytest

import vkmm

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
SCENE2 = os.path.join(EXAMPLES, "scene-2.png")
SCENE2_TEXT = ("A large blue star at the top, a small blue square in the centre and a large yellow circle at the "
               "bottom.")


def _env(name):
    v = os.environ.get(name)
    if not v:
        pytest.fail(f"{name} is not set: run these tests through `meson test` (tests/python/run_pytest.py)")
    return v


@pytest.fixture(scope="session")
def vkmm_bin():
    return _env("VKMM_BIN")


@pytest.fixture(scope="session")
def demo():
    m = vkmm.MultimodalModel(model="demo")
    yield m
    m.close()


@pytest.fixture(scope="session")
def synth(tmp_path_factory):
    """{"gemma3": (model, mmproj), "mistral3": (model, mmproj)}: tiny random-weight pairs of the real
    architectures with the real tokenizers (random weights print random text)."""
    d = tmp_path_factory.mktemp("synth")
    out = {}
    for arch, tok, typ in (("gemma3", _env("VKMM_GEMMA3_TOKENIZER"), "q8_0"),
                           ("mistral3", _env("VKMM_TEKKEN_TOKENIZER"), "q4_k")):
        model, mmproj = str(d / f"{arch}.gguf"), str(d / f"mmproj-{arch}.gguf")
        subprocess.run([_env("VKMM_DEV_BIN"), "synth", "--arch", arch, "--tokenizer", tok, "-o", model, "--mmproj-out", mmproj,
                        "--size", "tiny", "--type", typ], check=True, capture_output=True)
        out[arch] = (model, mmproj)
    return out


def run_cli(vkmm_bin, model_args, prompt, images=(), system=None, n=None, extra=()):
    """`vkmm run --json --temp 0`: (token ids, text, [logprob per token])."""
    cmd = [vkmm_bin, "run", *model_args, "--json", "--temp", "0", "-p", prompt, *extra]
    for im in images:
        cmd += ["--image", im]
    if system is not None:
        cmd += ["--system", system]
    if n is not None:
        cmd += ["-n", str(n)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    ids, text, lps = [], [], []
    for line in p.stdout.splitlines():
        ev = json.loads(line)
        if "summary" in ev:
            continue
        ids.append(ev["id"])
        text.append(ev["piece"])
        lps.append(ev["logprob"])
    return ids, "".join(text), lps
