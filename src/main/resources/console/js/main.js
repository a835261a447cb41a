// The console's shell: sign-in gate, hash routes (#/deployments/…; the token never appears in a URL), navigation.
import { onSessionEnded, session } from './api.js';
import { clear, errorPanel } from './ui.js';
import { signInPage } from './pages/signin.js';
import { deploymentsPage } from './pages/deployments.js';
import { deploymentPage } from './pages/deployment.js';
import { flowsPage } from './pages/flows.js';
import { flowPage, newFlowPage } from './pages/flow.js';
import { keysPage } from './pages/keys.js';
import { serversPage } from './pages/servers.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signOutButton = document.getElementById('signout');
let renderSeq = 0;
let signInNotice = null;

const ROUTES = [
  [/^#\/deployments$/, 'deployments', () => deploymentsPage()],
  [/^#\/deployments\/([0-9a-f-]{36})$/, 'deployments', (m) => deploymentPage(m[1])],
  [/^#\/flows$/, 'flows', () => flowsPage()],
  [/^#\/flows\/new$/, 'flows', () => newFlowPage()],
  [/^#\/flows\/([0-9a-f-]{36})$/, 'flows', (m) => flowPage(m[1])],
  [/^#\/keys$/, 'keys', () => keysPage()],
  [/^#\/servers$/, 'servers', () => serversPage()],
];

/** Renders the page for the current hash; a page's late result is dropped when the user has moved on. */
async function render() {
  const seq = ++renderSeq;
  const hash = location.hash;
  if (!hash.startsWith('#/')) {
    if (hash === '' || hash === '#') {
      history.replaceState(null, '', '#/deployments');
      render();
    }
    return;
  }
  if (!session.token()) {
    showSignedIn(false);
    mount(seq, signInPage(() => render(), signInNotice));
    signInNotice = null;
    return;
  }
  showSignedIn(true);
  const route = ROUTES.map(([re, section, page]) => [re.exec(hash), section, page]).find(([m]) => m);
  if (!route) {
    history.replaceState(null, '', '#/deployments');
    render();
    return;
  }
  const [match, section, page] = route;
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.section === section) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  main.setAttribute('aria-busy', 'true');
  let content;
  try {
    content = await page(match);
  } catch (error) {
    content = errorPanel(error, () => render());
  }
  if (seq === renderSeq && session.token()) {
    mount(seq, content);
  }
}

function mount(seq, content) {
  if (seq !== renderSeq) {
    return;
  }
  clear(main).appendChild(content);
  main.removeAttribute('aria-busy');
  const heading = main.querySelector('h1');
  const title = heading ? heading.textContent : 'Console';
  document.title = `${title} · flowgate`;
  const focusTarget = main.querySelector('[data-autofocus]') || heading || main;
  focusTarget.focus({ preventScroll: true });
}

function showSignedIn(signedIn) {
  nav.hidden = !signedIn;
  signOutButton.hidden = !signedIn;
}

onSessionEnded((error) => {
  if (!session.token()) {
    return;
  }
  session.signOut();
  signInNotice = `Your session has ended: ${error.message} Sign in again with a valid management token.`;
  for (const dialog of document.querySelectorAll('dialog')) {
    dialog.close();
  }
  render();
});

signOutButton.addEventListener('click', () => {
  session.signOut();
  signInNotice = 'You have signed out.';
  render();
});

window.addEventListener('hashchange', render);
render();
