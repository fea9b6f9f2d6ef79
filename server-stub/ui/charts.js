// charts.js - the charts, drawn by dygraphs (Debian's libjs-dygraphs,
// served from its install path under /ui/lib/); this file only says what
// to draw. The two arms differ by line style and label as well as by
// colour: stable dashed and thin, canary solid and thick. A decision's
// verdict is a shape: PASS a circle, FAIL a cross, INCONCLUSIVE a square,
// an operator's action a diamond.

import { clock, el } from './dom.js';

export const ARMS = {
  stable: { color: '#1f5fa8', strokePattern: [8, 4], strokeWidth: 1.5 },
  canary: { color: '#c2410c', strokePattern: null, strokeWidth: 2.5 },
};

const D = () => window.Dygraph;
export const haveCharts = () => typeof window.Dygraph === 'function';

// Once, before the first chart: our own legend and readout are text;
// dygraphs' legend writes markup with inline styles, which this page's
// Content-Security-Policy refuses.
export function prepareCharts() {
  if (!haveCharts()) return;
  D().PLUGINS = D().PLUGINS.filter((p) => p !== D().Plugins.Legend);
}

function shapeOf(decision) {
  const C = D().Circles;
  if (!decision || decision.source === 'operator') return C.DIAMOND || C.DEFAULT;
  if (decision.verdict === 'PASS') return C.CIRCLE || C.DEFAULT;
  if (decision.verdict === 'FAIL') return C.EX || C.DEFAULT;
  return C.SQUARE || C.DEFAULT;
}

// Vertical dotted lines at the step changes (under the data).
function stepLines(steps) {
  return (ctx, area, g) => {
    ctx.save();
    ctx.strokeStyle = '#555';
    ctx.lineWidth = 1;
    ctx.setLineDash([2, 3]);
    for (const s of steps()) {
      const x = g.toDomXCoord(s.time_ms);
      if (x < area.x || x > area.x + area.w) continue;
      ctx.beginPath();
      ctx.moveTo(x, area.y);
      ctx.lineTo(x, area.y + area.h);
      ctx.stroke();
    }
    ctx.restore();
  };
}

// A time chart of named series. opts: {series: ['stable', 'canary'],
// label: name -> legend text, format: value -> text, steps: () => [step],
// decisions: () => Map(time -> decision) (adds the 'decision' series),
// onDecision: decision -> void, readout: element for the hovered values}.
export class TimeChart {
  constructor(container, opts) {
    this.box = container;
    this.opts = opts;
    this.graph = null;
  }

  labels() {
    const l = ['time', ...this.opts.series.map(this.opts.label)];
    return this.opts.decisions ? [...l, 'decision'] : l;
  }

  options(rows) {
    const o = this.opts;
    const series = {};
    for (const s of o.series) {
      const arm = s.startsWith('canary') ? ARMS.canary : ARMS.stable;
      series[o.label(s)] = { ...arm };
    }
    if (o.decisions) {
      // On an axis of their own (not drawn), a lane just above the bottom.
      series.decision = {
        axis: 'y2',
        color: '#222',
        strokeWidth: 0,
        drawPoints: true,
        pointSize: 5,
        highlightCircleSize: 6,
        drawPointCallback: (g, name, ctx, x, y, color, r, idx) => {
          const d = o.decisions().get(g.getValue(idx, 0));
          shapeOf(d)(g, name, ctx, x, y, color, d && d.verdict === 'FAIL' ? r + 2 : r);
        },
        drawHighlightPointCallback: (g, name, ctx, x, y, color, r, idx) => {
          shapeOf(o.decisions().get(g.getValue(idx, 0)))(g, name, ctx, x, y, color, r);
        },
      };
    }
    return {
      labels: this.labels(),
      series,
      connectSeparatedPoints: true,
      includeZero: true,
      height: o.height || 220,
      axisLabelWidth: 70,
      labelsUTC: false,
      rightGap: 24,
      axes: {
        y: { valueFormatter: o.format, axisLabelFormatter: o.format },
        y2: { valueRange: [0, 10], drawAxis: false, drawGrid: false, axisLabelWidth: 0 },
        x: { valueFormatter: (t) => clock(t), axisLabelFormatter: (d) => clock(+d), pixelsPerLabel: 90 },
      },
      underlayCallback: stepLines(o.steps || (() => [])),
      highlightCallback: (e, x, points) => this.show(x, points),
      unhighlightCallback: () => this.show(null, []),
      pointClickCallback: (e, p) => {
        if (o.onDecision && p.name === 'decision') o.onDecision(o.decisions().get(p.xval));
      },
      file: rows,
    };
  }

  // The hovered values as text.
  show(x, points) {
    const box = this.opts.readout;
    if (!box) return;
    if (x === null) {
      box.textContent = 'Point at the chart for values; click a decision mark for its details.';
      return;
    }
    const parts = [clock(x)];
    for (const p of points) {
      if (p.name === 'decision' || p.yval === null || Number.isNaN(p.yval)) continue;
      parts.push(p.name + ' ' + this.opts.format(p.yval));
    }
    const d = this.opts.decisions && this.opts.decisions().get(x);
    if (d) parts.push('decision: ' + (d.verdict || d.source) + ' ' + d.action + ' (' + d.rule + ') ' + d.reason);
    box.textContent = parts.join(' · ');
  }

  // Draw `rows` ([Date, value...] per time); `marks` are the annotations
  // on the 'decision' series. Empty rows leave a note instead.
  update(rows, marks) {
    if (!haveCharts()) {
      this.box.textContent = 'The charting library is missing (canary-server --ui-lib-dir).';
      return;
    }
    if (!rows.length) {
      if (!this.graph) this.box.textContent = 'No events reported yet.';
      return;
    }
    if (!this.graph) {
      this.box.textContent = '';
      this.graph = new (D())(this.box, rows, this.options(rows));
      this.show(null, []);
    } else {
      this.graph.updateOptions({ file: rows });
    }
    if (marks) this.graph.setAnnotations(marks);
  }
}

// Keep the charts' zoom and hovered time together.
export function linkCharts(charts) {
  const graphs = charts.map((c) => c.graph).filter(Boolean);
  if (graphs.length > 1 && typeof D().synchronize === 'function') {
    D().synchronize(graphs, { selection: true, zoom: true, range: false });
    return true;
  }
  return false;
}

// A small chart of both arms' error rate, no axes, no interaction.
export function sparkline(container, rows) {
  if (!haveCharts() || rows.length < 2) {
    container.append(el('span', { class: 'muted' }, rows.length ? '' : 'no data'));
    return;
  }
  const hidden = { drawAxis: false, drawGrid: false };
  new (D())(container, rows, {
    labels: ['time', 'stable', 'canary'],
    series: { stable: { ...ARMS.stable, strokeWidth: 1 }, canary: { ...ARMS.canary, strokeWidth: 1.5 } },
    width: 140,
    height: 32,
    includeZero: true,
    connectSeparatedPoints: true,
    axes: { x: hidden, y: hidden },
    xAxisHeight: 0,
    axisLabelWidth: 0,
    rightGap: 0,
    interactionModel: {},
    highlightCircleSize: 0,
  });
}
