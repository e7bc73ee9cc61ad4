// Drives the gateway's playground (GET /) in Debian's Chromium through playwright-core, as a person would: types the
// API key, fills the forms, drops images, clicks. One JSON line per case on stdout ({"case", "ok", ...}); the xUnit
// test (PlaygroundBrowserTests.cs) checks them and what the services saw. Waits are on the page's state (status lines'
// data-state, element attributes), never sleeps; each is bounded.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const env = (name) => process.env[name] ?? assert.fail(`${name} is not set`);
const gateway = env('GATEWAY_URL');
const screenshots = env('SCREENSHOTS');
const WAIT = { timeout: 60_000 };
mkdirSync(screenshots, { recursive: true });

// Records, in order, every change of the preview's and the result's src, and every status text: observed by a
// MutationObserver installed by the test, not reported by the page.
function observeGenerate() {
  window.__seen = [];
  const observer = new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes' && m.target.getAttribute('src'))
        window.__seen.push(m.target.id === 'gen-preview' ? 'preview' : 'result');
      if (m.type === 'childList' || m.type === 'characterData')
        window.__seen.push('status:' + document.getElementById('gen-status').textContent);
    }
  });
  for (const id of ['gen-preview', 'gen-result'])
    observer.observe(document.getElementById(id), { attributes: true, attributeFilter: ['src'] });
  observer.observe(document.getElementById('gen-status'), { childList: true, characterData: true, subtree: true });
}

// A drop of a real file on a drop zone: the same DragEvent a person's drag produces, with the file in dataTransfer.
async function dropFile(page, zone, path, type) {
  await page.evaluate(({ zone, b64, type }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], 'dropped.png', { type }));
    const target = document.getElementById(zone);
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, { zone, b64: readFileSync(path).toString('base64'), type });
}

const waitState = (page, id, states) => page.waitForFunction(
  ({ id, states }) => states.includes(document.getElementById(id).dataset.state), { id, states }, WAIT);

const consoleErrors = [];

const cases = {
  async page_without_key(page) {
    const response = await page.goto(gateway, { waitUntil: 'load' });
    assert.equal(response.status(), 200);
    assert.match(response.headers()['content-security-policy'] ?? '', /default-src 'none'/);
    assert.equal(await page.title(), 'MultiModal playground');
    await page.fill('#api-key', env('API_KEY'));
    return 'page served without a key; key typed into the page';
  },

  async wrong_key_error_line(page) {
    await page.fill('#api-key', 'not-the-key');
    await page.click('#gen-run');
    await waitState(page, 'gen-status', ['error', 'done']);
    const line = await page.textContent('#gen-status');
    assert.match(line, /^401 /);
    await page.fill('#api-key', env('API_KEY'));
    return line;
  },

  async generate_with_previews(page) {
    await page.evaluate(observeGenerate);
    await page.fill('#gen-prompt', 'a red cube on a blue table');
    await page.fill('#gen-negative', 'blurry');
    await page.selectOption('#gen-size', '64x64');
    await page.fill('#gen-steps', '12');
    await page.fill('#gen-seed', '7');
    await page.selectOption('#gen-scheduler', 'euler');
    await page.click('#gen-run');
    await waitState(page, 'gen-status', ['done', 'error']);
    assert.equal(await page.getAttribute('#gen-status', 'data-state'), 'done', await page.textContent('#gen-status'));
    const seen = await page.evaluate(() => window.__seen);
    const images = seen.filter((s) => !s.startsWith('status:'));
    const previewsBeforeResult = images.indexOf('result');
    assert.ok(previewsBeforeResult >= 2 && images.slice(0, previewsBeforeResult).every((s) => s === 'preview'),
      `previews then the result, got ${JSON.stringify(images)}`);
    assert.ok(seen.some((s) => /^status:Step \d+\/12/.test(s)), `step progress shown: ${JSON.stringify(seen)}`);
    const params = Object.fromEntries(await page.$$eval('#gen-params dd', (dds) => dds.map((d) => [d.dataset.param, d.textContent])));
    assert.equal(params.seed, '7');
    assert.equal(params.steps, '12');
    assert.equal(params.size, '64x64');
    assert.equal(params.scheduler, 'euler');
    const result = await page.getAttribute('#gen-result', 'src');
    assert.ok(result.startsWith('data:image/png;base64,iVBOR'), 'a PNG result');
    await page.screenshot({ path: join(screenshots, 'generate.png'), fullPage: true });
    return `${previewsBeforeResult} previews before the result; ${seen.filter((s) => s.startsWith('status:Step')).length} step updates`;
  },

  async cancel_mid_generation(page) {
    await page.evaluate(observeGenerate);
    // The service's most steps: the job runs for tens of seconds here, the click takes well under one.
    await page.fill('#gen-steps', env('CANCEL_STEPS'));
    await page.fill('#gen-seed', '');
    await page.click('#gen-run');
    // Mid-generation: at least one step reported, far from the last.
    await page.waitForFunction(() => document.getElementById('gen-progress').value >= 1, null, WAIT);
    const step = await page.$eval('#gen-progress', (p) => p.value);
    await page.click('#gen-cancel');
    await waitState(page, 'gen-status', ['cancelled', 'done', 'error']);
    assert.equal(await page.getAttribute('#gen-status', 'data-state'), 'cancelled', await page.textContent('#gen-status'));
    assert.equal(await page.getAttribute('#gen-result', 'src'), null, 'no result after a cancel');
    assert.ok(await page.isEnabled('#gen-run'), 'Generate enabled again');
    return `cancelled at step ${step}/${env('CANCEL_STEPS')}`;
  },

  async queue_position_shown(page) {
    // Another client's long job holds the service (read until its first step), so the page's job waits behind it.
    const blocker = new AbortController();
    const response = await fetch(new URL('/v1/images/generations', gateway), {
      method: 'POST', signal: blocker.signal,
      headers: { authorization: `Bearer ${env('API_KEY')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a long job', size: '64x64', steps: Number(env('CANCEL_STEPS')), stream: true, progress: true }),
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (let text = ''; !text.includes('x.image_generation.progress');) {
      const { value, done } = await reader.read();
      assert.ok(!done, 'the blocking job ended before its first step');
      text += value;
    }
    await page.evaluate(observeGenerate);
    await page.fill('#gen-steps', '4');
    await page.click('#gen-run');
    await page.waitForFunction(() => /^Queued: 1 ahead/.test(document.getElementById('gen-status').textContent), null, WAIT);
    const queued = await page.textContent('#gen-status');
    blocker.abort();   // the other client goes away: its job is cancelled and the page's starts
    await waitState(page, 'gen-status', ['done', 'error', 'cancelled']);
    assert.equal(await page.getAttribute('#gen-status', 'data-state'), 'done', await page.textContent('#gen-status'));
    return `${queued}, then done`;
  },

  async img2img_by_drop(page) {
    await dropFile(page, 'gen-drop', env('INIT_PNG'), 'image/png');
    await page.waitForFunction(() => !document.getElementById('gen-init-row').hidden, null, WAIT);
    await page.fill('#gen-steps', '8');
    await page.fill('#gen-seed', '3');
    await page.fill('#gen-strength', '0.5');
    await page.click('#gen-run');
    await waitState(page, 'gen-status', ['done', 'error', 'cancelled']);
    assert.equal(await page.getAttribute('#gen-status', 'data-state'), 'done', await page.textContent('#gen-status'));
    const strength = await page.$eval('#gen-params dd[data-param="strength"]', (d) => d.textContent);
    assert.equal(strength, '0.5');
    return 'img2img result from a dropped image';
  },

  async describe_streaming(page) {
    await page.click('#tab-ask');
    await dropFile(page, 'ask-drop', env('IMAGE_PNG'), 'image/png');
    await page.waitForFunction(() => !document.getElementById('ask-thumb').hidden, null, WAIT);
    await page.fill('#ask-question', env('QUESTION'));
    await page.fill('#ask-max-tokens', env('MAX_TOKENS'));
    await page.fill('#ask-temperature', '0');
    await page.evaluate(() => {
      window.__lengths = [];
      const answer = document.getElementById('ask-answer');
      new MutationObserver(() => window.__lengths.push(answer.textContent.length))
        .observe(answer, { childList: true, characterData: true, subtree: true });
    });
    await page.click('#ask-run');
    await waitState(page, 'ask-status', ['done', 'error']);
    assert.equal(await page.getAttribute('#ask-status', 'data-state'), 'done', await page.textContent('#ask-status'));
    const lengths = (await page.evaluate(() => window.__lengths)).filter((n) => n > 0);
    const growing = lengths.every((n, i) => i === 0 || n >= lengths[i - 1]);
    assert.ok(lengths.length >= 2 && growing, `text grew over several chunks: ${JSON.stringify(lengths)}`);
    assert.equal(await page.textContent('#ask-answer'), env('EXPECTED_ANSWER'));
    await page.screenshot({ path: join(screenshots, 'ask.png'), fullPage: true });
    return `answer grew over ${lengths.length} updates`;
  },

  async classify_bars(page) {
    await page.click('#tab-classify');
    await dropFile(page, 'classify-drop', env('IMAGE_PNG'), 'image/png');
    await page.waitForFunction(() => !document.getElementById('classify-thumb').hidden, null, WAIT);
    const labels = JSON.parse(env('LABELS'));
    await page.fill('#classify-labels', labels.join('\n'));
    await page.click('#classify-run');
    await waitState(page, 'classify-status', ['done', 'error']);
    assert.equal(await page.getAttribute('#classify-status', 'data-state'), 'done', await page.textContent('#classify-status'));
    const bars = await page.$$eval('#classify-bars li', (lis) => lis.map((li) => ({
      label: li.dataset.label, probability: Number(li.dataset.probability), width: li.querySelector('.bar').getBoundingClientRect().width,
    })));
    assert.equal(bars.length, labels.length);
    assert.equal(bars[0].label, env('EXPECTED_TOP'));
    assert.ok(bars.every((b, i) => i === 0 || b.width <= bars[i - 1].width + 0.5), 'bars drawn longest first');
    assert.ok(Math.abs(bars.reduce((s, b) => s + b.probability, 0) - 1) < 1e-3, 'probabilities sum to 1');
    await page.screenshot({ path: join(screenshots, 'classify.png'), fullPage: true });
    return `top label '${bars[0].label}' (${(bars[0].probability * 100).toFixed(1)}%)`;
  },

  async no_console_errors() {
    // The browser's own line for wrong_key_error_line's refused call is expected; anything else is not.
    const unexpected = consoleErrors.filter((e) => !/status of 401/.test(e));
    assert.deepEqual(unexpected, []);
    return 'no error in the console, no uncaught exception';
  },
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox'],   // CI runs as root, where Chromium's sandbox cannot start
});
let failed = 0;
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 820 } });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  for (const [name, run] of Object.entries(cases)) {
    const started = Date.now();
    try {
      const detail = await run(page);
      console.log(JSON.stringify({ case: name, ok: true, ms: Date.now() - started, detail }));
    } catch (error) {
      failed++;
      await page.screenshot({ path: join(screenshots, `failed-${name}.png`), fullPage: true }).catch(() => {});
      console.log(JSON.stringify({ case: name, ok: false, ms: Date.now() - started, error: String(error?.stack ?? error), consoleErrors }));
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
