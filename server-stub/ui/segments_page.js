// segments_page.js - the named segments flags share: a list with each
// segment's rules and the flags that name it, and a segment's page.
// Read-only: segments are changed with canaryctl or the admin API.

import { get, getIfAny, seg } from './api.js';
import { clear, count, el, every, say } from './dom.js';
import { ruleList } from './rule_text.js';

const POLL_MS = 5000;

function flagLinks(keys) {
  const list = Array.isArray(keys) ? keys : [];
  if (!list.length) return el('span', { class: 'muted' }, 'none');
  return list.flatMap((key, i) => [i ? ', ' : '', el('a', { href: '#/flags/' + seg(key), 'data-flag': key }, key)]);
}

async function loadList(body, summary) {
  const doc = await get('/v1/admin/segments');
  const segments = doc && Array.isArray(doc.segments) ? doc.segments : [];
  clear(body);
  for (const s of segments) {
    body.append(el('tr', { 'data-segment': s.name },
      el('th', { scope: 'row' }, el('a', { href: '#/segments/' + seg(s.name) }, s.name)),
      el('td', { class: 'rules-cell' }, ruleList(s.constraints)),
      el('td', { class: 'flags-cell' }, flagLinks(s.flags))));
  }
  summary.textContent = count(segments.length) + (segments.length === 1 ? ' segment' : ' segments') + ', config version ' + String(doc.version) + '.';
}

export function mountList(view) {
  const summary = el('p', { class: 'summary' }, 'Loading…');
  const body = el('tbody', { id: 'segments-body' });
  view.append(el('h1', {}, 'Segments'), summary,
    el('p', { class: 'hint' }, 'A unit is in a segment when it meets all of the segment\'s rules; a flag that names segments targets the units in all of them.'),
    el('table', { class: 'grid', id: 'segments' },
      el('thead', {}, el('tr', {}, ['Segment', 'Rules (all must hold)', 'Flags that name it']
        .map((h) => el('th', { scope: 'col' }, h)))),
      body));
  say('');
  return every(POLL_MS, () => loadList(body, summary));
}

async function loadSegment(name, parts) {
  const doc = await getIfAny('/v1/admin/segments/' + seg(name));
  if (!doc) {
    clear(parts.facts).append(el('p', {}, 'No such segment.'));
    return;
  }
  const s = doc.segment;
  clear(parts.facts).append(el('dl', { class: 'facts', id: 'segment-facts' },
    el('dt', {}, 'Rules (all must hold)'), el('dd', {}, ruleList(s.constraints, 'segment-rules')),
    el('dt', {}, 'Flags that name it'), el('dd', { id: 'segment-flags' }, flagLinks(s.flags)),
    el('dt', {}, 'Config version'), el('dd', {}, String(doc.version))));
  parts.raw.textContent = JSON.stringify(s, null, 2);
}

export function mountSegment(view, name) {
  const parts = { facts: el('div', {}, 'Loading…'), raw: el('pre', { id: 'segment-json' }) };
  view.append(el('h1', {}, 'Segment ', el('span', { class: 'flagname' }, name)), parts.facts,
    el('details', {}, el('summary', {}, 'The segment as JSON'), parts.raw),
    el('p', {}, el('a', { href: '#/segments' }, 'All segments')));
  say('');
  return every(POLL_MS, () => loadSegment(name, parts));
}
