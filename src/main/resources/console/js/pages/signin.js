import { get, session } from '../api.js';
import { busy, field, h } from '../ui.js';

/** Sign-in with a management token (the admin token or a profile's mt-… token), checked against the API. */
export function signInPage(done, notice) {
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false',
    required: true, 'data-autofocus': '', 'data-field': 'token' });
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'panel signin', novalidate: true },
    h('h1', { tabindex: '-1' }, 'Sign in to flowgate'),
    notice ? h('p', { class: 'warning', role: 'status' }, notice) : null,
    h('p', { class: 'muted' }, 'Use the admin token (FLOWGATE_ADMIN_TOKEN) or a profile\'s management token (mt-…). '
      + 'It stays in this tab only and is forgotten when the tab closes.'),
    field('Management token', input),
    error,
    h('div', { class: 'dialog-foot' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = input.value.trim();
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    if (!token) {
      showError('Enter your management token.');
      return;
    }
    busy(submit, async () => {
      try {
        await get('/flows', { token });
      } catch (e) {
        showError(e.status === 401 ? `That token was not accepted: ${e.message}` : e.message);
        return;
      }
      session.signIn(token);
      done();
    });
  });

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }
  return form;
}
