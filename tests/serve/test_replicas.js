// tests/serve/test_replicas.js — scale-out the ordinary way: two `vkmm serve` replicas behind a real nginx (Debian's)
// on 127.0.0.1, configured by deploy/nginx/vkmm.conf itself (ports and log path rewritten). Mixed load goes
// through nginx with the official client libraries while replica A is killed (SIGKILL) mid-run and restarted, and
// then replica B is stopped with SIGTERM. Every request is answered with the right answer, those a client had to
// retry included; nginx's log shows the requests it moved off a dead, loading or draining replica.
'use strict';
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const http = require('node:http');
const t = require('./lib.js');
const OpenAI = t.npm('openai');
const Anthropic = t.npm('@anthropic-ai/sdk').default;

// A streamed request through nginx by hand: calls onFirst(upstream) at the first bytes of the answer; resolves
// with whether the stream was whole ([DONE] came) and its text.
function rawStream(lb, k, onFirst) {
  return new Promise((resolve) => {
    const body = JSON.stringify({ model: 'demo', temperature: 0, stream: true, ...k.extra, messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: t.dataUrl(k.image) } }, { type: 'text', text: k.prompt }] }] });
    const u = new URL(lb + '/v1/chat/completions');
    let text = '', first = true;
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        if (first) { first = false; onFirst(res.headers['x-upstream'] || ''); }
      });
      res.on('end', () => resolve({ whole: text.includes('data: [DONE]'), text }));
      res.on('error', () => resolve({ whole: false, text }));
      res.on('aborted', () => resolve({ whole: false, text }));
    });
    req.on('error', () => resolve({ whole: false, text }));
    req.end(body);
  });
}

const nginxBin = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

const scene = (n) => path.join(t.root, 'examples', `scene-${n}.png`);
const kinds = [
  { api: 'openai', stream: false, prompt: 'Describe the image.', image: scene(2) },
  { api: 'openai', stream: true, prompt: 'How many shapes are there?', image: scene(5) },
  { api: 'anthropic', stream: true, prompt: 'Where is the circle?', image: scene(9) },
  { api: 'anthropic', stream: false, prompt: 'What colour is the star?', image: scene(12) },
];

// One attempt; throws on any error, including a stream cut short (no finish reason / no message_stop).
async function once(clients, k) {
  if (k.api === 'openai') {
    const messages = [{ role: 'user', content: [{ type: 'image_url', image_url: { url: t.dataUrl(k.image) } }, { type: 'text', text: k.prompt }] }];
    if (!k.stream) {
      const r = await clients.openai.chat.completions.create({ model: 'demo', messages, temperature: 0, ...k.extra });
      return r.choices[0].message.content;
    }
    let text = '', finished = false;
    const s = await clients.openai.chat.completions.create({ model: 'demo', messages, temperature: 0, stream: true });
    for await (const c of s) {
      text += (c.choices[0] && c.choices[0].delta.content) || '';
      finished = finished || !!(c.choices[0] && c.choices[0].finish_reason);
    }
    if (!finished) throw new Error('the stream ended without a finish_reason');
    return text;
  }
  const body = { model: 'demo', max_tokens: 48, temperature: 0, messages: [{ role: 'user', content: [
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: t.pngBase64(k.image) } }, { type: 'text', text: k.prompt }] }] };
  if (!k.stream) return (await clients.anthropic.messages.create(body)).content[0].text;
  const m = await clients.anthropic.messages.stream(body).finalMessage();
  return m.content[0].text;
}

t.main('serve-replicas', async () => {
  if (!t.check(!!nginxBin, 'Debian\'s nginx is installed (./scripts/setup installs it)')) return;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkmm-replicas-'));
  const started = [];
  let nginx = null;
  try {
    let A = await t.startServer(['--parallel', '2', '--quiet']);
    let B = await t.startServer(['--parallel', '2', '--quiet']);
    started.push(A, B);
    const solo = [];
    const direct = { openai: new OpenAI({ baseURL: A.url + '/v1', apiKey: 'x', maxRetries: 0 }),
      anthropic: new Anthropic({ baseURL: A.url, apiKey: 'x', maxRetries: 0 }) };
    for (const k of kinds) solo.push(await once(direct, k));
    // a long answer (past the end-of-turn token, to the end of the context): long enough to be cut in the middle
    const long = { api: 'openai', stream: false, prompt: 'Describe the image.', image: scene(2),
      extra: { ignore_eos: true, max_tokens: 400 } };
    const longSolo = await once(direct, long);
    t.equal(solo[0], t.exampleAnswer, 'replica A alone gives the README answer');

    // nginx with the shipped configuration
    const port = await freePort();
    const conf = fs.readFileSync(path.join(t.root, 'deploy', 'nginx', 'vkmm.conf'), 'utf8')
      .replace('server 127.0.0.1:8081', `server 127.0.0.1:${A.port}`)
      .replace('server 127.0.0.1:8082', `server 127.0.0.1:${B.port}`)
      .replace('listen 8080;', `listen 127.0.0.1:${port};`)
      .replace('/var/log/nginx/vkmm.log', path.join(tmp, 'access.log'))
      // for this test only: which replica answers, so that a replica can be killed in the middle of a stream
      .replace('location / {', 'location / {\n        add_header X-Upstream $upstream_addr always;');
    t.check(conf.includes(`:${A.port} `) && conf.includes(`:${B.port} `) && conf.includes(`:${port};`), 'the shipped nginx config was rewritten');
    fs.writeFileSync(path.join(tmp, 'vkmm.conf'), conf);
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((n) => `${n}_temp_path ${path.join(tmp, n)};`).join('\n  ');
    fs.writeFileSync(path.join(tmp, 'nginx.conf'), `${process.getuid() === 0 ? 'user root;' : ''}
worker_processes 1;
pid ${path.join(tmp, 'nginx.pid')};
error_log ${path.join(tmp, 'error.log')} warn;
events { worker_connections 512; }
http {
  ${temps}
  include ${path.join(tmp, 'vkmm.conf')};
}
`);
    const args = ['-p', tmp, '-e', path.join(tmp, 'error.log'), '-c', path.join(tmp, 'nginx.conf'), '-g', 'daemon off;'];
    nginx = spawn(nginxBin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    t.children.add(nginx);
    let nginxErr = '';
    nginx.stderr.on('data', (d) => { nginxErr += d; });
    const lb = `http://127.0.0.1:${port}`;
    await t.waitHealthy(lb, 20000).catch((e) => { throw new Error(`${e.message}\n${nginxErr}`); });

    const clients = { openai: new OpenAI({ baseURL: lb + '/v1', apiKey: 'x', maxRetries: 0, timeout: 60000 }),
      anthropic: new Anthropic({ baseURL: lb, apiKey: 'x', maxRetries: 0, timeout: 60000 }) };
    // the load runs until 18 requests have been sent after B's stop (the director sets stopAt then), however
    // long the kill and the restart take on a loaded machine
    let stopAt = Infinity;
    let next = 0, done = 0, wrong = 0, lost = 0, retried = 0, retriedOk = 0;
    const events = [];
    const worker = async (c) => {
      while (next < stopAt) {
        const i = next++, k = kinds[(i + c) % kinds.length];
        let got = null, attempts = 0, last = null;
        while (got === null && attempts < 6) {
          attempts++;
          try {
            got = await once(clients, k);
          } catch (e) {
            last = e;
            await t.sleep(250 * attempts);
          }
        }
        if (got === null) {
          lost++;
          console.log(`request ${i}: no answer after ${attempts} attempts: ${last && last.message}`);
        } else if (got !== solo[kinds.indexOf(k)]) {
          wrong++;
          console.log(`request ${i}: '${got}'`);
        }
        if (attempts > 1) {
          retried++;
          if (got === solo[kinds.indexOf(k)]) retriedOk++;
        }
        done++;
      }
    };
    // the replicas' fates, keyed to how far the load has got
    const director = (async () => {
      while (done < 12) await t.sleep(20);
      // kill A in the middle of a stream it is sending: that client sees its stream cut and must retry
      let cut = null;
      for (let tries = 0; tries < 20 && !cut; tries++) {
        const k = long;
        let killedIt = false;
        const r = await rawStream(lb, k, (upstream) => {
          if (upstream === `127.0.0.1:${A.port}`) {
            A.proc.kill('SIGKILL');
            killedIt = true;
            events.push(`A killed mid-stream after ${done}`);
          }
        });
        if (killedIt) cut = { k, r };
      }
      if (!cut) {
        A.proc.kill('SIGKILL');
        events.push(`A killed after ${done}`);
      }
      await A.exitPromise;
      t.checkStderr(A, 'replica A (killed)');
      if (cut) {
        t.check(!cut.r.whole, 'the stream A was sending when killed reached its client cut short');
        let got = null, attempts = 1;
        while (got === null && attempts < 6) {
          attempts++;
          got = await once(clients, cut.k).catch(() => null);
        }
        retried++;
        if (got === longSolo) retriedOk++;
        else console.log(`the cut stream, retried: '${got}'`);
      }
      while (done < 24) await t.sleep(20);
      const A2 = await t.startServer(['--parallel', '2', '--quiet'], { port: A.port, waitReady: false });
      started.push(A2);
      let saw503 = false;
      for (;;) { // A2 listens before its model is loaded: /health says 503 until then
        const h = await t.request(A2.url + '/health').catch(() => ({ status: 0 }));
        if (h.status === 503) saw503 = true;
        if (h.status === 200) break;
        await t.sleep(10);
      }
      events.push(`A restarted after ${done}${saw503 ? ' (its /health said 503 while loading)' : ''}`);
      A = A2;
      // nginx keeps a replica that failed out for fail_timeout (5 s in deploy/nginx/vkmm.conf) after its last
      // failure, also once it is healthy again: B goes only when nginx can send to A again
      const healthyAt = Date.now();
      while (done < 44 || Date.now() - healthyAt < 6000) await t.sleep(20);
      B.proc.kill('SIGTERM');
      stopAt = next + 18;
      events.push(`B sent SIGTERM after ${done}`);
    })();
    const workers = [];
    for (let c = 0; c < 6; c++) workers.push(worker(c));
    await Promise.all([...workers, director]);
    console.log(events.join('; '));
    const total = next;
    console.log(`${total} requests and the stream cut by the kill: ${retried} retried by their client (${retriedOk} of them then answered), ${wrong} wrong, ${lost} lost`);
    t.equal([done, wrong, lost], [total, 0, 0], 'every request answered with the right answer');
    t.equal(retriedOk, retried, 'every request a client retried was answered');

    const ex = await t.stopServer(B, 'replica B (SIGTERM under load)');
    void ex;
    // nginx's view: which replica each request went to, and what it moved elsewhere
    nginx.kill('SIGQUIT');
    await new Promise((r) => nginx.on('exit', r));
    const log = fs.readFileSync(path.join(tmp, 'access.log'), 'utf8').trim().split('\n');
    const moved = log.filter((l) => /upstream=\S+, /.test(l));
    const posts = log.filter((l) => /"POST /.test(l));
    console.log(`nginx: ${posts.length} POSTs, ${moved.length} moved to another replica after a failure, e.g.\n  ${moved.slice(0, 3).join('\n  ')}`);
    t.check(moved.length >= 1, 'nginx moved requests off a dead, loading or draining replica');
    const servedBy503 = log.filter((l) => / 503 \S+ s upstream/.test(l));
    t.equal(servedBy503, [], 'no client got a 503 through nginx (a replica saying 503 was skipped)');
    const lastPosts = posts.slice(-5);
    t.check(lastPosts.every((l) => l.includes(`upstream=127.0.0.1:${A.port}`) || l.includes(`127.0.0.1:${A.port}`)),
      'after B stopped, requests went to A', lastPosts);
    await t.stopServer(A, 'replica A (restarted)');
  } finally {
    if (nginx && nginx.exitCode === null) nginx.kill('SIGKILL');
    for (const s of started) if (!s.exited) s.proc.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 300000);
