"""tools/demo/data.py — training and evaluation examples laid out token for token as vkmm lays out a Gemma 3
chat turn with one image (runtime/engine/prompt.c): BOS, "<start_of_turn>user\n" + "\n\n<start_of_image>",
the image rows, "<end_of_image>\n\n" + question + "<end_of_turn>\n<start_of_turn>model\n", then the answer and
<end_of_turn>. Pixels go through the same resize and normalisation as vkmm's Gemma 3 preprocessing."""
import numpy as np
import torch

from tools.scenes.draw import render, to_model_input
from tools.scenes.rng import Rng
from tools.scenes.scene import FORMS, answer, make_scene, pick_shape, question

from .vocab import PAD

FORM_WEIGHTS = {"describe": 0.3, "count": 0.1, "colour": 0.3, "where": 0.3}


def prompt_ids(vocab, q, n_image_tokens):
    """(ids, span): the prompt up to the model's turn, image rows as PAD placeholders at span."""
    head = vocab.encode("<start_of_turn>user\n" + "\n\n<start_of_image>", add_bos=True)
    tail = vocab.encode("<end_of_image>\n\n" + q.strip() + "<end_of_turn>\n" + "<start_of_turn>model\n")
    span = (len(head), len(head) + n_image_tokens)
    return head + [PAD] * n_image_tokens + tail, span


def draw_forms(rng, k):
    out = []
    for _ in range(k):
        u, acc = rng.uniform(), 0.0
        for f in FORMS:
            acc += FORM_WEIGHTS[f]
            if u < acc:
                break
        out.append(f)
    return out


def scene_examples(seed, vocab, cfg, n_questions):
    """Pixels of scene `seed` and n_questions (prompt ids, span, answer ids, form) drawn from the scene's stream."""
    scene = make_scene(seed)
    pixels = to_model_input(render(scene), cfg.v_image)
    rng = Rng(seed, stream=4)
    out = []
    for form in draw_forms(rng, n_questions):
        shape = pick_shape(scene, rng) if form in ("colour", "where") else None
        ids, span = prompt_ids(vocab, question(form, shape), cfg.n_image_tokens)
        out.append((ids, span, vocab.encode(answer(scene, form, shape) + "<end_of_turn>"), form))
    return pixels, out


def collate_shared(vocab, cfg, items):
    """For Gemma3.forward_shared: the common prompt prefix once per picture, then one suffix (question and
    answer) per example. Returns pixels, prefix ids (S,P), span, suffix ids (B,Ts), scene index (B), labels."""
    pix, pref, suf, labs, scene_of = [], [], [], [], []
    span = None
    for i, (p, exs) in enumerate(items):
        pix.append(p)
        for ids, sp, ans, _ in exs:
            P = sp[1] + 2  # the rows, then <end_of_image> and "\n\n"
            if span is None:
                span, prefix = sp, ids[:P]
            assert sp == span and ids[:P] == prefix, "prompts do not share their prefix"
            seq = ids[P:] + ans
            lab = [-100] * (len(ids) - 1 - P) + ans + [-100]
            suf.append(seq)
            labs.append(lab)
            scene_of.append(i)
        pref.append(prefix)
    T = max(len(s) for s in suf)
    ids = torch.full((len(suf), T), PAD, dtype=torch.long)
    labels = torch.full((len(suf), T), -100, dtype=torch.long)
    for b, (s, l) in enumerate(zip(suf, labs)):
        ids[b, :len(s)] = torch.tensor(s)
        labels[b, :len(l)] = torch.tensor(l)
    return (torch.from_numpy(np.stack(pix)), torch.tensor(pref), span, ids, torch.tensor(scene_of), labels)
