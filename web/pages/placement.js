// /placements/{id} (discharge teams, and the links in Teams and the inbox): the placement's status, offers and history.
import { formatDate, formatDateTime, get, h, loadFailed, replace, startPage, statusTag, summaryList, table, timeLeft, words } from '/web/app.js';

await startPage();
const id = decodeURIComponent(location.pathname.split('/').pop());
try {
  const [placement, history] = await Promise.all([get(`/api/placements/${encodeURIComponent(id)}`), get(`/api/placements/${encodeURIComponent(id)}/history`)]);
  document.getElementById('heading').textContent = `Placement ${placement.placementId}`;
  replace('details', summaryList([
    ['Status', h('span', { id: 'placement-status' }, statusTag(placement.status))],
    placement.patientRef ? ['Patient reference', placement.patientRef] : null,
    ['Pathway', placement.pathway],
    ['Bed type', words(placement.bedType)],
    ['Required by', formatDate(placement.requiredBy)],
    ['Offer round', String(placement.round)],
    placement.booking ? ['Booked', `${placement.booking.cqcLocationId}, admission ${formatDate(placement.booking.admissionDate)} (contact ${placement.booking.contactName})`] : null,
    ['Requested', formatDateTime(placement.requestedAt)],
  ]));
  replace('offers', placement.offers.length === 0 ? h('p', {}, 'No offers.') : table('Offers to care homes', ['Care home', 'Round', 'Status', 'Expires'],
    placement.offers.map((o) => [`${o.cqcLocationId}${o.locality ? ` (${o.locality})` : ''}`, String(o.round), statusTag(o.status),
      o.status === 'open' ? `${formatDateTime(o.expiresAt)} (${timeLeft(o.expiresAt)})` : formatDateTime(o.expiresAt)]), { id: 'offers-table' }));
  replace('history', h('ol', { class: 'nhsuk-list nhsuk-list--number', id: 'history-list' }, history.map((e) =>
    h('li', {}, h('strong', {}, formatDateTime(e.at)), ` ${words(e.type.replace(/^Placement/, ''))}, by ${e.by}${e.byOrg ? ` (${e.byOrg})` : ''}`))));
} catch (error) {
  loadFailed('details', error);
}
