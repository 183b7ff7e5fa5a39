// Attendance by unit and person over a period, with a bar chart of the rate
// of each meeting occurrence (plain SVG, no chart library).
import { language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';

let report = null;
const SVG = 'http://www.w3.org/2000/svg';

function applyTexts() {
  document.documentElement.lang = language();
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = at()[element.dataset.att];
  document.getElementById('language').textContent = at().switchLanguage;
  if (report) render();
}

/** Midnight of a yyyy-mm-dd date in Vietnam (UTC+7, no daylight saving). */
const dayStart = (date) => `${date}T00:00:00+07:00`;

function table(element, headers, rows) {
  const head = document.createElement('tr');
  head.append(...headers.map((text) => Object.assign(document.createElement('th'), { textContent: text })));
  element.replaceChildren(head, ...rows.map((row) => {
    const tr = document.createElement('tr');
    tr.append(...row.map((value) => Object.assign(document.createElement('td'), { textContent: String(value ?? '') })));
    return tr;
  }));
}

function render() {
  const text = at();
  table(document.getElementById('by-unit'), [text.unit, text.invited, text.present, `${text.rate} (%)`], report.byUnit.map((u) => [u.unit, u.invited, u.present, u.rate]));
  table(
    document.getElementById('by-person'),
    [text.name, text.unit, text.meetingsInvited, text.meetingsPresent, text.meetingsMissed, `${text.rate} (%)`],
    report.byPerson.map((p) => [p.name, p.unit, p.invited, p.present, p.missed, p.rate]),
  );
  const chart = document.getElementById('chart');
  const width = chart.clientWidth || 600;
  const bars = report.occurrences;
  const barWidth = Math.max(4, Math.min(40, (width - 40) / Math.max(1, bars.length) - 4));
  const shapes = bars.flatMap((o, index) => {
    const height = (o.rate / 100) * 180;
    const x = 30 + index * (barWidth + 4);
    const rect = document.createElementNS(SVG, 'rect');
    Object.entries({ x, y: 190 - height, width: barWidth, height }).forEach(([k, v]) => rect.setAttribute(k, String(v)));
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${o.title} ${new Date(o.startsAt).toLocaleDateString('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh' })}: ${o.rate}%`;
    rect.append(title);
    return [rect];
  });
  const axis = document.createElementNS(SVG, 'text');
  axis.setAttribute('x', '0');
  axis.setAttribute('y', '20');
  axis.textContent = '100%';
  chart.replaceChildren(axis, ...shapes);
}

async function load(event) {
  event?.preventDefault();
  const search = new URLSearchParams({ unitId: document.getElementById('unit').value, from: dayStart(document.getElementById('from').value), to: dayStart(document.getElementById('to').value) });
  document.getElementById('csv').href = `/api/v1/attendance/report?${search}&format=csv`;
  const result = await api(`/api/v1/attendance/report?${search}`);
  if (!result.ok) {
    document.getElementById('error').textContent = result.body?.error ? (language() === 'en' ? result.body.error.message_en : result.body.error.message) : at().networkError;
    return;
  }
  document.getElementById('error').textContent = '';
  report = result.body;
  render();
}

async function init() {
  applyTexts();
  document.getElementById('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
  });
  if (!(await signedIn())) return;
  const units = await api('/api/v1/units');
  document.getElementById('unit').replaceChildren(...(units.body?.units ?? []).map((unit) => new Option(unit.name, unit.id)));
  const today = new Date();
  document.getElementById('to').value = new Date(today.getTime() + 86_400_000).toISOString().slice(0, 10);
  document.getElementById('from').value = new Date(today.getTime() - 30 * 86_400_000).toISOString().slice(0, 10);
  document.getElementById('filter').addEventListener('submit', load);
}

void init();
