// tests/serve/test_load.js — many users at once on `vkmm serve` (demo model): 16 concurrent clients x 10
// requests of mixed kinds (text, image, streamed, long prompts; both APIs), every one answered and every greedy
// answer equal to the same request run alone; clients that hang up mid-stream (their sequences are freed);
// then SIGTERM under load: running requests finish, queued ones get 503, nothing hangs, the process exits 0.
'use strict';
const http = require('node:http');
const path = require('node:path');
const t = require('./lib.js');

const img = (name) => path.join(t.root, 'examples', name);
const longSystem = ('You describe pictures of simple shapes: circles, squares, triangles, stars and crosses, in six ' +
  'colours and two sizes, in five places. ').repeat(2).trim();

// The kinds of request the clients mix: [api, streamed, prompt, image or null, system or null]
const kinds = [
  { api: 'openai', stream: false, prompt: 'Describe the image.', image: img('scene-2.png') },
  { api: 'openai', stream: true, prompt: 'How many shapes are there?', image: img('scene-5.png') },
  { api: 'anthropic', stream: false, prompt: 'Where is the circle?', image: img('scene-9.png') },
  { api: 'anthropic', stream: true, prompt: 'What colour is the star?', image: null },
  { api: 'openai', stream: false, prompt: 'Describe the image.', image: img('scene-12.png'), system: longSystem },
  { api: 'openai', stream: true, prompt: 'Describe the image.', image: img('scene-9.png'), system: longSystem, stop: ['circle'] },
  { api: 'anthropic', stream: true, prompt: 'How many shapes are there?', image: img('scene-12.png'), system: longSystem },
];

function body(k) {
  if (k.api === 'openai') {
    const content = [{ type: 'text', text: k.prompt }];
    if (k.image) content.unshift({ type: 'image_url', image_url: { url: t.dataUrl(k.image) } });
    const messages = [{ role: 'user', content }];
    if (k.system) messages.unshift({ role: 'system', content: k.system });
    return { model: 'demo', messages, temperature: 0, max_tokens: 48, stream: k.stream, stop: k.stop };
  }
  const content = [{ type: 'text', text: k.prompt }];
  if (k.image) content.unshift({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: t.pngBase64(k.image) } });
  const b = { model: 'demo', max_tokens: 48, temperature: 0, stream: k.stream, messages: [{ role: 'user', content }] };
  if (k.system) b.system = k.system;
  return b;
}

// The answer's text from a response of either API, streamed or not; throws on anything malformed.
function answerOf(k, r) {
  if (r.status !== 200) throw new Error(`status ${r.status}: ${r.text.slice(0, 200)}`);
  if (!k.stream) return k.api === 'openai' ? r.json.choices[0].message.content : r.json.content.map((b) => b.text).join('');
  const evs = t.parseSSE(r.text);
  if (k.api === 'openai') {
    if (evs[evs.length - 1].data !== '[DONE]') throw new Error('the stream does not end with [DONE]');
    return evs.filter((e) => e.data !== '[DONE]').map((e) => e.data.choices[0].delta.content || '').join('');
  }
  const names = evs.map((e) => e.event);
  if (names[0] !== 'message_start' || names[names.length - 1] !== 'message_stop') throw new Error(`event order ${names}`);
  return evs.filter((e) => e.event === 'content_block_delta').map((e) => e.data.delta.text).join('');
}

const send = (url, k, opts = {}) =>
  t.request(url + (k.api === 'openai' ? '/v1/chat/completions' : '/v1/messages'), { method: 'POST', body: body(k), ...opts });

// Starts a streamed request and hangs up once the first bytes of the answer arrived.
function hangUp(url, k) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body({ ...k, stream: true }));
    const u = new URL(url + (k.api === 'openai' ? '/v1/chat/completions' : '/v1/messages'));
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json' } }, (res) => {
      res.once('data', () => { req.destroy(); resolve(res.statusCode); });
    });
    req.on('error', () => resolve(0));
    req.end(data);
  });
}

const metric = (text, name) => {
  const m = new RegExp('^' + name.replace(/[{}"=]/g, (c) => '\\' + c) + ' (\\S+)$', 'm').exec(text);
  return m ? Number(m[1]) : NaN;
};

t.main('serve-load', async () => {
  const srv = await t.startServer(['--parallel', '4', '--quiet']);
  // each kind alone first: the answers every concurrent one must equal
  const solo = [];
  for (const k of kinds) solo.push(answerOf(k, await send(srv.url, k)));
  t.equal(solo[0], t.exampleAnswer, 'the first kind alone gives the README answer');

  // 16 clients x 10 requests, kinds interleaved; 8 more clients hang up mid-stream meanwhile
  const t0 = Date.now();
  let answered = 0, wrong = 0, failed = 0;
  const clients = [];
  for (let c = 0; c < 16; c++) {
    clients.push((async () => {
      for (let i = 0; i < 10; i++) {
        const ki = (c * 3 + i) % kinds.length;
        try {
          const got = answerOf(kinds[ki], await send(srv.url, kinds[ki]));
          if (got === solo[ki]) answered++;
          else {
            wrong++;
            console.log(`client ${c} request ${i} (kind ${ki}): '${got}' instead of '${solo[ki]}'`);
          }
        } catch (e) {
          failed++;
          console.log(`client ${c} request ${i} (kind ${ki}): ${e.message}`);
        }
      }
    })());
  }
  const hangups = [];
  for (let h = 0; h < 8; h++) hangups.push(t.sleep(h * 150).then(() => hangUp(srv.url, kinds[(h % 2) ? 1 : 6])));
  await Promise.all([...clients, ...hangups]);
  const secs = (Date.now() - t0) / 1000;
  console.log(`160 requests in ${secs.toFixed(1)} s (${(160 / secs).toFixed(1)} requests/s) on ${srv.stderr.match(/on (.*?), \d+ sessions/)?.[1]}`);
  t.equal([answered, wrong, failed], [160, 0, 0], 'all 160 requests answered, each equal to its solo run');

  await t.sleep(500);
  const m = (await t.request(srv.url + '/metrics')).text;
  t.equal([metric(m, 'vkmm_active_sequences'), metric(m, 'vkmm_queue_length'), metric(m, 'vkmm_kv_positions_in_use')], [0, 0, 0],
    'afterwards nothing runs, waits or holds cache');
  t.check(metric(m, 'vkmm_cancelled_total{reason="client_gone"}') >= 1, 'clients that hung up had their sequences cancelled',
    metric(m, 'vkmm_cancelled_total{reason="client_gone"}'));
  const ok200 = metric(m, 'vkmm_requests_total{endpoint="/v1/chat/completions",status="200"}') +
    metric(m, 'vkmm_requests_total{endpoint="/v1/messages",status="200"}');
  t.check(ok200 >= 160 + kinds.length, '/metrics counted every answer', ok200);
  t.check(metric(m, 'vkmm_time_to_first_token_seconds_count') >= 160, 'time-to-first-token histogram filled');
  t.check(metric(m, 'vkmm_generated_tokens_total') > 1000, 'generated tokens counted', metric(m, 'vkmm_generated_tokens_total'));

  // SIGTERM under load: a keep-alive connection opened before it sees /health turn 503 while requests finish
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const viaAgent = (p) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: srv.port, path: p, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', reject);
  });
  t.equal(await viaAgent('/health'), 200, '/health before SIGTERM');
  const burst = [];
  for (let i = 0; i < 16; i++) {
    const k = kinds[i % kinds.length];
    burst.push(send(srv.url, k).then((r) => ({ k: i % kinds.length, r }), (e) => ({ k: i % kinds.length, e })));
  }
  await t.sleep(300);
  const tKill = Date.now();
  srv.proc.kill('SIGTERM');
  await t.sleep(50);
  const healthDraining = await viaAgent('/health').catch(() => 'closed');
  const results = await Promise.all(burst);
  let finished = 0, refused = 0, bad = 0;
  for (const { k, r, e } of results) {
    if (r && r.status === 200 && answerOf(kinds[k], r) === solo[k]) finished++;
    else if ((r && r.status === 503 && /shutting down/.test(r.text)) || (e && /ECONNREFUSED|ECONNRESET|socket hang up/.test(e.message))) refused++;
    else {
      bad++;
      console.log('under SIGTERM:', r ? `${r.status} ${r.text.slice(0, 200)}` : e.message);
    }
  }
  console.log(`SIGTERM under load: ${finished} finished, ${refused} refused (503), ${bad} otherwise; /health said ${healthDraining}`);
  t.check(bad === 0 && finished >= 1, 'under SIGTERM every request finished correctly or was refused with 503', { finished, refused, bad });
  t.check(healthDraining === 503 || healthDraining === 'closed', '/health is 503 while draining', healthDraining);
  const ex = await t.stopServer(srv, 'server under SIGTERM');
  t.check(Date.now() - tKill < 25000, 'the server exits within its shutdown timeout', Date.now() - tKill);
  void ex;
  agent.destroy();
}, 400000);
