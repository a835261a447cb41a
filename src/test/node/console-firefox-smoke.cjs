// Smoke test of the web console in Debian's Firefox ESR, driven over WebDriver BiDi (the W3C protocol Firefox
// speaks natively) with nothing but Node's WebSocket: Playwright's Firefox needs a patched build that cannot be
// downloaded here, and its BiDi mode asks for commands this ESR does not have yet. Run by
// io.flowgate.console.ConsoleBrowserTest, which passes FIREFOX, BASE_URL, ADMIN_TOKEN, SCREENSHOTS and PROFILE (a
// fresh directory). Prints one JSON line per step and a final {"result": ...}; exits non-zero on the first failure.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const BASE = process.env.BASE_URL;
const TIMEOUT_MS = 20000;

function check(condition, message) {
  if (!condition) {
    throw new Error(message);
  }
}
const step = (name, data) => console.log(JSON.stringify({ step: name, ...(data || {}) }));

/** Starts Firefox headless with remote debugging on a free port; resolves with its BiDi WebSocket URL. */
function launch() {
  const profile = process.env.PROFILE;
  // Keep Firefox off the network: no updates, telemetry, remote settings, safe browsing or captive-portal checks.
  fs.writeFileSync(path.join(profile, 'user.js'), [
    'user_pref("services.settings.server", "http://127.0.0.1:9/v1");',
    'user_pref("network.captive-portal-service.enabled", false);',
    'user_pref("network.connectivity-service.enabled", false);',
    'user_pref("browser.safebrowsing.update.enabled", false);',
    'user_pref("browser.safebrowsing.downloads.remote.enabled", false);',
    'user_pref("app.normandy.enabled", false);',
    'user_pref("app.update.disabledForTesting", true);',
    'user_pref("extensions.getAddons.cache.enabled", false);',
    'user_pref("media.gmp-manager.url", "http://127.0.0.1:9/");',
    'user_pref("datareporting.policy.dataSubmissionEnabled", false);',
    'user_pref("toolkit.telemetry.enabled", false);',
    'user_pref("browser.newtabpage.enabled", false);',
    '',
  ].join('\n'));
  const child = spawn(process.env.FIREFOX, ['--headless', '--no-remote', '--remote-debugging-port=0', '--profile',
    profile, '--window-size=1280,900', 'about:blank'], { stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOZ_HEADLESS: '1' } });
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => reject(new Error(`Firefox did not start its WebDriver BiDi server:\n${log}`)),
      TIMEOUT_MS);
    const onData = (chunk) => {
      log += chunk;
      const m = /WebDriver BiDi listening on (ws:\/\/[^\s]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1] });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`Firefox exited (${code}):\n${log}`)));
  });
}

/** A WebDriver BiDi session: send(method, params) → result; events collected by listeners. */
async function connect(url) {
  const ws = new WebSocket(`${url}/session`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  let id = 0;
  const pending = new Map();
  const listeners = [];
  ws.onmessage = (event) => {
    const msg = JSON.parse(event.data);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.type === 'error') {
        reject(new Error(`${msg.error}: ${msg.message}`));
      } else {
        resolve(msg.result);
      }
    } else if (msg.type === 'event') {
      listeners.forEach((l) => l(msg));
    }
  };
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const n = ++id;
    pending.set(n, { resolve, reject });
    ws.send(JSON.stringify({ id: n, method, params }));
  });
  return { ws, send, listeners };
}

async function main() {
  const { child, url } = await launch();
  let bidi;
  try {
    bidi = await connect(url);
    const { send } = bidi;
    await send('session.new', { capabilities: {} });
    const errors = [];
    bidi.listeners.push((e) => {
      if (e.method === 'log.entryAdded' && (e.params.level === 'error' || e.params.level === 'warn')) {
        errors.push(`${e.params.level}: ${e.params.text}`);
      }
    });
    await send('session.subscribe', { events: ['log.entryAdded'] });
    const tree = await send('browsingContext.getTree', {});
    const context = tree.contexts[0].context;
    const evaluate = async (expression) => {
      const r = await send('script.evaluate', { expression, target: { context }, awaitPromise: true });
      if (r.type === 'exception') {
        throw new Error(`${expression}: ${r.exceptionDetails.text}`);
      }
      return r.result.value;
    };
    const waitFor = async (expression, what) => {
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        const value = await evaluate(expression);
        if (value) {
          return value;
        }
        check(Date.now() < deadline, `timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const noErrors = (where) => {
      check(errors.length === 0, `console errors on ${where}: ${errors.join(' | ')}`);
    };
    const shot = async (name) => {
      const { data } = await send('browsingContext.captureScreenshot', { context });
      fs.writeFileSync(path.join(process.env.SCREENSHOTS, `firefox-${name}.png`), Buffer.from(data, 'base64'));
    };
    const signIn = (token) => evaluate(`(() => { const i = document.querySelector('input[name=token]');
      i.value = ${JSON.stringify(token)}; i.form.requestSubmit(); return true; })()`);
    const pageReady = (title) => waitFor(`(() => { const h = document.querySelector('main:not([aria-busy]) h1');
      return h && h.textContent === ${JSON.stringify(title)} ? h.textContent : null; })()`, `the page "${title}"`);

    await send('browsingContext.navigate', { context, url: `${BASE}/console`, wait: 'complete' });
    await waitFor("document.querySelector('input[name=token]') !== null", 'the sign-in form');
    await signIn('not-the-right-token-0000');
    const refused = await waitFor("(() => { const e = document.querySelector('form .form-error:not([hidden])');"
      + ' return e && e.textContent; })()', 'the sign-in error');
    check(/not accepted/.test(refused), `a wrong token is refused with the API's message: ${refused}`);
    step('wrong token refused', { message: refused });
    await signIn(process.env.ADMIN_TOKEN);
    await pageReady('Deployments');
    check(await evaluate("sessionStorage.getItem('flowgate.token') !== null && localStorage.length === 0"),
      'the token is kept in sessionStorage only');
    step('signed in');

    for (const [name, hash, title] of [['deployments', '#/deployments', 'Deployments'], ['flows', '#/flows', 'Flows'],
      ['keys', '#/keys', 'API keys'], ['servers', '#/servers', 'Inference servers'], ['flow-new', '#/flows/new',
        'New flow']]) {
      await evaluate(`location.hash = ${JSON.stringify(hash)}; true`);
      await pageReady(title);
      noErrors(name);
      await shot(name);
    }
    const drawn = await waitFor("document.querySelectorAll('.dag [data-node]').length", 'the drawn template flow');
    check(drawn === 3, `the new-flow page draws the template's 3 nodes: ${drawn}`);
    step('pages rendered');

    await evaluate("location.hash = '#/deployments'; true");
    await pageReady('Deployments');
    await evaluate("[...document.querySelectorAll('button')].find((b) => b.textContent === 'Create deployment').click();"
      + ' true');
    await waitFor("document.querySelector('dialog[open] form') !== null", 'the create-deployment dialog');
    await shot('deployment-form');
    await evaluate("document.querySelector('dialog input[name=name]').focus(); true");
    await send('input.performActions', { context, actions: [{ type: 'key', id: 'keyboard', actions: [
      { type: 'keyDown', value: '\uE00C' }, { type: 'keyUp', value: '\uE00C' }] }] });
    await waitFor("document.querySelector('dialog') === null", 'Escape to close the dialog');
    noErrors('create-deployment dialog');
    step('dialog closes on Escape');

    await evaluate("sessionStorage.setItem('flowgate.token', 'revoked-token-0123456789abcdef');"
      + " location.hash = '#/keys'; true");
    const notice = await waitFor("(() => { const w = document.querySelector('form .warning'); return w && "
      + 'w.textContent; })()', 'the sign-in page after a revoked token');
    check(/session has ended/.test(notice), `a revoked session goes back to sign-in: ${notice}`);
    step('revoked session back to sign-in');
  } finally {
    if (bidi) {
      try {
        await bidi.send('browser.close', {});
      } catch (e) {
        // Closing races the connection's end.
      }
      bidi.ws.close();
    }
    child.kill('SIGKILL');
  }
}

main().then(() => {
  console.log(JSON.stringify({ result: 'passed' }));
  process.exit(0);
}, (e) => {
  console.log(JSON.stringify({ result: 'failed', error: String(e && e.stack || e) }));
  process.exit(1);
});
