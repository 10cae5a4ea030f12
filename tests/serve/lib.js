// tests/serve/lib.js — what the `vkmm serve` tests share: starting and stopping servers (any validation message
// on a server's stderr fails the test), `vkmm run --json` for reference answers, raw HTTP with SSE parsing, and
// the demo model's example picture. Everything talks to 127.0.0.1 only.
'use strict';
const { spawn, execFile } = require('node:child_process');
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const vkmm = process.argv[2] && path.resolve(process.argv[2]);
const root = process.argv[3] && path.resolve(process.argv[3]);
const outDir = path.resolve(process.argv[4] || '.');
if (!vkmm || !root) {
  console.error('usage: node TEST.js path/to/vkmm source-root [build-dir]');
  process.exit(2);
}
const npmModules = path.join(root, '.deps', 'npm', 'node_modules');
const example = path.join(root, 'examples', 'scene-2.png');
const exampleAnswer =
  'A large blue star at the top, a small blue square in the centre and a large yellow circle at the bottom.';

// npm packages come from .deps/npm, which scripts/setup installs
function npm(name) {
  try {
    return require(path.join(npmModules, name));
  } catch (e) {
    console.error(`cannot load the npm package ${name} from ${npmModules}: run ./scripts/setup (${e.message})`);
    process.exit(1);
  }
}

let failures = 0, passes = 0;
function check(ok, what, detail) {
  if (ok) {
    passes++;
  } else {
    failures++;
    console.log(`FAIL: ${what}${detail !== undefined ? ': ' + (typeof detail === 'string' ? detail : JSON.stringify(detail)) : ''}`);
  }
  return ok;
}
function equal(got, want, what) {
  return check(JSON.stringify(got) === JSON.stringify(want), what, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Children still running when a test ends (a failure, the watchdog) are killed with it.
const children = new Set();
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch (e) { /* gone */ } });

// Starts `vkmm serve --port 0 ARGS` and waits until /health says ok.
async function startServer(args = [], opts = {}) {
  const proc = spawn(vkmm, ['serve', '--port', String(opts.port || 0), ...args], {
    env: { ...process.env, ...(opts.env || {}) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  const srv = { proc, stderr: '', url: null, exited: null };
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => {
    srv.stderr += d;
    if (opts.echo) process.stderr.write(d);
  });
  srv.exitPromise = new Promise((resolve) => proc.on('exit', (code, sig) => {
    srv.exited = { code, sig };
    resolve(srv.exited);
  }));
  const t0 = Date.now();
  while (!srv.url) {
    const m = /listening on (http:\/\/[^\s]+)/.exec(srv.stderr);
    if (m) srv.url = m[1];
    else if (srv.exited || Date.now() - t0 > 60000)
      throw new Error(`vkmm serve did not start:\n${srv.stderr}`);
    else await sleep(20);
  }
  srv.port = Number(/:(\d+)$/.exec(srv.url)[1]);
  if (opts.waitReady !== false) await waitHealthy(srv.url, 120000);
  return srv;
}

async function waitHealthy(url, ms) {
  const t0 = Date.now();
  for (;;) {
    try {
      const r = await request(url + '/health');
      if (r.status === 200) return;
    } catch (e) { /* not listening yet */ }
    if (Date.now() - t0 > ms) throw new Error(`${url}/health did not become 200 in ${ms} ms`);
    await sleep(50);
  }
}

// SIGTERM, then the exit status and the stderr checks every test makes.
async function stopServer(srv, what = 'server', wantCode = 0) {
  if (!srv.exited) srv.proc.kill('SIGTERM');
  const timer = setTimeout(() => srv.proc.kill('SIGKILL'), 60000);
  const ex = await srv.exitPromise;
  clearTimeout(timer);
  if (wantCode !== null) check(ex.code === wantCode, `${what} exits with ${wantCode} after SIGTERM`, ex);
  checkStderr(srv, what);
  return ex;
}

function checkStderr(srv, what = 'server') {
  const bad = srv.stderr.split('\n').filter((l) => /validation (error|warning)|Segmentation|Assertion|AddressSanitizer/.test(l));
  check(bad.length === 0, `${what}: no validation message or crash on stderr`, bad.slice(0, 5).join('\n'));
}

// Raw HTTP: {status, headers, text, json}; body may be a string, a Buffer or an object (sent as JSON).
function request(url, { method = 'GET', headers = {}, body, timeout = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    let data = body;
    const h = { ...headers };
    if (body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body)) {
      data = JSON.stringify(body);
      h['content-type'] = h['content-type'] || 'application/json';
    }
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: h, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try { json = JSON.parse(text); } catch (e) { json = undefined; }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
        res.on('error', reject);
      });
    req.setTimeout(timeout, () => req.destroy(new Error(`${method} ${url}: no answer in ${timeout} ms`)));
    req.on('error', reject);
    if (data !== undefined) req.end(data); else req.end();
  });
}

// Server-sent events of a text: [{event, data}] with data parsed as JSON where it is JSON.
function parseSSE(text) {
  const events = [];
  for (const block of text.split('\n\n')) {
    if (!block.trim()) continue;
    const ev = { event: null, data: null };
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) ev.event = line.slice(7);
      else if (line.startsWith('data: ')) {
        const d = line.slice(6);
        try { ev.data = JSON.parse(d); } catch (e) { ev.data = d; }
      }
    }
    events.push(ev);
  }
  return events;
}

// `vkmm run --json --temp 0`: the reference tokens and text for a prompt and images (model: the demo, or the
// arguments that name another).
function runJson(opts) {
  return runJsonModel([], opts);
}
function runJsonModel(model, { prompt, images = [], system, n = 48 }) {
  const args = ['run', ...model, '--json', '--temp', '0', '-n', String(n), '-p', prompt];
  for (const im of images) args.push('--image', im);
  if (system) args.push('--system', system);
  return new Promise((resolve, reject) => {
    execFile(vkmm, args, { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`vkmm run failed: ${stderr}`));
      const tokens = stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((o) => o.id !== undefined);
      const text = tokens.map((t) => t.piece).join('');
      if (/validation (error|warning)/.test(stderr)) reject(new Error(`vkmm run: validation message: ${stderr}`));
      resolve({ tokens, text });
    });
  });
}

const pngBase64 = (file = example) => fs.readFileSync(file).toString('base64');
const dataUrl = (file = example) => 'data:image/png;base64,' + pngBase64(file);

function finish(name) {
  console.log(`${name}: ${passes} passed, ${failures} failed`);
  process.exit(failures ? 1 : 0);
}

// Runs main; any exception is a failure; a watchdog bounds the whole test.
function main(name, fn, limitMs = 240000) {
  const dog = setTimeout(() => {
    console.log(`FAIL: ${name} took more than ${limitMs} ms`);
    process.exit(1);
  }, limitMs);
  dog.unref();
  fn().then(() => finish(name), (e) => {
    console.log(`FAIL: ${name}: ${e && e.stack ? e.stack : e}`);
    failures++;
    finish(name);
  });
}

module.exports = {
  children,
  vkmm, root, outDir, npm, example, exampleAnswer, check, equal, sleep, startServer, stopServer, checkStderr,
  waitHealthy, request, parseSSE, runJson, runJsonModel, pngBase64, dataUrl, main,
};
