// tests/serve/test_limits.js — the limits that protect a busy `vkmm serve`: a full queue answers 429 with
// Retry-After (and the OpenAI SDK's own retries then get an answer), --timeout cuts a long answer (finish_reason
// "length") and refuses a request that waited too long (503), and a lost GPU turns /health and the API to 503
// (injected with VKMM_INJECT_DEVICE_LOST), never a crash; --allow-local-files lets requests name image files.
'use strict';
const t = require('./lib.js');
const OpenAI = t.npm('openai');

const chat = (url, extra = {}) => t.request(url + '/v1/chat/completions', { method: 'POST', body: {
  model: 'demo', temperature: 0, messages: [{ role: 'user', content: [
    { type: 'image_url', image_url: { url: t.dataUrl() } }, { type: 'text', text: 'Describe the image.' }] }], ...extra } });
// past the end-of-turn token to the end of the context: a generation of a couple of hundred tokens
const long = { ignore_eos: true, max_tokens: 1000 };
let longMs = 1250, longTokens = 200; // how long the whole long answer took, and its tokens (measured below)

t.main('serve-limits', async () => {
  // ---- a full queue: 429 with Retry-After; the SDK retries and gets its answer ----
  {
    const srv = await t.startServer(['--parallel', '1', '--queue', '1', '--quiet']);
    const aSent = Date.now();
    const a = chat(srv.url, long).then((r) => { longMs = Date.now() - aSent; return r; });
    await t.sleep(150);
    const b = chat(srv.url, long);
    await t.sleep(100);
    const c = await chat(srv.url);
    t.check(c.status === 429 && c.json.error.type === 'rate_limit_error', 'a full queue answers 429', `${c.status} ${c.text}`);
    t.check(c.headers['retry-after'] === '1' && c.headers['retry-after-ms'] === '1000', '429 says when to retry', c.headers);
    const sdk = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'x', maxRetries: 8 });
    const d = await sdk.chat.completions.create({ model: 'demo', temperature: 0, messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: t.dataUrl() } }, { type: 'text', text: 'Describe the image.' }] }] });
    t.equal(d.choices[0].message.content, t.exampleAnswer, 'the SDK retried past the 429s and got the answer');
    const [ra, rb] = await Promise.all([a, b]);
    t.check(ra.status === 200 && rb.status === 200, 'the requests that got in were answered', [ra.status, rb.status]);
    longTokens = ra.json ? ra.json.usage.completion_tokens : 0;
    const m = (await t.request(srv.url + '/metrics')).text;
    t.check(/vkmm_requests_total\{endpoint="\/v1\/chat\/completions",status="429"\} [1-9]/.test(m), '/metrics counted the 429s');
    await t.stopServer(srv);
  }

  // ---- --timeout: a long answer is cut; a request that waited past it is refused with 503 ----
  {
    // The deadline is 0.4 of the time the whole long answer took above (at most 0.5 s): on lavapipe with its
    // pipelines prewarmed, the demo's whole context (~220 tokens) fits in half a second, which a fixed 0.5 s no
    // longer cut. Five requests queue behind the first, so the later ones surely wait past their deadline.
    const limit = Math.min(0.5, Math.max(0.1, (longMs / 1000) * 0.4)).toFixed(2);
    const srv = await t.startServer(['--parallel', '1', '--timeout', limit, '--quiet']);
    const t0 = Date.now();
    const first = chat(srv.url, long);
    await t.sleep(50);
    const rest = [0, 1, 2, 3, 4].map(() => chat(srv.url, long));
    const r1 = await first;
    t.check(r1.status === 200 && r1.json.choices[0].finish_reason === 'length' &&
      r1.json.usage.completion_tokens < longTokens, `--timeout ${limit} cuts a long answer (finish_reason length, ` +
      `fewer than the ${longTokens} tokens of the whole answer)`, r1.text.slice(0, 300));
    const others = await Promise.all(rest);
    const waited = others.filter((r) => r.status === 503 && /waited/.test(r.text));
    const cut = others.filter((r) => r.status === 200 && r.json.choices[0].finish_reason === 'length');
    t.check(waited.length >= 1 && waited.length + cut.length === 5, 'requests queued past --timeout get 503 (or a cut answer)',
      others.map((r) => `${r.status} ${r.text.slice(0, 120)}`));
    t.check(waited.every((r) => r.headers['retry-after']), 'that 503 says when to retry');
    t.check(Date.now() - t0 < 10000, 'nothing ran much past its deadline', Date.now() - t0);
    let m = '';
    for (let i = 0; i < 50 && !/vkmm_cancelled_total\{reason="deadline"\} [1-9]/.test(m); i++) {
      await t.sleep(100); // the requests refused while queued are counted when a worker reaches them
      m = (await t.request(srv.url + '/metrics')).text;
    }
    t.check(/vkmm_cancelled_total\{reason="deadline"\} [1-9]/.test(m), '/metrics counted the deadlines');
    await t.stopServer(srv);
  }

  // ---- --allow-local-files: image paths and file:// URLs name files on the server ----
  {
    const srv = await t.startServer(['--parallel', '1', '--quiet', '--allow-local-files']);
    for (const url of [t.example, 'file://' + t.example]) {
      const r = await t.request(srv.url + '/v1/chat/completions', { method: 'POST', body: { model: 'demo', temperature: 0,
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'Describe the image.' }] }] } });
      t.check(r.status === 200 && r.json.choices[0].message.content === t.exampleAnswer, `--allow-local-files: ${url.slice(0, 7)}...`,
        r.text.slice(0, 200));
    }
    const missing = await t.request(srv.url + '/v1/chat/completions', { method: 'POST', body: { model: 'demo',
      messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: '/nonexistent/x.png' } }] }] } });
    t.check(missing.status === 400 && /cannot read/.test(missing.text), '--allow-local-files: a missing file is a 400', missing.text);
    await t.stopServer(srv);
  }

  // ---- a lost GPU: 503 from then on, /health too; the process stays up and stops cleanly ----
  {
    const srv = await t.startServer(['--parallel', '1', '--quiet'], { env: { VKMM_INJECT_DEVICE_LOST: '20' } });
    let lost = null;
    for (let i = 0; i < 6 && !lost; i++) {
      const r = await chat(srv.url);
      if (r.status !== 200) lost = r;
    }
    t.check(lost && lost.status === 503 && /lost/.test(lost.text), 'a request that meets the lost GPU gets 503', lost && lost.text);
    const h = await t.request(srv.url + '/health');
    t.check(h.status === 503 && h.json.status === 'error', '/health says 503 after the GPU was lost', h.text);
    const again = await chat(srv.url);
    t.check(again.status === 503, 'later requests get 503 (a load balancer moves them elsewhere)', again.status);
    await t.stopServer(srv);
  }
}, 240000);
