// The attendance rate of a unit's meetings over a period: by participating
// unit and by person, with a bar chart of the rate of each meeting occurrence
// (plain SVG, no chart library). Dates are typed day first (dd/mm/yyyy), as on
// the meeting form, whatever the browser's language.
import { language, setLanguage } from './i18n.js';
import { api, at, signedIn } from './attendance-texts.js';
import { addDays, dateFieldValue, formatDate, localParts, setDateField, setUpDateFields, todayIn, toInstant } from './scheduling-common.js';
import { uiTexts } from './scheduling-texts.js';

/** The report's days are days in Việt Nam, as the meetings' wall clock. */
const ZONE = 'Asia/Ho_Chi_Minh';
const SVG = 'http://www.w3.org/2000/svg';
const $ = (id) => document.getElementById(id);

let report = null;

function applyTexts() {
  document.documentElement.lang = language();
  document.title = `${at().unitReport} – hop`;
  for (const element of document.querySelectorAll('[data-att]')) element.textContent = at()[element.dataset.att];
  // The calendar buttons of the date fields carry the scheduling pages' texts.
  for (const element of document.querySelectorAll('[data-label]')) {
    element.setAttribute('aria-label', uiTexts()[element.dataset.label]);
    element.title = uiTexts()[element.dataset.label];
  }
  $('language').textContent = at().switchLanguage;
  if (report) render();
}

/** Writes a rate with the decimal separator of the interface language: "16,7" in Vietnamese, "16.7" in English. */
function formatRate(rate) {
  return new Intl.NumberFormat(language() === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: 1 }).format(rate);
}

function table(element, columns, rows) {
  const head = document.createElement('tr');
  head.append(...columns.map((column) => Object.assign(document.createElement('th'), { textContent: column.label, className: column.number ? 'number' : '' })));
  element.replaceChildren(
    head,
    ...rows.map((row) => {
      const tr = document.createElement('tr');
      tr.append(...row.map((value, index) => Object.assign(document.createElement('td'), { textContent: String(value ?? ''), className: columns[index].number ? 'number' : '' })));
      return tr;
    }),
  );
}

function svgElement(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws one bar per occurrence with its rate above it and its date (dd/mm)
 * below; hovering a bar shows the meeting's title. Many bars make the chart
 * wider than the page, and its frame scrolls.
 */
function renderChart() {
  const chart = $('chart');
  const bars = report.occurrences;
  $('chart-empty').hidden = bars.length > 0;
  $('chart-empty').textContent = at().chartEmpty;
  chart.parentElement.hidden = bars.length === 0;

  const left = 44;
  const top = 20;
  const plot = 180;
  const barWidth = 36;
  const gap = 14;
  const width = Math.max(chart.parentElement.clientWidth || 600, left + bars.length * (barWidth + gap) + gap);
  const height = top + plot + 40;
  chart.setAttribute('width', String(width));
  chart.setAttribute('height', String(height));
  chart.setAttribute('viewBox', `0 0 ${width} ${height}`);
  chart.setAttribute('aria-label', `${at().chartTitle}: ${bars.map((o) => `${o.title} ${formatDate(localParts(o.startsAt, ZONE).date)} ${formatRate(o.rate)}%`).join('; ')}`);

  const shapes = [];
  for (const share of [0, 50, 100]) {
    const y = top + plot - (share / 100) * plot;
    shapes.push(svgElement('line', { class: 'axis', x1: left - 4, y1: y, x2: width, y2: y, 'stroke-dasharray': share === 0 ? '' : '2 4' }));
    shapes.push(svgElement('text', { x: left - 8, y: y + 4, 'text-anchor': 'end' }, `${share}%`));
  }
  bars.forEach((occurrence, index) => {
    const barHeight = (occurrence.rate / 100) * plot;
    const x = left + gap + index * (barWidth + gap);
    const date = formatDate(localParts(occurrence.startsAt, ZONE).date);
    const rect = svgElement('rect', { x, y: top + plot - barHeight, width: barWidth, height: barHeight });
    rect.append(svgElement('title', {}, `${occurrence.title}, ${date}: ${formatRate(occurrence.rate)}% (${occurrence.present}/${occurrence.invited})`));
    shapes.push(rect);
    shapes.push(svgElement('text', { class: 'bar-value', x: x + barWidth / 2, y: top + plot - barHeight - 4 }, `${formatRate(occurrence.rate)}%`));
    shapes.push(svgElement('text', { class: 'bar-date', x: x + barWidth / 2, y: top + plot + 16 }, date.slice(0, 5)));
  });
  chart.replaceChildren(...shapes);
}

function render() {
  const text = at();
  $('results').hidden = false;
  $('truncated').hidden = !report.truncated;
  $('truncated').textContent = text.reportTruncated;
  renderChart();
  table(
    $('by-unit'),
    [{ label: text.unit }, { label: text.unitsInvited, number: true }, { label: text.unitsPresent, number: true }, { label: `${text.rate} (%)`, number: true }],
    report.byUnit.map((u) => [u.unit, u.invited, u.present, formatRate(u.rate)]),
  );
  table(
    $('by-person'),
    [
      { label: text.name },
      { label: text.unit },
      { label: text.meetingsInvited, number: true },
      { label: text.meetingsPresent, number: true },
      { label: text.meetingsMissed, number: true },
      { label: `${text.rate} (%)`, number: true },
    ],
    report.byPerson.map((p) => [p.name, p.unit, p.invited, p.present, p.missed, formatRate(p.rate)]),
  );
}

/** Returns the period's query, from the start of the first day to the end of the last day, or null after showing what is wrong. */
function periodQuery() {
  const fromField = $('from');
  const toField = $('to');
  const from = dateFieldValue(fromField);
  const to = dateFieldValue(toField);
  fromField.classList.toggle('invalid', !from);
  toField.classList.toggle('invalid', !to);
  if (!from || !to) {
    $('error').textContent = at().reportInvalidDate;
    return null;
  }
  if (to < from) {
    toField.classList.add('invalid');
    $('error').textContent = at().reportDateOrder;
    return null;
  }
  return new URLSearchParams({ unitId: $('unit').value, from: toInstant(from, '00:00', ZONE), to: toInstant(addDays(to, 1), '00:00', ZONE) });
}

async function load(event) {
  event?.preventDefault();
  const search = periodQuery();
  if (!search) return;
  $('show').disabled = true;
  const result = await api(`/api/v1/attendance/report?${search}`);
  $('show').disabled = false;
  if (!result.ok) {
    $('error').textContent = result.body?.error ? (language() === 'en' ? result.body.error.message_en : result.body.error.message) : at().networkError;
    return;
  }
  $('error').textContent = '';
  $('csv-units').href = `/api/v1/attendance/report?${search}&format=csv&table=units`;
  $('csv-people').href = `/api/v1/attendance/report?${search}&format=csv&table=people`;
  $('downloads').hidden = false;
  report = result.body;
  render();
}

/** Returns the units whose report the person may read: every unit for admins, their own units for organisers. */
function readableUnits(user, units) {
  if (user.systemRole === 'admin') return units;
  if (user.systemRole === 'organiser') return units.filter((unit) => user.unitIds?.includes(unit.id));
  return [];
}

async function init() {
  setUpDateFields();
  applyTexts();
  $('language').addEventListener('click', () => {
    setLanguage(language() === 'vi' ? 'en' : 'vi');
    applyTexts();
  });
  const user = await signedIn();
  if (!user) return;

  const today = todayIn(ZONE);
  setDateField($('from'), addDays(today, -30));
  setDateField($('to'), today);
  const units = await api('/api/v1/units');
  const readable = readableUnits(user, units.body?.units ?? []);
  $('unit').replaceChildren(...readable.map((unit) => new Option(unit.name, unit.id)));
  if (readable.length === 0) {
    $('error').textContent = at().reportNoUnits;
    for (const control of $('filter').elements) control.disabled = true;
    return;
  }
  $('filter').addEventListener('submit', (event) => void load(event));
}

void init();
