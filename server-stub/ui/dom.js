// dom.js - building the page from data: elements whose text is always
// set as text (textContent, text nodes), never parsed as markup, and the
// formats of numbers, times and durations.

// el('a', {href: '#/x', class: 'y'}, 'text', child, ...). Attribute
// names come from this code, never from data; children are nodes or
// strings (added as text); null and undefined are skipped.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

// 0.0021 -> "0.21%"; no value -> "–".
export function pct(rate) {
  if (!isNum(rate)) return '–';
  const p = rate * 100;
  return (p !== 0 && Math.abs(p) < 0.01 ? p.toExponential(1) : p.toFixed(2)) + '%';
}

// A share that is already in percent (25 -> "25%", 0.25 -> "0.25%").
export function share(percent) {
  if (!isNum(percent)) return '–';
  return String(Math.round(percent * 100) / 100) + '%';
}

export function ms(v) {
  if (!isNum(v)) return '–';
  return (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)) + ' ms';
}

export function count(v) {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : '–';
}

export function num(v) {
  if (!isNum(v)) return '–';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(2);
  return String(Math.round(v * 1000) / 1000);
}

// Local wall-clock time, to the second.
export function clock(t) {
  if (!isNum(t)) return '–';
  return new Date(t).toLocaleTimeString('en-GB', { hour12: false });
}

// Local date and time.
export function when(t) {
  if (!isNum(t)) return '–';
  const d = new Date(t);
  return d.toLocaleDateString('en-CA') + ' ' + d.toLocaleTimeString('en-GB', { hour12: false });
}

// 75000 -> "1m 15s", 500 -> "500ms", 3600000 -> "1h".
export function duration(v) {
  if (!isNum(v) || v < 0) return '–';
  if (v < 1000) return Math.round(v) + 'ms';
  let s = Math.floor(v / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = d ? [[d, 'd'], [h, 'h']] : h ? [[h, 'h'], [m, 'm']] : m ? [[m, 'm'], [s, 's']] : [[s, 's']];
  return parts.filter(([n], i) => n || i === 0).map(([n, u]) => n + u).join(' ');
}

// "300000ms" (a stored rollout duration) -> 300000.
export function specMs(text) {
  const m = /^(\d+)ms$/.exec(typeof text === 'string' ? text : '');
  return m ? Number(m[1]) : NaN;
}

// A status line for the screen reader and the eye.
export function say(text) {
  byId('status').textContent = text;
}

// Run fn now and every `period` ms while the page is visible (a hidden
// tab asks nothing); returns the function that stops it. A run does not
// start before the previous one has finished.
export function every(period, fn) {
  let timer = null;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try {
        await fn();
      } catch (e) {
        say('Update failed: ' + e.message);
      }
    }
    if (!stopped) timer = setTimeout(run, period);
  };
  run();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
