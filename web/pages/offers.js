// /offers (brokers): the home's open offers with the time left; accept (admission date, contact) or decline (reason); the vacancies form.
import { $, announce, api, formatDate, formatDateTime, get, h, inset, loadFailed, londonDate, onSubmit, replace, showErrors, startPage,
  summaryList, timeLeft, words } from '/web/app.js';

const user = await startPage(['Broker']);
const home = user.org;
const REASONS = ['noBedAvailable', 'cannotMeetNeeds', 'fundingNotAgreed', 'staffingPressure', 'infectionControl', 'other'];

let careHome = null;
try {
  careHome = await get(`/api/care-homes/${encodeURIComponent(home)}`);
  $('heading').textContent = `Placement offers for ${careHome.name}`;
} catch (error) {
  loadFailed('vacancies', error);
}
await showOffers();
if (careHome) showVacancies(careHome);

async function showOffers() {
  let offers;
  try {
    offers = await get(`/api/care-homes/${encodeURIComponent(home)}/offers?status=open`);
  } catch (error) {
    loadFailed('offers', error);
    return;
  }
  if (offers.length === 0) {
    replace('offers', h('p', {}, 'There are no open offers for this home.'));
    return;
  }
  replace('offers', offers.map(offerCard));
}

function offerCard(offer) {
  const id = offer.placementId;
  const card = h('div', { class: 'nhsuk-card', id: `offer-${id}` }, h('div', { class: 'nhsuk-card__content' },
    h('h3', { class: 'nhsuk-card__heading' }, `${words(offer.bedType)} bed, pathway ${offer.pathway}`),
    summaryList([
      ['Placement', id],
      ['Time left', h('strong', { class: 'winterops-time-left' }, timeLeft(offer.expiresAt), ` (until ${formatDateTime(offer.expiresAt)})`)],
      ['Required by', formatDate(offer.requiredBy)],
      ['Locality', offer.locality],
      ['Offer round', String(offer.round)],
    ]),
    acceptForm(offer), declineForm(offer)));
  return card;
}

function acceptForm(offer) {
  const id = offer.placementId;
  const form = h('form', { id: `accept-${id}`, class: 'winterops-inline-form' },
    h('h4', {}, 'Accept this offer'),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: `admission-${id}` }, 'Admission date'),
      h('div', { class: 'nhsuk-hint', id: `admission-${id}-hint` }, 'From today to 90 days ahead'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-10', id: `admission-${id}`, name: 'admissionDate', type: 'date', min: londonDate(), value: londonDate(1), 'aria-describedby': `admission-${id}-hint` })),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: `contact-${id}` }, 'Contact name at the home'),
      h('input', { class: 'nhsuk-input nhsuk-input--width-20', id: `contact-${id}`, name: 'contactName', type: 'text', autocomplete: 'name', value: user.name, spellcheck: 'false' })),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Accept offer'));
  onSubmit(form, async (data) => {
    const errors = {};
    if (!data.get('admissionDate')) errors.admissionDate = ['Enter the admission date'];
    if (!data.get('contactName')?.trim()) errors.contactName = ['Enter the name of the contact at the home'];
    if (Object.keys(errors).length > 0) { showErrors(form, errors); return; }
    const response = await api(`/api/placements/${encodeURIComponent(id)}/offers/${encodeURIComponent(home)}/accept`,
      { method: 'POST', body: { admissionDate: data.get('admissionDate'), contactName: data.get('contactName').trim() } });
    const card = $(`offer-${id}`);
    if (response.status === 202) {
      card.replaceWith(inset(`Your acceptance of ${id} is being processed. Check back in a moment.`));
      announce(`Acceptance of ${id} is being processed.`);
      return;
    }
    const booking = response.body.booking;
    card.replaceWith(h('div', { class: 'nhsuk-panel', id: `booked-${id}` },
      h('h3', { class: 'nhsuk-panel__title' }, 'Offer accepted'),
      h('div', { class: 'nhsuk-panel__body' }, `Placement ${id} is booked for admission on ${formatDate(booking?.admissionDate ?? data.get('admissionDate'))}.`)));
    announce(`Placement ${id} booked.`);
  });
  return form;
}

function declineForm(offer) {
  const id = offer.placementId;
  const form = h('form', { id: `decline-${id}`, class: 'winterops-inline-form' },
    h('details', { class: 'nhsuk-details' },
      h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'Decline this offer')),
      h('div', { class: 'nhsuk-details__text' },
        h('div', { class: 'nhsuk-form-group' },
          h('label', { class: 'nhsuk-label', for: `reason-${id}` }, 'Reason'),
          h('select', { class: 'nhsuk-select', id: `reason-${id}`, name: 'reason' }, h('option', { value: '' }, 'Choose a reason'), REASONS.map((r) => h('option', { value: r }, words(r))))),
        h('div', { class: 'nhsuk-form-group' },
          h('label', { class: 'nhsuk-label', for: `comment-${id}` }, 'Comment (required when the reason is other)'),
          h('textarea', { class: 'nhsuk-textarea', id: `comment-${id}`, name: 'comment', rows: '3', maxlength: '1000' })),
        h('button', { type: 'submit', class: 'nhsuk-button nhsuk-button--secondary' }, 'Decline offer'))));
  onSubmit(form, async (data) => {
    const errors = {};
    if (!data.get('reason')) errors.reason = ['Choose why you are declining'];
    if (data.get('reason') === 'other' && !data.get('comment')?.trim()) errors.comment = ['Say why you are declining'];
    if (Object.keys(errors).length > 0) { form.querySelector('details').open = true; showErrors(form, errors); return; }
    await api(`/api/placements/${encodeURIComponent(id)}/offers/${encodeURIComponent(home)}/decline`,
      { method: 'POST', body: { reason: data.get('reason'), comment: data.get('comment')?.trim() || null } });
    $(`offer-${id}`).replaceWith(inset(`You declined placement ${id}.`));
    announce(`Placement ${id} declined.`);
  });
  return form;
}

function showVacancies(careHomeView) {
  const beds = careHomeView.bedTypes;
  const fields = ['maxCapacity', 'occupied', 'vacantReserved', 'vacantAccepting'];
  const labels = { maxCapacity: 'Maximum capacity', occupied: 'Occupied', vacantReserved: 'Vacant, reserved', vacantAccepting: 'Vacant, accepting admissions' };
  const form = h('form', { id: 'vacancies-form' },
    h('p', {}, careHomeView.vacanciesAsOf ? `Last reported ${formatDateTime(careHomeView.vacanciesAsOf)}${careHomeView.vacanciesStale ? ' (out of date)' : ''}.` : 'Not reported yet.'),
    beds.map((bed) => h('fieldset', { class: 'nhsuk-fieldset' },
      h('legend', { class: 'nhsuk-fieldset__legend nhsuk-fieldset__legend--s' }, `${words(bed)} beds`),
      fields.map((f) => h('div', { class: 'nhsuk-form-group' },
        h('label', { class: 'nhsuk-label', for: `${bed}-${f}` }, labels[f]),
        h('input', { class: 'nhsuk-input nhsuk-input--width-4', id: `${bed}-${f}`, name: `beds.${bed}.${f}`, type: 'text', inputmode: 'numeric',
          value: String(careHomeView.beds?.[bed]?.[f] ?? 0) }))))),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Update vacancies'));
  replace('vacancies', form);
  onSubmit(form, async (data) => {
    const errors = {};
    const body = { asOf: new Date().toISOString(), beds: {} };
    for (const bed of beds) {
      body.beds[bed] = {};
      for (const f of fields) {
        const value = data.get(`beds.${bed}.${f}`)?.trim();
        if (!/^\d+$/.test(value ?? '')) errors[`beds.${bed}.${f}`] = [`${labels[f]} (${words(bed)}) must be a whole number, 0 or more`];
        body.beds[bed][f] = Number(value);
      }
      const b = body.beds[bed];
      if (!errors[`beds.${bed}.maxCapacity`] && b.occupied + b.vacantReserved + b.vacantAccepting > b.maxCapacity) {
        errors[`beds.${bed}.maxCapacity`] = [`${words(bed)}: occupied and vacant beds add up to more than the maximum capacity`];
      }
    }
    if (Object.keys(errors).length > 0) { showErrors(form, errors); return; }
    const response = await api(`/api/care-homes/${encodeURIComponent(home)}/vacancies`, { method: 'PUT', body });
    announce(`Vacancies updated at ${formatDateTime(response.body?.vacanciesAsOf ?? body.asOf)}.`);
  });
}
