// flags_page.js - the flags: a list with each flag's share, targeting,
// rollout and kill switch, and a flag's page with its config, its
// targeting rules and the history of its latest rollout.

import { get, getIfAny, seg } from './api.js';
import { killSwitch } from './actions.js';
import { clear, clock, count, el, every, say, share, when } from './dom.js';
import { ruleList, segmentLinks, targetingSummary } from './rule_text.js';

const POLL_MS = 5000;

function onOff(f) {
  return el('span', { class: 'badge ' + (f.enabled ? 'on' : 'off') }, f.enabled ? 'on' : 'off (killed)');
}

function rolloutCell(key, r) {
  if (!r) return el('span', { class: 'muted' }, 'none');
  return el('a', { href: '#/rollouts/' + seg(key) }, el('span', { class: 'badge state-' + r.state },
    r.state.replace('_', ' ')), ' step ' + (r.step + 1) + ' of ' + r.steps_total);
}

async function loadList(body, summary) {
  const [cfg, ro] = await Promise.all([get('/v1/admin/flags'), get('/v1/admin/rollouts')]);
  const flags = cfg && Array.isArray(cfg.flags) ? cfg.flags : [];
  const rollouts = new Map((ro && Array.isArray(ro.rollouts) ? ro.rollouts : []).map((r) => [r.flag, r]));
  clear(body);
  for (const f of flags) {
    body.append(el('tr', { 'data-flag': f.key },
      el('th', { scope: 'row' }, el('a', { href: '#/flags/' + seg(f.key) }, f.key)),
      el('td', {}, onOff(f)),
      el('td', { class: 'num' }, share(f.rollout_bp / 100)),
      el('td', { class: 'targeting' }, targetingSummary(f)),
      el('td', {}, rolloutCell(f.key, rollouts.get(f.key))),
      el('td', {}, (f.variants ? f.variants.stable : '') || '–', ' / ', (f.variants ? f.variants.canary : '') || '–'),
      el('td', { class: 'num' }, count((f.allow || []).length) + ' / ' + count((f.deny || []).length)),
      el('td', {}, killSwitch(f, () => loadList(body, summary)))));
  }
  summary.textContent = count(flags.length) + ' flags, config version ' + String(cfg.version) + '.';
}

export function mountList(view) {
  const summary = el('p', { class: 'summary' }, 'Loading…');
  const body = el('tbody', { id: 'flags-body' });
  view.append(el('h1', {}, 'Flags'), summary,
    el('table', { class: 'grid', id: 'flags' },
      el('thead', {}, el('tr', {}, ['Flag', 'Kill switch', 'Canary share', 'Targeting', 'Rollout', 'Variants (stable / canary)',
        'Allow / deny', 'Action'].map((h) => el('th', { scope: 'col' }, h)))),
      body));
  say('');
  return every(POLL_MS, () => loadList(body, summary));
}

function config(f, version) {
  const item = (term, ...value) => [el('dt', {}, term), el('dd', {}, ...value)];
  return el('dl', { class: 'facts', id: 'flag-facts' },
    item('Kill switch', onOff(f)),
    item('Canary share', share(f.rollout_bp / 100), el('span', { class: 'muted' }, ' (rollout_bp ' + f.rollout_bp + ')')),
    item('Stable variant', f.variants ? f.variants.stable : ''),
    item('Canary variant', f.variants ? f.variants.canary : ''),
    item('State', f.state || '–'),
    item('Salt', f.salt),
    item('Always canary (allow)', (f.allow || []).join(', ') || '–'),
    item('Never canary (deny)', (f.deny || []).join(', ') || '–'),
    item('Config version', String(version)));
}

// Who is eligible: the flag's own rules, its segments' (all must hold),
// and what the split hashes.
function targeting(f) {
  const item = (term, ...value) => [el('dt', {}, term), el('dd', {}, ...value)];
  return el('dl', { class: 'facts', id: 'flag-targeting' },
    item('Rules (all must hold)', ruleList(f.constraints, 'flag-rules')),
    item('Segments (all must hold)', segmentLinks(f.segments, 'flag-segments')),
    item('Stickiness', el('span', { id: 'flag-stickiness' }, f.stickiness || 'the unit id')));
}

function history(doc) {
  if (!doc) return el('p', {}, 'This flag has had no rollout.');
  const decisions = Array.isArray(doc.decisions) ? doc.decisions.slice().reverse() : [];
  return el('div', {},
    el('p', {}, 'Latest rollout, started ', when(doc.created_ms), ': ',
      el('a', { href: '#/rollouts/' + seg(doc.flag) }, doc.state.replace('_', ' ') + ', ' + doc.reason),
      decisions.length < doc.decisions_total ? ' (the last ' + decisions.length + ' of ' + doc.decisions_total + ' decisions)' : ''),
    el('table', { class: 'grid', id: 'flag-history' },
      el('thead', {}, el('tr', {}, ['Time', 'Share', 'Source', 'Action', 'Verdict', 'Rule', 'Reason']
        .map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, decisions.map((d) => el('tr', {},
        el('td', { class: 'num' }, clock(d.time_ms)),
        el('td', { class: 'num' }, share(d.percent)),
        el('td', {}, d.source),
        el('td', {}, d.action),
        el('td', { class: 'verdict-' + d.verdict }, d.verdict || '–'),
        el('td', {}, d.rule),
        el('td', { class: 'reason' }, d.reason))))));
}

async function loadFlag(key, parts) {
  const doc = await getIfAny('/v1/admin/flags/' + seg(key));
  if (!doc) {
    clear(parts.facts).append(el('p', {}, 'No such flag.'));
    return;
  }
  const ro = await getIfAny('/v1/admin/rollouts/' + seg(key) + '?last=200');
  clear(parts.facts).append(config(doc.flag, doc.version));
  clear(parts.targeting).append(targeting(doc.flag));
  clear(parts.action).append(killSwitch(doc.flag, () => loadFlag(key, parts)));
  parts.raw.textContent = JSON.stringify(doc.flag, null, 2);
  clear(parts.history).append(history(ro));
}

export function mountFlag(view, key) {
  const parts = {
    facts: el('div', {}, 'Loading…'),
    targeting: el('div', {}),
    action: el('div', { class: 'actions' }),
    raw: el('pre', { id: 'flag-json' }),
    history: el('div', {}),
  };
  view.append(el('h1', {}, 'Flag ', el('span', { class: 'flagname' }, key)),
    parts.facts, parts.action,
    el('section', { 'aria-labelledby': 'targeting-title' }, el('h2', { id: 'targeting-title' }, 'Targeting'),
      el('p', { class: 'hint' }, 'The allow and deny lists come first; a unit that fails a rule then gets stable (ineligible), and the canary share splits the units that pass.'),
      parts.targeting),
    el('details', {}, el('summary', {}, 'The flag as JSON'), parts.raw),
    el('section', { 'aria-labelledby': 'history-title' }, el('h2', { id: 'history-title' }, 'History'), parts.history));
  say('');
  return every(POLL_MS, () => loadFlag(key, parts));
}
