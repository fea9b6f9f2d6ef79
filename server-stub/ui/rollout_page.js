// rollout_page.js - one rollout: where it stands, the operator's buttons,
// the judge's latest evidence and what it waits for, both arms' error
// rate, latency and exposures over time with the step changes and the
// decisions on them, and the decision history; it follows the rollout by
// asking the server again every few seconds.

import { ApiError, get, seg } from './api.js';
import { rolloutActions } from './actions.js';
import { TimeChart, linkCharts } from './charts.js';
import { clear, clock, count, duration, el, every, ms, num, pct, say, share, specMs, when } from './dom.js';

const POLL_MS = 2000;
const QUANTILES = ['p50', 'p95', 'p99'];

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

// ---- the series as chart rows ------------------------------------------

// One time axis for every chart (so their hovered rows line up): the
// buckets, the decisions and the step changes.
function timeline(s) {
  const points = new Map(s.points.map((p) => [p.time_ms, p]));
  const decisions = new Map(s.decisions.map((d) => [d.time_ms, d]));
  for (const st of s.steps) if (!decisions.has(st.time_ms)) decisions.set(st.time_ms, st);
  const times = [...new Set([...points.keys(), ...decisions.keys()])].sort((a, b) => a - b);
  return { points, decisions, times };
}

function rows(tl, value, withDecisions) {
  return tl.times.map((t) => {
    const p = tl.points.get(t);
    const r = [new Date(t), p ? value(p.stable) : null, p ? value(p.canary) : null];
    if (withDecisions) r.push(tl.decisions.has(t) ? 1 : null);
    return r;
  });
}

const orNull = (v) => (isNum(v) ? v : null);
const errorPct = (a) => (isNum(a.error_rate) ? a.error_rate * 100 : null);

function stepLabel(st) {
  return st.action === 'rollback' ? '0%' : share(st.to_percent);
}

function stepMarks(steps) {
  return steps.map((st) => ({
    series: 'decision',
    x: st.time_ms,
    shortText: stepLabel(st),
    text: st.action + ' to ' + share(st.to_percent) + ' by the ' + st.source + ' at ' + clock(st.time_ms),
    cssClass: 'step-marker',
    attachAtBottom: true,
    tickHeight: 4,
    width: 44,
    height: 18,
  }));
}

// ---- parts of the page --------------------------------------------------

function summaryList(r, now) {
  const active = r.state === 'running' || r.state === 'paused';
  const spec = r.spec || {};
  const item = (term, ...value) => [el('dt', {}, term), el('dd', {}, ...value)];
  return el('dl', { class: 'facts', id: 'rollout-facts' },
    item('State', el('span', { class: 'badge state-' + r.state, id: 'rollout-state' }, r.state.replace('_', ' '))),
    item('Step', (r.step + 1) + ' of ' + r.steps_total + ' (' + share(r.step_percent) + ')'),
    item('Canary share now', share(r.percent)),
    item(active ? 'Time in step' : 'Ended', active ? duration(now - r.step_started_ms) : when(r.updated_ms)),
    item('Started', when(r.created_ms)),
    item('Reason', r.reason),
    item('Plan', 'steps ' + (spec.steps || []).map(share).join(', ') + '; soak ' + duration(specMs(spec.min_soak)) +
      ', at most ' + duration(specMs(spec.max_step)) + ' a step, judged every ' + duration(specMs(spec.interval)) +
      '; on FAIL: ' + (spec.on_fail || 'rollback')));
}

function waitingFor(r, ev) {
  if (r.state === 'paused') return 'Paused: nothing widens until an operator resumes (a FAIL still rolls back).';
  if (r.state === 'completed') return 'Completed: the canary is at its last step.';
  if (r.state === 'rolled_back') return 'Rolled back: every unit is on the stable variant.';
  if (!ev) return 'Waiting for the first evaluation.';
  if (ev.action === 'hold') return 'Holding: ' + ev.reason;
  return 'Last decision: ' + ev.action + ' — ' + ev.reason;
}

function evidenceSection(r, ev) {
  const box = el('section', { id: 'evidence', 'aria-labelledby': 'evidence-title' },
    el('h2', { id: 'evidence-title' }, 'The judge\'s evidence'),
    el('p', { class: 'waiting', id: 'waiting' }, waitingFor(r, ev)));
  if (!ev) return box;
  box.append(el('p', {},
    'Last evaluated ' + clock(ev.time_ms) + ' at ' + share(ev.percent) + ': ',
    el('strong', { class: 'verdict-' + ev.verdict }, ev.verdict || '–'),
    ' (' + (ev.judge_rule || ev.rule) + ') ' + (ev.judge_reason || '')));
  const metrics = Array.isArray(ev.metrics) ? ev.metrics : [];
  const head = ['Metric', 'Verdict', 'Stable', 'Canary', 'Statistic', 'FAIL threshold', 'PASS statistic',
    'PASS threshold', 'Reason'];
  const fmt = (m, v) => (m.name === 'errors' ? pct(v) : m.name.startsWith('latency') ? ms(v) : num(v));
  const body = el('tbody', {}, metrics.map((m) => el('tr', { class: m.enabled ? null : 'off' },
    el('th', { scope: 'row' }, m.name + (m.critical ? ' (critical)' : '')),
    el('td', { class: 'verdict-' + m.verdict }, m.enabled ? m.verdict : 'off'),
    el('td', { class: 'num' }, fmt(m, m.stable)),
    el('td', { class: 'num' }, fmt(m, m.canary)),
    el('td', { class: 'num' }, num(m.statistic)),
    el('td', { class: 'num' }, num(m.threshold)),
    el('td', { class: 'num' }, num(m.pass_statistic)),
    el('td', { class: 'num' }, num(m.pass_threshold)),
    el('td', {}, m.reason || ''))));
  if (ev.srm && typeof ev.srm === 'object') {
    body.append(el('tr', {},
      el('th', { scope: 'row' }, 'sample ratio'),
      el('td', {}, ''),
      el('td', { class: 'num', colspan: 2 }, 'expected ' + pct(ev.srm.expected) + ', observed ' + pct(ev.srm.observed)),
      el('td', { class: 'num' }, num(ev.srm.statistic)),
      el('td', { class: 'num' }, num(ev.srm.threshold)),
      el('td', { colspan: 3 }, 'a mismatch holds the rollout')));
  }
  box.append(el('table', { class: 'grid', id: 'evidence-table' },
    el('caption', {}, 'Each metric: the judge\'s statistic against its thresholds (FAIL when above the FAIL threshold, PASS when the PASS statistic is above its threshold)'),
    el('thead', {}, el('tr', {}, head.map((h) => el('th', { scope: 'col' }, h)))),
    body));
  return box;
}

function armsText(d, field, fmt) {
  const a = d.arms;
  if (!a || !a.canary || !a.stable) return '–';
  return fmt(a.canary[field]) + ' vs ' + fmt(a.stable[field]);
}

function decisionRows(decisions, onPick) {
  return decisions.slice().reverse().map((d) => {
    const tr = el('tr', { 'data-time': d.time_ms, tabindex: 0 },
      el('td', { class: 'num' }, clock(d.time_ms)),
      el('td', { class: 'num' }, share(d.percent)),
      el('td', { class: 'verdict-' + d.verdict }, d.verdict || '–'),
      el('td', {}, d.action),
      el('td', {}, d.rule),
      el('td', { class: 'num' }, armsText(d, 'error_rate', pct)),
      el('td', { class: 'num' }, armsText(d, 'p95_ms', ms)),
      el('td', {}, d.source),
      el('td', { class: 'reason' }, d.reason));
    tr.addEventListener('click', () => onPick(d));
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') onPick(d); });
    return tr;
  });
}

function detailText(d) {
  if (!d) return '';
  const parts = [clock(d.time_ms), (d.source || '') + ' decision at ' + share(d.percent)];
  if (d.verdict) parts.push('verdict ' + d.verdict);
  if (d.action) parts.push('action ' + d.action);
  if (d.rule) parts.push('rule ' + d.rule);
  if (d.reason) parts.push(d.reason);
  return parts.join(' · ');
}

function dataTable(tl, value, fmt) {
  return el('table', { class: 'grid data' },
    el('thead', {}, el('tr', {}, ['Time', 'stable', 'canary'].map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', {}, [...tl.points.values()].map((p) => el('tr', {},
      el('td', {}, clock(p.time_ms)),
      el('td', { class: 'num', 'data-arm': 'stable' }, fmt(value(p.stable))),
      el('td', { class: 'num', 'data-arm': 'canary' }, fmt(value(p.canary)))))));
}

function chartBlock(id, title, note) {
  const box = el('div', { class: 'chart', id: 'chart-' + id, role: 'img', 'aria-label': title + ': ' + note });
  const readout = el('p', { class: 'readout', id: 'readout-' + id });
  const data = el('div', { id: 'data-' + id });
  const details = el('details', {}, el('summary', {}, 'The numbers of this chart as a table'), data);
  const section = el('section', { class: 'chart-block', 'aria-labelledby': 'title-' + id },
    el('h3', { id: 'title-' + id }, title), box, readout, details);
  return { section, box, readout, data };
}

function legend() {
  return el('ul', { class: 'legend', 'aria-label': 'How to read the charts' },
    el('li', {}, el('span', { class: 'swatch canary' }), 'canary: solid, thick, orange'),
    el('li', {}, el('span', { class: 'swatch stable' }), 'stable: dashed, thin, blue'),
    el('li', {}, el('span', { class: 'swatch step' }), 'step change: dotted vertical line, labelled with the new share'),
    el('li', {}, 'decisions, in a row along the bottom: ○ PASS, ✕ FAIL, □ INCONCLUSIVE, ◇ operator'));
}

// ---- the page -----------------------------------------------------------

export function mount(view, flag) {
  const title = el('h1', {}, 'Rollout of ', el('span', { class: 'flagname' }, flag));
  const facts = el('div', { id: 'facts' }, 'Loading…');
  const actions = el('div', { id: 'actions-box' });
  const evidence = el('div', { id: 'evidence-box' });
  const picked = el('p', { class: 'picked', id: 'picked', role: 'status' });
  const errors = chartBlock('errors', 'Error rate per arm (%)', 'canary and stable error rate over time');
  const latency = chartBlock('latency', 'Latency per arm', 'canary and stable latency quantile over time');
  const exposures = chartBlock('exposures', 'Exposures per arm', 'canary and stable exposures per interval');
  let quantile = 'p95';
  const qButtons = QUANTILES.map((q) => el('button', { type: 'button', 'data-quantile': q, 'aria-pressed': q === quantile }, q));
  const decisionBody = el('tbody', { id: 'decisions-body' });
  const decisionNote = el('p', { class: 'summary', id: 'decisions-note' });
  let tl = { points: new Map(), decisions: new Map(), times: [] };
  let steps = [];
  let lastState = '';
  let linked = false;

  const pick = (d) => { picked.textContent = d ? 'Selected: ' + detailText(d) : ''; };
  const decisionsOf = () => tl.decisions;
  const stepsOf = () => steps;
  const errChart = new TimeChart(errors.box, {
    series: ['stable', 'canary'], label: (s) => s, format: (v) => v.toFixed(2) + '%',
    steps: stepsOf, decisions: decisionsOf, onDecision: pick, readout: errors.readout,
  });
  const latChart = new TimeChart(latency.box, {
    series: ['stable', 'canary'], label: (s) => s, format: (v) => ms(v),
    steps: stepsOf, readout: latency.readout, height: 180,
  });
  const expChart = new TimeChart(exposures.box, {
    series: ['stable', 'canary'], label: (s) => s, format: (v) => count(v),
    steps: stepsOf, readout: exposures.readout, height: 160,
  });

  latency.section.insertBefore(el('div', { class: 'toggle', role: 'group', 'aria-label': 'Latency quantile' }, qButtons),
    latency.box);

  view.append(title, facts, actions,
    el('section', { 'aria-labelledby': 'charts-title' },
      el('h2', { id: 'charts-title', class: 'visually-hidden' }, 'Canary against stable'), legend(), picked,
      errors.section, latency.section, exposures.section),
    evidence,
    el('section', { 'aria-labelledby': 'decisions-title' },
      el('h2', { id: 'decisions-title' }, 'Decisions, newest first'), decisionNote,
      el('table', { class: 'grid', id: 'decisions' },
        el('thead', {}, el('tr', {}, ['Time', 'Share', 'Verdict', 'Action', 'Rule', 'Errors (canary vs stable)',
          'p95 (canary vs stable)', 'Source', 'Reason'].map((h) => el('th', { scope: 'col' }, h)))),
        decisionBody)));

  const qValue = (a) => orNull(a[quantile + '_ms']);
  const drawLatency = () => {
    latChart.update(rows(tl, qValue, false));
    clear(latency.data).append(dataTable(tl, qValue, ms));
  };
  for (const b of qButtons) {
    b.addEventListener('click', () => {
      quantile = b.getAttribute('data-quantile');
      for (const o of qButtons) o.setAttribute('aria-pressed', String(o === b));
      latency.box.setAttribute('aria-label', 'canary and stable ' + quantile + ' latency over time');
      drawLatency();
    });
  }

  let stop = () => {};
  const refresh = async () => {
    let s;
    try {
      s = await get('/v1/admin/rollouts/' + seg(flag) + '/series?points=300&decisions=1000');
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        clear(facts).append(el('p', {}, 'This flag has no rollout.'));
        stop();
        return;
      }
      throw e;
    }
    const r = s.rollout;
    const now = Date.now();
    tl = timeline(s);
    steps = s.steps;
    clear(facts).append(summaryList(r, now));
    if (r.state !== lastState) {
      clear(actions).append(rolloutActions(r, () => refresh()));
      lastState = r.state;
    }
    clear(evidence).append(evidenceSection(r, s.evidence));
    errChart.update(rows(tl, errorPct, true), stepMarks(steps));
    clear(errors.data).append(dataTable(tl, errorPct, (v) => (isNum(v) ? v.toFixed(3) + '%' : '–')));
    drawLatency();
    expChart.update(rows(tl, (a) => a.exposures, false));
    clear(exposures.data).append(dataTable(tl, (a) => a.exposures, count));
    if (!linked) linked = linkCharts([errChart, latChart, expChart]);
    clear(decisionBody).append(...decisionRows(s.decisions, pick));
    decisionNote.textContent = s.decisions.length < s.decisions_total
      ? 'The last ' + count(s.decisions.length) + ' of ' + count(s.decisions_total) + ' decisions.'
      : count(s.decisions_total) + ' decisions.';
    view.setAttribute('data-updated', String(now));
  };
  say('');
  stop = every(POLL_MS, refresh);
  return () => stop();
}
