import { del, list, post } from '../api.js';
import { busy, clearErrors, confirmButton, confirmDialog, field, h, openDialog, pageHead, report, secretsDialog,
  showErrors, stateBadge, table, toast, when } from '../ui.js';

/** active, inactive (deactivated), expired, or rotated (replaced, still valid until its overlap ends). */
export function keyState(key) {
  if (key.expires_at && new Date(key.expires_at) <= new Date()) {
    return 'expired';
  }
  if (!key.active) {
    return 'inactive';
  }
  return key.replaced_by ? 'rotated' : 'active';
}

/**
 * The keys table with their actions (deactivate or activate, rotate, delete); onChanged runs after each change.
 * deploymentsById names each key's deployment.
 */
export function keyTable(keys, deploymentsById, onChanged) {
  const rows = keys.map((k) => {
    const state = keyState(k);
    const d = deploymentsById.get(k.deployment_id);
    const toggle = k.active
      ? h('button', { type: 'button', class: 'secondary small', onclick: (e) => act(e.currentTarget,
        () => post(`/api-keys/${k.id}/deactivate`), `Key ${k.key} deactivated: calls with it now get 401.`) },
      'Deactivate')
      : h('button', { type: 'button', class: 'secondary small', onclick: (e) => act(e.currentTarget,
        () => post(`/api-keys/${k.id}/activate`), `Key ${k.key} activated.`) }, 'Activate');
    const rotate = h('button', { type: 'button', class: 'secondary small', disabled: !!k.replaced_by,
      title: k.replaced_by ? 'Already rotated: rotate its replacement' : undefined,
      onclick: (e) => rotateKey(e.currentTarget, k, onChanged) }, 'Rotate');
    const remove = confirmButton('Delete', 'secondary small', ['Delete API key?', `Delete the key ${k.key}`
      + `${k.name ? ` ("${k.name}")` : ''}? Calls with it are refused at once. This cannot be undone.`, 'Delete key'],
    async () => {
      await del(`/api-keys/${k.id}`);
      toast(`Key ${k.key} deleted.`);
      onChanged();
    });
    return h('tr', { 'data-key-id': k.id },
      h('td', {}, h('code', {}, k.key), k.name ? h('div', { class: 'hint' }, k.name) : null),
      h('td', {}, k.scope === 'profile' ? h('span', { class: 'muted' }, 'every deployment')
        : d ? h('a', { href: `#/deployments/${d.id}` }, d.name) : h('span', { class: 'muted' }, 'deleted')),
      h('td', { class: 'hide-narrow' }, when(k.created_at)),
      h('td', {}, when(k.last_used_at)),
      h('td', { 'data-state': state }, stateBadge(state),
        k.expires_at && state !== 'expired' ? h('div', { class: 'hint' }, 'expires ', when(k.expires_at)) : null),
      h('td', {}, h('div', { class: 'actions' }, toggle, rotate, remove)));
  });

  async function act(button, call, message) {
    await busy(button, async () => {
      try {
        await call();
        toast(message);
        onChanged();
      } catch (e) {
        report(e);
      }
    });
  }

  return table(['Key', 'Deployment', { label: 'Created', className: 'hide-narrow' }, 'Last used', 'State', 'Actions'],
    rows, 'No API keys.');
}

async function rotateKey(button, key, onChanged) {
  if (!await confirmDialog('Rotate API key?', `Make a new key to replace ${key.key}. The old key keeps working for `
    + 'one day (the overlap), so callers can switch without a gap; then it is refused.', 'Rotate key')) {
    return;
  }
  await busy(button, async () => {
    try {
      const rotated = await post(`/api-keys/${key.id}/rotate`, {});
      await secretsDialog('New API key', `It replaces ${key.key}, which works until `
        + `${new Date(rotated.rotated_key.expires_at).toLocaleString()}.`,
      [{ label: 'API key', value: rotated.api_key, name: 'api_key' }]);
      onChanged();
    } catch (e) {
      report(e);
    }
  });
}

/** Creates a key for one deployment (deploymentId given) or, chosen in the dialog, for any or every deployment. */
export async function createKeyDialog(deployments, deploymentId) {
  const created = await openDialog('Create API key', (close, heading) => {
    const scope = h('select', { 'data-field': 'deployment_id' },
      h('option', { value: '' }, 'Every deployment of this profile'),
      deployments.map((d) => h('option', { value: d.id, selected: d.id === deploymentId }, d.name)));
    const name = h('input', { type: 'text', 'data-field': 'name', autocomplete: 'off', placeholder: 'e.g. billing-service' });
    const expires = h('input', { type: 'datetime-local', 'data-field': 'expires_at' });
    const submit = h('button', { type: 'submit' }, 'Create key');
    const footer = h('div', { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel'), submit);
    const form = h('form', { method: 'dialog', novalidate: true }, heading,
      field('Deployment', scope, 'A profile-wide key works with every deployment of the profile.'),
      field('Name (optional)', name), field('Expires (optional)', expires, 'Your local time; empty: never.'),
      footer);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = {};
      if (name.value.trim()) {
        body.name = name.value.trim();
      }
      if (expires.value) {
        const at = new Date(expires.value);
        body.expires_at = Number.isNaN(at.getTime()) ? expires.value : at.toISOString();
      }
      busy(submit, async () => {
        try {
          close(await post(scope.value ? `/deployments/${scope.value}/api-keys` : '/api-keys', body));
        } catch (e) {
          if (e.status !== 401) {
            showErrors(form, e, footer);
          }
        }
      });
    });
    return form;
  });
  if (created) {
    await secretsDialog('API key created', 'Send it in the X-API-Key header.',
      [{ label: 'API key', value: created.api_key, name: 'api_key' }]);
  }
  return created;
}

/** #/keys: every key of the profile. */
export async function keysPage() {
  const [keys, deployments] = await Promise.all([list('/api-keys'), list('/deployments')]);
  const byId = new Map(deployments.map((d) => [d.id, d]));
  const content = h('section', { class: 'panel' });
  const refresh = async () => {
    try {
      content.replaceChildren(keyTable(await list('/api-keys'), byId, refresh));
    } catch (e) {
      report(e);
    }
  };
  content.appendChild(keyTable(keys, byId, refresh));
  return h('div', {},
    pageHead('API keys', 'Keys are shown once, when created or rotated; here they are masked.',
      h('button', { type: 'button', onclick: async () => {
        if (await createKeyDialog(deployments)) {
          refresh();
        }
      } }, 'Create API key')),
    content);
}
