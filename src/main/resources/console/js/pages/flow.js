import { del, get, post, put } from '../api.js';
import { drawFlow } from '../dag.js';
import { busy, clear, confirmButton, h, pageHead, rerender, toast, when } from '../ui.js';
import { createDeploymentDialog } from './create-deployment.js';

const TEMPLATE = {
  name: 'my-flow',
  nodes: [
    { id: 'input', type: 'api_input', config: { test_data: { name: 'Ada' },
      schema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } } } },
    { id: 'greet', type: 'transform', config: { expression: '{"greeting": "Hello, " & name & "!"}' } },
    { id: 'output', type: 'output', config: {} },
  ],
  edges: [{ from: 'input', to: 'greet' }, { from: 'greet', to: 'output' }],
};

/**
 * The JSON in an editor, after clearing its previous errors; on a syntax error fail(message) and undefined.
 */
function parsedJson(area, errors, what, fail) {
  clear(errors);
  area.removeAttribute('aria-invalid');
  try {
    return JSON.parse(area.value);
  } catch (e) {
    fail(`${what} is not valid JSON: ${e.message}`, []);
    return undefined;
  }
}

/** The part of a stored flow that is edited: name, nodes, edges. */
function definition(flow) {
  return { name: flow.name, nodes: flow.nodes, edges: flow.edges };
}

/**
 * A JSON editor with a live drawing of the DAG beside it; the server's validation errors (and JSON syntax errors)
 * are shown right below the editor.
 */
function flowEditor(text, submitLabel, onSubmit) {
  const area = h('textarea', { class: 'code', id: 'flow-json', spellcheck: 'false', 'aria-describedby': 'flow-json-help',
    'data-field': 'definition' });
  area.value = text;
  const errors = h('div', { id: 'flow-errors', 'aria-live': 'polite' });
  const picture = h('div', {});
  const submit = h('button', { type: 'submit' }, submitLabel);
  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', {}, h('label', { for: 'flow-json' }, 'Definition (JSON)')),
    h('p', { class: 'hint', id: 'flow-json-help' }, 'name, nodes (id, type, config) and edges (from, to, optional when). '
      + 'Exactly one api_input and one output; no cycles. Saving makes a new version; deployments keep theirs until '
      + 'redeployed.'),
    area, errors, h('div', { class: 'dialog-foot' }, submit));
  const redraw = () => {
    try {
      clear(picture).appendChild(drawFlow(JSON.parse(area.value)));
    } catch (e) {
      // Half-typed JSON: keep the last drawing.
    }
  };
  let timer;
  area.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(redraw, 250);
  });
  // Tab indents inside the editor; Escape then Tab leaves it (keyboard users are not trapped).
  let escaped = false;
  area.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      escaped = true;
      return;
    }
    if (event.key === 'Tab' && !event.shiftKey && !escaped) {
      event.preventDefault();
      area.setRangeText('  ', area.selectionStart, area.selectionEnd, 'end');
      return;
    }
    escaped = false;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const parsed = parsedJson(area, errors, 'The definition', showFlowError);
    if (parsed === undefined) {
      return;
    }
    busy(submit, async () => {
      try {
        await onSubmit(parsed);
      } catch (e) {
        showFlowError(e.message, e.details || []);
      }
    });
  });
  function showFlowError(message, details) {
    const more = details.filter((d) => d && d.message && d.message !== message);
    errors.appendChild(h('div', { class: 'form-error', role: 'alert', id: 'flow-error' }, message,
      more.length ? h('ul', {}, more.map((d) => h('li', {}, d.message))) : null));
    area.setAttribute('aria-invalid', 'true');
    area.setAttribute('aria-describedby', 'flow-error flow-json-help');
    area.focus();
  }
  redraw();
  return { form, picture };
}

/** #/flows/new */
export async function newFlowPage() {
  const editor = flowEditor(JSON.stringify(TEMPLATE, null, 2), 'Create flow', async (parsed) => {
    const flow = await post('/flows', parsed);
    toast(`Flow "${flow.name}" created.`);
    location.hash = `#/flows/${flow.id}`;
  });
  return h('div', {},
    pageHead('New flow', 'Write the flow as JSON; the drawing follows as you type.'),
    h('div', { class: 'grid-2' }, h('section', { class: 'panel' }, h('h2', {}, 'Graph'), editor.picture),
      editor.form));
}

/** #/flows/{id}: the drawn DAG, the API Input node's test data, the JSON definition; deploy or delete. */
export async function flowPage(id) {
  const flow = await get(`/flows/${id}`);
  const editor = flowEditor(JSON.stringify(definition(flow), null, 2), 'Save new version', async (parsed) => {
    const saved = await put(`/flows/${id}`, parsed);
    toast(`Saved as version ${saved.version}.`);
    rerender();
  });
  const deploy = h('button', { type: 'button', onclick: () => createDeploymentDialog(flow.id) }, 'Create deployment');
  const remove = confirmButton('Delete', 'secondary', ['Delete flow?', `Delete the flow "${flow.name}" and all its `
    + 'versions? This cannot be undone. A flow that is still deployed cannot be deleted.', 'Delete flow'], async () => {
    await del(`/flows/${id}`);
    toast(`Flow "${flow.name}" deleted.`);
    location.hash = '#/flows';
  });
  return h('div', {},
    pageHead(flow.name, h('span', {}, `Version ${flow.version} · ${flow.nodes.length} nodes · updated `,
      when(flow.updated_at)), [deploy, remove]),
    h('section', { class: 'panel' }, h('h2', {}, 'Graph'), editor.picture),
    testDataEditor(flow),
    editor.form);
}

/** Edits the API Input node's test_data (used in example code and Postman), saved as a new version. */
function testDataEditor(flow) {
  const input = flow.nodes.find((n) => n.type === 'api_input');
  if (!input) {
    return null;
  }
  const area = h('textarea', { class: 'code short', id: 'test-data', spellcheck: 'false' });
  area.value = JSON.stringify((input.config && input.config.test_data) || {}, null, 2);
  const errors = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'Save test data');
  const form = h('form', { class: 'panel', novalidate: true },
    h('h2', {}, h('label', { for: 'test-data' }, `Test data of "${input.id}" (API Input)`)),
    h('p', { class: 'hint' }, 'The input_data that the example code, the Postman collection and the OpenAPI example '
      + 'send. A JSON object.'),
    area, errors, h('div', { class: 'dialog-foot' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = parsedJson(area, errors, 'The test data', fail);
    if (data === undefined) {
      return;
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) {
      fail('The test data must be a JSON object, such as {"name": "Ada"}.');
      return;
    }
    const changed = definition(flow);
    changed.nodes = changed.nodes.map((n) => (n.id === input.id
      ? { ...n, config: { ...(n.config || {}), test_data: data } } : n));
    busy(submit, async () => {
      try {
        const saved = await put(`/flows/${flow.id}`, changed);
        toast(`Test data saved as version ${saved.version}.`);
        rerender();
      } catch (e) {
        fail(e.message);
      }
    });
  });
  function fail(message) {
    errors.appendChild(h('p', { class: 'form-error', role: 'alert', id: 'test-data-error' }, message));
    area.setAttribute('aria-invalid', 'true');
    area.setAttribute('aria-describedby', 'test-data-error');
    area.focus();
  }
  return form;
}
