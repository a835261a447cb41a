// Draws a flow as a layered DAG in SVG: layers by longest path from the API Input, left to right; within a layer,
// nodes ordered by the mean position of their predecessors (one barycentre pass per layer), which keeps small flows
// free of crossings.
import { h, svg } from './ui.js';

const W = 168;
const H = 54;
const GAP_X = 70;
const GAP_Y = 26;
const PAD = 16;

/** Layer and row of every node; tolerant of dangling edges and cycles (an editor preview may hold either). */
export function layout(nodes, edges) {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  const preds = new Map(ids.map((id) => [id, []]));
  const succs = new Map(ids.map((id) => [id, []]));
  for (const e of edges) {
    if (known.has(e.from) && known.has(e.to) && e.from !== e.to) {
      preds.get(e.to).push(e.from);
      succs.get(e.from).push(e.to);
    }
  }
  const layer = new Map();
  const indegree = new Map(ids.map((id) => [id, preds.get(id).length]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (const id of queue) {
    layer.set(id, 0);
  }
  while (queue.length) {
    const id = queue.shift();
    for (const next of succs.get(id)) {
      layer.set(next, Math.max(layer.get(next) ?? 0, layer.get(id) + 1));
      indegree.set(next, indegree.get(next) - 1);
      if (indegree.get(next) === 0) {
        queue.push(next);
      }
    }
  }
  for (const id of ids) {
    if (!layer.has(id)) {
      layer.set(id, 0); // on a cycle: drawn in the first column
    }
  }
  const layers = [];
  for (const id of ids) {
    (layers[layer.get(id)] ||= []).push(id);
  }
  const row = new Map();
  layers.forEach((members, i) => {
    if (i > 0) {
      const score = (id) => {
        const p = preds.get(id).filter((x) => row.has(x));
        return p.length ? p.reduce((s, x) => s + row.get(x), 0) / p.length : Number.MAX_SAFE_INTEGER;
      };
      members.sort((a, b) => score(a) - score(b));
    }
    members.forEach((id, r) => row.set(id, r));
  });
  return { layer, row, layers: layers.map((l) => l || []) };
}

/** An <svg> of the flow, with an accessible text description of its nodes and edges. */
export function drawFlow(flow) {
  const nodes = Array.isArray(flow.nodes) ? flow.nodes.filter((n) => n && typeof n.id === 'string') : [];
  const edges = Array.isArray(flow.edges) ? flow.edges.filter((e) => e && e.from && e.to) : [];
  const { layer, row, layers } = layout(nodes, edges);
  const tallest = Math.max(1, ...layers.map((l) => l.length));
  const width = PAD * 2 + layers.length * W + Math.max(0, layers.length - 1) * GAP_X;
  const height = PAD * 2 + tallest * H + (tallest - 1) * GAP_Y;
  const pos = new Map();
  for (const n of nodes) {
    const size = layers[layer.get(n.id)].length;
    const offset = ((tallest - size) * (H + GAP_Y)) / 2;
    pos.set(n.id, { x: PAD + layer.get(n.id) * (W + GAP_X), y: PAD + offset + row.get(n.id) * (H + GAP_Y) });
  }
  const markerId = `arrow-${Math.random().toString(36).slice(2)}`;
  const edgeEls = edges.filter((e) => pos.has(e.from) && pos.has(e.to)).map((e) => {
    const a = pos.get(e.from);
    const b = pos.get(e.to);
    const x1 = a.x + W;
    const y1 = a.y + H / 2;
    const x2 = b.x - 4;
    const y2 = b.y + H / 2;
    const bend = Math.max(30, (x2 - x1) / 2);
    const path = svg('path', { class: 'edge', d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
      'marker-end': `url(#${markerId})` });
    const label = typeof e.when === 'boolean'
      ? svg('text', { class: 'edge-label', x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, 'text-anchor': 'middle' },
        e.when ? 'true' : 'false') : null;
    return svg('g', {}, path, label);
  });
  const nodeEls = nodes.map((n) => {
    const { x, y } = pos.get(n.id);
    const type = typeof n.type === 'string' ? n.type : '?';
    return svg('g', { class: `node ${type.replace(/[^a-z_]/g, '')}`, 'data-node': n.id },
      svg('title', {}, `${n.id} (${type})`),
      svg('rect', { x, y, width: W, height: H, rx: 9 }),
      svg('text', { class: 'node-id', x: x + 12, y: y + 22 }, truncate(n.id, 20)),
      svg('text', { class: 'node-type', x: x + 12, y: y + 40 }, truncate(type, 24)));
  });
  const description = `Flow graph with ${nodes.length} nodes: ${nodes.map((n) => `${n.id} (${n.type})`).join(', ')}. `
    + `Edges: ${edges.map((e) => `${e.from} to ${e.to}${typeof e.when === 'boolean' ? ` when ${e.when}` : ''}`)
      .join(', ') || 'none'}.`;
  const picture = svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img',
    'aria-label': description },
  svg('defs', {}, svg('marker', { id: markerId, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7,
    markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { class: 'arrow', d: 'M0,0 L10,5 L0,10 z' }))),
  edgeEls, nodeEls);
  return h('div', { class: 'dag', 'data-testid': 'dag' }, picture);
}

function truncate(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
