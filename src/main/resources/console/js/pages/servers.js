import { list, post } from '../api.js';
import { busy, h, pageHead, report, stateBadge, table, toast, when } from '../ui.js';

/** #/servers: inference servers with each replica's state (booting, ready, unavailable, stopped); start, stop. */
export async function serversPage() {
  const content = h('section', { class: 'panel' });
  const render = (servers) => {
    content.replaceChildren(table(['Server', 'Protocol', 'State', 'Replicas', 'Actions'], servers.map((s) => h('tr',
      { 'data-server': s.id },
      h('td', {}, h('strong', {}, s.name), s.model ? h('div', { class: 'hint' }, `model ${s.model}`) : null,
        h('div', { class: 'hint mono' }, s.id)),
      h('td', {}, s.protocol),
      h('td', {}, stateBadge(s.state), s.desired_state === 'stopped' ? h('div', { class: 'hint' }, 'stopped on request')
        : null),
      h('td', {}, h('ul', { class: 'replicas' }, (s.replicas || []).map((r) => h('li', {},
        stateBadge(r.state), ' ', h('span', { class: 'mono' }, r.url || (r.port ? `port ${r.port}` : 'launched')),
        ' ', h('span', { class: 'hint' }, 'since ', when(r.since, '—')),
        r.reason ? h('div', { class: 'hint' }, r.reason) : null)))),
      h('td', {}, h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary small', disabled: s.desired_state === 'started',
          onclick: (e) => act(e.currentTarget, s, 'start') }, 'Start'),
        h('button', { type: 'button', class: 'secondary small', disabled: s.desired_state === 'stopped',
          onclick: (e) => act(e.currentTarget, s, 'stop') }, 'Stop'))))),
    'No inference servers. Register one with POST /api/v1/inference-servers (see the README\'s Fast Mode section).'));
  };
  const refresh = async () => {
    try {
      render(await list('/inference-servers'));
    } catch (e) {
      report(e);
    }
  };
  async function act(button, server, verb) {
    await busy(button, async () => {
      try {
        await post(`/inference-servers/${server.id}/${verb}`);
        toast(`${server.name}: ${verb === 'start' ? 'starting' : 'stopped'}.`);
      } catch (e) {
        report(e);
      }
    });
    refresh();
  }
  render(await list('/inference-servers'));
  return h('div', {},
    pageHead('Inference servers', 'Warm model servers that Fast Mode deployments and inference nodes call.',
      h('button', { type: 'button', class: 'secondary', onclick: refresh }, 'Refresh')),
    content);
}
