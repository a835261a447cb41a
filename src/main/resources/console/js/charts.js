// Usage charts in SVG: calls and errors per step as bars, latency p50 and p99 as lines. Each chart carries a text
// summary for screen readers.
import { h, svg } from './ui.js';

const WIDTH = 560;
const HEIGHT = 190;
const LEFT = 44;
const RIGHT = 10;
const TOP = 12;
const BOTTOM = 26;

function frame(points, max, unit, label) {
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const y = (v) => TOP + plotH - (max > 0 ? (v / max) * plotH : 0);
  const grid = [0, 0.5, 1].map((f) => [
    svg('line', { class: 'gridline', x1: LEFT, x2: WIDTH - RIGHT, y1: y(max * f), y2: y(max * f) }),
    svg('text', { class: 'axis', x: LEFT - 6, y: y(max * f) + 4, 'text-anchor': 'end' }, tick(max * f, unit)),
  ]);
  const first = points[0];
  const last = points[points.length - 1];
  const axis = first ? [
    svg('text', { class: 'axis', x: LEFT, y: HEIGHT - 6 }, timeLabel(first.at)),
    svg('text', { class: 'axis', x: WIDTH - RIGHT, y: HEIGHT - 6, 'text-anchor': 'end' }, timeLabel(last.at)),
  ] : [];
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': label }, grid, axis);
  return { root, y, plotW };
}

function tick(v, unit) {
  if (v === 0) {
    return '0';
  }
  if (unit === 'ms') {
    return v >= 1000 ? `${(v / 1000).toFixed(1)}s` : `${v >= 10 ? Math.round(v) : v.toFixed(1)}`;
  }
  return v >= 1000 ? `${(v / 1000).toFixed(1)}k` : `${Math.round(v)}`;
}

function timeLabel(iso) {
  const d = new Date(iso);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** Calls per step (errors drawn over them in red). */
export function callsChart(series) {
  const points = series.points;
  const total = points.reduce((s, p) => s + p.calls, 0);
  const errors = points.reduce((s, p) => s + p.errors, 0);
  // At least 2, so that the middle line is a whole number of calls.
  const max = Math.max(2, niceMax(Math.max(0, ...points.map((p) => p.calls))));
  const { root, y, plotW } = frame(points, max, 'calls',
    `Calls per ${stepName(series.step_seconds)} over ${series.window}: ${total} calls, ${errors} errors.`);
  const slot = plotW / Math.max(1, points.length);
  const barW = Math.max(1, slot * 0.7);
  points.forEach((p, i) => {
    const x = LEFT + i * slot + (slot - barW) / 2;
    if (p.calls > 0) {
      root.appendChild(svg('rect', { class: 'bar-calls', x, y: y(p.calls), width: barW, height: y(0) - y(p.calls) },
        svg('title', {}, `${timeLabel(p.at)}: ${p.calls} calls, ${p.errors} errors`)));
    }
    if (p.errors > 0) {
      root.appendChild(svg('rect', { class: 'bar-errors', x, y: y(p.errors), width: barW,
        height: y(0) - y(p.errors) }));
    }
  });
  return h('figure', { class: 'chart', 'data-testid': 'calls-chart' },
    h('h3', {}, 'Calls'), root,
    h('figcaption', { class: 'legend' }, h('span', { class: 'calls' }, `calls (${total})`),
      h('span', { class: 'errors' }, `errors (${errors})`)));
}

/** Latency p50 and p99 per step, in milliseconds; steps without calls leave gaps. */
export function latencyChart(series) {
  const points = series.points;
  const values = points.flatMap((p) => [p.latency_ms.p50, p.latency_ms.p99]).filter((v) => v !== null);
  const max = niceMax(Math.max(0, ...values));
  const { root, y, plotW } = frame(points, max, 'ms', values.length
    ? `Latency over ${series.window}: p50 up to ${Math.max(...points.map((p) => p.latency_ms.p50 ?? 0))} ms, `
      + `p99 up to ${Math.max(...points.map((p) => p.latency_ms.p99 ?? 0))} ms.`
    : `No calls over ${series.window}, so no latency.`);
  const slot = plotW / Math.max(1, points.length);
  for (const key of ['p50', 'p99']) {
    let d = '';
    let open = false;
    points.forEach((p, i) => {
      const v = p.latency_ms[key];
      if (v === null || v === undefined) {
        open = false;
        return;
      }
      const x = LEFT + i * slot + slot / 2;
      d += `${open ? 'L' : 'M'}${x.toFixed(1)},${y(v).toFixed(1)} `;
      open = true;
      root.appendChild(svg('circle', { class: `dot-${key}`, cx: x, cy: y(v), r: 3.5 },
        svg('title', {}, `${timeLabel(p.at)}: ${key} ${v} ms`)));
    });
    if (d) {
      root.appendChild(svg('path', { class: `line-${key}`, d: d.trim() }));
    }
  }
  return h('figure', { class: 'chart', 'data-testid': 'latency-chart' },
    h('h3', {}, 'Latency (ms)'), root,
    h('figcaption', { class: 'legend' }, h('span', { class: 'p50' }, 'p50'), h('span', { class: 'p99' }, 'p99')));
}

function niceMax(v) {
  if (v <= 0) {
    return 1;
  }
  const magnitude = 10 ** Math.floor(Math.log10(v));
  for (const f of [1, 2, 2.5, 5, 10]) {
    if (v <= f * magnitude) {
      return f * magnitude;
    }
  }
  return 10 * magnitude;
}

function stepName(seconds) {
  return seconds === 60 ? 'minute' : seconds === 3600 ? 'hour' : `${seconds / 3600} hours`;
}
