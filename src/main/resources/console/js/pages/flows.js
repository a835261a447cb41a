import { list } from '../api.js';
import { h, pageHead, table, when } from '../ui.js';

/** #/flows: every flow of the profile. */
export async function flowsPage() {
  const flows = await list('/flows');
  flows.sort((a, b) => a.name.localeCompare(b.name));
  const rows = flows.map((f) => h('tr', {},
    h('td', {}, h('a', { href: `#/flows/${f.id}` }, f.name)),
    h('td', { class: 'num' }, `v${f.version}`),
    h('td', { class: 'num' }, String(f.nodes.length)),
    h('td', { class: 'hide-narrow' }, [...new Set(f.nodes.map((n) => n.type))].join(', ')),
    h('td', {}, when(f.updated_at))));
  return h('div', {},
    pageHead('Flows', 'Small DAGs of nodes that a deployment turns into an HTTP endpoint.',
      h('a', { class: 'button', href: '#/flows/new' }, 'New flow')),
    h('section', { class: 'panel' },
      table(['Name', { label: 'Version', className: 'num' }, { label: 'Nodes', className: 'num' },
        { label: 'Node types', className: 'hide-narrow' }, 'Updated'], rows,
      'No flows yet. Create one with "New flow".')));
}
