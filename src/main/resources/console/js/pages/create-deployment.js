import { list, post } from '../api.js';
import { busy, clearErrors, field, h, openDialog, secretsDialog, showErrors } from '../ui.js';

const MODES = [
  ['sync', 'Sync', 'The caller waits for the run and gets its output (default).'],
  ['async', 'Async', 'Answers 202 at once with a flow_run_id to poll, or a webhook.'],
  ['fast', 'Fast Mode', 'Forwards input_data straight to a warm inference server; no flow.'],
];
const TYPES = [
  ['api', 'API', 'Runs go through the distributed queue; any node runs them (default).'],
  ['server', 'Server', 'Runs execute on the node that took the call, without the queue.'],
];
const EVENTS = ['run.started', 'run.completed', 'run.failed'];

function radios(name, options, checked) {
  return h('div', { class: 'choices', role: 'radiogroup', 'data-field': name },
    options.map(([value, title, text]) => h('label', { class: 'choice' },
      h('input', { type: 'radio', name, value, checked: value === checked }),
      h('span', {}, h('strong', {}, title), h('span', { class: 'hint' }, text)))));
}

function section(title, open, ...content) {
  const value = h('span', { class: 'summary-value' });
  const details = h('details', { class: 'section', open }, h('summary', {}, title, value), content);
  return { details, value };
}

/** A number as a number; anything else as typed, so that the API says what is wrong with it. */
function numberOr(raw) {
  const text = raw.trim();
  return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}

/**
 * The "Create deployment" dialog: name and flow, then collapsible sections (execution mode, deployment type,
 * timeout and body size, webhook, rate limit) with the API's defaults. The API validates; its messages appear next
 * to the fields they name. On success the new API key (and webhook secret) is shown once.
 */
export async function createDeploymentDialog(flowId) {
  const [flows, servers] = await Promise.all([list('/flows'), list('/inference-servers')]);
  const created = await openDialog('Create deployment', (close, heading) => {
    const name = h('input', { type: 'text', name: 'name', 'data-field': 'name', autocomplete: 'off' });
    const flow = h('select', { name: 'flow_id', 'data-field': 'flow_id' },
      h('option', { value: '' }, '— none (Fast Mode only) —'),
      flows.map((f) => h('option', { value: f.id, selected: f.id === flowId }, `${f.name} (v${f.version})`)));
    const chosenFlow = flows.find((f) => f.id === flowId) || (flowId === undefined ? flows[0] : null);
    if (chosenFlow) {
      flow.value = chosenFlow.id;
      name.value = chosenFlow.name;
    }
    flow.addEventListener('change', () => {
      const f = flows.find((x) => x.id === flow.value);
      if (f && (!name.value || flows.some((x) => x.name === name.value))) {
        name.value = f.name;
      }
    });
    const server = h('select', { name: 'inference_server_id', 'data-field': 'inference_server_id' },
      h('option', { value: '' }, servers.length ? '— choose an inference server —' : '— no inference servers yet —'),
      servers.map((s) => h('option', { value: s.id }, `${s.name} (${s.state})`)));
    const serverField = field('Inference server', server, 'Fast Mode forwards each call to this server.');
    const mode = section('Execution mode', true, radios('execution_mode', MODES, 'sync'), serverField);
    const type = section('Deployment type', false, radios('deployment_type', TYPES, 'api'));
    const timeout = h('input', { type: 'text', inputmode: 'numeric', name: 'timeout_seconds',
      'data-field': 'timeout_seconds', placeholder: '3600' });
    const maxBody = h('input', { type: 'text', inputmode: 'numeric', name: 'max_body_bytes',
      'data-field': 'max_body_bytes', placeholder: '1048576' });
    const limits = section('Timeout and body size', false, h('div', { class: 'row' },
      field('Timeout (seconds)', timeout, 'A run that takes longer ends timed_out. Empty: 3600.'),
      field('Largest request body (bytes)', maxBody, 'Empty: the gateway default (1 MiB).')));
    const method = h('select', { name: 'notification.method', 'data-field': 'notification.method' },
      h('option', { value: 'none' }, 'None'), h('option', { value: 'webhook' }, 'Webhook'));
    const url = h('input', { type: 'url', name: 'notification.url', 'data-field': 'notification.url',
      placeholder: 'https://example.com/hooks/flowgate' });
    const events = h('fieldset', { 'data-field': 'notification.events' }, h('legend', { class: 'hint' }, 'Events'),
      EVENTS.map((e) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: e, checked: true }), e)));
    const webhookFields = h('div', {}, field('Callback URL', url, 'Signed per Standard Webhooks; the secret is shown '
      + 'once after creation.'), events);
    const notify = section('Notification (webhook)', false, field('Method', method), webhookFields);
    const limitOn = h('input', { type: 'checkbox', name: 'rate_limit' });
    const rps = h('input', { type: 'text', inputmode: 'decimal', name: 'rate_limit.requests_per_second',
      'data-field': 'rate_limit.requests_per_second', value: '50' });
    const burst = h('input', { type: 'text', inputmode: 'numeric', name: 'rate_limit.burst',
      'data-field': 'rate_limit.burst', value: '100' });
    const limitFields = h('div', { class: 'row' }, field('Requests per second', rps),
      field('Burst', burst, 'Requests a key may make at once.'));
    const rate = section('Rate limit', false, h('div', { 'data-field': 'rate_limit' },
      h('label', { class: 'check' }, limitOn, 'Limit each API key of this deployment')), limitFields);

    const submit = h('button', { type: 'submit' }, 'Create deployment');
    const footer = h('div', { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'secondary', onclick: () => close(null) }, 'Cancel'), submit);
    const form = h('form', { method: 'dialog', novalidate: true }, heading,
      field('Name', name), field('Flow', flow, 'The deployment pins the flow\'s current version.'),
      mode.details, type.details, limits.details, notify.details, rate.details, footer);

    const checked = (n) => form.querySelector(`input[name="${n}"]:checked`).value;
    const sync = () => {
      const fast = checked('execution_mode') === 'fast';
      serverField.hidden = !fast;
      webhookFields.hidden = method.value !== 'webhook';
      limitFields.hidden = !limitOn.checked;
      mode.value.textContent = `: ${checked('execution_mode')}`;
      type.value.textContent = `: ${checked('deployment_type')}`;
      limits.value.textContent = `: ${timeout.value.trim() || '3600'} s`;
      notify.value.textContent = `: ${method.value}`;
      rate.value.textContent = limitOn.checked ? `: ${rps.value}/s, burst ${burst.value || 'default'}` : ': off';
    };
    form.addEventListener('input', sync);
    form.addEventListener('change', sync);
    sync();

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { name: name.value, execution_mode: checked('execution_mode'),
        deployment_type: checked('deployment_type') };
      if (flow.value) {
        body.flow_id = flow.value;
      }
      if (body.execution_mode === 'fast' && server.value) {
        body.inference_server_id = server.value;
      }
      if (timeout.value.trim()) {
        body.timeout_seconds = numberOr(timeout.value);
      }
      if (maxBody.value.trim()) {
        body.max_body_bytes = numberOr(maxBody.value);
      }
      if (method.value === 'webhook') {
        body.notification = { method: 'webhook', url: url.value.trim(),
          events: [...events.querySelectorAll('input:checked')].map((c) => c.value) };
      }
      if (limitOn.checked) {
        body.rate_limit = { requests_per_second: numberOr(rps.value) };
        if (burst.value.trim()) {
          body.rate_limit.burst = numberOr(burst.value);
        }
      }
      busy(submit, async () => {
        try {
          close(await post('/deployments', body));
        } catch (e) {
          if (e.status !== 401) {
            showErrors(form, e, footer);
          }
        }
      });
    });
    return form;
  });
  if (!created) {
    return;
  }
  const secrets = [];
  if (created.api_key) {
    secrets.push({ label: 'API key', value: created.api_key, name: 'api_key' });
  }
  if (created.webhook_secret) {
    secrets.push({ label: 'Webhook signing secret', value: created.webhook_secret, name: 'webhook_secret' });
  }
  const choice = await secretsDialog(`Deployment "${created.name}" created`,
    'Send the API key in the X-API-Key header of each call to this deployment.', secrets, 'Open deployment');
  if (choice === 'then' || location.hash !== `#/deployments/${created.id}`) {
    location.hash = `#/deployments/${created.id}`;
  }
}
