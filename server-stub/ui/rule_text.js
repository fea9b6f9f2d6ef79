// rule_text.js - a flag's targeting as the page shows it: each constraint
// the way canaryctl writes it ("region not IN/i eu-1,eu-2"), the segments
// it names (links to the segments page) and its stickiness. Everything
// from the data is text (dom.js's el), however it is spelt.

import { seg } from './api.js';
import { el } from './dom.js';

// A constraint as `--rule` writes it: ATTR [not] OP[/i] VALUE(S).
export function ruleText(c) {
  const values = Array.isArray(c.values) ? c.values.join(',') : (c.value === undefined ? '' : String(c.value));
  return String(c.contextName) + ' ' + (c.inverted ? 'not ' : '') + String(c.operator) +
    (c.caseInsensitive ? '/i' : '') + ' ' + values;
}

// A list of constraints (all must hold), or "none".
export function ruleList(constraints, id) {
  const list = Array.isArray(constraints) ? constraints : [];
  if (!list.length) return el('span', { class: 'muted', id }, 'none');
  return el('ul', { class: 'rules', id }, list.map((c) => el('li', {}, el('code', {}, ruleText(c)))));
}

// Links to the segments `names`, or "none".
export function segmentLinks(names, id) {
  const list = Array.isArray(names) ? names : [];
  if (!list.length) return el('span', { class: 'muted', id }, 'none');
  return el('span', { id }, list.flatMap((name, i) => [i ? ', ' : '',
    el('a', { href: '#/segments/' + seg(name), 'data-segment': name }, name)]));
}

// A flag's targeting in one short line for the flags list.
export function targetingSummary(f) {
  const rules = Array.isArray(f.constraints) ? f.constraints.length : 0;
  const segs = Array.isArray(f.segments) ? f.segments : [];
  const parts = [];
  if (rules) parts.push(rules + (rules === 1 ? ' rule' : ' rules'));
  if (segs.length) parts.push('segments ' + segs.join(', '));
  if (f.stickiness) parts.push('by ' + f.stickiness);
  return parts.length ? parts.join('; ') : 'everyone';
}
