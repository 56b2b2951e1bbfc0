// A participant's page: the briefing, units and loads, the current round with its deadline,
// the bid form (restored from the bids sent; quick entry for every hour), the bids sent
// (sealed), results with a chart, profit by round, settlement and the leaderboard; live over
// the event stream, polling when the stream is blocked. A rejoin link (token in the URL
// fragment) opens the seat in another tab.

import { BidForm } from './bidform.js';
import {
  $, ApiError, SESSION_ID, UNITS, api, countdown, el, fillFacts, fillLeaderboard, fillRows, hoursText, num,
  rejoinUrl, renderMarkdown, roundName, showAlert, showOk, statusBadge, tokens, yuanOfFen,
} from './common.js';
import { sessionDesk, sessionPath } from './desk.js';
import { drawTrends, refreshResults } from './results.js';

const sid = SESSION_ID;
const form = new BidForm($('#bid-rows'));
const resultState = { known: -1 };
let seat = tokens.participant(sid);
let view = null;
let formKey = null;
let briefing = null;
let stored = null; // my stored batch of the current round ({revision, bids}) or null

function get(p) {
  return api(sessionPath(p), { token: seat.token });
}

// ------------------------------------------------------------------ rendering

function demandText(points) {
  return points.map((p) => `${num(p.mw, 1)} MW at ${num(p.price_yuan_per_kw_yr)}`).join('; ') + ' yuan/kW·yr';
}

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
    if (briefing && briefing.capacity_demand.length) facts.push(['Demand curve', demandText(briefing.capacity_demand)]);
  } else if (round && round.kind === 'green') {
    facts.push(['Green premium', limits.green_premium_cap_yuan_per_mwh == null
      ? `no cap (2025 premiums: ${num(limits.green_premium_min_yuan_per_mwh)} to ${num(limits.green_premium_max_yuan_per_mwh)} yuan/MWh)`
      : `at most ${num(limits.green_premium_cap_yuan_per_mwh)} yuan/MWh`]);
    facts.push(['Certificates you may sell', `${num(view.sellable_certificates_mwh, 3)} MWh`]);
  }
  if (round && round.takes_bids) {
    const unit = UNITS[round.kind] ? UNITS[round.kind].tick : 'MW';
    facts.push(['Grid', `prices in steps of ${limits.price_tick_yuan} yuan, quantities of ${limits.quantity_tick_mw} ${unit}`]);
    facts.push(['Bidders so far', `${round.bidders} (their bids are sealed)`]);
  }
  fillFacts($('#round'), facts);
  countdown($('#countdown'), session, round, () => desk.refresh());
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

function renderTools() {
  const energy = form.kind === 'energy' && form.rows.length > 0;
  $('#energy-tools').hidden = !energy;
  if (!energy) return;
  const select = $('#fill-unit');
  const keep = select.value;
  select.replaceChildren(...form.names().map((n) => el('option', { value: n, text: n })));
  if (form.names().includes(keep)) select.value = keep;
}

function renderForm() {
  const round = view.round;
  const key = round ? `${round.round_id}` : 'none';
  if (key !== formKey) {
    form.build(view);
    formKey = key;
    showAlert($('#bid-error'), null);
    showOk($('#bid-ok'), '');
    $('#tools-note').textContent = '';
  }
  // the form shows the stored batch: after a reload, and when another tab changed it
  // (unless this tab is being edited: then Send is refused with 412 rather than overwrite)
  const revision = stored ? stored.revision : 0;
  if (revision !== form.revision) {
    if (!form.dirty) {
      form.restore(stored ? stored.bids : [], revision);
    } else {
      showAlert($('#bid-error'), `Your stored bids changed elsewhere (now revision ${revision}); this form still shows your edits. Sending them will be refused: reload the page to see the stored ones.`);
    }
  }
  renderTools();
  const open = Boolean(round && round.takes_bids && round.status === 'open');
  const hint = $('#bid-hint');
  if (!round) hint.textContent = 'Every round has cleared: the game is over.';
  else if (!round.takes_bids) hint.textContent = `Round ${round.round_id} takes no bids (a settlement step).`;
  else if (round.status === 'pending') hint.textContent = `Round ${round.round_id} is not open yet: read the briefing and prepare your bids; you can send them once the instructor opens it.`;
  else if (round.status === 'open') {
    const u = UNITS[round.kind];
    hint.textContent = `Round ${round.round_id} is open. Prices in ${u.price}, quantities in ${u.quantity}. Leave a price empty to send no bid for that row. `
      + (revision ? `The form shows your stored bids (revision ${revision}); sending replaces them.` : 'You have not sent bids in this round yet.');
  } else hint.textContent = `The gate of round ${round.round_id} is closed: bids are final, the round clears next.`;
  $('#bid-form').hidden = !(round && round.takes_bids) || form.rows.length === 0;
  if (round && round.takes_bids && form.rows.length === 0) hint.textContent += ' You have nothing to bid in this round.';
  form.setEnabled(round && round.takes_bids && round.status !== 'gate_closed' && round.status !== 'cleared');
  for (const b of $('#energy-tools').querySelectorAll('button, input, select')) b.disabled = !open && !(round && round.status === 'pending');
  $('#send-bids').disabled = !open;
  $('#withdraw').disabled = !open || !revision;
}

async function loadStored() {
  const round = view.round;
  stored = null;
  if (!round || !round.takes_bids || round.status === 'pending') return;
  const seen = await get(`/rounds/${encodeURIComponent(round.round_id)}/bids`);
  const mine = seen.data.find((d) => d.participant === seat.participant);
  stored = mine ? { revision: mine.revision, bids: mine.bids } : null;
}

function renderMyBids() {
  const round = view.round;
  const table = $('#my-bids');
  const note = $('#my-bids-note');
  if (!round) {
    table.hidden = true;
    note.textContent = 'The game is over: every round has cleared. Your results are below.';
    return;
  }
  if (!round.takes_bids || round.status === 'pending') {
    table.hidden = true;
    note.textContent = round.takes_bids ? `Round ${round.round_id} is not open yet.` : `Round ${round.round_id} takes no bids.`;
    return;
  }
  if (!stored) {
    table.hidden = true;
    note.textContent = `You have sent no bids in round ${round.round_id}.`;
    return;
  }
  note.textContent = `Revision ${stored.revision} of your bids in round ${round.round_id}: ${stored.bids.length} bid${stored.bids.length === 1 ? '' : 's'}.`;
  table.hidden = stored.bids.length === 0;
  fillRows(table.tBodies[0], stored.bids.map((b) => el('tr', {},
    el('td', { text: b.unit || '–' }), el('td', { text: b.hour === null || b.hour === undefined ? '–' : b.hour }), el('td', { text: b.side }),
    el('td', { class: 'num', text: num(b.price) }), el('td', { class: 'num', text: num(b.quantity, 3) }))));
}

function renderSettlement(settlement) {
  const rows = Object.entries(settlement.by_category).map(([category, fen]) => el('tr', {},
    el('td', { text: category.replace(/_/g, ' ') }), el('td', { class: 'num', text: yuanOfFen(fen) })));
  rows.push(el('tr', { class: 'total' }, el('th', { scope: 'row', text: 'Net' }),
    el('td', { class: 'num', text: yuanOfFen(settlement.net_fen) })));
  fillRows($('#settlement tbody'), rows);
}

function renderProfit(board) {
  const mine = board.data.find((r) => r.participant === seat.participant);
  const rounds = mine ? mine.rounds.filter((r) => r.revenue_fen || r.cost_fen) : [];
  const rows = rounds.map((r) => el('tr', {},
    el('th', { scope: 'row', text: `${r.round_id} (${r.kind})` }),
    el('td', { class: 'num', text: yuanOfFen(r.revenue_fen) }),
    el('td', { class: 'num', text: yuanOfFen(r.cost_fen) }),
    el('td', { class: 'num', text: yuanOfFen(r.profit_fen) }),
    el('td', {}, el('ul', { class: 'lines' }, r.lines.map((line) => el('li', { text: line }))))));
  if (mine && rounds.length) {
    rows.push(el('tr', { class: 'total' }, el('th', { scope: 'row', text: `Total (rank ${mine.rank} of ${board.count})` }),
      el('td', { class: 'num', text: yuanOfFen(mine.revenue_fen) }), el('td', { class: 'num', text: yuanOfFen(mine.cost_fen) }),
      el('td', { class: 'num', text: yuanOfFen(mine.profit_fen) }), el('td', {})));
  }
  fillRows($('#my-profit tbody'), rows.length ? rows
    : [el('tr', {}, el('td', { colspan: 5, text: 'No money yet: it arrives when a round clears.' }))]);
  $('#board-note').textContent = `Retailers are paid the retail tariff ${num(board.retail_tariff_yuan_per_mwh)} yuan/MWh on the load they serve.`;
}

async function renderBriefing(rounds) {
  // before the first round clears, the briefing is open; afterwards one click away (the
  // link in the round card opens it)
  const box = $('#briefing-box');
  const cleared = rounds.some((r) => r.status === 'cleared');
  if (!briefing) {
    briefing = await get('/briefing');
    renderMarkdown($('#briefing'), briefing.text);
    box.open = !cleared;
    box.dataset.auto = cleared ? '' : 'open';
  } else if (cleared && box.dataset.auto === 'open') {
    box.open = false;
    box.dataset.auto = '';
  }
}

// ------------------------------------------------------------------ the desk

async function draw() {
  const [session, me, rounds, board, settlement] = await Promise.all([
    get(''), get('/me'), get('/rounds'), get('/standings'), get('/me/settlement')]);
  view = me;
  $('#title').textContent = `${session.name}: ${me.participant}${seat.name ? ` (${seat.name})` : ''}`;
  await renderBriefing(rounds.data);
  renderRound(session);
  renderAssets();
  await loadStored();
  renderForm();
  renderMyBids();
  await refreshResults(sid, seat.token, rounds.data, resultState, me.participant, me.limits);
  renderSettlement(settlement);
  fillLeaderboard($('#leaderboard tbody'), board, me.participant);
  renderProfit(board);
  await drawTrends(sid, seat.token, rounds.data, board, me.participant);
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
      { method: 'POST', body: { bids }, token: seat.token, headers: { 'If-Match': String(form.revision || 0) } });
    form.revision = receipt.revision;
    form.dirty = false;
    showOk($('#bid-ok'), `Revision ${receipt.revision} stored: ${receipt.bid_count} bid${receipt.bid_count === 1 ? '' : 's'}. They stay sealed until the round clears.`);
    await desk.refresh();
  } catch (err) {
    if (err instanceof ApiError && err.status === 422 && err.problems.length && err.problems[0].index !== undefined) {
      const stray = [];
      for (const p of err.problems) {
        if (sent[p.index]) form.showProblem(sent[p.index], p.reason);
        else stray.push(p.reason);
      }
      showAlert(box, `${err.message}${stray.length ? ` ${stray.join('; ')}` : ''}`);
    } else if (err instanceof ApiError && err.status === 412) {
      form.dirty = false;
      form.revision = -1; // reload the stored batch into the form
      await desk.refresh();
      showAlert(box, 'Nothing was sent: your stored bids changed since this form loaded them (another tab?). The form now shows the stored bids: check them and send again.');
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

$('#withdraw').addEventListener('click', async () => {
  const round = view && view.round;
  if (!round) return;
  // eslint-disable-next-line no-alert
  if (!window.confirm(`Withdraw all your bids in round ${round.round_id}? You send nothing in this round unless you bid again before the gate closes.`)) return;
  form.dirty = false;
  await send([], []);
});

function parseNumber(text) {
  const v = Number(String(text).trim().replace(/,/g, ''));
  return text.trim() === '' || !Number.isFinite(v) ? null : v;
}

$('#fill-all').addEventListener('click', () => {
  const unit = $('#fill-unit').value;
  const price = parseNumber($('#fill-price').value);
  const qText = $('#fill-quantity').value;
  const quantity = qText.trim() === '' ? null : parseNumber(qText);
  if (price === null || (qText.trim() !== '' && !(quantity > 0))) {
    $('#tools-note').textContent = 'Enter a price (and a quantity > 0, or leave it blank for all available).';
    return;
  }
  const n = form.fillAll(unit, [[quantity, price]]);
  $('#tools-note').textContent = `${unit}: ${price} in each of ${n} hours. Check the rows, then send.`;
});

$('#apply-curve').addEventListener('click', () => {
  const unit = $('#fill-unit').value;
  const steps = [];
  for (const part of $('#curve-text').value.split(/[,;]/).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([0-9.]+)\s*@\s*(-?[0-9.]+)$/.exec(part);
    if (!m) {
      $('#tools-note').textContent = `“${part}” is not a step: write MW@price, e.g. 10@200.`;
      return;
    }
    steps.push([Number(m[1]), Number(m[2])]);
  }
  if (!steps.length) {
    $('#tools-note').textContent = 'Write the curve as steps MW@price, e.g. 10@200, 5@350.';
    return;
  }
  const n = form.fillAll(unit, steps);
  $('#tools-note').textContent = `${unit}: ${steps.length} step${steps.length === 1 ? '' : 's'} in each of ${n} hours (capped by what is available). Check the rows, then send.`;
});

$('#briefing-link').addEventListener('click', () => {
  $('#briefing-box').open = true;
});

$('#show-rejoin').addEventListener('click', () => {
  $('#rejoin-link').value = rejoinUrl(sid, seat.token);
  $('#rejoin-box').hidden = false;
  $('#rejoin-link').select();
});

$('#copy-rejoin').addEventListener('click', async () => {
  try {
    await navigator.clipboard.writeText($('#rejoin-link').value);
  } catch {
    $('#rejoin-link').select();
  }
});

// ------------------------------------------------------------------ rejoin by link

/** A rejoin link carries the seat's token in the fragment: keep it in this tab, then drop
 *  it from the address bar (and history) at once. */
async function takeFragmentToken() {
  const hash = new URLSearchParams(window.location.hash.slice(1));
  const token = hash.get('token');
  if (!token) return;
  window.history.replaceState(null, '', window.location.pathname);
  try {
    const me = await api(sessionPath('/me'), { token });
    seat = { token, participant: me.participant, name: (seat && seat.participant === me.participant && seat.name) || '' };
    tokens.setParticipant(sid, seat);
  } catch (err) {
    showAlert($('#page-error'), err instanceof ApiError && (err.status === 401 || err.status === 404)
      ? 'This rejoin link no longer works (its token was replaced or revoked): ask your instructor for a new one.'
      : err);
  }
}

takeFragmentToken().then(() => desk.begin());
