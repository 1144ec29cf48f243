// /returns (partners): today's return, built from the sector's framework, showing the level the figures give before
// submitting; then the partner's own 14-day history.
import { $, ApiError, announce, api, formatDate, get, h, inset, loadFailed, londonDate, onSubmit, opelTag, replace, showErrors, startPage,
  summaryList, words } from '/web/app.js';
import { lastDays, levelChart } from '/web/charts.js';

const user = await startPage(['Partner']);
const org = user.org;
const today = londonDate();

try {
  const [partner, frameworks, existing] = await Promise.all([
    get(`/api/partners/${encodeURIComponent(org)}`),
    get('/api/opel/frameworks'),
    get(`/api/returns/${today}/${encodeURIComponent(org)}`).catch((e) => { if (e instanceof ApiError && e.status === 404) return null; throw e; }),
  ]);
  $('heading').textContent = `Daily OPEL return for ${partner.name}, ${formatDate(today)}`;
  const framework = frameworks.frameworks.find((f) => f.sector === partner.sector) ?? null;
  showForm(partner, framework, framework?.bands ?? frameworks.bands, existing);
} catch (error) {
  loadFailed('form-area', error);
}
await showHistory();

/** The level the figures give: the same rule as the API's scoring (DOMAIN.md), shown before submitting. */
export function score(framework, bands, metrics) {
  const breakdown = framework.parameters.filter((p) => metrics[p.key] !== undefined).map((p) => {
    const v = metrics[p.key];
    const level = p.worseWhen === 'higherIsWorse'
      ? (v >= p.level4 ? 4 : v >= p.level3 ? 3 : v >= p.level2 ? 2 : 1)
      : (v < p.level4 ? 4 : v < p.level3 ? 3 : v < p.level2 ? 2 : 1);
    return { key: p.key, level, weight: p.weight };
  });
  const total = framework.parameters.reduce((s, p) => s + p.weight, 0);
  const reported = breakdown.reduce((s, b) => s + b.weight, 0);
  if (reported === 0 || reported * 2 < total) return { level: null, breakdown };
  const sum = breakdown.reduce((s, b) => s + b.weight * b.level, 0);
  const level = sum <= bands.opel1UpTo * reported ? 1 : sum <= bands.opel2UpTo * reported ? 2 : sum <= bands.opel3UpTo * reported ? 3 : 4;
  return { level, score: Math.round((sum * total / reported) * 100) / 100, breakdown };
}

function threshold(p) {
  const worse = p.worseWhen === 'higherIsWorse' ? 'from' : 'below';
  return `OPEL 2 ${worse} ${p.level2}, OPEL 3 ${worse} ${p.level3}, OPEL 4 ${worse} ${p.level4} ${p.unit === '%' ? '%' : p.unit}. Weight ${p.weight}.`;
}

function showForm(partner, framework, bands, existing) {
  const previous = existing?.revisions?.at(-1)?.metrics ?? {};
  const parameters = framework?.parameters ?? [];
  const levelOptions = [1, 2, 3, 4].map((l) => h('option', { value: String(l) }, `OPEL ${l}`));
  const form = h('form', { id: 'return-form' },
    existing ? inset(`You submitted today's return (revision ${existing.revision}, effective level OPEL ${existing.effectiveLevel ?? 'none'}). Submitting again makes a new revision.`) : null,
    framework?.illustrative ? h('p', { class: 'nhsuk-body-s' }, `Thresholds: ${framework.source} (version ${framework.version}, illustrative).`) : null,
    framework ? null : h('p', {}, `There is no OPEL table for the ${words(partner.sector).toLowerCase()} sector: declare your level.`),
    parameters.map((p) => h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: `metric-${p.key}` }, `${p.name} (${p.unit})`),
      h('div', { class: 'nhsuk-hint', id: `metric-${p.key}-hint` }, threshold(p)),
      h('input', { class: 'nhsuk-input nhsuk-input--width-5', id: `metric-${p.key}`, name: p.key, type: 'text', inputmode: 'decimal',
        'aria-describedby': `metric-${p.key}-hint`, value: previous[p.key] === undefined ? '' : String(previous[p.key]), 'data-min': p.min, 'data-max': p.max }))),
    framework ? h('div', { class: 'nhsuk-card winterops-preview' }, h('div', { class: 'nhsuk-card__content' },
      h('h2', { class: 'nhsuk-card__heading nhsuk-heading-s' }, 'The level these figures give'),
      h('p', { id: 'preview', 'aria-live': 'polite' }, 'Enter the figures to see the level.'))) : null,
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'declaredLevel' }, framework ? 'Declare a different level (optional)' : 'Your OPEL level'),
      h('select', { class: 'nhsuk-select', id: 'declaredLevel', name: 'declaredLevel' }, h('option', { value: '' }, framework ? 'Use the level the figures give' : 'Choose a level'), levelOptions)),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'reason' }, 'Reason for declaring a level (required when it differs)'),
      h('textarea', { class: 'nhsuk-textarea', id: 'reason', name: 'reason', rows: '2', maxlength: '500' })),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'comment' }, 'Comment (optional)'),
      h('textarea', { class: 'nhsuk-textarea', id: 'comment', name: 'comment', rows: '2', maxlength: '1000' })),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Submit return'));
  replace('form-area', form);

  const read = () => {
    const metrics = {};
    const errors = {};
    for (const p of parameters) {
      const raw = form.elements[p.key].value.trim();
      if (raw === '') continue;
      const value = Number(raw);
      if (!Number.isFinite(value)) errors[p.key] = [`${p.name} must be a number`];
      else if (value < p.min || value > p.max) errors[p.key] = [`${p.name} must be between ${p.min} and ${p.max}`];
      else metrics[p.key] = value;
    }
    return { metrics, errors };
  };
  const preview = () => {
    if (!framework) return null;
    const result = score(framework, bands, read().metrics);
    replace('preview', result.level === null
      ? 'Not enough figures yet: enter at least half of the weighted parameters.'
      : [h('span', {}, 'The figures give '), opelTag(result.level), h('span', {}, ` (score ${result.score}).`)]);
    return result;
  };
  form.addEventListener('input', preview);
  preview();

  onSubmit(form, async (data) => {
    const { metrics, errors } = read();
    const declared = data.get('declaredLevel') ? Number(data.get('declaredLevel')) : null;
    const computed = preview()?.level ?? null;
    if (!framework && declared === null) errors.declaredLevel = ['Choose your OPEL level'];
    if (framework && Object.keys(metrics).length === 0 && declared === null) errors[parameters[0].key] = ['Enter the figures, or declare a level'];
    if (declared !== null && declared !== computed && !data.get('reason')?.trim()) errors.reason = ['Say why you are declaring a different level'];
    if (Object.keys(errors).length > 0) { showErrors(form, errors); return; }
    const response = await api(`/api/returns/${today}/${encodeURIComponent(org)}`, {
      method: 'PUT',
      body: { metrics, declaredLevel: declared, reason: data.get('reason')?.trim() || null, comment: data.get('comment')?.trim() || null },
    });
    const result = response.body;
    form.replaceWith(h('div', { class: 'nhsuk-panel', id: 'submitted' },
      h('h2', { class: 'nhsuk-panel__title' }, 'Return submitted'),
      h('div', { class: 'nhsuk-panel__body' }, h('p', {}, 'Your level today is ', h('span', { id: 'submitted-level' }, `OPEL ${result.effectiveLevel ?? 'none'}`), '.'))),
    summaryList([
      ['Computed level', result.computedLevel ? `OPEL ${result.computedLevel}` : 'None'],
      ['Effective level', result.effectiveLevel ? `OPEL ${result.effectiveLevel}` : 'None'],
      ['Score', result.score === null || result.score === undefined ? 'None' : String(result.score)],
      ['Revision', String(result.revision)],
    ]), h('a', { href: '/returns' }, 'Change today\'s return'));
    announce(`Return submitted: OPEL ${result.effectiveLevel ?? 'none'}.`);
    await showHistory();
  });
}

async function showHistory() {
  try {
    const days = lastDays(today, 14);
    const history = await get(`/api/system/history?from=${days[0]}&to=${today}`);
    const byDate = new Map(history.map((d) => [d.date, d]));
    const values = days.map((d) => byDate.get(d)?.partners.find((p) => p.odsCode === org)?.effectiveLevel ?? null);
    replace('history', await levelChart('history-chart', `OPEL level of ${org}, ${formatDate(days[0])} to ${formatDate(today)}`, days,
      [{ label: org, values, emphasis: true }]));
  } catch (error) {
    loadFailed('history', error);
  }
}
