// A cleared round's result: its prices and volume, a chart, and (for a participant) its own
// quantities and money. Shared by the participant's page and the instructor's console.

import { capacityChart, curvesChart, energyChart, trendChart } from './chart.js';
import { $, api, el, fillFacts, fillRows, num, yuanOfFen } from './common.js';

export const TRADED = new Set(['capacity', 'energy', 'green']);

/** Keep the round picker in step with the rounds; returns the round to show (or null). */
export function pickRound(select, rounds, state) {
  const cleared = rounds.filter((r) => r.status === 'cleared' && TRADED.has(r.kind));
  const ids = cleared.map((r) => r.round_id);
  const grew = ids.length !== state.known;
  state.known = ids.length;
  const chosen = grew || !ids.includes(select.value) ? ids[ids.length - 1] : select.value;
  select.replaceChildren(...cleared.map((r) => el('option', { value: r.round_id, text: `${r.round_id} (${r.kind})` })));
  if (chosen) select.value = chosen;
  return chosen || null;
}

function settlementText(settlement, me) {
  const mine = settlement[me];
  if (!mine) return '–';
  return `${yuanOfFen(mine.net || 0)} yuan`;
}

/** Everyone's bids of an energy hour as curves (names left out), `me`'s marked. */
function drawHour(r, hour, me) {
  const bids = (r.bids || []).filter((b) => b.hour === hour);
  const pick = (side) => bids.filter((b) => b.side === side).map((b) => ({ price: b.price, quantity: b.quantity, mine: Boolean(me) && b.participant === me }));
  const i = (r.hours || []).indexOf(hour);
  const price = i >= 0 ? r.price_yuan_per_mwh[i] : null;
  $('#curve-chart').replaceChildren(curvesChart({
    title: `Energy, hour ${hour}: everyone's offers and bids (anonymised)${me ? ', yours marked' : ''}`,
    sells: pick('sell'), buys: pick('buy'), price, xLabel: 'MW', yLabel: 'yuan/MWh', testId: 'hour-curves' }));
}

function showCurves(result, me) {
  const r = result.result;
  const picker = $('#curve-picker');
  const select = $('#curve-hour');
  if (result.kind !== 'energy' || !(r.hours || []).length) {
    picker.hidden = true;
    if (result.kind !== 'green') $('#curve-chart').replaceChildren();
    return;
  }
  const key = `${result.round_id}`;
  if (select.dataset.round !== key) {
    select.replaceChildren(...r.hours.map((h) => el('option', { value: String(h), text: `hour ${h}` })));
    // the hour with the highest price first: where the market was tight
    let best = 0;
    r.price_yuan_per_mwh.forEach((p, i) => { if (p !== null && p > (r.price_yuan_per_mwh[best] ?? -Infinity)) best = i; });
    select.value = String(r.hours[best]);
    select.dataset.round = key;
    select.onchange = () => drawHour(r, Number(select.value), me);
  } else {
    select.onchange = () => drawHour(r, Number(select.value), me);
  }
  picker.hidden = false;
  drawHour(r, Number(select.value), me);
}

/** A green round's bids (everyone's once it cleared) as curves, `me`'s marked. */
async function showGreenCurves(sessionId, token, result, me) {
  const seen = await api(`/sessions/${encodeURIComponent(sessionId)}/rounds/${encodeURIComponent(result.round_id)}/bids`, { token });
  const all = seen.data.flatMap((d) => d.bids.map((b) => ({ ...b, mine: Boolean(me) && d.participant === me })));
  const pick = (side) => all.filter((b) => b.side === side).map((b) => ({ price: b.price, quantity: b.quantity, mine: b.mine }));
  $('#curve-chart').replaceChildren(curvesChart({
    title: `Green certificates ${result.round_id}: everyone's offers and bids (anonymised)${me ? ', yours marked' : ''}`,
    sells: pick('sell'), buys: pick('buy'), price: result.price, xLabel: 'MWh of certificates', yLabel: 'premium yuan/MWh', testId: 'green-curves' }));
}

/**
 * Show `result` (RoundResultPublic) in the page's results section: `#result-facts`,
 * `#result-chart` and, when `me` is a participant, `#my-results`.
 */
export function showResult(result, me, limits) {
  const r = result.result;
  const facts = [];
  const chart = $('#result-chart');
  const mineTable = $('#my-results');
  let head = [];
  let rows = [];
  if (result.kind === 'capacity') {
    const payAsBid = r.format === 'pay_as_bid';
    facts.push([payAsBid ? 'Average accepted offer (pay-as-bid)' : 'Clearing price', result.price === null ? 'no trade'
      : `${num(result.price)} yuan/kW·yr${payAsBid ? ': each accepted offer is paid its own price' : ''}`]);
    facts.push(['Cleared', `${num(result.volume, 3)} MW (requirement ${num(r.requirement_mw, 3)} MW)`]);
    facts.push(['Format', r.format.replace(/_/g, ' ')]);
    chart.replaceChildren(capacityChart(r, me));
    head = ['Unit', 'Offered MW', 'Price yuan/kW·yr', 'Accepted MW', 'Paid at yuan/kW·yr', 'Entered for you'];
    rows = (r.offers || []).filter((o) => o.participant === me).map((o) => [o.unit, num(o.mw, 3),
      num(o.price_yuan_per_kw_yr), num(o.accepted_mw, 3), o.settlement_price_yuan_per_kw_yr === null ? '–' : num(o.settlement_price_yuan_per_kw_yr),
      o.imputed ? 'yes (must-offer)' : 'no']);
  } else if (result.kind === 'energy') {
    const prices = (result.hourly_price_yuan_per_mwh || []).filter((p) => p !== null);
    const mean = prices.length ? prices.reduce((a, b) => a + b, 0) / prices.length : null;
    facts.push(['Clearing prices', prices.length ? `${num(Math.min(...prices))} to ${num(Math.max(...prices))} yuan/MWh (mean ${num(mean)})` : 'no trade']);
    facts.push(['Volume', `${num(result.volume, 3)} MWh`]);
    facts.push(['Stress hours', (r.stress_hours || []).length ? r.stress_hours.join(', ') : 'none']);
    chart.replaceChildren(energyChart(r, limits ? limits.energy_price_cap_yuan_per_mwh : null));
    head = ['Unit or load', 'Hour', 'Side', 'Price yuan/MWh', 'Quantity MW', 'Accepted MW', 'Hour price'];
    const priceOf = new Map((r.hours || []).map((h, i) => [h, r.price_yuan_per_mwh[i]]));
    rows = (r.bids || []).filter((b) => b.participant === me).map((b) => [
      `${b.unit}${b.imputed ? ' (entered for you)' : ''}`, b.hour, b.side, num(b.price), num(b.quantity, 3), num(b.accepted_mw, 3), num(priceOf.get(b.hour))]);
  } else if (result.kind === 'green') {
    facts.push(['Green premium', result.price === null ? 'no trade' : `${num(result.price)} yuan/MWh`]);
    facts.push(['Volume', `${num(result.volume, 3)} MWh`]);
    facts.push(['Product, mode', `${r.product}, ${r.mode}`]);
    chart.replaceChildren();
    head = ['Trade', 'Seller', 'Buyer', 'Unit', 'MWh', 'Premium yuan/MWh'];
    rows = (r.trades || []).filter((t) => !me || t.seller === me || t.buyer === me).map((t) => [
      t.trade, t.seller, t.buyer, t.unit || '–', num(t.quantity_mwh, 3), num(t.premium_yuan_per_mwh)]);
  }
  if (me) facts.push(['Your market money from this round', settlementText(result.settlement, me)]);
  fillFacts($('#result-facts'), facts);
  if (mineTable) {
    mineTable.tHead.rows[0].replaceChildren(...head.map((h) => el('th', { scope: 'col', text: h })));
    fillRows(mineTable.tBodies[0], rows.length ? rows.map((cells) => el('tr', {}, cells.map((c) => el('td', { text: c }))))
      : [el('tr', {}, el('td', { colspan: head.length || 1, text: 'Nothing of yours in this round.' }))]);
  }
}

/** Fetch and show the result of the round picked in `#result-round`. */
export async function refreshResults(sessionId, token, rounds, state, me, limits) {
  const select = $('#result-round');
  const roundId = pickRound(select, rounds, state);
  $('#results-empty').hidden = Boolean(roundId);
  $('#results').hidden = !roundId;
  $('#result-picker').hidden = !roundId;
  if (!roundId) return null;
  const result = await api(`/sessions/${encodeURIComponent(sessionId)}/rounds/${encodeURIComponent(roundId)}/result`, { token });
  showResult(result, me, limits);
  showCurves(result, me);
  if (result.kind === 'green') await showGreenCurves(sessionId, token, result, me);
  return result;
}

// ------------------------------------------------------------------ across rounds

const summaries = new Map(); // `${session}/${round}` -> {kind, price}: a cleared result never changes

/** The price of each cleared traded round: capacity yuan/kW·yr, energy mean yuan/MWh, green premium. */
async function roundPrices(sessionId, token, rounds) {
  const out = [];
  for (const r of rounds.filter((x) => x.status === 'cleared' && TRADED.has(x.kind))) {
    const key = `${sessionId}/${r.round_id}`;
    if (!summaries.has(key)) {
      const res = await api(`/sessions/${encodeURIComponent(sessionId)}/rounds/${encodeURIComponent(r.round_id)}/result`, { token });
      const hourly = (res.hourly_price_yuan_per_mwh || []).filter((p) => p !== null);
      const price = res.kind === 'energy' ? (hourly.length ? hourly.reduce((a, b) => a + b, 0) / hourly.length : null) : res.price;
      summaries.set(key, { kind: res.kind, price });
    }
    out.push({ round_id: r.round_id, ...summaries.get(key) });
  }
  return out;
}

/**
 * Per cleared round (plan order): each seat's cumulative profit (yuan) and rank, from the
 * standings' per-round money. Returns {labels, seats: [{participant, seat, cumulative, ranks}]}.
 */
export function cumulative(board) {
  const ids = [];
  for (const row of board.data) for (const r of row.rounds) if (!ids.includes(r.round_id)) ids.push(r.round_id);
  const seats = board.data.map((row) => {
    const by = new Map(row.rounds.map((r) => [r.round_id, r.profit_fen]));
    let sum = 0;
    return { participant: row.participant, seat: row.seat, display_name: row.display_name,
      cumulative: ids.map((id) => { sum += by.get(id) || 0; return sum / 100; }), ranks: [] };
  });
  ids.forEach((_, i) => {
    const order = [...seats].sort((a, b) => b.cumulative[i] - a.cumulative[i] || a.participant.localeCompare(b.participant));
    order.forEach((s, k) => { s.ranks[i] = k + 1; });
  });
  return { labels: ids, seats };
}

/** The charts across rounds: price by round; profit (mine, or every seat's); my rank. */
export async function drawTrends(sessionId, token, rounds, board, me) {
  const prices = await roundPrices(sessionId, token, rounds);
  const energy = prices.filter((p) => p.kind === 'energy');
  const green = prices.filter((p) => p.kind === 'green');
  const capacity = prices.find((p) => p.kind === 'capacity');
  const labels = [...energy, ...green].map((p) => p.round_id);
  $('#trend-note').textContent = capacity
    ? `Capacity cleared at ${capacity.price === null ? 'no price' : `${num(capacity.price)} yuan/kW·yr`}.` : '';
  $('#trend-price').replaceChildren(labels.length ? trendChart({
    title: 'Price by round: energy (mean of its hours) and green premium, yuan/MWh',
    labels,
    series: [{ name: 'energy mean yuan/MWh', values: labels.map((id) => { const p = energy.find((e) => e.round_id === id); return p ? p.price : null; }) },
      { name: 'green premium yuan/MWh', values: labels.map((id) => { const p = green.find((e) => e.round_id === id); return p ? p.price : null; }) }],
    yLabel: 'yuan/MWh', testId: 'trend-price' }) : el('p', { class: 'hint', text: 'No energy or green round has cleared yet.' }));
  const data = cumulative(board);
  if (!data.labels.length) {
    $('#trend-profit').replaceChildren(el('p', { class: 'hint', text: 'No round has cleared yet.' }));
    if ($('#trend-rank')) $('#trend-rank').replaceChildren();
    return data;
  }
  const shown = me ? data.seats.filter((s) => s.participant === me) : data.seats;
  $('#trend-profit').replaceChildren(trendChart({
    title: me ? 'My profit so far, after each round (yuan)' : 'Every seat\'s profit so far, after each round (yuan)',
    labels: data.labels,
    series: shown.map((s) => ({ name: `${s.participant}${s.seat === 'bot' ? ' (bot)' : ''}`, values: s.cumulative, mine: s.participant === me })),
    yLabel: 'yuan', testId: 'trend-profit' }));
  if (me && $('#trend-rank')) {
    const mine = data.seats.find((s) => s.participant === me);
    $('#trend-rank').replaceChildren(trendChart({
      title: `My rank after each round (1 = best of ${data.seats.length})`, labels: data.labels,
      series: [{ name: 'my rank', values: mine ? mine.ranks : [], mine: true }], yLabel: 'rank', invert: true, testId: 'trend-rank' }));
  }
  return data;
}
