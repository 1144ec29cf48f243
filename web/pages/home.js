// "/": sign-in, then the signed-in user's home (their pages and their inbox).
import { ROLES, currentUser, get, h, pageFor, pagesFor, replace, showAccount, signInAs, signInMode, signInWithEntra,
  onSubmit, showErrors, formatDateTime, loadFailed } from '/web/app.js';
import { initAll } from '/web/lib/nhsuk-frontend.min.js';

initAll();
const params = new URLSearchParams(location.search);
const next = params.get('next');
const safeNext = next && next.startsWith('/') && !next.startsWith('//') ? next : null;

const user = await currentUser();
if (user && safeNext && params.get('role') !== 'wrong') {
  location.replace(safeNext);
} else if (user) {
  await home(user);
} else {
  signIn();
}

function signIn() {
  if (signInMode === 'entra') {
    replace('content',
      h('p', {}, 'Sign in with your NHS or council work account.'),
      h('button', { type: 'button', class: 'nhsuk-button', id: 'entra-sign-in', onclick: () => signInWithEntra(safeNext ?? '/') }, 'Sign in'));
    return;
  }

  const roleOptions = Object.entries(ROLES).map(([value, text]) => h('option', { value }, text));
  const form = h('form', { id: 'sign-in', novalidate: true },
    h('h2', {}, 'Sign in as a demo user'),
    h('p', {}, 'This is a development copy of WinterOps: choose who to be. Organisations are ODS codes (trusts, councils, the coordination centre QZZ) or CQC location ids (care homes).'),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'role' }, 'Role'),
      h('select', { class: 'nhsuk-select', id: 'role', name: 'role' }, roleOptions)),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'org' }, 'Organisation'),
      h('div', { class: 'nhsuk-hint', id: 'org-hint' }, 'For example RZ1 (an acute trust), QZZ (the coordination centre) or 1-9000000001 (a care home)'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-20', id: 'org', name: 'org', type: 'text', list: 'org-list', autocomplete: 'off', 'aria-describedby': 'org-hint', spellcheck: 'false' }),
      h('datalist', { id: 'org-list' })),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'name' }, 'Your name'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-20', id: 'name', name: 'name', type: 'text', autocomplete: 'name', spellcheck: 'false' })),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Sign in'));
  replace('content', form);
  if (params.get('role') === 'wrong') {
    form.before(h('div', { class: 'nhsuk-warning-callout' }, h('h2', { class: 'nhsuk-warning-callout__label' }, 'Important'),
      h('p', {}, `The page ${safeNext ?? ''} is for another role. Sign in as a user who works there.`)));
  }

  onSubmit(form, async (data) => {
    const errors = {};
    if (!data.get('org')?.trim()) errors.org = ['Enter the organisation code'];
    if (!data.get('name')?.trim()) errors.name = ['Enter your name'];
    if (Object.keys(errors).length > 0) {
      showErrors(form, errors);
      return;
    }
    const signedIn = await signInAs(data.get('role'), data.get('org').trim(), data.get('name').trim());
    const pages = pagesFor(signedIn);
    location.assign(safeNext ?? (pages.length === 1 ? pages[0].href : '/'));
  });
  listOrganisations();
}

/** Fills the organisation suggestions with the demo partners and care homes (read with a coordinator's development token). */
async function listOrganisations() {
  try {
    const response = await fetch('/api/dev/token', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role: 'Coordinator', org: 'QZZ', name: 'Sign-in picker' }) });
    const { accessToken } = await response.json();
    const read = async (path) => (await fetch(path, { headers: { Authorization: `Bearer ${accessToken}` } })).json();
    const [partners, homes] = await Promise.all([read('/api/partners'), read('/api/care-homes')]);
    replace('org-list',
      partners.map((p) => h('option', { value: p.odsCode }, `${p.name} (${p.sector})`)),
      homes.map((c) => h('option', { value: c.cqcLocationId }, `${c.name} (care home, ${c.locality})`)),
      h('option', { value: 'QZZ' }, 'System coordination centre'));
  } catch {
    // Suggestions only: the code can still be typed.
  }
}

async function home(signedIn) {
  showAccount(signedIn);
  document.getElementById('heading').textContent = `Hello, ${signedIn.name}`;
  const pages = pagesFor(signedIn);
  replace('content',
    h('h2', {}, 'Your work'),
    h('ul', { class: 'nhsuk-list' }, pages.map((p) => h('li', {}, h('a', { class: 'nhsuk-action-link__link', href: p.href }, p.text)))),
    h('h2', {}, 'Your inbox'),
    h('div', { id: 'inbox' }, h('p', {}, 'Loading…')));
  try {
    const inbox = await get('/api/inbox');
    const items = inbox.slice(0, 15);
    replace('inbox', items.length === 0 ? h('p', {}, 'Nothing new.') : h('ul', { class: 'nhsuk-list nhsuk-list--border' }, items.map((n) => {
      const link = pageFor(n.link);
      return h('li', {}, link ? h('a', { href: link }, n.title) : n.title, h('br'), h('span', { class: 'nhsuk-body-s nhsuk-u-secondary-text-colour' }, formatDateTime(n.createdAt ?? n.at)));
    })));
  } catch (error) {
    loadFailed('inbox', error);
  }
}
