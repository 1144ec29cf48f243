// WinterOps pages: sign-in, the API client and the small helpers every page shares.
// The pages are HTML shells; everything they show comes from the public API (/api/...) with the caller's
// bearer token, which stays in this browser tab (sessionStorage), never in a cookie.
import { initAll } from '/web/lib/nhsuk-frontend.min.js';

const config = JSON.parse(document.querySelector('meta[name="winterops-sign-in"]').content);
const STORE = 'winterops.session';

export const ROLES = {
  Coordinator: 'Coordination centre',
  Executive: 'System executive',
  Broker: 'Care-home broker',
  Partner: 'Partner organisation',
  DischargeTeam: 'Discharge team',
};

/** The pages each role works in (the home page lists them; the header links to them). */
const NAVIGATION = [
  { href: '/dashboard', text: 'Dashboard', roles: ['Coordinator', 'Executive'] },
  { href: '/escalations', text: 'Escalations', roles: ['Executive', 'Coordinator'] },
  { href: '/offers', text: 'Offers', roles: ['Broker'] },
  { href: '/returns', text: 'Daily return', roles: ['Partner'] },
  { href: '/placements', text: 'Placements', roles: ['DischargeTeam', 'Coordinator'] },
];

export const pagesFor = (user) => NAVIGATION.filter((n) => n.roles.includes(user.role));

// ---- Sign-in --------------------------------------------------------------------------------------

let msalApp = null;

async function msal() {
  if (msalApp) return msalApp;
  await loadScript('/web/lib/msal-browser.min.js');
  msalApp = new window.msal.PublicClientApplication({
    auth: { clientId: config.clientId, authority: config.authority, redirectUri: `${location.origin}/` },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await msalApp.initialize();
  const redirect = await msalApp.handleRedirectPromise();
  if (redirect?.account) msalApp.setActiveAccount(redirect.account);
  return msalApp;
}

export const signInMode = config.mode;

/** Development: a token for a demo user from the local development issuer. */
export async function signInAs(role, org, name) {
  const response = await fetch('/api/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ role, org, name }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body);
  sessionStorage.setItem(STORE, JSON.stringify({ token: body.accessToken, expiresAt: body.expiresAt, role, org, name }));
  return currentUser();
}

/** Entra: MSAL's redirect sign-in, for the app registration's roles. */
export async function signInWithEntra(next) {
  const app = await msal();
  await app.loginRedirect({ scopes: [config.scope], state: next ?? '/' });
}

export async function signOut() {
  sessionStorage.removeItem(STORE);
  if (config.mode === 'entra') {
    const app = await msal();
    await app.logoutRedirect({ postLogoutRedirectUri: `${location.origin}/` });
    return;
  }
  location.assign('/');
}

/** The signed-in user ({name, role, org, roles, orgs}) or null. */
export async function currentUser() {
  if (config.mode === 'entra') {
    const app = await msal();
    const account = app.getActiveAccount() ?? app.getAllAccounts()[0];
    if (!account) return null;
    app.setActiveAccount(account);
    const claims = account.idTokenClaims ?? {};
    const roles = [].concat(claims[config.roleClaim] ?? []);
    const orgs = [].concat(claims[config.orgClaim] ?? []);
    return { name: claims[config.nameClaim] ?? account.name ?? account.username, role: roles[0] ?? '', org: orgs[0] ?? '', roles, orgs };
  }
  const session = JSON.parse(sessionStorage.getItem(STORE) ?? 'null');
  if (!session || Date.parse(session.expiresAt) <= Date.now()) return null;
  return { name: session.name, role: session.role, org: session.org, roles: [session.role], orgs: session.org ? [session.org] : [] };
}

async function token() {
  if (config.mode === 'entra') {
    const app = await msal();
    try {
      return (await app.acquireTokenSilent({ scopes: [config.scope] })).accessToken;
    } catch {
      await app.acquireTokenRedirect({ scopes: [config.scope], state: location.pathname + location.search });
      return null;
    }
  }
  return JSON.parse(sessionStorage.getItem(STORE) ?? 'null')?.token ?? null;
}

/**
 * Starts a page: shows who is signed in and the header links, and returns the user; without one (or in another
 * role) it sends the browser to the sign-in page, which comes back here afterwards.
 */
export async function startPage(roles) {
  initAll();
  const user = await currentUser();
  if (!user || (roles && !roles.some((r) => user.roles.includes(r)))) {
    const next = encodeURIComponent(location.pathname + location.search);
    location.replace(`/?next=${next}${user ? '&role=wrong' : ''}`);
    return new Promise(() => {}); // the page is leaving
  }
  showAccount(user);
  return user;
}

export function showAccount(user) {
  document.getElementById('account').hidden = false;
  document.getElementById('account-name').textContent = `${user.name} (${ROLES[user.role] ?? user.role}${user.org ? `, ${user.org}` : ''})`;
  document.getElementById('sign-out').addEventListener('click', () => signOut());
  const list = document.getElementById('navigation-list');
  for (const page of pagesFor(user)) {
    const current = location.pathname === page.href || location.pathname.startsWith(`${page.href}/`);
    list.append(h('li', { class: `nhsuk-header__navigation-item${current ? ' nhsuk-header__navigation-item--current' : ''}` },
      h('a', { class: 'nhsuk-header__navigation-link', href: page.href, ...(current ? { 'aria-current': 'page' } : {}) }, page.text)));
  }
  document.getElementById('navigation').hidden = list.children.length === 0;
}

// ---- The API ----------------------------------------------------------------------------------------

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? problem?.title ?? `The request failed (${status}).`);
    this.status = status;
    this.problem = problem ?? {};
  }
}

/** Calls the API as the signed-in user. Writes carry an Idempotency-Key, so a retried click has one effect. */
export async function api(path, { method = 'GET', body, key } = {}) {
  const headers = { Accept: 'application/json' };
  const bearer = await token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET') headers['Idempotency-Key'] = key ?? crypto.randomUUID();
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (response.status === 401) {
    sessionStorage.removeItem(STORE);
    location.replace(`/?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, { detail: 'Your sign-in has expired.' });
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json);
  return { status: response.status, body: json, location: response.headers.get('Location') };
}

export const get = async (path) => (await api(path)).body;

// ---- Markup -----------------------------------------------------------------------------------------

/** An element: h('a', {href: '/'}, 'Home'). Text is always text (never parsed as HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const $ = (id) => document.getElementById(id);

export function replace(id, ...children) {
  const element = $(id);
  element.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return element;
}

const OPEL_TAG = { 1: 'green', 2: 'yellow', 3: 'orange', 4: 'red' };

export function opelTag(level, { missing = false } = {}) {
  if (level === null || level === undefined) return h('strong', { class: 'nhsuk-tag nhsuk-tag--grey' }, missing ? 'Missing' : 'No level');
  return h('strong', { class: `nhsuk-tag nhsuk-tag--${OPEL_TAG[level] ?? 'grey'}` }, `OPEL ${level}`);
}

export function statusTag(status) {
  const colour = { booked: 'green', admitted: 'green', acknowledged: 'green', resolved: 'grey', open: 'blue', awaitingResponses: 'blue',
    alerted: 'red', unplaced: 'red', cancelled: 'grey', accepted: 'green', declined: 'grey', expired: 'grey', withdrawn: 'grey' }[status] ?? 'grey';
  return h('strong', { class: `nhsuk-tag nhsuk-tag--${colour}` }, words(status));
}

/** camelCase to words: awaitingResponses -> "awaiting responses". */
export const words = (text) => text === 'nhs111' ? 'NHS 111' : String(text ?? '').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().replace(/^./, (c) => c.toUpperCase());

const LONDON = 'Europe/London';
export const formatDateTime = (iso) => iso ? new Date(iso).toLocaleString('en-GB', { timeZone: LONDON, dateStyle: 'medium', timeStyle: 'short' }) : '';
export const formatDate = (iso) => iso ? new Date(`${iso.slice(0, 10)}T12:00:00Z`).toLocaleDateString('en-GB', { timeZone: LONDON, day: 'numeric', month: 'short', year: 'numeric' }) : '';

/** Today's date in London (the API's business dates are London dates). */
export function londonDate(offsetDays = 0) {
  const date = new Date(Date.now() + offsetDays * 86400000);
  return new Intl.DateTimeFormat('en-CA', { timeZone: LONDON, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

export function timeLeft(iso) {
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60000);
  if (minutes <= 0) return 'Expired';
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours} h ${minutes % 60} min left` : `${minutes} min left`;
}

export function table(caption, headings, rows, { id } = {}) {
  return h('table', { class: 'nhsuk-table', id },
    h('caption', { class: 'nhsuk-table__caption' }, caption),
    h('thead', { class: 'nhsuk-table__head' }, h('tr', { class: 'nhsuk-table__row' }, headings.map((t) => h('th', { class: 'nhsuk-table__header', scope: 'col' }, t)))),
    h('tbody', { class: 'nhsuk-table__body' }, rows.map((cells) => h('tr', { class: 'nhsuk-table__row' },
      cells.map((c, i) => i === 0 ? h('th', { class: 'nhsuk-table__header', scope: 'row' }, c) : h('td', { class: 'nhsuk-table__cell' }, c))))));
}

export const summaryList = (items) => h('dl', { class: 'nhsuk-summary-list' }, items.filter(Boolean).map(([key, value]) =>
  h('div', { class: 'nhsuk-summary-list__row' }, h('dt', { class: 'nhsuk-summary-list__key' }, key), h('dd', { class: 'nhsuk-summary-list__value' }, value))));

export const inset = (...content) => h('div', { class: 'nhsuk-inset-text' }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Information: '), h('p', {}, ...content));

/** A message in the page's live region (#status), read out by screen readers. */
export function announce(text, { error = false } = {}) {
  const region = $('status');
  if (!region) return;
  region.className = error ? 'nhsuk-error-message' : 'winterops-status';
  region.textContent = text;
}

// ---- Forms: the NHS.UK error summary and inline messages ---------------------------------------------

/** Clears a form's errors. */
export function clearErrors(form) {
  form.querySelector('.nhsuk-error-summary')?.remove();
  for (const group of form.querySelectorAll('.nhsuk-form-group--error')) group.classList.remove('nhsuk-form-group--error');
  for (const message of form.querySelectorAll('.nhsuk-error-message')) message.remove();
  for (const input of form.querySelectorAll('[aria-invalid]')) {
    input.removeAttribute('aria-invalid');
    input.classList.remove('nhsuk-input--error', 'nhsuk-select--error', 'nhsuk-textarea--error');
    input.setAttribute('aria-describedby', (input.getAttribute('aria-describedby') ?? '').split(' ').filter((d) => !d.endsWith('-error')).join(' '));
  }
}

/**
 * Shows errors ({field name: [messages]}) as the NHS.UK error summary at the top of the form, linked to each
 * field, with the message beside the field, and moves focus to the summary.
 */
export function showErrors(form, errors) {
  clearErrors(form);
  const items = [];
  for (const [field, messages] of Object.entries(errors)) {
    const input = fieldFor(form, field);
    const message = [].concat(messages).join(' ');
    const id = input?.id ?? form.querySelector('input,select,textarea,button')?.id;
    items.push(h('li', {}, id ? h('a', { href: `#${id}` }, message) : message));
    if (!input) continue;
    const group = input.closest('.nhsuk-form-group');
    group?.classList.add('nhsuk-form-group--error');
    const errorId = `${input.id}-error`;
    const span = h('span', { class: 'nhsuk-error-message', id: errorId }, h('span', { class: 'nhsuk-u-visually-hidden' }, 'Error: '), message);
    const anchor = input.closest('.nhsuk-input-wrapper, .nhsuk-date-input') ?? input;
    anchor.before(span);
    input.setAttribute('aria-invalid', 'true');
    input.classList.add(input.tagName === 'SELECT' ? 'nhsuk-select--error' : input.tagName === 'TEXTAREA' ? 'nhsuk-textarea--error' : 'nhsuk-input--error');
    input.setAttribute('aria-describedby', `${input.getAttribute('aria-describedby') ?? ''} ${errorId}`.trim());
  }
  const summary = h('div', { class: 'nhsuk-error-summary', 'data-module': 'nhsuk-error-summary', tabindex: '-1', role: 'alert', 'aria-labelledby': `${form.id}-error-title` },
    h('h2', { class: 'nhsuk-error-summary__title', id: `${form.id}-error-title` }, 'There is a problem'),
    h('div', { class: 'nhsuk-error-summary__body' }, h('ul', { class: 'nhsuk-list nhsuk-error-summary__list' }, items)));
  form.prepend(summary);
  summary.focus();
}

/** The form's field for an API error key: "admissionDate", "metrics.edOver12HoursPct", "beds.nursing.occupied". */
function fieldFor(form, key) {
  const candidates = [key, key.replace(/^\$\./, ''), key.split('.').slice(1).join('.'), key.split('.').pop()];
  for (const name of candidates) {
    if (!name) continue;
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`) ?? form.querySelector(`[name="${CSS.escape(name.charAt(0).toLowerCase() + name.slice(1))}"]`);
    if (input) return input;
  }
  return null;
}

/** Shows an API failure on a form: its field errors, or its detail as the summary's one item. */
export function showProblem(form, error) {
  const problem = error instanceof ApiError ? error.problem : {};
  const errors = problem.errors && Object.keys(problem.errors).length > 0 ? problem.errors : { '': [error.message] };
  showErrors(form, errors);
}

/** Runs a form's submit handler with its errors shown and its button disabled while it runs. */
export function onSubmit(form, handler) {
  form.noValidate = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      clearErrors(form);
      await handler(new FormData(form));
    } catch (error) {
      showProblem(form, error);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

export function loadScript(src) {
  return new Promise((resolve, reject) => {
    if (document.querySelector(`script[src="${src}"]`)) { resolve(); return; }
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`Could not load ${src}`));
    document.head.append(script);
  });
}

/** A page link for a notification's link (the API's resource links map to the page that shows them). */
export function pageFor(link) {
  if (!link) return null;
  const path = link.replace(/^https?:\/\/[^/]+/, '');
  const match = path.match(/^\/api\/(escalations|placements)\/([^/]+)$/);
  if (match) return `/${match[1]}/${match[2]}`;
  if (/^\/api\/returns\//.test(path)) return '/returns';
  return path.startsWith('/api/') ? null : path;
}

/** Shows a failure to load a page's data where the data would have been. */
export function loadFailed(id, error) {
  replace(id, h('div', { class: 'nhsuk-error-summary', role: 'alert', tabindex: '-1' },
    h('h2', { class: 'nhsuk-error-summary__title' }, 'Sorry, this could not be loaded'),
    h('div', { class: 'nhsuk-error-summary__body' }, h('p', {}, error.message))));
}
