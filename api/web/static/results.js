// A cleared round's result: its prices and volume, a chart, and (for a participant) its own
// quantities and money. Shared by the participant's page and the instructor's console.

import { capacityChart, energyChart } from './chart.js';
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
  return result;
}
