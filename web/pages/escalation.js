// /escalations/{id} (executives): the escalation, acknowledge with a note, and the ladder's timeline.
import { $, announce, api, formatDate, formatDateTime, get, h, loadFailed, onSubmit, replace, startPage, statusTag, summaryList, words } from '/web/app.js';

await startPage(['Executive', 'Coordinator']);
const id = decodeURIComponent(location.pathname.split('/').pop());
await show();

async function show() {
  let escalation;
  try {
    escalation = await get(`/api/escalations/${encodeURIComponent(id)}`);
  } catch (error) {
    loadFailed('details', error);
    return;
  }
  $('heading').textContent = escalation.summary;
  document.title = `${escalation.summary} - WinterOps`;
  replace('details', summaryList([
    ['Status', h('span', { id: 'escalation-status' }, statusTag(escalation.status))],
    ['Rule', words(escalation.rule)],
    ['Date', formatDate(escalation.date)],
    ['Subject', escalation.subject],
    escalation.acknowledgement ? ['Acknowledged', `${escalation.acknowledgement.by}, ${formatDateTime(escalation.acknowledgement.at)}${escalation.acknowledgement.note ? `: "${escalation.acknowledgement.note}"` : ''}`] : null,
    escalation.resolution ? ['Resolved', formatDateTime(escalation.resolution.at)] : null,
  ]));

  const events = [
    ...escalation.alerts.map((a) => ({ at: a.at, text: `Step ${a.step}: alerted ${a.contact.name} (${a.contact.org}), to acknowledge by ${formatDateTime(a.acknowledgeBy)}` })),
    escalation.acknowledgement && { at: escalation.acknowledgement.at, text: `Acknowledged by ${escalation.acknowledgement.by}${escalation.acknowledgement.note ? `: ${escalation.acknowledgement.note}` : ''}` },
    escalation.resolution && { at: escalation.resolution.at, text: `Resolved${escalation.resolution.reason ? `: ${escalation.resolution.reason}` : ''}` },
  ].filter(Boolean).sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  replace('timeline', h('ol', { class: 'nhsuk-list nhsuk-list--number', id: 'ladder' }, events.map((e) => h('li', {}, h('strong', {}, formatDateTime(e.at)), ` ${e.text}`))));

  if (escalation.status !== 'alerted') {
    replace('acknowledge');
    return;
  }
  const form = h('form', { id: 'acknowledge-form' },
    h('h2', {}, 'Acknowledge'),
    h('p', {}, 'Acknowledging stops the on-call ladder: nobody else is alerted.'),
    h('div', { class: 'nhsuk-form-group' },
      h('label', { class: 'nhsuk-label', for: 'note' }, 'Note (optional)'),
      h('div', { class: 'nhsuk-hint', id: 'note-hint' }, 'For example, what you are doing about it'),
      h('textarea', { class: 'nhsuk-textarea', id: 'note', name: 'note', rows: '3', maxlength: '1000', 'aria-describedby': 'note-hint' })),
    h('button', { type: 'submit', class: 'nhsuk-button' }, 'Acknowledge escalation'));
  replace('acknowledge', form);
  onSubmit(form, async (data) => {
    await api(`/api/escalations/${encodeURIComponent(id)}/acknowledge`, { method: 'POST', body: { note: data.get('note')?.trim() || null } });
    announce('Escalation acknowledged.');
    await show();
  });
}
