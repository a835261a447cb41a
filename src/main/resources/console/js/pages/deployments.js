import { get, list } from '../api.js';
import { count, h, pageHead, stateBadge, table, when } from '../ui.js';
import { createDeploymentDialog } from './create-deployment.js';

/**
 * What a deployment is doing: Fast Mode → its inference server's state; otherwise "live", or "outdated" when its
 * flow has a newer version than the one it pins (redeploy to use it).
 */
export function deploymentState(d, flowsById, serversById) {
  if (d.execution_mode === 'fast') {
    const server = serversById.get(d.inference_server_id);
    return { state: server ? server.state : 'unavailable', note: server ? `inference server ${server.name}` : '' };
  }
  const flow = flowsById.get(d.flow_id);
  if (flow && flow.version > d.flow_version) {
    return { state: 'outdated', note: `the flow has version ${flow.version}; redeploy to use it` };
  }
  return { state: 'live', note: '' };
}

/** #/deployments: the overview table, with each deployment's calls and errors over the last 24 hours. */
export async function deploymentsPage() {
  const [deployments, flows, servers] = await Promise.all([list('/deployments'), list('/flows'),
    list('/inference-servers')]);
  const flowsById = new Map(flows.map((f) => [f.id, f]));
  const serversById = new Map(servers.map((s) => [s.id, s]));
  deployments.sort((a, b) => a.name.localeCompare(b.name));
  const usage = await Promise.all(deployments.map((d) => get(`/deployments/${d.id}/usage?window=24h`)
    .catch(() => null)));
  const rows = deployments.map((d, i) => {
    const u = usage[i];
    const flow = flowsById.get(d.flow_id);
    const { state, note } = deploymentState(d, flowsById, serversById);
    return h('tr', { 'data-deployment': d.id },
      h('td', {}, h('a', { href: `#/deployments/${d.id}` }, d.name)),
      h('td', {}, flow ? h('a', { href: `#/flows/${flow.id}` }, flow.name) : h('span', { class: 'muted' }, '—'),
        d.flow_version ? ` v${d.flow_version}` : ''),
      h('td', {}, d.execution_mode),
      h('td', {}, d.deployment_type),
      h('td', { title: note }, stateBadge(state)),
      h('td', {}, u ? when(u.last_call_at) : '–'),
      h('td', { class: 'num', 'data-calls': '' }, u ? count(u.calls) : '–'),
      h('td', { class: 'num' }, u ? count(u.errors) : '–'));
  });
  return h('div', {},
    pageHead('Deployments', 'Each deployment is an authenticated endpoint: POST /node/deployment-trigger/{id}/.',
      h('button', { type: 'button', onclick: () => createDeploymentDialog() }, 'Create deployment')),
    h('section', { class: 'panel' },
      table(['Name', 'Flow', 'Mode', 'Type', 'State', 'Last call', { label: 'Calls 24 h', className: 'num' },
        { label: 'Errors 24 h', className: 'num' }], rows,
      'No deployments yet. Create a flow, then "Create deployment".')));
}
