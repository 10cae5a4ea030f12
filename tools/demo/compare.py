"""tools/demo/compare.py — checks vkmm against PyTorch on the bundled demo model: the same prompts must give the
same tokens. PyTorch runs the weights read back from the GGUF pair (so the export is checked too), vkmm runs the
manifest through its CLI (`vkmm run --model-file ... --json --temp 0`). Also checks that vkmm tokenizes every
text of the scene language exactly as tools/demo/vocab.py does (what training saw).

    /usr/bin/python3 -m tools.demo.compare [--vkmm build/tools/vkmm] [--manifest models/demo/demo.yaml] IMAGE...
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np
import torch
from PIL import Image

from tools.scenes.draw import to_model_input
from tools.scenes.scene import FORMS, SHAPES, all_texts, question

from .data import prompt_ids
from .export import MMPROJ_FILE, TEXT_FILE, load_gguf_pair
from .vocab import EOS, Vocab


def torch_greedy(model, vocab, pixels, q, max_tokens):
    """(ids, logprobs) of greedy decoding, stopping at <end_of_turn> or <eos> (included, as vkmm reports it)."""
    ids, span = prompt_ids(vocab, q, model.c.n_image_tokens)
    eot = vocab.id("<end_of_turn>")
    with torch.no_grad():
        emb = model.vision(torch.from_numpy(pixels)[None])
        out, lps = [], []
        for _ in range(max_tokens):
            logits = model(torch.tensor([ids + out]), emb, [span])[0, -1]
            lp = torch.log_softmax(logits.double(), -1)
            t = int(torch.argmax(logits))
            out.append(t)
            lps.append(float(lp[t]))
            if t in (eot, EOS):
                break
    return out, lps


def vkmm_run(exe, manifest, image, q):
    r = subprocess.run([exe, "run", "--model-file", manifest, "--image", image, "-p", q, "--json", "--temp", "0"],
                       capture_output=True, text=True, check=True)
    toks = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{\"id\"")]
    summary = next(json.loads(l)["summary"] for l in r.stdout.splitlines() if l.startswith("{\"summary\""))
    return [t["id"] for t in toks], [t["logprob"] for t in toks], summary


def vkmm_tokenize(exe, model_path, text):
    r = subprocess.run([exe, "tokenize", "-m", model_path, "--special", "--no-bos", "--ids", "-p", text],
                       capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vkmm", default="build/tools/vkmm")
    ap.add_argument("--manifest", default="models/demo/demo.yaml")
    ap.add_argument("--max-tokens", type=int, default=48)
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    folder = os.path.dirname(a.manifest)
    text_path, mmproj_path = os.path.join(folder, TEXT_FILE), os.path.join(folder, MMPROJ_FILE)
    vocab = Vocab()
    model, meta = load_gguf_pair(text_path, mmproj_path)
    assert meta["tokenizer.ggml.tokens"] == vocab.pieces, "the file's vocabulary is not tools/demo/vocab.py's"

    texts, _ = all_texts()
    chunks = ["<start_of_turn>user\n\n\n<start_of_image>"] + [
        "<end_of_image>\n\n" + t + "<end_of_turn>\n<start_of_turn>model\n" for t in texts[:12]] + [
        t + "<end_of_turn>" for t in texts]
    bad = [t for t in chunks if vkmm_tokenize(a.vkmm, text_path, t) != vocab.encode(t)]
    print(f"tokenizer: {len(chunks) - len(bad)}/{len(chunks)} texts tokenized identically")
    for t in bad:
        print("  differs:", repr(t))

    n_same = n_all = 0
    worst = 0.0
    for img in a.images:
        rgb = np.asarray(Image.open(img).convert("RGB"))
        pixels = to_model_input(rgb, model.c.v_image)
        for form in FORMS:
            q = question(form, SHAPES[0] if form in ("colour", "where") else None)
            t_ids, t_lp = torch_greedy(model, vocab, pixels, q, a.max_tokens)
            v_ids, v_lp, summary = vkmm_run(a.vkmm, a.manifest, img, q)
            n_prompt = len(prompt_ids(vocab, q, model.c.n_image_tokens)[0])
            same = t_ids == v_ids and summary["prompt_tokens"] == n_prompt
            d = max((abs(x - y) for x, y in zip(t_lp, v_lp)), default=0.0)
            worst = max(worst, d)
            n_same += same
            n_all += 1
            print(f"{'same' if same else 'DIFFERENT'}  {os.path.basename(img)}  {q!r}: {vocab.decode(v_ids)!r}"
                  f"  (max |logprob diff| {d:.2e})")
            if not same:
                print(f"    torch: {t_ids} {vocab.decode(t_ids)!r}\n    vkmm:  {v_ids} (prompt {summary['prompt_tokens']}"
                      f" tokens, expected {n_prompt})")
    print(f"vkmm vs PyTorch: {n_same}/{n_all} generations token-identical; worst |logprob diff| {worst:.2e}")
    return 0 if n_same == n_all and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
