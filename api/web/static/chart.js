// Small charts of a cleared round as inline SVG: the capacity auction's supply stack against
// its demand curve, and an energy round's price by hour. No library, no outside request.

import { num } from './common.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 640;
const H = 300;
const PAD = { left: 64, right: 16, top: 16, bottom: 44 };

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Round tick steps (1, 2, 5 × 10^k) spanning [0, top]. */
function ticks(top, count = 5) {
  if (!(top > 0)) return [0];
  const raw = top / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = 0; v <= top + step * 1e-9; v += step) out.push(v);
  return out;
}

function frame(title, desc) {
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': title, class: 'plot' },
    svg('title', {}, title), svg('desc', {}, desc));
}

function axes(root, x, y, xTicks, yTicks, xLabel, yLabel, yBottom = 0) {
  const g = svg('g', { class: 'axes' });
  for (const v of yTicks) {
    g.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, num(v, 0)));
  }
  for (const v of xTicks) {
    g.append(svg('text', { x: x(v), y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, typeof v === 'number' ? num(v, 0) : v));
  }
  g.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(yBottom), y2: y(yBottom), class: 'axis' }));
  g.append(svg('line', { x1: PAD.left, x2: PAD.left, y1: PAD.top, y2: H - PAD.bottom, class: 'axis' }));
  g.append(svg('text', { x: (PAD.left + W - PAD.right) / 2, y: H - 6, 'text-anchor': 'middle', class: 'label' }, xLabel));
  g.append(svg('text', { x: 14, y: (PAD.top + H - PAD.bottom) / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 14 ${(PAD.top + H - PAD.bottom) / 2})` }, yLabel));
  root.append(g);
}

function legend(root, items) {
  const g = svg('g', { class: 'legend' });
  let x = PAD.left + 8;
  for (const [cls, text] of items) {
    g.append(svg('rect', { x, y: PAD.top + 2, width: 14, height: 4, class: cls }));
    const label = svg('text', { x: x + 18, y: PAD.top + 8 }, text);
    g.append(label);
    x += 30 + text.length * 7;
  }
  root.append(g);
}

/**
 * The capacity auction: offers stacked by price (yours highlighted) against the demand curve,
 * with the clearing price and volume. `result` is the published capacity result.
 */
export function capacityChart(result, me) {
  const offers = [...(result.offers || [])].sort((a, b) => a.price_yuan_per_kw_yr - b.price_yuan_per_kw_yr);
  const demand = result.demand || { quantity_mw: [], price_yuan_per_kw_yr: [] };
  const qs = demand.quantity_mw || [];
  const ps = demand.price_yuan_per_kw_yr || [];
  const supplyTotal = offers.reduce((s, o) => s + o.mw, 0);
  const xMax = Math.max(supplyTotal, ...qs, 1) * 1.05;
  const yMax = Math.max(...ps, ...offers.map((o) => o.price_yuan_per_kw_yr), result.price_yuan_per_kw_yr || 0, 1) * 1.1;
  const x = (v) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - (v / yMax) * (H - PAD.top - PAD.bottom);
  const price = result.price_yuan_per_kw_yr;
  const title = `Capacity auction: supply offers against the demand curve; clearing price ${price === null ? 'none' : `${num(price)} yuan/kW·yr`}`;
  const root = frame(title, `${offers.length} offers, ${num(supplyTotal, 1)} MW offered; cleared ${num(result.total_cleared_mw, 1)} MW.`);
  axes(root, x, y, ticks(xMax), ticks(yMax), 'accredited MW', 'yuan/kW·yr');

  // supply: one step per offer; yours drawn on top in the accent colour
  let at = 0;
  const mine = [];
  let path = `M ${x(0)} ${y(offers.length ? offers[0].price_yuan_per_kw_yr : 0)}`;
  for (const o of offers) {
    const p = y(o.price_yuan_per_kw_yr);
    path += ` L ${x(at)} ${p} L ${x(at + o.mw)} ${p}`;
    if (o.participant === me) mine.push([at, at + o.mw, o.price_yuan_per_kw_yr]);
    at += o.mw;
  }
  root.append(svg('path', { d: path, class: 'supply' }));
  for (const [a, b, p] of mine) {
    root.append(svg('line', { x1: x(a), x2: x(b), y1: y(p), y2: y(p), class: 'mine' }));
  }

  // demand: flat at its first price up to the first point, then the points, then flat
  if (qs.length) {
    let d = `M ${x(0)} ${y(ps[0])}`;
    qs.forEach((q, i) => { d += ` L ${x(q)} ${y(ps[i])}`; });
    if (ps[ps.length - 1] === 0) d += ` L ${x(xMax)} ${y(0)}`;
    root.append(svg('path', { d, class: 'demand' }));
  }
  if (price !== null && price !== undefined) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(price), y2: y(price), class: 'price' }));
    root.append(svg('circle', { cx: x(result.total_cleared_mw || 0), cy: y(price), r: 5, class: 'clear-point' }));
    root.append(svg('text', { x: PAD.left + 6, y: y(price) - 6, 'text-anchor': 'start', class: 'price-label' },
      `clearing price ${num(price)} yuan/kW·yr`));
  }
  legend(root, [['supply', 'offers (supply)'], ...(me ? [['mine', 'your offers']] : []), ['demand', 'demand curve'],
    ['price', 'clearing price']]);
  return root;
}

/** An energy round: the clearing price of each hour as bars, with the price cap. */
export function energyChart(result, cap) {
  const hours = result.hours || [];
  const prices = result.price_yuan_per_mwh || [];
  const known = prices.filter((p) => p !== null && p !== undefined);
  const low = Math.min(0, ...known);
  const yMax = Math.max(...known, 1) * 1.1;
  const n = Math.max(hours.length, 1);
  const band = (W - PAD.left - PAD.right) / n;
  const x = (i) => PAD.left + band * i + band / 2;
  const y = (v) => H - PAD.bottom - ((v - low) / (yMax - low)) * (H - PAD.top - PAD.bottom);
  const shown = known.length ? `from ${num(Math.min(...known))} to ${num(Math.max(...known))} yuan/MWh` : 'no trade';
  const root = frame(`Energy round ${result.round_id}: clearing price by hour`, `${hours.length} hours, prices ${shown}.`);
  const every = Math.ceil(n / 12);
  const labels = hours.map((h, i) => (i % every === 0 ? h : null));
  const yTicks = ticks(yMax).concat(low < 0 ? [low] : []);
  axes(root, (i) => x(i), y, [], yTicks, 'session hour', 'yuan/MWh', 0);
  const g = svg('g', { class: 'axes' });
  labels.forEach((h, i) => {
    if (h !== null) g.append(svg('text', { x: x(i), y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, h));
  });
  root.append(g);
  prices.forEach((p, i) => {
    if (p === null || p === undefined) return;
    const top = y(Math.max(p, 0));
    const bottom = y(Math.min(p, 0));
    const bar = svg('rect', { 'data-hour': hours[i], x: x(i) - band * 0.35, y: top, width: band * 0.7, height: Math.max(bottom - top, 1),
      class: result.stress_hours && result.stress_hours.includes(hours[i]) ? 'bar stress' : 'bar' });
    bar.append(svg('title', {}, `hour ${hours[i]}: ${num(p)} yuan/MWh`));
    root.append(bar);
  });
  const showCap = Boolean(cap && cap <= yMax);
  if (showCap) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(cap), y2: y(cap), class: 'price' }));
  }
  const stress = (result.stress_hours || []).length > 0;
  legend(root, [['bar', 'clearing price'], ...(stress ? [['bar stress', 'stress hour']] : []),
    ...(showCap ? [['price', 'price cap']] : [])]);
  return root;
}

/**
 * Everyone's bids of a round (or of one hour) as a supply and a demand curve, anonymised (no
 * names), with the caller's own bids marked. `sells` / `buys`: [{price, quantity, mine}];
 * `price`: the clearing price (or null).
 */
export function curvesChart({ title, sells, buys, price, xLabel, yLabel, testId }) {
  const supply = [...sells].sort((a, b) => a.price - b.price);
  const demand = [...buys].sort((a, b) => b.price - a.price);
  const total = (list) => list.reduce((s, b) => s + b.quantity, 0);
  const prices = [...supply, ...demand].map((b) => b.price);
  const xMax = Math.max(total(supply), total(demand), 1) * 1.05;
  const low = Math.min(0, ...prices);
  const yMax = Math.max(...prices, price || 0, 1) * 1.1;
  const x = (v) => PAD.left + (v / xMax) * (W - PAD.left - PAD.right);
  const y = (v) => H - PAD.bottom - ((v - low) / (yMax - low)) * (H - PAD.top - PAD.bottom);
  const root = frame(title, `${supply.length} offers (${num(total(supply), 1)}) and ${demand.length} bids (${num(total(demand), 1)}); `
    + `${price === null || price === undefined ? 'no clearing price' : `clearing price ${num(price)}`}.`);
  if (testId) root.setAttribute('data-chart', testId);
  axes(root, x, y, ticks(xMax), ticks(yMax).concat(low < 0 ? [low] : []), xLabel, yLabel, 0);
  const steps = (list, cls) => {
    if (!list.length) return;
    let at = 0;
    let d = `M ${x(0)} ${y(list[0].price)}`;
    const mine = [];
    for (const b of list) {
      d += ` L ${x(at)} ${y(b.price)} L ${x(at + b.quantity)} ${y(b.price)}`;
      if (b.mine) mine.push([at, at + b.quantity, b.price]);
      at += b.quantity;
    }
    root.append(svg('path', { d, class: cls }));
    for (const [a, b, p] of mine) {
      root.append(svg('line', { x1: x(a), x2: x(b), y1: y(p), y2: y(p), class: 'mine', 'data-mine': '1' }));
    }
  };
  steps(supply, 'supply');
  steps(demand, 'demand');
  if (price !== null && price !== undefined) {
    root.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(price), y2: y(price), class: 'price' }));
  }
  const anyMine = [...supply, ...demand].some((b) => b.mine);
  legend(root, [['supply', 'offers (supply)'], ['demand', 'bids (demand)'], ...(anyMine ? [['mine', 'yours']] : []),
    ...(price === null || price === undefined ? [] : [['price', 'clearing price']])]);
  return root;
}

const MINE = '#e06c00';

/** A tick label that fits the axis: 12.5 M, 250 k, 120. */
function short(v) {
  const a = Math.abs(v);
  if (a >= 1e6) return `${num(v / 1e6, 1)} M`;
  if (a >= 1e4) return `${num(v / 1e3, 0)} k`;
  return num(v, 0);
}
const PALETTE = ['#0b5cad', '#e06c00', '#1c7a3b', '#b3261e', '#6a3fa0', '#00838f', '#8d6e00', '#5b6675', '#c2185b', '#2e7d32'];

/**
 * Values across rounds as lines: `labels` (round ids) on the x axis, `series` [{name,
 * values (null: none), mine}] on the y axis; `invert` puts small numbers on top (ranks).
 */
export function trendChart({ title, labels, series, yLabel, invert = false, testId }) {
  const all = series.flatMap((s) => s.values).filter((v) => v !== null && v !== undefined);
  let yTicks;
  let top;
  let bottom;
  if (invert) {
    const worst = Math.max(2, ...all);
    yTicks = [...Array(Math.round(worst)).keys()].map((k) => k + 1);
    top = 0.5;
    bottom = worst + 0.5;
  } else {
    const lo = Math.min(0, ...all);
    const hi = Math.max(0, ...all);
    const span = hi - lo || 1;
    const raw = span / 5;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
    const first = Math.floor(lo / step) * step;
    const last = Math.ceil(hi / step) * step;
    yTicks = [];
    for (let v = first; v <= last + step * 1e-9; v += step) yTicks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    top = last === first ? last + step : last;
    bottom = first;
  }
  const n = Math.max(labels.length, 1);
  const band = (W - PAD.left - PAD.right) / n;
  const x = (i) => PAD.left + band * i + band / 2;
  const legendRows = series.length <= 10 ? Math.ceil(series.reduce((s, k) => s + 30 + k.name.length * 7, 0) / (W - PAD.left - PAD.right - 16)) : 0;
  const plotTop = PAD.top + 14 * legendRows;
  const y = (v) => plotTop + ((top - v) / (top - bottom)) * (H - plotTop - PAD.bottom);
  const root = frame(title, `${series.length} series over ${labels.length} rounds.`);
  if (testId) root.setAttribute('data-chart', testId);
  const g = svg('g', { class: 'axes' });
  for (const v of yTicks) {
    g.append(svg('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }));
    g.append(svg('text', { x: PAD.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, short(v)));
  }
  labels.forEach((label, i) => g.append(svg('text', { x: x(i), y: H - PAD.bottom + 16, 'text-anchor': 'middle' }, label)));
  g.append(svg('line', { x1: PAD.left, x2: PAD.left, y1: plotTop, y2: H - PAD.bottom, class: 'axis' }));
  g.append(svg('text', { x: 14, y: (plotTop + H - PAD.bottom) / 2, 'text-anchor': 'middle', class: 'label',
    transform: `rotate(-90 14 ${(plotTop + H - PAD.bottom) / 2})` }, yLabel));
  root.append(g);
  series.forEach((s, k) => {
    const colour = s.mine ? MINE : PALETTE[k % PALETTE.length];
    const points = s.values.map((v, i) => (v === null || v === undefined ? null : [x(i), y(v)])).filter(Boolean);
    if (!points.length) return;
    const line = svg('polyline', { points: points.map((p) => p.join(',')).join(' '), fill: 'none', stroke: colour,
      'stroke-width': s.mine ? 3.5 : 2, 'data-series': s.name });
    line.append(svg('title', {}, s.name));
    root.append(line);
    for (const [px, py] of points) root.append(svg('circle', { cx: px, cy: py, r: s.mine ? 4 : 3, fill: colour }));
  });
  if (series.length <= 10) {
    const lg = svg('g', { class: 'legend' });
    let lx = PAD.left + 8;
    let ly = PAD.top + 8;
    series.forEach((s, k) => {
      const colour = s.mine ? MINE : PALETTE[k % PALETTE.length];
      const width = 30 + s.name.length * 7;
      if (lx + width > W - PAD.right) { lx = PAD.left + 8; ly += 14; }
      lg.append(svg('rect', { x: lx, y: ly - 4, width: 14, height: 4, fill: colour }));
      lg.append(svg('text', { x: lx + 18, y: ly }, s.name));
      lx += width;
    });
    root.append(lg);
  }
  return root;
}
