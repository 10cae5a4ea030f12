"""tools/demo/vocab.py — the demo model's own SentencePiece-style vocabulary (the layout Gemma's GGUF files use:
control tokens, <0xNN> byte tokens, pieces with U+2581 for spaces, scores, token types) and an encoder that
follows the same merge rule as vkmm's "llama" tokenizer (loader/tokenizer_spm.c, gemma3.md §4.2), so training
sees exactly the token ids vkmm will produce."""
import heapq

from tools.scenes.scene import all_texts

SPACE = "\u2581"
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
CONTROLS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>",
            "<end_of_image>"]
PAD, EOS, BOS, UNK = 0, 1, 2, 3
# words that start a text fragment (after a control token or a newline) and so carry no leading space
BARE_WORDS = ["user", "model", "Describe", "How", "What", "Where", "A", "The", "There"]


class Vocab:
    def __init__(self):
        self.pieces, self.scores, self.types = [], [], []
        for t in CONTROLS:
            self._add(t, 0.0, UNKNOWN if t == "<unk>" else CONTROL)
        for b in range(256):
            self._add(f"<0x{b:02X}>", 0.0, BYTE)
        for c in [SPACE, "\n"] + [chr(c) for c in range(0x21, 0x7F)]:
            self._add(c, 0.0, NORMAL)
        _, words = all_texts()
        words = sorted(words | {"image", "the", "shapes", "there"})
        forms = [SPACE + w for w in words] + BARE_WORDS + ["\n\n"]
        for f in forms:
            # every prefix is a piece, so the pairwise merges can always grow the word from its left end; longer
            # pieces score higher, so a word, once started, completes before any other merge inside it
            for k in range(2, len(f) + 1):
                if f[:k] not in self.index:
                    self._add(f[:k], float(k), NORMAL)

    @property
    def index(self):
        if not hasattr(self, "_index") or len(self._index) != len(self.pieces):
            self._index = {p: i for i, p in enumerate(self.pieces)}
        return self._index

    def _add(self, piece, score, kind):
        self.pieces.append(piece)
        self.scores.append(score)
        self.types.append(kind)

    def __len__(self):
        return len(self.pieces)

    def id(self, piece):
        return self.index[piece]

    def encode_fragment(self, text):
        """SPM BPE of text without control tokens: spaces to U+2581, then repeatedly merge the adjacent pair
        whose joined text is the best-scoring piece (ties: leftmost); unknown characters become byte tokens."""
        s = text.replace(" ", SPACE)
        if not s:
            return []
        syms = list(s)
        prev = list(range(-1, len(syms) - 1))
        nxt = list(range(1, len(syms) + 1))
        nxt[-1] = -1
        heap = []

        def push(a, b):
            if a < 0 or b < 0:
                return
            j = self.index.get(syms[a] + syms[b])
            if j is not None and self.types[j] == NORMAL:
                heapq.heappush(heap, (-self.scores[j], a, b, len(syms[a]) + len(syms[b])))

        for i in range(len(syms) - 1):
            push(i, i + 1)
        while heap:
            _, a, b, n = heapq.heappop(heap)
            if not syms[a] or not syms[b] or len(syms[a]) + len(syms[b]) != n or nxt[a] != b:
                continue
            syms[a] += syms[b]
            syms[b] = ""
            nxt[a] = nxt[b]
            if nxt[b] >= 0:
                prev[nxt[b]] = a
            push(prev[a], a)
            push(a, nxt[a])
        out = []
        i = 0
        while i >= 0:
            j = self.index.get(syms[i])
            if j is not None and self.types[j] == NORMAL:
                out.append(j)
            else:
                out += [self.id(f"<0x{b:02X}>") for b in syms[i].encode("utf-8")]
            i = nxt[i]
        return out

    def encode(self, text, add_bos=False):
        """Control-token texts become their ids; the rest is encoded fragment by fragment."""
        out = [BOS] if add_bos else []
        controls = sorted(CONTROLS, key=len, reverse=True)
        pos = 0
        frag = 0
        while pos < len(text):
            hit = next((c for c in controls if text.startswith(c, pos)), None)
            if hit:
                out += self.encode_fragment(text[frag:pos]) + [self.id(hit)]
                pos += len(hit)
                frag = pos
            else:
                pos += 1
        return out + self.encode_fragment(text[frag:])

    def decode(self, ids):
        parts = []
        for i in ids:
            p, t = self.pieces[i], self.types[i]
            if t == BYTE:
                parts.append(bytes([int(p[3:5], 16)]))
            elif t == NORMAL:
                parts.append(p.replace(SPACE, " ").encode("utf-8"))
        return b"".join(parts).decode("utf-8", errors="replace")


# The chat template stored in the GGUF: the Gemma 3 turn layout (vkmm recognises it by <start_of_turn>).
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- for message in messages -%}"
    "{%- set role = 'model' if message['role'] == 'assistant' else message['role'] -%}"
    "{{ '<start_of_turn>' + role + '\\n' }}"
    "{%- if message['content'] is string -%}{{ message['content'] | trim }}"
    "{%- else -%}{%- for item in message['content'] -%}"
    "{%- if item['type'] == 'image' -%}{{ '<start_of_image>' }}"
    "{%- elif item['type'] == 'text' -%}{{ item['text'] | trim }}{%- endif -%}"
    "{%- endfor -%}{%- endif -%}"
    "{{ '<end_of_turn>\\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\\n' }}{%- endif -%}"
)
