// tests/serve/test_hostile.js — hostile and broken requests against `vkmm serve`: each gets a 4xx with a clear
// message in the API's error shape, never a 5xx, a hang or a crash; the server stays healthy and still answers
// correctly afterwards (and /metrics counted what happened).
'use strict';
const net = require('node:net');
const zlib = require('node:zlib');
const t = require('./lib.js');

// A PNG with the given IHDR size and a tiny (or no) image stream: headers that lie about the size.
function png(width, height, pixels = true) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
  const raw = Buffer.alloc(pixels ? height * (1 + width * 3) : 16, 90);
  if (pixels) for (let y = 0; y < height; y++) raw[y * (1 + width * 3)] = 0;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
const tiny = 'data:image/png;base64,' + png(8, 8).toString('base64');

// Bytes straight onto a socket (for bodies no HTTP client would send); resolves with what came back.
function rawSend(port, bytes, { closeAfterMs = 0, endWrite = false } = {}) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
      setTimeout(() => s.destroy(), 200); // the answer is in: no need to wait for the server to close
    });
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.write(bytes);
    if (endWrite) s.end();
    if (closeAfterMs) setTimeout(() => s.destroy(), closeAfterMs);
    setTimeout(() => s.destroy(), 20000);
  });
}

t.main('serve-hostile', async () => {
  const key = 'k-' + Math.random().toString(36).slice(2);
  const srv = await t.startServer(['--parallel', '2', '--max-body', '2M', '--api-key', key, '--max-images', '4']);
  const auth = { authorization: 'Bearer ' + key };
  const chat = (body, headers = {}) => t.request(srv.url + '/v1/chat/completions', { method: 'POST', headers: { ...auth, ...headers }, body });
  const msgs = (body, headers = {}) => t.request(srv.url + '/v1/messages', { method: 'POST', headers: { ...auth, ...headers }, body });
  const user = (content) => ({ model: 'demo', messages: [{ role: 'user', content }] });
  const good = user([{ type: 'image_url', image_url: { url: t.dataUrl() } }, { type: 'text', text: 'Describe the image.' }]);

  // status, the error object's shape, and words the message must hold
  function openaiError(r, status, words, what) {
    const e = r.json && r.json.error;
    t.check(r.status === status && e && typeof e.message === 'string' && 'type' in e && 'param' in e && 'code' in e,
      `${what}: ${status} with OpenAI's error object`, `${r.status} ${r.text.slice(0, 300)}`);
    if (e && words) t.check(new RegExp(words, 'i').test(e.message), `${what}: the message says /${words}/`, e.message);
  }
  function anthropicError(r, status, type, words, what) {
    const j = r.json;
    t.check(r.status === status && j && j.type === 'error' && j.error && j.error.type === type,
      `${what}: ${status} ${type} in Anthropic's shape`, `${r.status} ${r.text.slice(0, 300)}`);
    if (j && j.error && words) t.check(new RegExp(words, 'i').test(j.error.message), `${what}: the message says /${words}/`, j.error.message);
  }

  // ---- JSON ----
  openaiError(await chat('{"model": "demo", "messages": [{"role": "user", "content": "hi"}'), 400, 'not valid JSON', 'truncated JSON');
  openaiError(await chat('{"model": "demo", messages: []}'), 400, 'not valid JSON', 'malformed JSON');
  openaiError(await chat('hello'), 400, 'not valid JSON', 'not JSON');
  openaiError(await chat(''), 400, 'empty', 'empty body');
  openaiError(await chat('[1, 2]'), 400, 'JSON object', 'an array for a body');
  openaiError(await chat('['.repeat(100000)), 400, 'JSON', '100000 nested arrays');
  openaiError(await chat(Buffer.concat([Buffer.from('{"model":"demo","messages":[{"role":"user","content":"'),
    Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]), { 'content-type': 'application/json' }), 400, 'UTF-8|JSON', 'invalid UTF-8');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'user', content: 'a\u0000b' }] }), 400, 'NUL', 'a NUL in the text');

  // ---- types and values ----
  openaiError(await chat({ model: 'demo', messages: 'hi' }), 400, 'messages must be an array', 'messages a string');
  openaiError(await chat({ model: 'demo' }), 400, 'messages', 'no messages');
  openaiError(await chat({ model: 'demo', messages: [] }), 400, 'empty', 'empty messages');
  openaiError(await chat({ model: 5, messages: [{ role: 'user', content: 'hi' }] }), 400, 'model must be a string', 'model a number');
  openaiError(await chat({ ...user('hi'), temperature: 'hot' }), 400, 'temperature must be a number', 'temperature a string');
  openaiError(await chat({ ...user('hi'), temperature: 7 }), 400, 'temperature', 'temperature 7');
  openaiError(await chat({ ...user('hi'), max_tokens: '10' }), 400, 'max_tokens must be an integer', 'max_tokens a string');
  openaiError(await chat({ ...user('hi'), max_tokens: -5 }), 400, 'max_tokens', 'negative max_tokens');
  openaiError(await chat({ ...user('hi'), max_tokens: 0 }), 400, 'max_tokens', 'max_tokens 0');
  openaiError(await chat({ ...user('hi'), max_tokens: 1e12 }), 400, 'max_tokens', 'huge max_tokens');
  openaiError(await chat('{"model":"demo","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":99999999999999999999999}'),
    400, 'JSON', 'max_completion_tokens past 64 bits');
  openaiError(await chat({ ...user('hi'), max_tokens: 2.5 }), 400, 'whole number', 'fractional max_tokens');
  openaiError(await chat({ ...user('hi'), stream: 'yes' }), 400, 'stream must be true or false', 'stream a string');
  openaiError(await chat({ ...user('hi'), stop: 5 }), 400, 'stop', 'stop a number');
  openaiError(await chat({ ...user('hi'), stop: Array(20).fill('x') }), 400, 'stop strings', '20 stop strings');
  openaiError(await chat({ ...user('hi'), n: 3 }), 400, 'one choice', 'n 3');
  openaiError(await chat({ ...user('hi'), logprobs: true, top_logprobs: 15 }), 400, 'at most 10', 'top_logprobs 15');
  openaiError(await chat({ ...user('hi'), top_logprobs: 2 }), 400, 'logprobs: true', 'top_logprobs without logprobs');
  openaiError(await chat({ ...user('hi'), response_format: { type: 'json_object' } }), 400, 'not supported', 'json mode');
  openaiError(await chat({ ...user('hi'), tools: [{ type: 'function', function: { name: 'f' } }] }), 400, 'not supported', 'tools');
  openaiError(await chat({ ...user('hi'), frobnicate: true }), 400, "unknown field 'frobnicate'", 'an unknown field');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'user', content: 'hi', mood: 'x' }] }), 400, "unknown field 'mood'", 'an unknown message field');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'wizard', content: 'hi' }] }), 400, 'role', 'an unknown role');
  openaiError(await chat({ model: 'demo', messages: [{ role: 3, content: 'hi' }] }), 400, 'role must be a string', 'role a number');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'user', content: 5 }] }), 400, 'content must be', 'content a number');
  openaiError(await chat(user([{ type: 'video', video: 'x' }])), 400, 'not supported', 'a video part');
  openaiError(await chat(user([{ type: 'text', text: 7 }])), 400, 'text must be a string', 'text a number');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'x' }] }),
    400, 'must end with a user message', 'ending with an assistant turn');
  openaiError(await chat(user('star '.repeat(600))), 400, 'context', 'a prompt longer than the context');

  // ---- images ----
  const withImage = (url) => user([{ type: 'image_url', image_url: { url } }, { type: 'text', text: 'Describe the image.' }]);
  openaiError(await chat(withImage('data:image/png;base64,aGVsbG8gd29ybGQ=')), 400, 'not a PNG, JPEG or BMP', 'base64 that is not an image');
  openaiError(await chat(withImage('data:image/png;base64,!!!!')), 400, 'not base64', 'not base64');
  openaiError(await chat(withImage('data:image/png,rawbytes')), 400, 'not base64', 'a data: URI without base64');
  openaiError(await chat(withImage('data:image/png;base64,' + png(30000, 30000, false).toString('base64'))), 400,
    '30000 x 30000', 'a header claiming 30000x30000');
  openaiError(await chat(withImage('data:image/gif;base64,' + Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;').toString('base64'))),
    400, 'GIF', 'a GIF');
  const truncated = t.pngBase64().slice(0, 4000);
  openaiError(await chat(withImage('data:image/png;base64,' + truncated)), 400, 'image', 'a truncated PNG');
  openaiError(await chat(withImage('https://example.com/cat.png')), 400, 'fetches nothing', 'an http URL');
  openaiError(await chat(withImage('file:///etc/passwd')), 400, 'allow-local-files', 'a file:// URL');
  openaiError(await chat(withImage('/etc/passwd')), 400, 'allow-local-files', 'a path');
  const thousand = [];
  for (let i = 0; i < 1000; i++) thousand.push({ type: 'image_url', image_url: { url: tiny } });
  thousand.push({ type: 'text', text: 'Describe the image.' });
  openaiError(await chat(user(thousand)), 400, 'more than 4 images', 'a thousand images');
  openaiError(await chat({ model: 'demo', messages: [{ role: 'system', content: [{ type: 'image_url', image_url: { url: tiny } }] },
    { role: 'user', content: 'hi' }] }), 400, 'user messages', 'an image in a system message');

  // ---- size, routes, methods, keys ----
  openaiError(await chat('{"x": "' + 'a'.repeat(3 << 20) + '"}'), 413, 'over this server.s limit', 'a body over --max-body');
  const chunked = await rawSend(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
    'Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n' +
    Array(40).fill((0x10000).toString(16) + '\r\n' + 'a'.repeat(0x10000) + '\r\n').join('') + '0\r\n\r\n', { endWrite: false });
  t.check(/^HTTP\/1\.1 413/.test(chunked), 'a chunked body over --max-body: 413', chunked.slice(0, 80));
  const r404 = await t.request(srv.url + '/v2/everything', { headers: auth });
  openaiError(r404, 404, 'no route', 'an unknown route');
  openaiError(await t.request(srv.url + '/v1/chat/completions', { headers: auth }), 405, 'not allowed', 'GET on the chat route');
  const r405 = await t.request(srv.url + '/v1/models', { method: 'DELETE', headers: auth });
  openaiError(r405, 405, 'not allowed', 'DELETE /v1/models');
  t.check(/GET/.test(r405.headers.allow || ''), '405 names the allowed methods', r405.headers.allow);
  openaiError(await t.request(srv.url + '/v1/chat/completions', { method: 'POST', body: good }), 401, 'API key', 'no API key');
  openaiError(await chat(good, { authorization: 'Bearer wrong' }), 401, 'API key', 'a wrong API key');
  openaiError(await chat(good, { authorization: 'Bearer ' + key.slice(0, -1) }), 401, 'API key', 'a key one byte short');
  anthropicError(await t.request(srv.url + '/v1/messages', { method: 'POST', headers: { 'x-api-key': 'nope' },
    body: { model: 'demo', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] } }), 401, 'authentication_error', 'API key', 'anthropic: a wrong key');
  const viaX = await t.request(srv.url + '/v1/chat/completions', { method: 'POST', headers: { 'x-api-key': key }, body: { ...good, max_tokens: 3 } });
  t.check(viaX.status === 200, 'the key as x-api-key works', viaX.status);
  const health = await t.request(srv.url + '/health');
  t.check(health.status === 200, '/health needs no key', health.status);
  const pre = await t.request(srv.url + '/v1/chat/completions', { method: 'OPTIONS', headers: {
    origin: 'http://x', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-stainless-os' } });
  t.check(pre.status === 204 && /x-stainless-os/.test(pre.headers['access-control-allow-headers'] || ''), 'CORS preflight without a key', pre.headers);
  const bigHeader = await t.request(srv.url + '/health', { headers: { 'x-junk': 'a'.repeat(200000) } }).catch((e) => ({ status: 0, e }));
  t.check(bigHeader.status >= 400 && bigHeader.status < 500 || bigHeader.status === 0, 'a 200 KB header is refused', bigHeader.status);

  // ---- Anthropic ----
  const am = (extra) => ({ model: 'demo', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], ...extra });
  anthropicError(await msgs({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] }), 400, 'invalid_request_error', 'max_tokens', 'no max_tokens');
  anthropicError(await msgs(am({ max_tokens: -1 })), 400, 'invalid_request_error', 'max_tokens', 'negative max_tokens');
  anthropicError(await msgs(am({ temperature: 1.5 })), 400, 'invalid_request_error', 'temperature', 'temperature 1.5');
  anthropicError(await msgs(am({ messages: [{ role: 'system', content: 'x' }] })), 400, 'invalid_request_error', 'role', 'a system role in messages');
  anthropicError(await msgs(am({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] })),
    400, 'invalid_request_error', 'fetches nothing', 'an image by URL');
  anthropicError(await msgs(am({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'bm90IGFuIGltYWdl' } }] }] })),
    400, 'invalid_request_error', 'not a PNG', 'base64 that is not an image');
  anthropicError(await msgs(am({ messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x' }] }] })), 400,
    'invalid_request_error', 'not supported', 'a tool_result block');
  anthropicError(await msgs(am({ wibble: 1 })), 400, 'invalid_request_error', "unknown field 'wibble'", 'anthropic: an unknown field');
  anthropicError(await msgs('{"max_tokens": 5, "messages": ['), 400, 'invalid_request_error', 'not valid JSON', 'anthropic: truncated JSON');
  anthropicError(await msgs('x'.repeat(3 << 20)), 413, 'request_too_large', 'limit', 'anthropic: a body over the limit');

  // ---- broken connections ----
  await rawSend(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Length: 5000\r\n\r\n{"mod`,
    { closeAfterMs: 200 });
  await rawSend(srv.port, 'GARBAGE / HTTP/9.9\r\n\r\n', { closeAfterMs: 500 });
  await rawSend(srv.port, '\x00\x01\x02\x03\r\n\r\n', { closeAfterMs: 500 });
  const nostream = await rawSend(srv.port, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(JSON.stringify(good))}\r\n\r\n${JSON.stringify(good)}`, { closeAfterMs: 30 });
  void nostream; // hung up before the answer: the job is cancelled

  // ---- still healthy, still right ----
  const after = await chat({ ...good, temperature: 0 });
  t.check(after.status === 200 && after.json.choices[0].message.content === t.exampleAnswer, 'after all that, the answer is still right',
    after.text.slice(0, 300));
  t.check((await t.request(srv.url + '/health')).status === 200, 'after all that, /health is 200');
  const mr = await t.request(srv.url + '/metrics');
  const metrics = mr.text;
  // Prometheus text format: a HELP and a TYPE before each family's samples, names and labels well formed
  t.equal(mr.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8', '/metrics content type');
  let family = null, typed = new Set(), badLines = [];
  for (const line of metrics.split('\n').slice(0, -1)) {
    let m;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S/.exec(line))) family = m[1];
    else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line)) && m[1] === family) typed.add(family);
    else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-z_]+="[^"\\\n]*"(,[a-z_]+="[^"\\\n]*")*\})? -?[0-9.e+-]+$/.exec(line))) {
      const base = m[1].replace(/_(bucket|sum|count)$/, '');
      if (!typed.has(m[1]) && !typed.has(base)) badLines.push(line);
    } else badLines.push(line);
  }
  t.check(metrics.endsWith('\n') && badLines.length === 0, '/metrics is well-formed Prometheus text', badLines.slice(0, 5));
  t.check(/vkmm_requests_total\{endpoint="\/v1\/chat\/completions",status="400"\} \d+/.test(metrics), '/metrics counted the 400s');
  const fives = metrics.split('\n').filter((l) => /^vkmm_requests_total\{endpoint="\/v1\/.*status="5/.test(l));
  t.check(fives.length === 0, 'no API request got a 5xx', fives.join('\n'));
  await t.sleep(300);
  const m2 = (await t.request(srv.url + '/metrics')).text;
  t.check(/vkmm_active_sequences 0\n/.test(m2) && /vkmm_queue_length 0\n/.test(m2), 'nothing is left running or queued');
  await t.stopServer(srv);
}, 240000);
