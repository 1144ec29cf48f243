// /escalations (executives): the escalations alerted to my organisation, and every open one.
import { formatDateTime, get, h, loadFailed, replace, startPage, statusTag, table } from '/web/app.js';

const user = await startPage(['Executive', 'Coordinator']);
try {
  const open = await get('/api/escalations?status=open');
  const mine = open.filter((e) => e.alerts.some((a) => user.orgs.includes(a.contact.org)));
  const rows = (list) => list.map((e) => [
    h('a', { href: `/escalations/${encodeURIComponent(e.escalationId)}` }, e.summary),
    statusTag(e.status),
    `Step ${e.alerts.at(-1)?.step ?? 0}: ${e.alerts.at(-1)?.contact.name ?? 'nobody yet'}`,
    formatDateTime(e.alerts.at(-1)?.acknowledgeBy),
  ]);
  const headings = ['Escalation', 'Status', 'On-call ladder', 'Acknowledge by'];
  replace('mine', mine.length === 0 ? h('p', {}, 'Nothing is alerted to your organisation.') : table('Alerted to your organisation', headings, rows(mine), { id: 'my-escalations' }));
  replace('all', open.length === 0 ? h('p', {}, 'There are no open escalations.') : table('All open escalations', headings, rows(open), { id: 'all-escalations' }));
} catch (error) {
  loadFailed('mine', error);
  replace('all');
}
