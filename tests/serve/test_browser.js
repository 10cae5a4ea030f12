// tests/serve/test_browser.js — the chat page in a real browser: headless Chromium (Debian's) driven by
// puppeteer-core. Attach examples/scene-2.png with the file picker, ask "Describe the image.", and the streamed
// answer must be the demo model's; a second turn, drag-and-drop and paste must work too, with no error on the
// page. The screenshot is kept in the build folder (serve-chat-page.png).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const t = require('./lib.js');
const puppeteer = t.npm('puppeteer-core');

const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

t.main('serve-browser', async () => {
  if (!t.check(!!chromium, 'Debian\'s chromium is installed (./scripts/setup installs it)')) return;
  const srv = await t.startServer(['--parallel', '2']);
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // root in a container: no sandbox; no GPU; /dev/shm may be small
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 760 });
    const problems = [];
    page.on('pageerror', (e) => problems.push('page error: ' + e.message));
    page.on('console', (m) => { if (m.type() === 'error') problems.push('console: ' + m.text()); });
    page.on('requestfailed', (r) => problems.push('request failed: ' + r.url()));
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.postData() || ''); });
    const sse = [];
    page.on('response', (r) => { if (r.request().method() === 'POST') sse.push(r.headers()['content-type']); });

    const nav = await page.goto(srv.url + '/', { waitUntil: 'load' });
    t.check(nav.status() === 200 && /text\/html/.test(nav.headers()['content-type']), 'the page is served as HTML');
    t.check(/default-src 'none'/.test(nav.headers()['content-security-policy'] || ''), 'the page has a strict CSP (no external assets)');
    await page.waitForFunction(() => document.getElementById('model').textContent === 'demo', { timeout: 20000 });

    // first turn: the file picker
    const input = await page.$('#file');
    await input.uploadFile(t.example);
    await page.waitForSelector('#attachments .thumb img', { timeout: 10000 });
    await page.type('#prompt', 'Describe the image.');
    await page.click('#send');
    await page.waitForSelector('.msg.assistant[data-done="true"], .msg.error[data-done="true"]', { timeout: 120000 });
    const first = await page.$eval('.msg[data-testid="answer"] > span', (e) => e.textContent);
    t.equal(first, t.exampleAnswer, 'the streamed answer on the page is the demo model\'s');
    const stats = await page.$eval('[data-testid="stats"]', (e) => e.textContent);
    t.check(/tokens\/s/.test(stats) && /first token \d+ ms/.test(stats), 'the page shows the speed', stats);
    t.check(posts.length === 1 && JSON.parse(posts[0]).stream === true && sse[0] === 'text/event-stream', 'the answer came as a stream',
      { posts: posts.length, sse });
    await page.screenshot({ path: path.join(t.outDir, 'serve-chat-page.png'), fullPage: true });

    // second turn: the whole conversation goes again (the server keeps no state); the answer must be the API's
    await page.type('#prompt', 'How many shapes are there?');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelectorAll('.msg[data-done="true"]').length === 2, { timeout: 120000 });
    const second = await page.$$eval('.msg[data-testid="answer"] > span', (es) => es[1].textContent);
    const sent = JSON.parse(posts[1]);
    t.equal(sent.messages.map((m) => m.role), ['user', 'assistant', 'user'], 'the second turn sends the conversation');
    const api = await t.request(srv.url + '/v1/chat/completions', { method: 'POST', body: { ...sent, stream: false } });
    t.equal(second, api.json.choices[0].message.content, 'the second turn answers as the API does for that conversation');

    // drag and drop, then paste: each attaches an image
    const b64 = t.pngBase64();
    await page.click('#reset');
    for (const how of ['drop', 'paste']) {
      await page.evaluate(async (data, how) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'scene.png', { type: 'image/png' }));
        if (how === 'drop') document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
        else document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }, b64, how);
    }
    await page.waitForFunction(() => document.querySelectorAll('#attachments .thumb').length === 2, { timeout: 10000 });
    t.check(true, 'drag-and-drop and paste attach images');
    t.equal(problems, [], 'no error on the page');
  } finally {
    await browser.close();
  }
  await t.stopServer(srv);
}, 240000);
