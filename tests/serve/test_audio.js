// tests/serve/test_audio.js — audio through `vkmm serve`: OpenAI's input_audio content part ({"data": base64,
// "format": "wav" | "mp3"}) on a tiny synthetic Gemma 4 E-style pair (vkmm-dev synth --arch gemma4 --size tiny-e,
// one mmproj with the vision and audio towers): greedy answers token for token equal to `vkmm run --audio`, through
// raw HTTP and the openai SDK, audio beside an image in part order; a 400 naming the field for a bad format, bad
// base64, a broken file and audio in a non-user turn; a model without an audio tower (the demo) refuses audio.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFile, execFileSync } = require('node:child_process');
const t = require('./lib.js');
const OpenAI = t.npm('openai');

const wav = path.join(t.root, 'tests', 'data', 'audio', 'tone-16k-mono-pcm16.wav');
const mp3 = path.join(t.root, 'tests', 'data', 'audio', 'tone-44k-mono.mp3');
const b64 = (f) => fs.readFileSync(f).toString('base64');

// `vkmm run --json --temp 0` with audio (and images) in the order given
function runAudio(model, prompt, media, n) {
  const args = ['run', ...model, '--json', '--temp', '0', '-n', String(n), '-p', prompt];
  for (const [kind, f] of media) args.push(kind === 'a' ? '--audio' : '--image', f);
  return new Promise((resolve, reject) => {
    execFile(t.vkmm, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`vkmm run failed: ${stderr}`));
      if (/validation (error|warning)/.test(stderr)) return reject(new Error(`vkmm run: validation message: ${stderr}`));
      const tokens = stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.id !== undefined);
      resolve({ ids: tokens.map((x) => x.id), text: tokens.map((x) => x.piece).join('') });
    });
  });
}

const post = (srv, body) => t.request(srv.url + '/v1/chat/completions', { method: 'POST', body });
const audioPart = (data, format = 'wav') => ({ type: 'input_audio', input_audio: { data, format } });

t.main('serve-audio', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkmm-serve-audio-'));
  const model = path.join(dir, 'gemma4e.gguf'), mmproj = path.join(dir, 'mmproj-gemma4e.gguf');
  const tok = path.join(t.root, '.deps', 'npm', 'node_modules', '@lenml', 'tokenizer-gemma3', 'models', 'tokenizer.json');
  execFileSync(path.join(path.dirname(t.vkmm), 'vkmm-dev'), ['synth', '--arch', 'gemma4', '--size', 'tiny-e',
    '--tokenizer', tok, '-o', model, '--mmproj-out', mmproj], { stdio: 'ignore' });
  const modelArgs = ['-m', model, '--mmproj', mmproj, '--image-tokens', '70'];
  const srv = await t.startServer([...modelArgs, '--parallel', '1', '--quiet']);
  try {
    // ---- the answer vkmm run gives (the clip before the text, as an OpenAI message's media come first) ----
    const want = await runAudio(modelArgs, 'What is said?', [['a', wav]], 6);
    const r = await post(srv, { model: 'x', temperature: 0, max_tokens: 6, logprobs: true,
      messages: [{ role: 'user', content: [audioPart(b64(wav)), { type: 'text', text: 'What is said?' }] }] });
    t.check(r.status === 200, 'input_audio (wav): 200', r.text.slice(0, 300));
    if (r.status === 200) {
      t.equal(r.json.choices[0].logprobs.content.length, want.ids.length, 'as many tokens as vkmm run --audio');
      t.equal(r.json.choices[0].message.content, want.text, 'input_audio (wav) answers as vkmm run --audio');
      t.check(r.json.usage.prompt_tokens > 20, 'the clip\'s rows count as prompt tokens', r.json.usage);
    }
    const sdk = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'x' });
    const s = await sdk.chat.completions.create({ model: 'x', temperature: 0, max_tokens: 6, messages: [{ role: 'user',
      content: [{ type: 'input_audio', input_audio: { data: b64(wav), format: 'wav' } }, { type: 'text', text: 'What is said?' }] }] });
    t.equal(s.choices[0].message.content, want.text, 'the openai SDK\'s input_audio part answers the same');

    // ---- mp3, and a clip beside a picture in the parts' order ----
    const m = await post(srv, { model: 'x', temperature: 0, max_tokens: 2,
      messages: [{ role: 'user', content: [audioPart(b64(mp3), 'mp3'), { type: 'text', text: 'Hi' }] }] });
    t.check(m.status === 200, 'input_audio (mp3): 200', m.text.slice(0, 300));
    const mixed = await runAudio(modelArgs, 'What do you hear and see?', [['i', t.example], ['a', wav]], 4);
    const x = await post(srv, { model: 'x', temperature: 0, max_tokens: 4, messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: t.dataUrl() } }, audioPart(b64(wav)),
      { type: 'text', text: 'What do you hear and see?' }] }] });
    t.check(x.status === 200 && x.json.choices[0].message.content === mixed.text,
      'an image then a clip answer as vkmm run --image --audio', x.text.slice(0, 300));

    // ---- refusals: a 400 naming the field, and the server stays right ----
    const bad = [
      [audioPart(b64(wav), 'aac'), /input_audio\.format/],
      [audioPart('@@not base64@@'), /input_audio\.data/],
      [audioPart(Buffer.from('RIFF\x10\x00\x00\x00WAVEfmt ').toString('base64')), /input_audio\.data: cannot decode/],
      [{ type: 'input_audio' }, /input_audio must be an object/],
    ];
    for (const [part, re] of bad) {
      const b = await post(srv, { model: 'x', messages: [{ role: 'user', content: [part, { type: 'text', text: 'Hi' }] }] });
      t.check(b.status === 400 && re.test(b.json && b.json.error.message), `refused: ${re}`, `${b.status} ${b.text.slice(0, 300)}`);
    }
    const sys = await post(srv, { model: 'x', messages: [{ role: 'system', content: [audioPart(b64(wav))] },
      { role: 'user', content: 'Hi' }] });
    t.check(sys.status === 400 && /user messages/.test(sys.text), 'audio in a system turn: 400', sys.text.slice(0, 200));
    const again = await post(srv, { model: 'x', temperature: 0, max_tokens: 6,
      messages: [{ role: 'user', content: [audioPart(b64(wav)), { type: 'text', text: 'What is said?' }] }] });
    t.check(again.status === 200 && again.json.choices[0].message.content === want.text, 'the same answer after the refusals');
  } finally {
    await t.stopServer(srv, 'gemma4 server');
  }

  // ---- a model without an audio tower ----
  const demo = await t.startServer(['--parallel', '1', '--quiet']);
  const d = await post(demo, { model: 'demo', messages: [{ role: 'user', content: [audioPart(b64(wav)), { type: 'text', text: 'Hi' }] }] });
  t.check(d.status === 400 && /takes no audio/.test(d.text), 'the demo model refuses audio with a 400', d.text.slice(0, 200));
  await t.stopServer(demo, 'demo server');
  fs.rmSync(dir, { recursive: true, force: true });
}, 300000);
