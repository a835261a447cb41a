import { del, get, list, post } from '../api.js';
import { callsChart, latencyChart } from '../charts.js';
import { badge, busy, clear, confirmButton, copyButton, count, errorPanel, h, ms, pageHead, report, rerender,
  stateBadge, table, toast, when } from '../ui.js';
import { deploymentState } from './deployments.js';
import { createKeyDialog, keyTable } from './keys.js';

const LANGUAGES = [['curl', 'cURL'], ['python', 'Python'], ['javascript', 'JavaScript']];

/**
 * #/deployments/{id}: settings, usage charts, example code (cURL, Python, JavaScript) and the Postman collection,
 * recent runs, this deployment's keys; redeploy and delete.
 */
export async function deploymentPage(id) {
  const d = await get(`/deployments/${id}`);
  const [flows, servers, code] = await Promise.all([list('/flows'), list('/inference-servers'),
    get(`/deployments/${id}/example-code`)]);
  const flowsById = new Map(flows.map((f) => [f.id, f]));
  const flow = flowsById.get(d.flow_id);
  const { state, note } = deploymentState(d, flowsById, new Map(servers.map((s) => [s.id, s])));

  const redeploy = h('button', { type: 'button', class: 'secondary', disabled: !d.flow_id,
    title: d.flow_id ? 'Pin the flow\'s latest version' : 'Fast Mode deployments have no flow',
    onclick: (e) => busy(e.currentTarget, async () => {
      try {
        const r = await post(`/deployments/${id}/redeploy`);
        toast(`Redeployed: now on flow version ${r.flow_version}.`);
        rerender();
      } catch (err) {
        report(err);
      }
    }) }, 'Redeploy');
  const remove = confirmButton('Delete', 'danger', ['Delete deployment?', `Delete "${d.name}"? Its endpoint refuses `
    + 'calls at once and its own API keys are deleted with it. Runs in flight finish. This cannot be undone.',
  'Delete deployment'], async () => {
    await del(`/deployments/${id}`);
    toast(`Deployment "${d.name}" deleted.`);
    location.hash = '#/deployments';
  });

  const triggerUrl = code.url;
  const settings = h('section', { class: 'panel' }, h('h2', {}, 'Endpoint'),
    h('div', { class: 'secret' }, h('code', { 'data-trigger-url': '' }, `POST ${triggerUrl}`),
      copyButton(triggerUrl, 'Copy URL')),
    h('dl', { class: 'kv' },
      h('dt', {}, 'State'), h('dd', {}, stateBadge(state), note ? ` ${note}` : ''),
      h('dt', {}, 'Flow'), h('dd', {}, flow ? [h('a', { href: `#/flows/${flow.id}` }, flow.name), ` v${d.flow_version}`]
        : '—'),
      h('dt', {}, 'Mode'), h('dd', {}, `${d.execution_mode} · ${d.deployment_type}`),
      h('dt', {}, 'Timeout'), h('dd', {}, `${d.timeout_seconds ?? 3600} s`),
      h('dt', {}, 'Rate limit'), h('dd', {}, d.rate_limit
        ? `${d.rate_limit.requests_per_second}/s per key, burst ${d.rate_limit.burst}` : 'none'),
      h('dt', {}, 'Webhook'), h('dd', {}, d.notification && d.notification.method === 'webhook'
        ? `${d.notification.url} (${(d.notification.events || []).join(', ')})` : 'none'),
      h('dt', {}, 'Id'), h('dd', { class: 'mono' }, d.id)));

  return h('div', {},
    pageHead(d.name, h('span', {}, badge(d.execution_mode, 'info'), ' ', badge(d.deployment_type), ' · created ',
      when(d.created_at)), [redeploy, remove]),
    settings,
    await usageSection(id),
    exampleCode(id, code),
    await runsSection(id),
    await keysSection(d));
}

/** Calls, errors, latency over a chosen window, with charts from the usage series. */
async function usageSection(id) {
  const body = h('div', {});
  const windowSelect = h('select', { id: 'usage-window', 'aria-label': 'Usage window' },
    h('option', { value: '1h' }, 'Last hour'), h('option', { value: '24h', selected: true }, 'Last 24 hours'),
    h('option', { value: '7d' }, 'Last 7 days'));
  const load = async () => {
    const w = windowSelect.value;
    try {
      const [usage, series] = await Promise.all([get(`/deployments/${id}/usage?window=${w}`),
        get(`/deployments/${id}/usage/series?window=${w}`)]);
      clear(body).append(h('div', {},
        h('div', { class: 'stats' },
          stat('Calls', count(usage.calls), 'calls'), stat('Errors', count(usage.errors), 'errors'),
          stat('p50', ms(usage.latency_ms.p50)), stat('p99', ms(usage.latency_ms.p99)),
          stat('Last call', when(usage.last_call_at))),
        Object.keys(usage.errors_by_code).length ? h('p', { class: 'hint' }, 'Errors by code: ',
          Object.entries(usage.errors_by_code).map(([c, n]) => `${c} ${n}`).join(', ')) : null,
        h('div', { class: 'charts' }, callsChart(series), latencyChart(series))));
    } catch (e) {
      if (e.status !== 401) {
        clear(body).appendChild(errorPanel(e, load));
      }
    }
  };
  windowSelect.addEventListener('change', load);
  const refresh = h('button', { type: 'button', class: 'secondary small', onclick: load }, 'Refresh');
  await load();
  return h('section', { class: 'panel', 'data-testid': 'usage' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Usage'), h('div', { class: 'actions' }, windowSelect, refresh)),
    body);
}

function stat(label, value, name) {
  return h('div', { class: 'stat', 'data-stat': name }, h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value));
}

/** Tabs of example code with copy buttons (arrow keys move between tabs), and the Postman collection download. */
function exampleCode(id, code) {
  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Example code language' });
  const panels = [];
  const buttons = LANGUAGES.map(([key, label], i) => {
    const tab = h('button', { type: 'button', role: 'tab', id: `tab-${key}`, 'aria-controls': `panel-${key}`,
      'aria-selected': i === 0 ? 'true' : 'false', tabindex: i === 0 ? '0' : '-1' }, label);
    panels.push(h('div', { role: 'tabpanel', id: `panel-${key}`, 'aria-labelledby': `tab-${key}`, hidden: i !== 0 },
      h('div', { class: 'code-head' }, copyButton(code[key], `Copy ${label}`)),
      h('pre', { class: 'code', tabindex: '0' }, h('code', { 'data-language': key }, code[key]))));
    tab.addEventListener('click', () => select(i));
    tab.addEventListener('keydown', (e) => {
      const move = { ArrowRight: 1, ArrowLeft: -1, Home: -i, End: LANGUAGES.length - 1 - i }[e.key];
      if (move !== undefined) {
        e.preventDefault();
        select((i + move + LANGUAGES.length) % LANGUAGES.length, true);
      }
    });
    return tab;
  });
  tabs.append(...buttons);
  function select(index, focus) {
    buttons.forEach((b, j) => {
      b.setAttribute('aria-selected', j === index ? 'true' : 'false');
      b.tabIndex = j === index ? 0 : -1;
      panels[j].hidden = j !== index;
    });
    if (focus) {
      buttons[index].focus();
    }
  }
  const postman = h('button', { type: 'button', class: 'secondary', onclick: (e) => busy(e.currentTarget, async () => {
    try {
      const collection = await get(`/deployments/${id}/example-code?format=postman`, { raw: true });
      const blob = new Blob([JSON.stringify(collection, null, 2)], { type: 'application/json' });
      const link = h('a', { href: URL.createObjectURL(blob), download: `${code.name}.postman_collection.json` });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (err) {
      report(err);
    }
  }) }, 'Download Postman collection');
  return h('section', { class: 'panel' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Example code'), h('div', { class: 'actions' }, postman)),
    h('p', { class: 'hint' }, code.api_key_masked
      ? `The key in the code is masked (${code.api_key_masked}): replace it with the full key you copied when it was `
        + 'created.'
      : 'The code has a placeholder where the key goes: paste the full key you copied when it was created.'),
    tabs, panels);
}

/** The latest runs: status, version, start and duration. */
async function runsSection(id) {
  const body = h('div', {});
  const load = async () => {
    try {
      const page = await get(`/deployments/${id}/runs?limit=20`);
      clear(body).appendChild(table(['Run', 'Status', 'Version', 'Started', { label: 'Duration', className: 'num' }],
        page.items.map((r) => h('tr', { 'data-run': r.flow_run_id },
          h('td', { class: 'mono', title: r.flow_run_id }, r.flow_run_id.slice(0, 8)),
          h('td', {}, stateBadge(r.status), r.error && r.error.message ? h('div', { class: 'hint' },
            r.error.node_id ? `${r.error.node_id}: ` : '', r.error.message) : null),
          h('td', {}, r.flow_version ? `v${r.flow_version}` : '—'),
          h('td', {}, when(r.started_at || r.created_at, '—')),
          h('td', { class: 'num' }, r.duration_seconds === null || r.duration_seconds === undefined ? '—'
            : ms(r.duration_seconds * 1000)))),
        'No runs yet. Fast Mode calls are not runs; their usage is above.'));
    } catch (e) {
      if (e.status !== 401) {
        clear(body).appendChild(errorPanel(e, load));
      }
    }
  };
  await load();
  return h('section', { class: 'panel', 'data-testid': 'runs' },
    h('div', { class: 'page-head' }, h('h2', {}, 'Recent runs'),
      h('button', { type: 'button', class: 'secondary small', onclick: load }, 'Refresh')), body);
}

/** This deployment's own keys (profile-wide keys are on the API keys page). */
async function keysSection(d) {
  const body = h('div', {});
  const byId = new Map([[d.id, d]]);
  const load = async () => {
    try {
      clear(body).appendChild(keyTable(await list(`/deployments/${d.id}/api-keys`), byId, load));
    } catch (e) {
      if (e.status !== 401) {
        clear(body).appendChild(errorPanel(e, load));
      }
    }
  };
  await load();
  const create = h('button', { type: 'button', class: 'secondary small', onclick: async () => {
    if (await createKeyDialog([d], d.id)) {
      load();
    }
  } }, 'New API key');
  return h('section', { class: 'panel', 'data-testid': 'keys' },
    h('div', { class: 'page-head' }, h('h2', {}, 'API keys'), h('div', { class: 'actions' }, create)), body);
}
