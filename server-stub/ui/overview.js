// overview.js - the rollouts overview: every flag with a rollout, what
// needs attention first (paused, stalled, failing), each with its state,
// step, share, last verdict and reason, time in step, and a sparkline of
// both arms' error rate.

import { get, seg } from './api.js';
import { sparkline } from './charts.js';
import { clear, count, duration, el, every, pct, say, share, specMs, when } from './dom.js';

const POLL_MS = 5000;

// How much a rollout needs a look, most first, and the word for it.
function attention(r, evidence, now) {
  const age = now - r.step_started_ms;
  const maxStep = specMs(r.spec && r.spec.max_step);
  const interval = specMs(r.spec && r.spec.interval);
  const lastSeen = evidence && typeof evidence.time_ms === 'number' ? evidence.time_ms : r.step_started_ms;
  if (r.state === 'paused') return { rank: 0, word: 'paused' };
  if (r.state === 'running') {
    if (age >= maxStep / 2 || now - lastSeen > 3 * interval + 5000) return { rank: 1, word: 'stalled' };
    if (evidence && evidence.verdict === 'FAIL') return { rank: 2, word: 'failing' };
    return { rank: 4, word: '' };
  }
  if (r.state === 'rolled_back' && now - r.updated_ms < 24 * 3600 * 1000) return { rank: 3, word: 'rolled back today' };
  return { rank: r.state === 'completed' ? 5 : 6, word: '' };
}

function sparkRows(series) {
  return (series && series.points ? series.points : []).map((p) => [
    new Date(p.time_ms),
    typeof p.stable.error_rate === 'number' ? p.stable.error_rate * 100 : null,
    typeof p.canary.error_rate === 'number' ? p.canary.error_rate * 100 : null,
  ]);
}

function lastRates(series) {
  const pts = series && series.points ? series.points : [];
  for (let i = pts.length - 1; i >= 0; i--) {
    if (pts[i].canary.exposures || pts[i].stable.exposures) return pts[i];
  }
  return null;
}

function row(item, now) {
  const { r, series, att } = item;
  const ev = series ? series.evidence : null;
  const link = el('a', { href: '#/rollouts/' + seg(r.flag) }, r.flag);
  const state = el('td', { class: 'state' },
    el('span', { class: 'badge state-' + r.state }, r.state.replace('_', ' ')),
    att.word && att.word !== r.state ? el('span', { class: 'badge attention' }, att.word) : null);
  const spark = el('div', { class: 'spark', 'aria-hidden': 'true' });
  const last = lastRates(series);
  const rates = el('td', { class: 'rates' }, spark,
    el('span', { class: 'spark-text' },
      last ? 'canary ' + pct(last.canary.error_rate) + ' vs stable ' + pct(last.stable.error_rate) : 'no events'));
  const active = r.state === 'running' || r.state === 'paused';
  const tr = el('tr', { 'data-flag': r.flag, 'data-state': r.state, 'data-attention': att.word },
    el('th', { scope: 'row' }, link),
    state,
    el('td', { class: 'num' }, (r.step + 1) + ' of ' + r.steps_total),
    el('td', { class: 'num' }, share(r.percent)),
    el('td', { class: 'verdict' }, ev ? el('span', { class: 'verdict-' + ev.verdict }, ev.verdict) : '–',
      ev ? el('span', { class: 'muted' }, ' ' + ev.rule) : null),
    el('td', { class: 'reason' }, r.reason),
    el('td', { class: 'num' }, active ? duration(now - r.step_started_ms) : 'ended ' + when(r.updated_ms)),
    rates);
  item.draw = () => sparkline(spark, sparkRows(series));
  return tr;
}

async function load(body, summary) {
  const doc = await get('/v1/admin/rollouts');
  const rollouts = doc && Array.isArray(doc.rollouts) ? doc.rollouts : [];
  const now = Date.now();
  const items = await Promise.all(rollouts.map(async (r) => {
    let series = null;
    try {
      series = await get('/v1/admin/rollouts/' + seg(r.flag) + '/series?points=40&decisions=0');
    } catch (e) {
      series = null;
    }
    return { r, series, att: attention(r, series && series.evidence, now) };
  }));
  items.sort((a, b) => a.att.rank - b.att.rank || b.r.updated_ms - a.r.updated_ms);
  clear(body);
  for (const item of items) body.append(row(item, now));
  for (const item of items) item.draw();
  const active = items.filter((i) => i.r.state === 'running' || i.r.state === 'paused').length;
  summary.textContent = items.length
    ? count(items.length) + ' flags with a rollout, ' + count(active) + ' active. Updated ' + when(now) + '.'
    : 'No rollouts yet: start one with "canaryctl rollout start FLAG".';
}

export function mount(view) {
  const summary = el('p', { class: 'summary', id: 'overview-summary' }, 'Loading…');
  const body = el('tbody', { id: 'rollouts-body' });
  view.append(
    el('h1', {}, 'Rollouts'),
    summary,
    el('table', { class: 'grid', id: 'rollouts' },
      el('caption', { class: 'visually-hidden' }, 'Rollouts, those that need attention first'),
      el('thead', {}, el('tr', {},
        ['Flag', 'State', 'Step', 'Canary share', 'Last verdict', 'Reason', 'Time in step',
          'Error rate (canary solid, stable dashed)'].map((h) => el('th', { scope: 'col' }, h)))),
      body));
  say('');
  return every(POLL_MS, () => load(body, summary));
}
