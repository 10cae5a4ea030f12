"""MultimodalModel, Session and TextStream: a model loaded on the GPU, conversations on it, and generation
token by token over the C library's step API (so Ctrl-C stops at the next token, and the GIL is free while the
GPU works)."""

import ctypes
import os
import random
import threading
import weakref
from ctypes import byref

from . import _lib
from ._images import ImageList, from_url
from .errors import Error, InvalidArgumentError, from_status
from .results import ChatResult, ModelInfo, TokenLogprob, TopLogprob, Usage

_lib_ = _lib.lib
_MEDIA = "<__media__>"
_ROLES = ("system", "user", "assistant")


def _check(status, err):
    if status:
        raise from_status(status, err.msg.decode("utf-8", "replace"))


class ClosedError(Error):
    """The model or session was closed; load or open a new one."""
    status = "closed"


# ---- argument checks (before anything reaches C) ----

def _text(x, what):
    if not isinstance(x, str):
        raise TypeError(f"{what} must be a str, not {type(x).__name__}")
    b = x.encode("utf-8", "surrogatepass")
    if b"\0" in b:
        raise ValueError(f"{what} contains a NUL character")
    try:
        x.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"{what} is not valid Unicode (a lone surrogate)") from None
    return b


def _int(x, what, lo, hi):
    if isinstance(x, bool) or not isinstance(x, int):
        raise TypeError(f"{what} must be an int, not {type(x).__name__}")
    if not lo <= x <= hi:
        raise ValueError(f"{what} must be between {lo} and {hi}, not {x}")
    return x


def _float(x, what, ok, rule):
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what} must be a number, not {type(x).__name__}")
    x = float(x)
    if not ok(x):
        raise ValueError(f"{what} must be {rule}, not {x}")
    return x


class _Sampling:
    """A vkmm_sampling with its stop strings kept alive."""

    def __init__(self, base, kw, stop):
        s = _lib.Sampling()
        ctypes.pointer(s)[0] = base
        s.struct_size = ctypes.sizeof(s)  # base may come from a newer library; these are this mirror's fields
        if kw.get("temperature") is not None:
            s.temperature = _float(kw["temperature"], "temperature", lambda v: 0 <= v <= 100, "between 0 and 100")
        if kw.get("top_k") is not None:
            s.top_k = _int(kw["top_k"], "top_k", 0, 1 << 24)
        if kw.get("top_p") is not None:
            s.top_p = _float(kw["top_p"], "top_p", lambda v: 0 < v <= 1, "in (0, 1]")
        if kw.get("min_p") is not None:
            s.min_p = _float(kw["min_p"], "min_p", lambda v: 0 <= v < 1, "in [0, 1)")
        if kw.get("repeat_penalty") is not None:
            s.repeat_penalty = _float(kw["repeat_penalty"], "repeat_penalty", lambda v: 0 < v <= 100,
                                      "in (0, 100]")
        if kw.get("seed") is not None:
            s.seed = _int(kw["seed"], "seed", 0, (1 << 64) - 1)
        elif not kw.get("_seed_given"):
            s.seed = random.getrandbits(63)
        stops = []
        if stop is not None:
            items = [stop] if isinstance(stop, str) else stop
            if not isinstance(items, (list, tuple)):
                raise TypeError(f"stop must be a str or a list of str, not {type(stop).__name__}")
            if len(items) > _lib.MAX_STOP:
                raise ValueError(f"at most {_lib.MAX_STOP} stop strings, not {len(items)}")
            for i, t in enumerate(items):
                b = _text(t, f"stop[{i}]")
                if not 1 <= len(b) <= 255:
                    raise ValueError(f"stop[{i}] must be 1 to 255 bytes of UTF-8, not {len(b)}")
                stops.append(b)
        self.stop_array = (ctypes.c_char_p * max(1, len(stops)))(*stops)
        s.stop = ctypes.cast(self.stop_array, ctypes.POINTER(ctypes.c_char_p)) if stops else None
        s.n_stop = len(stops)
        self.c = s


class _Handle:
    """A C session and the lock every call on it holds, so close() from another thread waits for a call in
    flight instead of freeing under it."""

    def __init__(self, ptr):
        self.ptr = ptr
        self.lock = threading.Lock()
        self._freeing = threading.Lock()
        self._freed = False

    def free(self):
        with self._freeing:
            if self._freed:
                return
            self._freed = True
            ptr = self.ptr
            if ptr:
                _lib_.vkmm_session_cancel(ptr)  # a call in flight returns at its next step
            with self.lock:
                if self.ptr:
                    _lib_.vkmm_session_free(self.ptr)
                    self.ptr = None


class _Native:
    """The model's C handles; freed by close() or, through weakref.finalize, by the garbage collector."""

    def __init__(self):
        self.model = None
        self.handles = []
        self.lock = threading.RLock()

    def free(self):
        for h in list(self.handles):
            h.free()
        with self.lock:
            if self.model:
                _lib_.vkmm_model_free(self.model)
                self.model = None


def _finish_name(code):
    return "length" if code == _lib.FINISH_LENGTH else "stop"


class TextStream:
    """The answer as it is generated: iterate for text pieces (str; together they are the whole answer).
    After the last piece, .result holds the ChatResult (finish reason, usage, tokens, logprobs). close() (or
    leaving a ``with`` block, or garbage collection) stops the generation early; the model stays usable."""

    def __init__(self, model, handle, on_close, logprobs, top_logprobs, record):
        self._model = model
        self._h = handle
        self._on_close = on_close
        self._want_lp = logprobs
        self._top = top_logprobs
        self._record = record
        self._text = []
        self._tokens = []
        self._lps = [] if logprobs else None
        self._finish = None
        self._open = True
        self.result = None

    def __iter__(self):
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def _step(self):
        """One event: (piece, finished)."""
        ev = _lib.TokenEvent()
        err = _lib.Error_()
        with self._h.lock:
            if not self._h.ptr:
                raise ClosedError("the model was closed while this answer was being generated")
            _check(_lib_.vkmm_session_next(self._h.ptr, byref(ev), byref(err)), err)
        piece = (ev.piece or b"").decode("utf-8", "replace")
        if ev.id >= 0:
            self._tokens.append(ev.id)
            if self._want_lp:
                tops = [self._model._top(ev.top[i].id, ev.top[i].logprob) for i in range(min(ev.n_top, self._top))]
                tok, raw = self._model._piece(ev.id)
                self._lps.append(TokenLogprob(tok, ev.id, float(ev.logprob), raw, tops))
        self._text.append(piece)
        if ev.finish:
            self._finish = ev.finish
        return piece, bool(ev.finish)

    def __next__(self):
        if not self._open:
            raise StopIteration
        try:
            while True:
                piece, done = self._step()
                if done:
                    self.close()
                    if piece:
                        return piece
                    raise StopIteration
                if piece:
                    return piece
        except StopIteration:
            raise
        except BaseException:
            self.close()  # Ctrl-C or an error: the session is ended and handed back, the model stays usable
            raise

    def close(self):
        """Ends the generation (early if it is still going) and hands the session back."""
        if not self._open:
            return
        self._open = False
        err = _lib.Error_()
        stats = None
        with self._h.lock:
            if self._h.ptr:
                _lib_.vkmm_session_end(self._h.ptr, byref(err))
                stats = _lib.session_stats(self._h.ptr)
        text = "".join(self._text)
        if stats is not None:
            finish = self._finish if self._finish else stats.last_finish
            usage = Usage(stats.last_prompt, stats.last_gen, stats.last_prompt + stats.last_gen)
            self.result = ChatResult(text, _finish_name(finish), usage, list(self._tokens), self._lps)
        if self._record:
            self._record(text)
        self._on_close()

    def text(self):
        """Reads the rest of the stream and returns the whole answer."""
        for _ in self:
            pass
        return "".join(self._text)


class MultimodalModel:
    """A multimodal language model on the GPU (Vulkan): images and text in, text out.

    ``model`` is a name (``"demo"``, ``"gemma-3-27b"``: see vkmm.models()), a text-model GGUF path (with
    ``mmproj=`` or the one ``mmproj-*.gguf`` beside it) or a YAML manifest. A manifest's settings (context,
    max_tokens, sampling, system prompt, chat template) are the defaults; keyword arguments win.

    One model may be used from several threads: each call runs on a session of its own (up to ``max_sessions``
    at once; more wait their turn) and their next tokens go through the model together in batched decode steps
    (up to ``max_batch`` sequences a step), so calls run concurrently and each gets the answer it would get
    alone. Their KV caches share one pool of ``kv_tokens`` positions (default: sized from the device memory).
    ``image_tokens`` caps the tokens one image becomes for models whose images take a budget (Gemma 4: 70, 140,
    280, 560 or 1120; default 280); other models refuse it.
    ``close()`` (or leaving a ``with`` block) frees the device memory at once; garbage collection frees it too.
    """

    def __init__(self, model, *, mmproj=None, device=None, n_ctx=None, n_batch=None, memory_budget=None,
                 chat_template=None, validation=None, max_sessions=4, kv_tokens=None, max_batch=None,
                 image_tokens=None):
        self._native = _Native()
        self._finalizer = weakref.finalize(self, _Native.free, self._native)
        if not isinstance(model, (str, os.PathLike)):
            raise TypeError(f"model must be a name or a path, not {type(model).__name__}")
        what = os.fsencode(model)
        if not what or b"\0" in what:
            raise ValueError("model must be a non-empty name or path")
        mm = None
        if mmproj is not None:
            if not isinstance(mmproj, (str, os.PathLike)):
                raise TypeError(f"mmproj must be a path, not {type(mmproj).__name__}")
            mm = os.fsencode(mmproj)
        if device is not None and not isinstance(device, (str, int)):
            raise TypeError(f"device must be an index or a name, not {type(device).__name__}")
        self._n_ctx_arg = None if n_ctx is None else _int(n_ctx, "n_ctx", 1, 1 << 24)
        self._n_batch = 0 if n_batch is None else _int(n_batch, "n_batch", 1, 1 << 20)
        budget = 0 if memory_budget is None else _int(memory_budget, "memory_budget", 1, (1 << 64) - 1)
        kv = 0 if kv_tokens is None else _int(kv_tokens, "kv_tokens", 1, (1 << 31) - 1)
        mb = 0 if max_batch is None else _int(max_batch, "max_batch", 1, 64)
        it = 0 if image_tokens is None else _int(image_tokens, "image_tokens", 1, (1 << 31) - 1)
        if chat_template is not None:
            _text(chat_template, "chat_template")
        self._max_sessions = _int(max_sessions, "max_sessions", 1, 256)

        ref = _lib.ModelRef()
        err = _lib.Error_()
        _check(_lib_.vkmm_model_resolve(what, mm, byref(ref), byref(err)), err)
        try:
            self._ref = {k: _lib.text(getattr(ref, k)) for k in
                         ("name", "manifest", "model", "mmproj", "chat_template", "system")}
            self._defaults = _lib.Sampling()
            ctypes.pointer(self._defaults)[0] = ref.sampling
            self._defaults.struct_size = ctypes.sizeof(self._defaults)
            self._seed_given = bool(ref.set & _lib.REF_SEED)
            self._default_max = ref.max_tokens if ref.set & _lib.REF_MAX_TOKENS else 256
            self._n_ctx = self._n_ctx_arg or (ref.context if ref.set & _lib.REF_CONTEXT else 4096)
            tmpl = chat_template if chat_template is not None else self._ref["chat_template"]
            params = _lib.ModelParams()
            params.model_path = ref.model
            params.mmproj_path = ref.mmproj
            params.device = None if device is None else str(device).encode()
            params.validation = -1 if validation is None else (1 if validation else 0)
            params.memory_budget = budget
            params.kv_tokens = kv
            params.max_batch = mb
            params.image_tokens = it
            params.chat_template = None if tmpl is None else tmpl.encode()
            ptr = ctypes.c_void_p()
            _check(_lib_.vkmm_model_load(byref(params), byref(ptr), byref(err)), err)
        finally:
            _lib_.vkmm_model_ref_free(byref(ref))
        self._native.model = ptr
        self._cond = threading.Condition()
        self._free = []  # idle pooled sessions (_Handle)
        self._pooled = 0
        self._closed = False
        self._pieces = {}

    # ---- life cycle ----

    def close(self):
        """Frees the model's device memory now. Generations running on other threads stop at their next token
        with ClosedError; calls after close raise ClosedError."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._finalizer()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @property
    def closed(self):
        """True once close() (or garbage collection) freed the model."""
        return self._native.model is None

    def _model_ptr(self):
        ptr = self._native.model
        if ptr is None or self._closed:
            raise ClosedError("this model was closed")
        return ptr

    # ---- sessions ----

    def _new_handle(self, n_ctx=None):
        with self._native.lock:
            ptr = self._model_ptr()
            params = _lib.SessionParams(n_ctx=n_ctx or self._n_ctx, n_batch=self._n_batch)
            out = ctypes.c_void_p()
            err = _lib.Error_()
            _check(_lib_.vkmm_session_create(ptr, byref(params), byref(out), byref(err)), err)
            h = _Handle(out)
            self._native.handles.append(h)
            return h

    def _drop_handle(self, h):
        with self._native.lock:
            if h in self._native.handles:
                self._native.handles.remove(h)
        h.free()

    def _acquire(self):
        with self._cond:
            while True:
                if self._closed:
                    raise ClosedError("this model was closed")
                if self._free:
                    return self._free.pop()
                if self._pooled < self._max_sessions:
                    self._pooled += 1
                    break
                self._cond.wait()
        try:
            return self._new_handle()
        except BaseException:
            with self._cond:
                self._pooled -= 1
                self._cond.notify()
            raise

    def _release(self, h):
        with h.lock:
            if h.ptr:
                _lib_.vkmm_session_reset(h.ptr)
        with self._cond:
            if h.ptr and not self._closed:
                self._free.append(h)
            else:
                self._pooled -= 1
            self._cond.notify()

    def session(self, *, system=None, n_ctx=None):
        """A conversation that keeps its KV cache between turns (see Session)."""
        return Session(self, system=system, n_ctx=n_ctx)

    # ---- generation ----

    def _sampling(self, kw):
        return _Sampling(self._defaults, dict(kw, _seed_given=self._seed_given), kw.get("stop"))

    def _max_tokens(self, n):
        return self._default_max if n is None else _int(n, "max_tokens", 0, (1 << 31) - 1)

    def _add(self, h, role, text, images):
        msg = _lib.Message(role=role.encode(), text=text)
        if images is not None and images.n:
            msg.image_inputs = images.array
            msg.n_image_inputs = images.n
        err = _lib.Error_()
        with h.lock:
            if not h.ptr:
                raise ClosedError("this model was closed")
            _check(_lib_.vkmm_session_add_message(h.ptr, byref(msg), byref(err)), err)

    def _begin(self, h, sampling, max_tokens):
        """Runs the prefill. On the main thread it runs on a helper thread so that Ctrl-C can cancel it
        between chunks."""
        err = _lib.Error_()
        if threading.current_thread() is not threading.main_thread():
            with h.lock:
                if not h.ptr:
                    raise ClosedError("this model was closed")
                _check(_lib_.vkmm_session_begin(h.ptr, byref(sampling.c), max_tokens, byref(err)), err)
            return
        result = []

        def work():
            with h.lock:
                result.append(_lib_.vkmm_session_begin(h.ptr, byref(sampling.c), max_tokens, byref(err))
                              if h.ptr else -1)

        t = threading.Thread(target=work, name="vkmm-prefill", daemon=True)
        t.start()
        interrupted = None
        while t.is_alive():
            try:
                t.join(0.05)
            except KeyboardInterrupt as e:
                interrupted = e
            if interrupted and h.ptr:
                _lib_.vkmm_session_cancel(h.ptr)  # repeated: begin clears the flag when it starts
        if interrupted:
            with h.lock:
                if h.ptr:
                    _lib_.vkmm_session_end(h.ptr, byref(_lib.Error_()))
            raise interrupted
        if result and result[0] == -1:
            raise ClosedError("this model was closed")
        _check(result[0], err)

    def _stream(self, h, kw, on_close, logprobs=False, top_logprobs=0, record=None):
        sampling = self._sampling(kw)
        n = self._max_tokens(kw.get("max_tokens"))
        try:
            self._begin(h, sampling, n)
        except BaseException:
            on_close()
            raise
        return TextStream(self, h, on_close, logprobs, top_logprobs, record)

    def generate(self, text, images=(), *, system=None, max_tokens=None, temperature=None, top_k=None,
                 top_p=None, min_p=None, repeat_penalty=None, seed=None, stop=None, stream=False):
        """Answers one prompt about zero or more images; returns the answer (str), or with stream=True an
        iterator of text pieces (a TextStream).

        images: file paths (str / os.PathLike), bytes of an encoded PNG, JPEG or BMP, numpy uint8 arrays
        H x W x 3 (or x 4: alpha composited onto white, as for files), or PIL images. ``<__media__>`` in the
        text places each image (one marker per image, in order); without markers the images come first.
        Sampling defaults are the CLI's (temperature 0.8, top_k 40, top_p 0.95, min_p 0.05, repeat_penalty 1,
        max_tokens 256, a random seed) under the model's manifest; temperature=0 is greedy. stop: a string or
        a list of up to 16; the answer ends before the first one. system: a system prompt (default: the
        manifest's)."""
        t = _text(text, "text")
        imgs = ImageList(images)
        sys_b = None
        if system is not None:
            sys_b = _text(system, "system")
        elif self._ref["system"]:
            sys_b = self._ref["system"].encode()
        kw = dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                  repeat_penalty=repeat_penalty, seed=seed, stop=stop)
        self._sampling(kw)  # argument errors before a session is taken
        self._max_tokens(max_tokens)
        h = self._acquire()
        try:
            if sys_b is not None:
                self._add(h, "system", sys_b, None)
            self._add(h, "user", t, imgs)
        except BaseException:
            self._release(h)
            raise
        s = self._stream(h, kw, lambda: self._release(h))
        return s if stream else s.text()

    def chat(self, messages, *, max_tokens=None, temperature=None, top_k=None, top_p=None, min_p=None,
             repeat_penalty=None, seed=None, stop=None, logprobs=False, top_logprobs=0, stream=False):
        """Answers an OpenAI-style conversation; returns a ChatResult (.text, .finish_reason, .usage, .tokens,
        .logprobs), or with stream=True a TextStream whose .result is the ChatResult once it is read.

        messages: [{"role": "system" | "user" | "assistant", "content": str or [parts]}], parts
        {"type": "text", "text": ...} and {"type": "image_url", "image_url": {"url": "data:image/png;base64,..."
        or a path or file:// URL}} (also {"type": "image", "image": <anything generate() takes>}). logprobs:
        each generated token's log-probability, with top_logprobs (0..10) alternatives."""
        msgs = _messages(messages)
        if not isinstance(logprobs, bool):
            raise TypeError(f"logprobs must be a bool, not {type(logprobs).__name__}")
        top = _int(top_logprobs, "top_logprobs", 0, _lib.TOP_LOGPROBS)
        kw = dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                  repeat_penalty=repeat_penalty, seed=seed, stop=stop)
        self._sampling(kw)
        self._max_tokens(max_tokens)
        if self._ref["system"] and not any(m[0] == "system" for m in msgs):
            msgs.insert(0, ("system", self._ref["system"].encode(), None))
        h = self._acquire()
        try:
            for role, text, imgs in msgs:
                self._add(h, role, text, imgs)
        except BaseException:
            self._release(h)
            raise
        s = self._stream(h, kw, lambda: self._release(h), logprobs or top > 0, top)
        if stream:
            return s
        s.text()
        return s.result

    # ---- tokens ----

    def tokenize(self, text, *, add_special=True, parse_special=False):
        """The model's token ids for text (with BOS when add_special; control tokens written in the text are
        recognised when parse_special)."""
        t = _text(text, "text")
        err = _lib.Error_()
        n = ctypes.c_uint32()
        cap = len(t) + 8
        while True:
            ids = (ctypes.c_int32 * cap)()
            with self._native.lock:
                _check(_lib_.vkmm_model_tokenize(self._model_ptr(), t, bool(add_special), bool(parse_special),
                                                 ids, cap, byref(n), byref(err)), err)
            if n.value <= cap:
                return list(ids[:n.value])
            cap = n.value

    def detokenize(self, ids):
        """Token ids back to text (control tokens left out)."""
        ids = [_int(i, "token id", 0, (1 << 31) - 1) for i in ids]
        arr = (ctypes.c_int32 * max(1, len(ids)))(*ids)
        err = _lib.Error_()
        n = ctypes.c_size_t()
        cap = 16 * len(ids) + 16
        while True:
            buf = ctypes.create_string_buffer(cap)
            with self._native.lock:
                _check(_lib_.vkmm_model_detokenize(self._model_ptr(), arr, len(ids), buf, cap, byref(n),
                                                   byref(err)), err)
            if n.value < cap:
                return buf.raw[:n.value].decode("utf-8", "replace")
            cap = n.value + 1

    def token_bytes(self, id):
        """The bytes token id stands for (control tokens as their text)."""
        _int(id, "token id", 0, (1 << 31) - 1)
        err = _lib.Error_()
        n = ctypes.c_size_t()
        buf = ctypes.create_string_buffer(256)
        with self._native.lock:
            _check(_lib_.vkmm_model_token_bytes(self._model_ptr(), id, buf, 256, byref(n), byref(err)), err)
            if n.value > 256:
                buf = ctypes.create_string_buffer(n.value)
                _check(_lib_.vkmm_model_token_bytes(self._model_ptr(), id, buf, n.value, byref(n), byref(err)), err)
        return buf.raw[:n.value]

    def _piece(self, id):
        p = self._pieces.get(id)
        if p is None:
            raw = self.token_bytes(id)
            p = self._pieces[id] = (raw.decode("utf-8", "replace"), raw)
        return p

    def _top(self, id, logprob):
        tok, raw = self._piece(id)
        return TopLogprob(tok, id, float(logprob), raw)

    @property
    def stats(self):
        """What the model's sessions share now: the KV pool's pages in use, sessions generating, batched decode
        steps run (a dict of vkmm_model_stats' fields)."""
        with self._native.lock:
            st = _lib.model_stats(self._model_ptr())
            return {name: getattr(st, name) for name, _ in _lib.ModelStats._fields_}

    @property
    def info(self):
        """A ModelInfo: architecture, name, chat template, device, sizes, files."""
        with self._native.lock:
            i = _lib.model_info(self._model_ptr())
            return ModelInfo(arch=_lib.text(i.arch), name=_lib.text(i.name), chat_template=_lib.text(i.chat_template),
                             device=_lib.text(i.device), n_layer=i.n_layer, n_embd=i.n_embd, n_vocab=i.n_vocab,
                             n_ctx_train=i.n_ctx_train, has_vision=bool(i.has_vision),
                             weight_bytes=i.weight_bytes, model_path=self._ref["model"],
                             mmproj_path=self._ref["mmproj"], manifest=self._ref["manifest"],
                             n_ctx=min(self._n_ctx, i.n_ctx_train), n_expert=i.n_expert,
                             n_expert_used=i.n_expert_used)

    def __repr__(self):
        if self.closed:
            return "<vkmm.MultimodalModel (closed)>"
        i = self.info
        return f"<vkmm.MultimodalModel {self._ref['name'] or i.model_path} {i.arch} on {i.device}>"


def _messages(messages):
    """OpenAI-style messages as (role, text with <__media__> markers, ImageList or None)."""
    if isinstance(messages, (str, bytes, dict)) or not hasattr(messages, "__iter__"):
        raise TypeError("messages must be a list of {'role': ..., 'content': ...} dicts")
    out = []
    for i, m in enumerate(messages):
        what = f"messages[{i}]"
        if not isinstance(m, dict):
            raise TypeError(f"{what} must be a dict, not {type(m).__name__}")
        role = m.get("role")
        if role == "developer":
            role = "system"  # OpenAI's newer name for the system role
        if role not in _ROLES:
            raise ValueError(f"{what}: role must be one of {', '.join(_ROLES)}, not {role!r}")
        content = m.get("content")
        if content is None:
            content = ""
        if isinstance(content, str):
            out.append((role, _text(content, f"{what}.content"), None))
            continue
        if not isinstance(content, (list, tuple)):
            raise TypeError(f"{what}.content must be a str or a list of parts, not {type(content).__name__}")
        text, images = [], []
        for j, part in enumerate(content):
            pw = f"{what}.content[{j}]"
            if not isinstance(part, dict):
                raise TypeError(f"{pw} must be a dict, not {type(part).__name__}")
            kind = part.get("type")
            if kind == "text":
                t = part.get("text")
                _text(t, f"{pw}.text")
                text.append(t)
            elif kind == "image_url":
                iu = part.get("image_url")
                url = iu.get("url") if isinstance(iu, dict) else iu
                images.append(from_url(url, pw))
                text.append(_MEDIA)
            elif kind == "image":
                if "image" not in part:
                    raise ValueError(f"{pw}: an image part needs 'image'")
                images.append(part["image"])
                text.append(_MEDIA)
            else:
                raise ValueError(f"{pw}: part type must be 'text', 'image_url' or 'image', not {kind!r}")
        out.append((role, "".join(text).encode("utf-8"), ImageList(images, f"{what} image") if images else None))
    if not out:
        raise ValueError("messages is empty")
    return out


class Session:
    """A conversation on a model: each generate() or chat() adds the user's turn and the model's answer, and
    the KV cache keeps what was said, so a turn costs only its new tokens. A session is used by one thread at
    a time. close() (or leaving a ``with`` block) frees its memory."""

    def __init__(self, model, *, system=None, n_ctx=None):
        self._model = model
        self._system = None
        if system is not None:
            self._system = _text(system, "system")
        elif model._ref["system"]:
            self._system = model._ref["system"].encode()
        self._h = model._new_handle(None if n_ctx is None else _int(n_ctx, "n_ctx", 1, 1 << 24))
        self._busy = threading.Lock()
        self._stream = None
        self._started = False
        self.history = []  # [{"role", "content"}], images as {"type": "image"} parts

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        """Frees the session's memory (the model stays loaded)."""
        if self._stream is not None:
            self._stream.close()
        self._model._drop_handle(self._h)

    def reset(self):
        """Forgets the conversation (the system prompt stays)."""
        if self._stream is not None:
            self._stream.close()
        with self._h.lock:
            if self._h.ptr:
                _lib_.vkmm_session_reset(self._h.ptr)
        self._started = False
        self.history = []

    @property
    def n_ctx_used(self):
        """Positions of the context the conversation fills."""
        with self._h.lock:
            return _lib.session_stats(self._h.ptr).n_ctx_used if self._h.ptr else 0

    def _turn(self, msgs, kw, stream, logprobs=False, top=0, want_result=False):
        if not self._busy.acquire(blocking=False):
            raise RuntimeError("this session is answering on another thread; use one session per thread")
        try:
            if self._stream is not None:
                self._stream.close()
            self._model._sampling(kw)
            self._model._max_tokens(kw.get("max_tokens"))
            if not self._started and self._system is not None and not any(m[0] == "system" for m in msgs):
                msgs.insert(0, ("system", self._system, None))
            for role, text, imgs in msgs:
                self._model._add(self._h, role, text, imgs)
                content = text.decode("utf-8")
                self.history.append({"role": role, "content": content})
            self._started = True

            def record(answer):
                self.history.append({"role": "assistant", "content": answer})

            s = self._model._stream(self._h, kw, lambda: None, logprobs, top, record)
            self._stream = s
        finally:
            self._busy.release()
        if stream:
            return s
        s.text()
        return s.result if want_result else "".join(s._text)

    def generate(self, text, images=(), *, max_tokens=None, temperature=None, top_k=None, top_p=None, min_p=None,
                 repeat_penalty=None, seed=None, stop=None, stream=False):
        """Adds a user turn (text and images, as MultimodalModel.generate takes them) and returns the answer
        (str), or with stream=True a TextStream."""
        t = _text(text, "text")
        imgs = ImageList(images)
        kw = dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                  repeat_penalty=repeat_penalty, seed=seed, stop=stop)
        return self._turn([("user", t, imgs)], kw, stream)

    def chat(self, messages, *, max_tokens=None, temperature=None, top_k=None, top_p=None, min_p=None,
             repeat_penalty=None, seed=None, stop=None, logprobs=False, top_logprobs=0, stream=False):
        """Adds OpenAI-style messages (as MultimodalModel.chat takes them) to the conversation and returns the
        ChatResult of the model's answer (or a TextStream with stream=True)."""
        msgs = _messages(messages)
        top = _int(top_logprobs, "top_logprobs", 0, _lib.TOP_LOGPROBS)
        kw = dict(max_tokens=max_tokens, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p,
                  repeat_penalty=repeat_penalty, seed=seed, stop=stop)
        return self._turn(msgs, kw, stream, bool(logprobs) or top > 0, top, want_result=True)


__all__ = ["MultimodalModel", "Session", "TextStream", "ClosedError", "InvalidArgumentError"]
