// A participant's page: units and loads, the current round, the bid form, the bids sent
// (sealed), results with a chart, settlement and leaderboard; live over the event stream.

import { BidForm } from './bidform.js';
import {
  $, ApiError, SESSION_ID, UNITS, api, el, fillFacts, fillLeaderboard, fillRows, hoursText, num,
  roundName, showAlert, showOk, statusBadge, tokens, yuanOfFen,
} from './common.js';
import { sessionDesk, sessionPath } from './desk.js';
import { refreshResults } from './results.js';

const sid = SESSION_ID;
const form = new BidForm($('#bid-rows'));
const resultState = { known: -1 };
let seat = tokens.participant(sid);
let view = null;
let formKey = null;

function get(p) {
  return api(sessionPath(p), { token: seat.token });
}

// ------------------------------------------------------------------ rendering

function renderRound(session) {
  const round = view.round;
  const limits = view.limits;
  const facts = [['Game', `${session.name} (${session.rules_name})`],
    ['Round', roundName(round)],
    ['Gate', round ? statusBadge(round.status) : 'the game is over']];
  if (round && round.kind === 'energy') {
    facts.push(['Hours', hoursText(round.hours)]);
    facts.push(['Price limits', `${num(limits.energy_price_floor_yuan_per_mwh)} to ${num(limits.energy_price_cap_yuan_per_mwh)} yuan/MWh`]);
  } else if (round && round.kind === 'capacity') {
    facts.push(['Offer cap', `${num(limits.capacity_offer_cap_yuan_per_kw_yr)} yuan/kW·yr (offers from 0)`]);
  } else if (round && round.kind === 'green') {
    facts.push(['Premium limits', `${num(limits.green_premium_min_yuan_per_mwh)} to ${num(limits.green_premium_max_yuan_per_mwh)} yuan/MWh`]);
    facts.push(['Certificates you may sell', `${num(view.sellable_certificates_mwh, 3)} MWh`]);
  }
  if (round) facts.push(['Grid', `prices in steps of ${limits.price_tick_yuan} yuan, quantities of ${limits.quantity_tick_mw} MW`]);
  facts.push(['Bidders so far', round ? `${round.bidders} (their bids are sealed)` : '–']);
  fillFacts($('#round'), facts);
}

function availability(values) {
  if (!values.length) return '–';
  const low = Math.min(...values);
  const high = Math.max(...values);
  return low === high ? num(low, 1) : `${num(low, 1)} to ${num(high, 1)}`;
}

function renderAssets() {
  fillRows($('#units tbody'), view.units.map((u) => el('tr', {},
    el('th', { scope: 'row', text: u.unit }),
    el('td', { text: u.technology.replace(/_/g, ' ') }),
    el('td', { class: 'num', text: num(u.nameplate_mw, 1) }),
    el('td', { class: 'num', text: num(u.accredited_mw, 3) }),
    el('td', { class: 'num', text: u.marginal_cost_yuan_per_mwh === null ? '–' : num(u.marginal_cost_yuan_per_mwh) }),
    el('td', { text: availability(u.available_mw) }))));
  if (!view.units.length) {
    fillRows($('#units tbody'), [el('tr', {}, el('td', { colspan: 6, text: 'You own no units.' }))]);
  }
  $('#loads').hidden = view.loads.length === 0;
  fillRows($('#loads tbody'), view.loads.map((ld) => el('tr', {},
    el('th', { scope: 'row', text: ld.load }),
    el('td', { text: `${ld.industrial_commercial ? 'industrial/commercial' : 'residential'}${ld.obligated ? ', obligated' : ''}` }),
    el('td', { text: availability(ld.demand_mw) }))));
}

function renderForm() {
  const round = view.round;
  const key = round ? `${round.round_id}` : 'none';
  if (key !== formKey) {
    form.build(view);
    formKey = key;
    showAlert($('#bid-error'), null);
    showOk($('#bid-ok'), '');
  }
  const open = Boolean(round && round.takes_bids && round.status === 'open');
  const hint = $('#bid-hint');
  if (!round) hint.textContent = 'Every round has cleared: the game is over.';
  else if (!round.takes_bids) hint.textContent = `Round ${round.round_id} takes no bids (a settlement step).`;
  else if (round.status === 'pending') hint.textContent = `Round ${round.round_id} is not open yet: prepare your bids; you can send them once the instructor opens it.`;
  else if (round.status === 'open') {
    const u = UNITS[round.kind];
    hint.textContent = `Round ${round.round_id} is open. Prices in ${u.price}, quantities in ${u.quantity}. Leave a price empty to send no bid for that row; your batch replaces the one you sent before.`;
  } else hint.textContent = `The gate of round ${round.round_id} is closed: bids are final, the round clears next.`;
  $('#bid-form').hidden = !(round && round.takes_bids) || form.rows.length === 0;
  if (round && round.takes_bids && form.rows.length === 0) hint.textContent += ' You have nothing to bid in this round.';
  form.setEnabled(round && round.takes_bids && round.status !== 'gate_closed' && round.status !== 'cleared');
  $('#send-bids').disabled = !open;
  $('#withdraw').disabled = !open;
}

async function renderMyBids() {
  const round = view.round;
  const table = $('#my-bids');
  const note = $('#my-bids-note');
  if (!round || !round.takes_bids || round.status === 'pending') {
    table.hidden = true;
    note.textContent = 'No bids sent in this round yet.';
    return;
  }
  const seen = await get(`/rounds/${encodeURIComponent(round.round_id)}/bids`);
  const mine = seen.data.find((d) => d.participant === seat.participant);
  if (!mine) {
    table.hidden = true;
    note.textContent = `You have sent no bids in round ${round.round_id}.`;
    return;
  }
  note.textContent = `Revision ${mine.revision} of your bids in round ${round.round_id}: ${mine.bids.length} bid${mine.bids.length === 1 ? '' : 's'}.`;
  table.hidden = mine.bids.length === 0;
  fillRows(table.tBodies[0], mine.bids.map((b) => el('tr', {},
    el('td', { text: b.unit || '–' }), el('td', { text: b.hour === null ? '–' : b.hour }), el('td', { text: b.side }),
    el('td', { class: 'num', text: num(b.price) }), el('td', { class: 'num', text: num(b.quantity, 3) }))));
}

function renderSettlement(settlement) {
  const rows = Object.entries(settlement.by_category).map(([category, fen]) => el('tr', {},
    el('td', { text: category.replace(/_/g, ' ') }), el('td', { class: 'num', text: yuanOfFen(fen) })));
  rows.push(el('tr', { class: 'total' }, el('th', { scope: 'row', text: 'Net' }),
    el('td', { class: 'num', text: yuanOfFen(settlement.net_fen) })));
  fillRows($('#settlement tbody'), rows);
}

// ------------------------------------------------------------------ the desk

async function draw() {
  const [session, me, rounds, board, settlement] = await Promise.all([
    get(''), get('/me'), get('/rounds'), get('/leaderboard'), get('/me/settlement')]);
  view = me;
  $('#title').textContent = `${session.name}: ${me.participant}${seat.name ? ` (${seat.name})` : ''}`;
  renderRound(session);
  renderAssets();
  renderForm();
  await renderMyBids();
  await refreshResults(sid, seat.token, rounds.data, resultState, me.participant, me.limits);
  renderSettlement(settlement);
  fillLeaderboard($('#leaderboard tbody'), board, me.participant);
}

const desk = sessionDesk({
  token: () => seat && seat.token,
  draw,
  failed(err) {
    if (err instanceof ApiError && err.status === 401) desk.signOut();
  },
  async signIn(token) {
    const me = await api(sessionPath('/me'), { token });
    seat = { token, participant: me.participant, name: '' };
    tokens.setParticipant(sid, seat);
  },
  wrongToken: 'That is not a participant token of this game.',
  forget() {
    tokens.forgetParticipant(sid);
    seat = null;
  },
});

// ------------------------------------------------------------------ actions

async function send(bids, sent) {
  const box = $('#bid-error');
  showAlert(box, null);
  showOk($('#bid-ok'), '');
  form.clearProblems();
  const round = view.round;
  try {
    const receipt = await api(sessionPath(`/rounds/${encodeURIComponent(round.round_id)}/bids`),
      { method: 'POST', body: { bids }, token: seat.token });
    showOk($('#bid-ok'), `Revision ${receipt.revision} stored: ${receipt.bid_count} bid${receipt.bid_count === 1 ? '' : 's'}. They stay sealed until the round clears.`);
    await renderMyBids();
  } catch (err) {
    if (err instanceof ApiError && err.status === 422 && err.problems.length && err.problems[0].index !== undefined) {
      const stray = [];
      for (const p of err.problems) {
        if (sent[p.index]) form.showProblem(sent[p.index], p.reason);
        else stray.push(p.reason);
      }
      showAlert(box, `${err.message}${stray.length ? ` ${stray.join('; ')}` : ''}`);
    } else {
      showAlert(box, err);
      if (err instanceof ApiError && err.status === 409) desk.soon();
    }
  }
}

$('#bid-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  form.clearProblems();
  const { bids, sent, problems } = form.collect();
  if (problems.length) {
    for (const [row, reason] of problems) form.showProblem(row, reason);
    showAlert($('#bid-error'), `${problems.length} problem${problems.length === 1 ? '' : 's'} in your bids (shown next to the rows); nothing was sent.`);
    showOk($('#bid-ok'), '');
    return;
  }
  if (!bids.length) {
    showAlert($('#bid-error'), 'Every price is empty: enter a price in the rows you want to bid (or withdraw your bids).');
    return;
  }
  await send(bids, sent);
});

$('#withdraw').addEventListener('click', () => send([], []));

desk.begin();
