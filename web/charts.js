// OPEL trend charts (Chart.js, served by this app), each with the same figures as a table for people who do not use the chart.
import { h, loadScript, table, formatDate } from '/web/app.js';

// Line colours with at least 3:1 contrast on white (WCAG 1.4.11), told apart by dash pattern as well as colour.
const COLOURS = ['#005eb8', '#d5281b', '#007f3b', '#330072', '#7c2855', '#ae2573', '#4c6272', '#ed8b00', '#00403d', '#212b32', '#8a1538', '#425563'];
const DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

/**
 * A chart of OPEL levels by day: series [{label, values: [level|null per day]}]. Returns a figure holding the
 * canvas (with a text alternative) and a details element with the table.
 */
export async function levelChart(id, caption, days, series) {
  await loadScript('/web/lib/chart.umd.min.js');
  const canvas = h('canvas', { id: `${id}-canvas`, role: 'img', 'aria-label': `${caption}. The table below the chart gives the same figures.` });
  const figure = h('figure', { class: 'winterops-chart', id },
    h('figcaption', { class: 'nhsuk-body-s' }, caption),
    h('div', { class: 'winterops-chart__canvas' }, canvas),
    h('details', { class: 'nhsuk-details' },
      h('summary', { class: 'nhsuk-details__summary' }, h('span', { class: 'nhsuk-details__summary-text' }, 'Show the figures as a table')),
      h('div', { class: 'nhsuk-details__text winterops-scroll' }, table(caption, ['Date', ...series.map((s) => s.label)],
        days.map((d, i) => [formatDate(d), ...series.map((s) => s.values[i] === null || s.values[i] === undefined ? 'none' : String(s.values[i]))])))));
  queueMicrotask(() => {
    new window.Chart(canvas, {
      type: 'line',
      data: {
        labels: days.map((d) => formatDate(d)),
        datasets: series.map((s, i) => ({
          label: s.label, data: s.values, spanGaps: false, stepped: false, tension: 0,
          borderColor: COLOURS[i % COLOURS.length], backgroundColor: COLOURS[i % COLOURS.length],
          borderDash: DASHES[i % DASHES.length], borderWidth: s.emphasis ? 4 : 2, pointRadius: s.emphasis ? 4 : 2,
        })),
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: { y: { min: 0.5, max: 4.5, afterBuildTicks: (axis) => { axis.ticks = [1, 2, 3, 4].map((value) => ({ value })); }, ticks: { callback: (v) => `OPEL ${v}` }, title: { display: true, text: 'OPEL level' } } },
        plugins: { legend: { position: 'bottom' } },
      },
    });
  });
  return figure;
}

/** The dates from `days - 1` days before `to` up to `to` (YYYY-MM-DD). */
export function lastDays(to, days) {
  const end = new Date(`${to}T12:00:00Z`);
  return Array.from({ length: days }, (_, i) => new Date(end.getTime() - (days - 1 - i) * 86400000).toISOString().slice(0, 10));
}
