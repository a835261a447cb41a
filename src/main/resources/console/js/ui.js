// Small DOM helpers: elements are built with h() and text nodes only (no HTML strings), so nothing the API returns
// can run as markup.

/** h('button', {class: 'x', onclick: fn}, 'text', child, [more]) → an element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.appendChild(child);
    } else {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
}

/** An SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child instanceof Node) {
      el.appendChild(child);
    } else if (child !== undefined && child !== null) {
      el.appendChild(document.createTextNode(String(child)));
    }
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) {
    el.removeChild(el.firstChild);
  }
  return el;
}

// ----- formatting

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** "3 min ago" with the exact time as a tooltip; "never" for null. */
export function when(iso, never = 'never') {
  if (!iso) {
    return h('span', { class: 'muted' }, never);
  }
  const at = new Date(iso);
  return h('time', { datetime: iso, title: dateTime.format(at) }, relative(at));
}

export function relative(at) {
  const seconds = Math.round((Date.now() - at.getTime()) / 1000);
  const future = seconds < 0;
  const s = Math.abs(seconds);
  let text;
  if (s < 45) {
    text = future ? 'in a few seconds' : 'just now';
    return text;
  } else if (s < 3600) {
    text = `${Math.round(s / 60)} min`;
  } else if (s < 86400) {
    text = `${Math.round(s / 3600)} h`;
  } else {
    text = `${Math.round(s / 86400)} d`;
  }
  return future ? `in ${text}` : `${text} ago`;
}

export function ms(value) {
  if (value === null || value === undefined) {
    return '–';
  }
  if (value >= 1000) {
    return `${(value / 1000).toFixed(value >= 10000 ? 0 : 2)} s`;
  }
  return `${value >= 100 ? Math.round(value) : value.toFixed(value >= 10 ? 1 : 2)} ms`;
}

export function count(n) {
  return new Intl.NumberFormat().format(n || 0);
}

export function shortId(id) {
  return id ? id.slice(0, 8) : '';
}

/** A status badge: ok, bad, warn or info by the state's meaning. */
export function badge(text, tone) {
  return h('span', { class: `badge ${tone || ''}`.trim() }, text);
}

const TONES = {
  completed: 'ok', ready: 'ok', active: 'ok', started: 'ok', live: 'ok',
  failed: 'bad', timed_out: 'bad', unavailable: 'bad', cancelled: 'warn', inactive: 'warn', expired: 'warn',
  booting: 'warn', queued: 'info', running: 'info', stopped: '', rotated: 'warn', outdated: 'warn',
};

export function stateBadge(state) {
  return badge(state.replace(/_/g, ' '), TONES[state] || '');
}

// ----- feedback

export function toast(message) {
  const box = document.getElementById('toasts');
  const item = h('div', { class: 'toast' }, message);
  box.appendChild(item);
  setTimeout(() => item.remove(), 4000);
}

/** Tells the user what went wrong with an action: the problem's message (a 401 has already ended the session). */
export function report(error) {
  if (error.status !== 401) {
    toast(error.message);
  }
}

/** A button that asks for confirmation (title, message, confirm label), then runs action; failures are reported. */
export function confirmButton(label, className, [title, message, confirmLabel], action) {
  const button = h('button', { type: 'button', class: className }, label);
  button.addEventListener('click', async () => {
    if (await confirmDialog(title, message, confirmLabel)) {
      await busy(button, () => action().catch(report));
    }
  });
  return button;
}

/** A panel saying what went wrong (the problem's message), with a retry button when given one. */
export function errorPanel(error, retry) {
  return h('div', { class: 'panel', role: 'alert' },
    h('p', { class: 'form-error' }, error.message),
    retry ? h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Try again') : null);
}

/** A button that copies text() to the clipboard and says so. */
export function copyButton(text, label = 'Copy') {
  const button = h('button', { type: 'button', class: 'secondary small', 'data-copy': '' }, label);
  button.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    const ok = await copyText(value);
    button.textContent = ok ? 'Copied' : 'Select and copy';
    setTimeout(() => { button.textContent = label; }, 2000);
  });
  return button;
}

/** Writes to the clipboard; falls back to a selection copy where the Clipboard API is unavailable (plain http). */
export async function copyText(value) {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(value);
      return true;
    }
  } catch (e) {
    // Permission refused: fall through to the selection copy.
  }
  const area = h('textarea', { class: 'visually-hidden', readonly: true });
  area.value = value;
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch (e) {
    ok = false;
  }
  area.remove();
  return ok;
}

// ----- dialogs (native <dialog>: modal, focus stays inside, Escape closes)

/** Opens a modal dialog around content; resolves with the value passed to close() (undefined on Escape). */
export function openDialog(title, build, options = {}) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: options.className });
    let result;
    const close = (value) => {
      result = value;
      dialog.close();
    };
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    const heading = h('h2', { id: titleId }, title);
    dialog.appendChild(build(close, heading));
    dialog.addEventListener('keydown', (event) => trapTab(dialog, event));
    document.body.appendChild(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus]') || dialog.querySelector('input, select, textarea, button');
    if (first) {
      first.focus();
    }
  });
}

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), '
  + 'textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';

/** Keeps Tab and Shift+Tab inside the dialog (a modal dialog alone lets focus leave to the browser's toolbar). */
function trapTab(dialog, event) {
  if (event.key !== 'Tab') {
    return;
  }
  const focusable = [...dialog.querySelectorAll(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
  if (focusable.length === 0) {
    return;
  }
  const first = focusable[0];
  const last = focusable[focusable.length - 1];
  if (event.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}

/** Asks before something that cannot be undone; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel) {
  return openDialog(title, (close, heading) => h('div', { class: 'dialog-body' },
    heading,
    h('p', {}, message),
    h('div', { class: 'dialog-foot' },
      h('button', { type: 'button', class: 'secondary', autofocus: true, onclick: () => close(false) }, 'Cancel'),
      h('button', { type: 'button', class: 'danger', onclick: () => close(true) }, confirmLabel))))
    .then((v) => v === true);
}

/**
 * Shows secrets that flowgate returns once (an API key, a webhook secret): each with a copy button and a plain
 * warning that it will not be shown again. Resolves when the user closes it; `then` adds a primary action.
 */
export function secretsDialog(title, intro, secrets, then) {
  return openDialog(title, (close, heading) => h('div', { class: 'dialog-body' },
    heading,
    h('p', {}, intro),
    secrets.map(({ label, value, name }) => [
      h('h3', {}, label),
      h('div', { class: 'secret' }, h('code', { 'data-secret': name }, value), copyButton(value)),
    ]),
    h('p', { class: 'warning' }, secrets.length > 1
      ? 'Copy these now and keep them somewhere safe: flowgate stores only their hashes and will not show them again.'
      : 'Copy it now and keep it somewhere safe: flowgate stores only its hash and will not show it again.'),
    h('div', { class: 'dialog-foot' },
      then ? h('button', { type: 'button', class: 'secondary', onclick: () => close('done') }, 'Close') : null,
      h('button', { type: 'button', autofocus: true, onclick: () => close(then ? 'then' : 'done') },
        then ? then : 'I have copied it'))));
}

// ----- forms

/** Clears the field and form errors shown in form. */
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error, .form-error')) {
    el.remove();
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
}

/**
 * Shows an ApiError in form: each message next to the control whose data-field names it (or its parent field,
 * e.g. "rate_limit" for "rate_limit.burst"), the rest above the buttons. Opens collapsed sections holding a bad
 * field and focuses the first one.
 */
export function showErrors(form, error, footer) {
  clearErrors(form);
  const unplaced = [];
  let first = null;
  const fields = error.fieldMessages ? error.fieldMessages((name) => findField(form, name) !== null) : new Map();
  for (const [field, message] of fields) {
    const control = findField(form, field);
    if (!control) {
      unplaced.push(message);
      continue;
    }
    const id = `err-${field.replace(/[^a-z0-9]/gi, '-')}`;
    const note = h('p', { class: 'field-error', id }, message);
    const anchor = control.closest('.field') || control;
    anchor.appendChild(note);
    const input = control.matches('input, select, textarea') ? control : control.querySelector('input, select, textarea');
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', id);
    }
    const section = control.closest('details');
    if (section) {
      section.open = true;
    }
    first = first || input || control;
  }
  if (fields.size === 0 || unplaced.length > 0) {
    const box = h('div', { class: 'form-error', role: 'alert' }, fields.size === 0 ? error.message : unplaced[0],
      unplaced.length > 1 ? h('ul', {}, unplaced.slice(1).map((m) => h('li', {}, m))) : null);
    form.insertBefore(box, footer || null);
    first = first || box;
  }
  if (first && first.focus) {
    first.focus();
  }
}

function findField(form, field) {
  let name = field;
  while (name) {
    const el = form.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (el) {
      return el;
    }
    const dot = name.lastIndexOf('.');
    name = dot < 0 ? '' : name.slice(0, dot);
  }
  return null;
}

/** A labelled control with an optional hint, wrapped so that its error can sit right below it. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2)}`;
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('p', { class: 'hint' }, hint) : null);
}

/** Runs action while the button is disabled (no double submits). */
export async function busy(button, action) {
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
}

/**
 * A table with a header row; rows is an array of <tr> elements. Each cell is labelled with its column, so that on a
 * phone the rows stack as cards (label, value) instead of scrolling sideways.
 */
export function table(headers, rows, emptyText) {
  if (rows.length === 0) {
    return h('p', { class: 'empty' }, emptyText);
  }
  const columns = headers.map((hd) => (typeof hd === 'string' ? { label: hd } : hd));
  for (const row of rows) {
    [...row.children].forEach((cell, i) => {
      if (columns[i]) {
        cell.dataset.label = columns[i].label;
      }
      if (cell.childNodes.length > 1) {
        cell.appendChild(h('div', {}, [...cell.childNodes]));
      }
    });
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'stack' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.className }, c.label)))),
    h('tbody', {}, rows)));
}

export function pageHead(title, sub, actions) {
  return h('div', { class: 'page-head' },
    h('div', {}, h('h1', { tabindex: '-1' }, title), sub ? h('p', { class: 'sub' }, sub) : null),
    actions ? h('div', { class: 'actions' }, actions) : null);
}

/** Renders the current page again (after a change), as the router does on navigation. */
export function rerender() {
  window.dispatchEvent(new Event('hashchange'));
}
