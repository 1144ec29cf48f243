// /placements (discharge teams): request a placement; my placements with their status.
import { announce, api, formatDate, formatDateTime, get, h, loadFailed, londonDate, onSubmit, replace, showErrors, startPage, statusTag, table, words } from '/web/app.js';

const user = await startPage(['DischargeTeam', 'Coordinator']);
const BED_TYPES = ['residential', 'nursing', 'residentialDementia', 'nursingDementia'];
const FUNDING = ['localAuthority', 'chc', 'fundedNursingCare', 'selfFunder', 'joint'];
const FLAGS = ['oxygen', 'bariatric', 'challengingBehaviour', 'endOfLife'];

if (user.roles.includes('DischargeTeam')) await requestForm();
await showMine();

async function requestForm() {
  const homes = await get('/api/care-homes').catch(() => []);
  const localities = [...new Set(homes.map((c) => c.locality))].sort();
  const radios = (name, legend, values, label) => h('div', { class: 'nhsuk-form-group' }, h('fieldset', { class: 'nhsuk-fieldset' },
    h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, legend),
    h('div', { class: 'nhsuk-radios nhsuk-radios--inline', 'data-module': 'nhsuk-radios' }, values.map((v) => h('div', { class: 'nhsuk-radios__item' },
      h('input', { class: 'nhsuk-radios__input', id: `${name}-${v}`, name, type: 'radio', value: v }),
      h('label', { class: 'nhsuk-label nhsuk-radios__label', for: `${name}-${v}` }, label(v)))))));
  const select = (name, text, values) => h('div', { class: 'nhsuk-form-group' },
    h('label', { class: 'nhsuk-label', for: name }, text),
    h('select', { class: 'nhsuk-select', id: name, name }, h('option', { value: '' }, 'Choose'), values.map((v) => h('option', { value: v }, words(v)))));
  const form = h('form', { id: 'request-form' },
    h('h2', {}, 'Request a placement'),
    h('p', {}, 'No names or addresses: use your local patient reference.'),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'patientRef' }, 'Patient reference'),
      h('div', { class: 'nhsuk-hint', id: 'patientRef-hint' }, 'Your local pseudonymous reference, for example BED-0042'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-10', id: 'patientRef', name: 'patientRef', type: 'text', 'aria-describedby': 'patientRef-hint', spellcheck: 'false' })),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'nhsNumber' }, 'NHS number (optional)'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-10', id: 'nhsNumber', name: 'nhsNumber', type: 'text', inputmode: 'numeric', spellcheck: 'false' })),
    radios('pathway', 'Discharge pathway', ['P2', 'P3'], (v) => v === 'P2' ? 'Pathway 2 (short-term bed)' : 'Pathway 3 (long-term bed)'),
    select('bedType', 'Bed type', BED_TYPES),
    select('fundingRoute', 'Funding route', FUNDING),
    select('locality', 'Preferred locality (optional)', localities),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'requiredBy' }, 'Required by'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-10', id: 'requiredBy', name: 'requiredBy', type: 'date', min: londonDate(), value: londonDate(7) })),
    h('div', { class: 'nhsuk-form-group' }, h('fieldset', { class: 'nhsuk-fieldset' },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, 'Clinical needs (optional)'),
      h('div', { class: 'nhsuk-checkboxes', 'data-module': 'nhsuk-checkboxes' }, FLAGS.map((f) => h('div', { class: 'nhsuk-checkboxes__item' },
        h('input', { class: 'nhsuk-checkboxes__input', id: `flag-${f}`, name: 'clinicalFlags', type: 'checkbox', value: f }),
        h('label', { class: 'nhsuk-label nhsuk-checkboxes__label', for: `flag-${f}` }, words(f))))))),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'needsSummary' }, 'Needs summary (optional, never sent in messages)'),
      h('textarea', { class: 'nhsuk-textarea', id: 'needsSummary', name: 'needsSummary', rows: '3', maxlength: '2000' })),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Request placement'));
  replace('request', form);
  onSubmit(form, async (data) => {
    const errors = {};
    if (!data.get('patientRef')?.trim()) errors.patientRef = ['Enter the patient reference'];
    if (!data.get('pathway')) errors.pathway = ['Choose the discharge pathway'];
    if (!data.get('bedType')) errors.bedType = ['Choose the bed type'];
    if (!data.get('fundingRoute')) errors.fundingRoute = ['Choose the funding route'];
    if (!data.get('requiredBy')) errors.requiredBy = ['Enter the date the bed is required by'];
    if (Object.keys(errors).length > 0) { showErrors(form, errors); return; }
    const response = await api('/api/placements', {
      method: 'POST',
      body: {
        patientRef: data.get('patientRef').trim(), nhsNumber: data.get('nhsNumber')?.replace(/\s/g, '') || null, referringOrg: user.org,
        pathway: data.get('pathway'), bedType: data.get('bedType'), fundingRoute: data.get('fundingRoute'),
        preferredLocalities: data.get('locality') ? [data.get('locality')] : [], requiredBy: data.get('requiredBy'),
        clinicalFlags: data.getAll('clinicalFlags'), needsSummary: data.get('needsSummary')?.trim() || null,
      },
    });
    announce(`Placement ${response.body.placementId} requested.`);
    location.assign(`/placements/${encodeURIComponent(response.body.placementId)}`);
  });
}

async function showMine() {
  try {
    const query = user.roles.includes('DischargeTeam') ? `?referringOrg=${encodeURIComponent(user.org)}` : '';
    const placements = (await get(`/api/placements${query}`)).sort((a, b) => Date.parse(b.requestedAt) - Date.parse(a.requestedAt));
    replace('mine', placements.length === 0 ? h('p', {}, 'No placements yet.') : table('Your placements, newest first', ['Placement', 'Patient reference', 'Bed type', 'Status', 'Required by', 'Requested'],
      placements.map((p) => [h('a', { href: `/placements/${encodeURIComponent(p.placementId)}` }, p.placementId), p.patientRef ?? '', words(p.bedType), statusTag(p.status),
        formatDate(p.requiredBy), formatDateTime(p.requestedAt)]), { id: 'my-placements' }));
  } catch (error) {
    loadFailed('mine', error);
  }
}
