// /dashboard (coordination centre, executives): today's system OPEL level and pillars, every partner's level with
// missing partners flagged, the 14-day trend, open escalations with their ladder, and the placements funnel.
import { formatDate, formatDateTime, get, h, loadFailed, londonDate, opelTag, replace, startPage, statusTag, summaryList, table, words } from '/web/app.js';
import { lastDays, levelChart } from '/web/charts.js';

const user = await startPage(['Coordinator', 'Executive']);
const today = londonDate();

const partners = await get('/api/partners').catch(() => []);
const names = new Map(partners.map((p) => [p.odsCode, p]));
await Promise.all([showToday(), showTrend(), showEscalations(), showPlacements()]);

async function showToday() {
  try {
    const { round } = await get(`/api/system/status?date=${today}`);
    replace('today',
      h('div', { class: 'nhsuk-card', id: 'system-level' }, h('div', { class: 'nhsuk-card__content' },
        h('p', { class: 'nhsuk-heading-m' }, 'System OPEL level: ', opelTag(round.systemLevel), round.systemScore === null ? '' : ` (score ${round.systemScore})`),
        h('p', {}, `${formatDate(round.date)}: round ${words(round.status).toLowerCase()}, ${round.received} of ${round.expected} returns received`,
          round.assessedAt ? `, assessed ${formatDateTime(round.assessedAt)}.` : '.'))),
      round.pillars.length === 0 ? h('p', {}, 'No pillar levels yet: the round has not been assessed with returns.')
        : table('Pillars (the size-weighted mean of partner levels in each sector)', ['Sector', 'Score', 'Weight'],
          round.pillars.map((p) => [words(p.sector), String(p.score), String(p.weight)]), { id: 'pillars' }));
    replace('partners', table(`Partner levels on ${formatDate(round.date)}`, ['Partner', 'Sector', 'Level', 'Return'],
      round.partners.map((p) => [
        `${names.get(p.odsCode)?.name ?? p.odsCode} (${p.odsCode})`,
        words(names.get(p.odsCode)?.sector ?? ''),
        opelTag(p.effectiveLevel, { missing: p.missing }),
        p.missing ? h('strong', { class: 'nhsuk-tag nhsuk-tag--red winterops-missing' }, p.effectiveLevel ? 'Missing: last level carried forward' : 'Missing') : 'Received',
      ]), { id: 'partner-levels' }));
  } catch (error) {
    loadFailed('today', error);
    replace('partners');
  }
}

async function showTrend() {
  try {
    const days = lastDays(today, 14);
    const history = await get(`/api/system/history?from=${days[0]}&to=${today}`);
    const byDate = new Map(history.map((d) => [d.date, d]));
    const codes = [...new Set(history.flatMap((d) => d.partners.map((p) => p.odsCode)))].sort();
    const series = [
      { label: 'System', values: days.map((d) => byDate.get(d)?.systemLevel ?? null), emphasis: true },
      ...codes.map((code) => ({ label: code, values: days.map((d) => byDate.get(d)?.partners.find((p) => p.odsCode === code)?.effectiveLevel ?? null) })),
    ];
    replace('trend', await levelChart('trend-chart', `System and partner OPEL levels, ${formatDate(days[0])} to ${formatDate(today)}`, days, series));
  } catch (error) {
    loadFailed('trend', error);
  }
}

async function showEscalations() {
  try {
    const open = await get('/api/escalations?status=open');
    if (open.length === 0) {
      replace('escalations', h('p', {}, 'There are no open escalations.'));
      return;
    }
    replace('escalations', h('ul', { class: 'nhsuk-list nhsuk-list--border', id: 'open-escalations' }, open.map((e) => {
      const last = e.alerts.at(-1);
      return h('li', {},
        h('a', { href: `/escalations/${encodeURIComponent(e.escalationId)}` }, e.summary), ' ', statusTag(e.status), h('br'),
        h('span', { class: 'nhsuk-body-s' }, e.acknowledgement
          ? `Acknowledged by ${e.acknowledgement.by ?? 'an executive'}`
          : `On-call ladder: step ${last?.step ?? 0} alerted${last ? ` (${last.contact.name}, ${last.contact.org}); acknowledge by ${formatDateTime(last.acknowledgeBy)}` : ''}`));
    })));
  } catch (error) {
    loadFailed('escalations', error);
  }
}

async function showPlacements() {
  if (!user.roles.includes('Coordinator')) {
    replace('placements', h('p', {}, 'The placements funnel is shown to the coordination centre.'));
    return;
  }
  try {
    const placements = await get('/api/placements');
    const count = (...statuses) => placements.filter((p) => statuses.includes(p.status)).length;
    const booked = placements.filter((p) => p.status === 'booked' || p.status === 'admitted');
    const times = (await Promise.all(booked.slice(0, 50).map(async (p) => {
      const history = await get(`/api/placements/${encodeURIComponent(p.placementId)}/history`);
      const at = history.find((e) => e.type === 'PlacementBooked')?.at;
      return at ? (Date.parse(at) - Date.parse(p.requestedAt)) / 60000 : null;
    }))).filter((m) => m !== null).sort((a, b) => a - b);
    const median = times.length === 0 ? null : times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
    replace('placements', summaryList([
      ['Awaiting responses', h('span', { id: 'funnel-awaiting' }, String(count('awaitingResponses', 'requested')))],
      ['Booked or admitted', h('span', { id: 'funnel-booked' }, String(booked.length))],
      ['Unplaced', h('span', { id: 'funnel-unplaced' }, String(count('unplaced')))],
      ['Median time to book', h('span', { id: 'funnel-median' }, median === null ? 'No bookings yet' : duration(median))],
    ]));
  } catch (error) {
    loadFailed('placements', error);
  }
}

function duration(minutes) {
  if (minutes < 1) return 'under a minute';
  if (minutes < 120) return `${Math.round(minutes)} minutes`;
  return `${Math.round(minutes / 60 * 10) / 10} hours`;
}
