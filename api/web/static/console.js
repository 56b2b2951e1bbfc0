// The instructor's console: the game, its rounds with open (with a deadline) / close gate /
// clear, bots for empty seats, who has bid (live), participants with rejoin links and bot
// seats handed to late students, leaderboard, results, every ledger total, CSV exports and
// clone; live over events, polling when the stream is blocked.

import {
  $, ApiError, SESSION_ID, api, countdown, downloadCsv, el, fillFacts, fillLeaderboard, fillRows,
  hoursText, num, readRules, rejoinUrl, setRuleSwitches, showAlert, showOk, statusBadge, tokens,
  yuanOfFen,
} from './common.js';
import { sessionDesk, sessionPath } from './desk.js';
import { drawTrends, refreshResults } from './results.js';

const resultState = { known: -1 };
let rulesKnown = false;
let token = tokens.instructor();

const get = (p) => api(sessionPath(p), { token });

// ------------------------------------------------------------------ rendering

function renderGame(session) {
  $('#title').textContent = `Instructor console: ${session.name}`;
  const s = session.setup;
  fillFacts($('#game'), [
    ['Game id', el('code', { text: session.id })],
    ['Status', statusBadge(session.status)],
    ['Rules', `${session.rules_name} (sha256 ${session.rules_sha256.slice(0, 12)}…)`],
    ['Set-up', `scale ${s.scale}, seed ${s.seed}, ${s.energy_rounds} energy round${s.energy_rounds === 1 ? '' : 's'} of ${s.hours_per_round} h`],
    ['Rounds cleared', `${session.rounds_cleared} of ${session.rounds_total}`],
    ['Seats taken', `${session.participants.length} of ${session.seats.length}`],
    ['Bots', s.bots ? `fill empty seats on open (${s.bots.strategy || 'default strategies'})` : 'none by default'],
  ]);
  const invite = `${window.location.origin}/?session=${encodeURIComponent(session.id)}`;
  $('#invite-link').href = invite;
  $('#invite-link').textContent = invite;
}

function button(text, label, onClick) {
  const b = el('button', { type: 'button', text, 'aria-label': label });
  b.addEventListener('click', onClick);
  return b;
}

function renderRounds(rounds, current) {
  const nextId = current.round ? current.round.round_id : null;
  const anyOpen = rounds.some((r) => r.status === 'open' || r.status === 'gate_closed');
  fillRows($('#rounds tbody'), rounds.map((r) => {
    const actions = [];
    if (r.status === 'open') {
      actions.push(button('Close gate', `Close the gate of ${r.round_id}`, () => act('close', r)));
    }
    if (r.status === 'open' || r.status === 'gate_closed') {
      actions.push(button('Clear', `Clear ${r.round_id}`, () => act('clear', r)));
    }
    if (r.status === 'pending' && r.round_id === nextId && !anyOpen) {
      actions.push(r.takes_bids
        ? button('Open', `Open ${r.round_id}`, () => act('open', r))
        : button('Run step', `Run the settlement step ${r.round_id}`, () => act('clear', r)));
    }
    return el('tr', { class: r.round_id === nextId ? 'current' : '' },
      el('th', { scope: 'row', text: r.round_id }),
      el('td', { text: r.kind + (r.kind === 'green' ? ` (${r.product}, ${r.mode})` : '') }),
      el('td', { text: hoursText(r.hours) }),
      el('td', {}, statusBadge(r.status)),
      el('td', { class: 'num', text: r.takes_bids ? r.bidders : '–' }),
      el('td', { class: 'actions' }, actions.length ? actions : '–'));
  }));
}

function renderParticipants(lobby, people, session) {
  const byId = new Map(people.data.map((p) => [p.participant, p]));
  const bots = new Set(Object.keys((session.setup && session.setup.bot_seats) || {}));
  fillRows($('#participants tbody'), lobby.seats.map((s) => {
    const p = byId.get(s.participant);
    const actions = [];
    if (p && bots.has(s.participant)) {
      actions.push(button('Hand to a student', `Hand the bot seat ${s.participant} to a student`, () => handOver(s.participant, true)));
    } else if (p) {
      actions.push(button('New rejoin link', `New rejoin link for ${s.participant}`, () => handOver(s.participant, false)));
    }
    return el('tr', { class: p ? '' : 'empty' },
      el('th', { scope: 'row', text: s.participant }),
      el('td', { text: p ? `${p.display_name || '–'}${bots.has(s.participant) && !(p.display_name || '').startsWith('bot') ? ' (bot)' : ''}` : 'empty seat' }),
      el('td', { class: 'num', text: s.units }),
      el('td', { class: 'num', text: s.loads }),
      el('td', { text: p ? new Date(p.joined_at).toLocaleTimeString() : '–' }),
      el('td', { class: 'actions' }, actions.length ? actions : '–'));
  }));
}

function bidSummary(bids) {
  const parts = bids.slice(0, 6).map((b) => `${b.unit || 'certificates'}${b.hour === null || b.hour === undefined ? '' : ` h${b.hour}`} ${b.side} ${num(b.quantity, 3)} @ ${num(b.price)}`);
  return parts.join('; ') + (bids.length > 6 ? `; … ${bids.length - 6} more` : '');
}

/** Who has bid in the open round (the instructor sees every batch), live. */
async function renderBidders(current, lobby, people, session) {
  const round = current.round;
  const note = $('#bidders-note');
  if (!round || !round.takes_bids || round.status === 'pending') {
    note.textContent = round ? `Round ${round.round_id} is not open yet.` : 'The game is over.';
    fillRows($('#bidders tbody'), []);
    return;
  }
  const seen = await get(`/rounds/${encodeURIComponent(round.round_id)}/bids`);
  const byId = new Map(seen.data.map((d) => [d.participant, d]));
  const joined = new Map(people.data.map((p) => [p.participant, p]));
  const bots = new Set(Object.keys((session.setup && session.setup.bot_seats) || {}));
  note.textContent = `Round ${round.round_id}: ${seen.data.length} of ${lobby.seats.length} seats have bid.`;
  fillRows($('#bidders tbody'), lobby.seats.map((s) => {
    const d = byId.get(s.participant);
    const p = joined.get(s.participant);
    const by = !p ? 'nobody (empty seat)' : bots.has(s.participant) ? 'bot' : (p.display_name || 'a student');
    return el('tr', { class: d ? '' : 'empty', 'data-seat': s.participant },
      el('th', { scope: 'row', text: s.participant }),
      el('td', { text: by }),
      el('td', { text: d ? 'yes' : 'not yet' }),
      el('td', { class: 'num', text: d ? d.revision : '–' }),
      el('td', { class: 'num', text: d ? d.bids.length : '–' }),
      el('td', { class: 'bids-summary', text: d ? bidSummary(d.bids) : '' }));
  }));
}

/** Who played each seat: a student, a bot of a strategy, or nobody. */
function playedBy(row, session) {
  if (row.seat === 'empty') return 'nobody (entered for it)';
  if (row.seat === 'player') return 'students';
  const cfg = ((session.setup && session.setup.bot_seats) || {})[row.participant] || {};
  return `bots: ${cfg.strategy || 'default strategies'}`;
}

/** Strategies compared, and every seat's profit in every cleared round. */
function renderDebrief(board, session, data) {
  const groups = new Map();
  for (const row of board.data) {
    const key = playedBy(row, session);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(row);
  }
  fillRows($('#strategies tbody'), [...groups.entries()].map(([key, rows]) => {
    const profits = rows.map((r) => r.profit_fen / 100);
    return el('tr', {}, el('th', { scope: 'row', text: key }),
      el('td', { class: 'num', text: rows.length }),
      el('td', { class: 'num', text: num(profits.reduce((a, b) => a + b, 0) / profits.length) }),
      el('td', { class: 'num', text: num(Math.max(...profits)) }),
      el('td', { class: 'num', text: num(Math.min(...profits)) }),
      el('td', { text: rows.map((r) => `${r.participant} (${r.rank})`).join(', ') }));
  }));
  const table = $('#debrief-matrix');
  table.tHead.rows[0].replaceChildren(el('th', { scope: 'col', text: 'Seat' }),
    ...data.labels.map((id) => el('th', { scope: 'col', class: 'num', text: id })),
    el('th', { scope: 'col', class: 'num', text: 'Total' }));
  fillRows(table.tBodies[0], board.data.map((row) => {
    const by = new Map(row.rounds.map((r) => [r.round_id, r.profit_fen]));
    return el('tr', {}, el('th', { scope: 'row', text: `${row.participant}${row.seat === 'bot' ? ' (bot)' : ''}` }),
      ...data.labels.map((id) => el('td', { class: 'num', text: yuanOfFen(by.get(id) || 0) })),
      el('td', { class: 'num', text: yuanOfFen(row.profit_fen) }));
  }));
}

/** Every ledger leg, summed by participant (rows) and category (columns). */
async function renderLedger() {
  const legs = [];
  for (let offset = 0; ; offset += 10000) {
    const page = await get(`/ledger?offset=${offset}&limit=10000`);
    legs.push(...page.data);
    if (legs.length >= page.count || page.data.length === 0) break;
  }
  const categories = [...new Set(legs.map((l) => l.category))].sort();
  const totals = new Map();
  for (const l of legs) {
    if (!totals.has(l.participant)) totals.set(l.participant, new Map());
    const row = totals.get(l.participant);
    row.set(l.category, (row.get(l.category) || 0) + l.amount_fen);
  }
  const table = $('#ledger');
  table.tHead.rows[0].replaceChildren(el('th', { scope: 'col', text: 'Participant' }),
    ...categories.map((c) => el('th', { scope: 'col', class: 'num', text: c.replace(/_/g, ' ') })),
    el('th', { scope: 'col', class: 'num', text: 'Net' }));
  const names = [...totals.keys()].sort();
  fillRows(table.tBodies[0], names.map((name) => {
    const row = totals.get(name);
    const net = [...row.values()].reduce((a, b) => a + b, 0);
    return el('tr', {}, el('th', { scope: 'row', text: name }),
      ...categories.map((c) => el('td', { class: 'num', text: row.has(c) ? yuanOfFen(row.get(c)) : '' })),
      el('td', { class: 'num', text: yuanOfFen(net) }));
  }));
  const column = (c) => names.reduce((s, n) => s + (totals.get(n).get(c) || 0), 0);
  const grand = legs.reduce((s, l) => s + l.amount_fen, 0);
  table.tFoot.replaceChildren(el('tr', { class: 'total' }, el('th', { scope: 'row', text: 'Sum' }),
    ...categories.map((c) => el('td', { class: 'num', text: yuanOfFen(column(c)) })),
    el('td', { class: 'num', text: yuanOfFen(grand) })));
  $('#ledger-note').textContent = legs.length
    ? `${legs.length} ledger legs; they sum to ${yuanOfFen(grand)} yuan${grand === 0 ? ' (balanced)' : ' — NOT balanced'}.`
    : 'No payment has been posted yet.';
}

// ------------------------------------------------------------------ the desk

async function draw() {
  const [session, rounds, current, lobby, people, board] = await Promise.all([
    get(''), get('/rounds'), get('/rounds/current'), api(sessionPath('/lobby')), get('/participants'), get('/standings')]);
  renderGame(session);
  if (!rulesKnown) {
    setRuleSwitches('clone', await get('/rules'), session.setup);
    rulesKnown = true;
  }
  renderRounds(rounds.data, current);
  countdown($('#countdown'), session, current.round, () => desk.refresh());
  renderParticipants(lobby, people, session);
  await renderBidders(current, lobby, people, session);
  fillLeaderboard($('#leaderboard tbody'), board, null);
  $('#board-note').textContent = `Retailers are paid the retail tariff ${num(board.retail_tariff_yuan_per_mwh)} yuan/MWh on the load they serve.`;
  await refreshResults(SESSION_ID, token, rounds.data, resultState, null, null);
  renderDebrief(board, session, await drawTrends(SESSION_ID, token, rounds.data, board, null));
  await renderLedger();
}

function failed(err) {
  if (err instanceof ApiError && (err.status === 401 || err.status === 403)) desk.signOut();
  else if (err instanceof ApiError && err.status === 404) {
    // the token is good but this game is not one of its games: offer to sign in with another
    showAlert($('#page-error'), 'This game is not one of the games of the instructor token in this tab (or it does not exist): sign in with the token of its instructor.');
    desk.showSignIn();
  }
}

const desk = sessionDesk({
  token: () => token,
  draw,
  failed,
  async signIn(typed) {
    await api(sessionPath('/participants'), { token: typed });
    token = typed;
    tokens.setInstructor(token);
  },
  wrongToken: 'That is not the instructor token of this game.',
  forget() {
    tokens.forgetInstructor();
    token = null;
  },
});

// ------------------------------------------------------------------ actions

function botsPolicy() {
  if (!$('#bots-on').checked) return { policy: null, problem: null };
  const count = $('#bots-count').value.trim();
  const seed = $('#bots-seed').value.trim();
  const policy = {};
  if (count !== '') {
    if (!/^\d+$/.test(count)) return { problem: 'How many seats: a whole number, or blank for every empty seat.' };
    policy.count = Number(count);
  }
  if (seed !== '') {
    if (!/^\d+$/.test(seed)) return { problem: 'The bots\' seed: a whole number ≥ 0, or blank.' };
    policy.seed = Number(seed);
  }
  if ($('#bots-strategy').value) policy.strategy = $('#bots-strategy').value;
  return { policy, problem: null };
}

async function act(what, round) {
  const box = $('#action-error');
  showAlert(box, null);
  showOk($('#action-ok'), '');
  const rid = encodeURIComponent(round.round_id);
  try {
    if (what === 'open') {
      const { policy, problem } = botsPolicy();
      if (problem) {
        showAlert(box, problem);
        return;
      }
      const body = policy ? { bots: policy } : {};
      const seconds = $('#deadline-seconds').value.trim();
      if (seconds !== '') {
        if (!/^\d+$/.test(seconds) || Number(seconds) < 1) {
          showAlert(box, 'Deadline: a whole number of seconds ≥ 1, or blank for none.');
          return;
        }
        body.deadline_seconds = Number(seconds);
        body.auto_clear = $('#auto-clear').checked;
      } else if ($('#auto-clear').checked) {
        showAlert(box, 'Clearing at the deadline needs a deadline: enter the seconds.');
        return;
      }
      const opened = await api(sessionPath('/rounds/open'), { method: 'POST', token, body });
      const due = opened.deadline_at ? ` Its gate closes at ${new Date(opened.deadline_at).toLocaleTimeString()}${opened.auto_clear ? ' and it clears then' : ''}.` : '';
      showOk($('#action-ok'), `Round ${opened.round_id} is open${opened.bidders ? ` (${opened.bidders} bot${opened.bidders === 1 ? '' : 's'} bid at once)` : ''}.${due}`);
      $('#bots-on').checked = false;
    } else if (what === 'close') {
      await api(sessionPath(`/rounds/${rid}/close`), { method: 'POST', token });
      showOk($('#action-ok'), `The gate of ${round.round_id} is closed.`);
    } else {
      const result = await api(sessionPath(`/rounds/${rid}/clear`), { method: 'POST', token });
      showOk($('#action-ok'), `Round ${result.round_id} cleared.`);
    }
  } catch (err) {
    showAlert(box, err);
  }
  await desk.refresh();
}

/** A new token for a seat (the old one gets 401), shown as a rejoin link; a bot's seat is
 *  first released, so the bot stops bidding for it. */
async function handOver(seat, bot) {
  const box = $('#seat-error');
  showAlert(box, null);
  const sure = bot
    ? `Hand ${seat} to a student? The bot stops bidding for it and the student gets a rejoin link.`
    : `Give ${seat} a new rejoin link? Its current token (and any tab using it) stops working.`;
  // eslint-disable-next-line no-alert
  if (!window.confirm(sure)) return;
  try {
    if (bot) await api(sessionPath(`/bots/${encodeURIComponent(seat)}/release`), { method: 'POST', token });
    const issued = await api(sessionPath(`/participants/${encodeURIComponent(seat)}/token`), { method: 'POST', token });
    $('#seat-link').value = rejoinUrl(SESSION_ID, issued.token);
    $('#seat-link-note').textContent = `Give this link to the student of ${seat} privately: it opens the seat (the token rides after the #). It is shown only once; the seat's old token no longer works.`;
    $('#seat-link-box').hidden = false;
  } catch (err) {
    showAlert(box, err);
  }
  await desk.refresh();
}

async function exportCsv(what) {
  const box = $('#tools-error');
  showAlert(box, null);
  try {
    await downloadCsv(sessionPath(`/export/${what}.csv`), token, `${SESSION_ID}-${what}.csv`);
  } catch (err) {
    showAlert(box, err);
  }
}

for (const what of ['results', 'bids', 'ledger']) {
  $(`#export-${what}`).addEventListener('click', () => exportCsv(what));
}

/** The clone form's changes: {body, problems} (blank fields keep this game's values). */
function readClone() {
  const problems = [];
  const body = {};
  const name = $('#clone-name').value.trim();
  if (name) body.name = name;
  const scale = $('#clone-scale').value.trim();
  if (scale !== '') {
    if (!(Number(scale) > 0)) problems.push('Fleet scale must be a number above 0, or blank.');
    else body.scale = Number(scale);
  }
  for (const [id, key, what, most] of [['#clone-rounds', 'energy_rounds', 'Energy rounds', 366], ['#clone-hours', 'hours_per_round', 'Hours per energy round', 168]]) {
    const text = $(id).value.trim();
    if (text === '') continue;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1 || v > most) problems.push(`${what} must be a whole number from 1 to ${most}, or blank.`);
    else body[key] = v;
  }
  const overrides = readRules('clone', body, problems);
  if (Object.keys(overrides).length) body.overrides = overrides;
  return { body, problems };
}

$('#clone-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const box = $('#tools-error');
  showAlert(box, null);
  const { body, problems } = readClone();
  if (problems.length) {
    showAlert(box, problems.join(' '));
    return;
  }
  try {
    const made = await api(sessionPath('/clone'), { method: 'POST', token, body });
    const id = made.session.id;
    tokens.setInstructor(made.instructor_token);
    $('#clone-token').value = made.instructor_token;
    $('#clone-console').href = `/console/${encodeURIComponent(id)}`;
    const invite = `${window.location.origin}/?session=${encodeURIComponent(id)}`;
    $('#clone-invite').href = invite;
    $('#clone-invite').textContent = invite;
    $('#clone-box').hidden = false;
  } catch (err) {
    showAlert(box, err);
  }
});

desk.begin();
