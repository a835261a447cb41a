// End-to-end test of the web console: playwright-core driving Debian's Chromium headless against a running gateway.
// Run by io.flowgate.console.ConsoleBrowserTest, which passes:
//   PLAYWRIGHT_CORE  the installed playwright-core package      BASE_URL     the gateway, e.g. http://127.0.0.1:1234
//   CHROMIUM         the browser binary                         ADMIN_TOKEN  a management token
//   SCREENSHOTS      where to save screenshots
// (Playwright gives the browser a fresh profile directory in the temp folder and removes it afterwards.)
// Prints one JSON line per step ({"step": ...}) and a final {"result": ...}; exits non-zero on the first failure.
'use strict';
const path = require('path');
const { chromium } = require(process.env.PLAYWRIGHT_CORE);

const BASE = process.env.BASE_URL;
const TOKEN = process.env.ADMIN_TOKEN;
const SHOTS = process.env.SCREENSHOTS;
const TIMEOUT = 15000;
const RESOURCE_ERROR = /^Failed to load resource: the server responded with a status of (\d{3})/;

const result = { steps: [] };
function step(name, data) {
  const entry = { step: name, ...(data || {}) };
  result.steps.push(entry);
  console.log(JSON.stringify(entry));
}
function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}

/** Console errors and uncaught exceptions since the last call; expected HTTP statuses (bad inputs) are allowed. */
function errorWatch(page) {
  let seen = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') {
      seen.push(`${m.type()}: ${m.text()}`);
    }
  });
  page.on('pageerror', (e) => seen.push(`uncaught: ${e.message}`));
  return (where, allowedStatuses = []) => {
    const bad = seen.filter((text) => {
      const m = RESOURCE_ERROR.exec(text.replace(/^error: /, ''));
      return !(m && allowedStatuses.includes(Number(m[1])));
    });
    seen = [];
    check(bad.length === 0, `console errors on ${where}: ${bad.join(' | ')}`);
  };
}

async function api(method, p, body, token = TOKEN) {
  const res = await fetch(`${BASE}/api/v1${p}`, { method, headers: { Authorization: `Bearer ${token}`,
    'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  return { status: res.status, json };
}

async function trigger(deploymentId, key) {
  const res = await fetch(`${BASE}/node/deployment-trigger/${deploymentId}/`, { method: 'POST',
    headers: { 'X-API-Key': key, 'Content-Type': 'application/json' },
    body: JSON.stringify({ input_data: { name: 'Grace' } }) });
  return { status: res.status, json: await res.json() };
}

/** A whole-page screenshot; with a modal dialog open, of the screen (the backdrop covers only the screen). */
async function shot(page, name) {
  const modal = await page.$('dialog[open]');
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: !modal });
}

async function signIn(page, token) {
  await page.fill('input[name=token]', token);
  await page.click('button[type=submit]');
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const noErrors = errorWatch(page);

    // An inference server, so that its page shows replicas (its URL answers nothing: "unavailable").
    await api('POST', '/inference-servers', { name: 'iris-e2e', protocol: 'passthrough',
      replicas: ['http://127.0.0.1:9'] });

    // ----- sign in: /console redirects to /console/; a wrong token first
    const first = await page.goto(`${BASE}/console`);
    check(page.url() === `${BASE}/console/#/deployments`, `after /console the page is ${page.url()}`);
    check(first.headers()['content-security-policy'].includes("script-src 'self'"), 'the page has a strict CSP');
    await page.waitForSelector('input[name=token]');
    await shot(page, 'signin-1280-light');
    await signIn(page, 'not-the-right-token-0000');
    await page.waitForSelector('form .form-error');
    const refused = await page.textContent('form .form-error');
    check(/not accepted/.test(refused) && /bearer token is not valid/i.test(refused),
      `a wrong token shows the API's message: ${refused}`);
    noErrors('sign-in with a wrong token', [401]);
    step('wrong token refused', { message: refused });
    const storedWrong = await page.evaluate(() => sessionStorage.getItem('flowgate.token'));
    check(storedWrong === null, 'a refused token is not stored');
    await signIn(page, TOKEN);
    await page.waitForSelector('h1:text("Deployments")');
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem('flowgate.token'),
      local: localStorage.length, cookie: document.cookie }));
    check(storage.session === TOKEN && storage.local === 0 && storage.cookie === '',
      `the token is in sessionStorage only: ${JSON.stringify(storage)}`);
    check(!page.url().includes(TOKEN), 'the token is not in the URL');
    noErrors('deployments (empty)');
    step('signed in');

    // ----- flows: an invalid one first (syntax, then the server's validation), then a valid one
    await page.click('nav a[data-section=flows]');
    await page.waitForSelector('h1:text("Flows")');
    await page.click('a:text("New flow")');
    await page.waitForSelector('#flow-json');
    await page.fill('#flow-json', '{"name": "broken", "nodes": [');
    await page.click('button:text("Create flow")');
    const syntax = await page.textContent('#flow-error');
    check(/not valid JSON/.test(syntax), `a syntax error is shown next to the editor: ${syntax}`);
    const unknownType = { name: 'e2e-greeting', nodes: [
      { id: 'input', type: 'api_input', config: { test_data: { name: 'Ada' } } },
      { id: 'greet', type: 'no_such_type', config: {} },
      { id: 'output', type: 'output', config: {} }],
    edges: [{ from: 'input', to: 'greet' }, { from: 'greet', to: 'output' }] };
    await page.fill('#flow-json', JSON.stringify(unknownType, null, 2));
    await page.click('button:text("Create flow")');
    await page.waitForSelector('#flow-error:has-text("unknown type")');
    const invalid = await page.textContent('#flow-error');
    check(/node 'greet': unknown type 'no_such_type'/.test(invalid), `the server's validation error: ${invalid}`);
    check(await page.getAttribute('#flow-json', 'aria-invalid') === 'true', 'the editor is marked invalid');
    noErrors('new flow, invalid', [400]);
    await shot(page, 'flow-invalid-1280-light');
    step('invalid flow refused', { message: invalid });
    const valid = { ...unknownType, nodes: [unknownType.nodes[0],
      { id: 'greet', type: 'transform', config: { expression: '{"greeting": "Hello, " & name & "!"}' } },
      unknownType.nodes[2]] };
    await page.fill('#flow-json', JSON.stringify(valid, null, 2));
    await page.click('button:text("Create flow")');
    await page.waitForFunction(() => /#\/flows\/[0-9a-f-]{36}$/.test(location.href));
    await page.waitForSelector('h1:text("e2e-greeting")');
    const flowId = page.url().split('/').pop();
    const drawn = await page.$$eval('.dag [data-node]', (els) => els.map((e) => e.getAttribute('data-node')));
    check(drawn.join(',') === 'input,greet,output', `the DAG draws every node: ${drawn}`);
    const types = await page.$$eval('.dag .node-type', (els) => els.map((e) => e.textContent));
    check(types.join(',') === 'api_input,transform,output', `each node shows its type: ${types}`);
    check(await page.$$eval('.dag path.edge', (els) => els.length) === 2, 'the DAG draws both edges');
    noErrors('flow page');
    step('flow created', { flowId });

    // The API Input node's test data, edited: a new version.
    await page.fill('#test-data', '{"name": "Grace"}');
    await page.click('button:text("Save test data")');
    await page.waitForSelector('.page-head .sub:has-text("Version 2")');
    const stored = await api('GET', `/flows/${flowId}`);
    check(stored.json.data.version === 2
      && stored.json.data.nodes[0].config.test_data.name === 'Grace', 'the test data is saved as version 2');
    noErrors('test data saved');
    step('test data edited');

    // ----- create deployment: Escape closes the dialog; focus stays inside it; invalid fields first
    await page.click('button:text("Create deployment")');
    await page.waitForSelector('dialog[open] form');
    for (let i = 0; i < 25; i++) {
      await page.keyboard.press('Tab');
      check(await page.evaluate(() => !!document.activeElement.closest('dialog')),
        'Tab keeps the focus inside the open dialog');
    }
    await page.keyboard.press('Escape');
    await page.waitForSelector('dialog', { state: 'detached' });
    await page.click('button:text("Create deployment")');
    await page.waitForSelector('dialog[open] form');
    await page.fill('dialog input[name=name]', '');
    await page.click('dialog summary:has-text("Timeout")');
    await page.fill('dialog input[name=timeout_seconds]', '0');
    await page.click('dialog summary:has-text("Rate limit")');
    await page.check('dialog input[name=rate_limit]');
    await page.fill('dialog input[name="rate_limit.requests_per_second"]', 'lots');
    await page.click('dialog button:text("Create deployment")');
    await page.waitForSelector('dialog .field-error');
    const fieldError = async (name) => page.$eval(`dialog [name="${name}"]`, (el) => {
      const note = el.closest('.field').querySelector('.field-error');
      return note ? note.textContent : null;
    });
    const nameError = await fieldError('name');
    const timeoutError = await fieldError('timeout_seconds');
    const rateError = await fieldError('rate_limit.requests_per_second');
    check(/"name" must be a non-empty string/.test(nameError || ''), `name error next to the field: ${nameError}`);
    check(/"timeout_seconds" must be a whole number/.test(timeoutError || ''), `timeout error: ${timeoutError}`);
    check(/"rate_limit.requests_per_second" must be a number/.test(rateError || ''), `rate error: ${rateError}`);
    noErrors('create deployment, invalid', [400]);
    await shot(page, 'deployment-form-invalid-1280-light');
    step('invalid deployment refused', { nameError, timeoutError, rateError });
    await page.fill('dialog input[name=name]', 'e2e-greeting');
    await page.fill('dialog input[name=timeout_seconds]', '30');
    await page.uncheck('dialog input[name=rate_limit]');
    await page.click('dialog summary:has-text("Deployment type")');
    await page.check('dialog input[name=deployment_type][value=server]');
    await page.click('dialog summary:has-text("Notification")');
    await page.selectOption('dialog select[name="notification.method"]', 'webhook');
    await page.fill('dialog input[name="notification.url"]', 'http://127.0.0.1:9/hooks/flowgate');
    await page.uncheck('dialog input[value="run.started"]');
    await page.click('dialog button:text("Create deployment")');
    await page.waitForSelector('dialog [data-secret=api_key]');
    const secret = (await page.textContent('dialog [data-secret=webhook_secret]')).trim();
    check(/^whsec_/.test(secret), `the webhook secret is shown once too: ${secret}`);
    const key = (await page.textContent('dialog [data-secret=api_key]')).trim();
    check(/^sk-[A-Za-z0-9_-]{30,}$/.test(key), `the dialog shows the key: ${key}`);
    const warning = await page.textContent('dialog .warning');
    check(/will not show (it|them) again/.test(warning), `the key comes with a warning: ${warning}`);
    await page.click('dialog button[data-copy]');
    await page.waitForSelector('dialog button[data-copy]:text("Copied")');
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    check(copied === key, 'the copy button puts the key on the clipboard');
    await shot(page, 'deployment-key-once-1280-light');
    await page.click('dialog button:text("Open deployment")');
    // The flow shares the name: wait for the deployment's own page (its URL), not just the heading.
    await page.waitForFunction(() => /#\/deployments\/[0-9a-f-]{36}$/.test(location.href));
    await page.waitForSelector('h1:text("e2e-greeting")');
    const deploymentId = page.url().split('/').pop();
    noErrors('deployment created');
    step('deployment created', { deploymentId, key });

    // ----- trigger it from here (not the browser), see the call counted on the deployment page
    const ok = await trigger(deploymentId, copied);
    check(ok.status === 200 && ok.json.data.output_data.greeting === 'Hello, Grace!',
      `the trigger with the copied key works: ${ok.status} ${JSON.stringify(ok.json)}`);
    step('triggered', { status: ok.status });
    await page.reload();
    await page.waitForSelector('[data-stat=calls] .value');
    const calls = await page.textContent('[data-stat=calls] .value');
    check(calls === '1', `the deployment page counts the call: ${calls}`);
    const bars = await page.$$eval('[data-testid=calls-chart] rect.bar-calls', (els) => els.length);
    check(bars === 1, `the calls chart has one bar: ${bars}`);
    for (let i = 0; i < 40 && !(await page.$('[data-testid=runs] tr[data-run]')); i++) {
      await page.waitForTimeout(250);
      await page.click('[data-testid=runs] button:text("Refresh")');
    }
    const run = await page.textContent('[data-testid=runs] tr[data-run]');
    check(/completed/.test(run) && /v2/.test(run), `the run is listed with its status and version: ${run}`);
    await page.click('[role=tab]:text("Python")');
    const python = await page.textContent('#panel-python code');
    check(python.includes('import requests') && python.includes(deploymentId), 'the Python tab shows the snippet');
    await page.keyboard.press('ArrowRight');
    check(await page.evaluate(() => document.activeElement.id) === 'tab-javascript', 'arrow keys move between tabs');
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.click('button:text("Download Postman collection")')]);
    const collection = JSON.parse(require('fs').readFileSync(await download.path(), 'utf8'));
    check(collection.info && /v2\.1/.test(collection.info.schema), 'the Postman collection downloads');
    noErrors('deployment page');
    await shot(page, 'deployment-called-1280-light');
    step('call counted', { calls, run: run.trim() });

    // ----- API keys: create a profile-wide key, rotate it (new key shown once), delete the old one
    await page.click('nav a[data-section=keys]');
    await page.click('button:text("Create API key")');
    await page.waitForSelector('dialog[open] form');
    await page.fill('dialog input[data-field=name]', 'e2e-profile');
    await page.click('dialog button:text("Create key")');
    await page.waitForSelector('dialog [data-secret=api_key]');
    const profileKey = (await page.textContent('dialog [data-secret=api_key]')).trim();
    await page.click('dialog button:text("I have copied it")');
    const profileRow = `tr:has(code:text("${profileKey.slice(0, 8)}"))`;
    await page.waitForSelector(`${profileRow} td:has-text("every deployment")`);
    await page.click(`${profileRow} button:text("Rotate")`);
    await page.click('dialog button:text("Rotate key")');
    await page.waitForSelector('dialog [data-secret=api_key]');
    const newKey = (await page.textContent('dialog [data-secret=api_key]')).trim();
    check(/^sk-/.test(newKey) && newKey !== profileKey, 'rotation shows the new key once');
    await page.click('dialog button:text("I have copied it")');
    await page.waitForSelector(`${profileRow} td[data-state=rotated]`);
    await page.waitForSelector(`tr:has(code:text("${newKey.slice(0, 8)}")) td[data-state=active]`);
    await page.click(`${profileRow} button:text("Delete")`);
    await page.click('dialog button:text("Delete key")');
    await page.waitForSelector(profileRow, { state: 'detached' });
    const remaining = await api('GET', '/api-keys');
    check(!remaining.json.data.items.some((k) => k.key.startsWith(profileKey.slice(0, 8))), 'the rotated key is deleted');
    noErrors('keys created, rotated, deleted');
    step('key created, rotated and deleted');

    // ----- deactivate the deployment's key on the API keys page: the trigger is refused
    const row = `tr:has(code:text("${key.slice(0, 8)}"))`;
    await page.waitForSelector(row);
    await page.click(`${row} button:text("Deactivate")`);
    await page.waitForSelector(`${row} td[data-state=inactive]`);
    noErrors('keys page');
    await shot(page, 'keys-deactivated-1280-light');
    const refusedCall = await trigger(deploymentId, copied);
    check(refusedCall.status === 401 && refusedCall.json.code === 'api_key_inactive',
      `a deactivated key is refused: ${refusedCall.status} ${JSON.stringify(refusedCall.json)}`);
    step('deactivated key refused', { status: refusedCall.status, code: refusedCall.json.code });

    // ----- inference servers: per-replica state; stop, then start again
    await page.click('nav a[data-section=servers]');
    const serverRow = 'tr:has(strong:text("iris-e2e"))';
    await page.waitForSelector(serverRow);
    const before = await page.textContent(`${serverRow} .replicas`);
    check(/unavailable|booting|ready/.test(before) && before.includes('http://127.0.0.1:9'),
      `each replica shows its URL and state: ${before}`);
    await page.click(`${serverRow} button:text("Stop")`);
    await page.waitForSelector(`${serverRow} button:text("Start"):not([disabled])`);
    const stopped = await page.textContent(`${serverRow} .replicas`);
    check(/stopped/.test(stopped), `a stopped server's replicas say so: ${stopped}`);
    await page.click(`${serverRow} button:text("Start")`);
    await page.waitForSelector(`${serverRow} button:text("Stop"):not([disabled])`);
    noErrors('servers page');
    step('server stopped and started', { before, stopped });

    // ----- a revoked or changed token: back to sign-in with a message, no blank page
    await page.evaluate(() => sessionStorage.setItem('flowgate.token', 'revoked-token-0123456789abcdef'));
    await page.click('nav a[data-section=flows]');
    await page.waitForSelector('input[name=token]');
    const notice = await page.textContent('form .warning');
    check(/session has ended/.test(notice), `a revoked session goes back to sign-in: ${notice}`);
    noErrors('revoked session', [401]);
    step('revoked session back to sign-in', { notice });

    // ----- every page at 1280 and 390 px, light and dark, without console errors
    await signIn(page, TOKEN);
    await page.waitForSelector('nav:not([hidden])');
    const pages = [['deployments', '#/deployments'], ['deployment', `#/deployments/${deploymentId}`],
      ['flows', '#/flows'], ['flow', `#/flows/${flowId}`], ['flow-new', '#/flows/new'], ['keys', '#/keys'],
      ['servers', '#/servers']];
    let count = 0;
    for (const scheme of ['light', 'dark']) {
      for (const width of [1280, 390]) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height: width === 390 ? 844 : 900 });
        for (const [name, hash] of pages) {
          await page.goto(`${BASE}/console/${hash}`);
          await page.waitForSelector('main:not([aria-busy]) h1');
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          check(overflow <= 0, `${name} at ${width} px is not wider than the screen (${overflow} px too wide)`);
          noErrors(`${name} ${width} ${scheme}`);
          await shot(page, `${name}-${width}-${scheme}`);
          count++;
        }
        await page.goto(`${BASE}/console/#/deployments`);
        await page.waitForSelector('main:not([aria-busy]) h1');
        await page.click('button:text("Create deployment")');
        await page.waitForSelector('dialog[open] form');
        await page.click('dialog summary:has-text("Notification")');
        await shot(page, `deployment-form-${width}-${scheme}`);
        await page.keyboard.press('Escape');
        await page.evaluate(() => sessionStorage.removeItem('flowgate.token'));
        await page.goto(`${BASE}/console/`);
        await page.waitForSelector('input[name=token]');
        await shot(page, `signin-${width}-${scheme}`);
        await signIn(page, TOKEN);
        await page.waitForSelector('nav:not([hidden])');
        noErrors(`dialog and sign-in ${width} ${scheme}`);
        count += 2;
      }
    }
    step('screenshots', { count });
    result.result = 'passed';
    result.deploymentId = deploymentId;
    result.flowId = flowId;
    result.key = key;
  } finally {
    await browser.close();
  }
}

main().then(() => {
  console.log(JSON.stringify({ result: 'passed', deploymentId: result.deploymentId, flowId: result.flowId,
    key: result.key }));
}, (e) => {
  console.log(JSON.stringify({ result: 'failed', error: String(e && e.stack || e) }));
  process.exit(1);
});
