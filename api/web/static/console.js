// The instructor's console: the game, its rounds with open / close gate / clear, bots for
// empty seats, participants, leaderboard, results and every ledger total; live over events.

import {
  $, ApiError, SESSION_ID, api, el, fillFacts, fillLeaderboard, fillRows, hoursText, showAlert,
  showOk, statusBadge, tokens, yuanOfFen,
} from './common.js';
import { sessionDesk, sessionPath } from './desk.js';
import { refreshResults } from './results.js';

const resultState = { known: -1 };
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

function renderParticipants(lobby, people) {
  const byId = new Map(people.data.map((p) => [p.participant, p]));
  fillRows($('#participants tbody'), lobby.seats.map((s) => {
    const p = byId.get(s.participant);
    return el('tr', { class: p ? '' : 'empty' },
      el('th', { scope: 'row', text: s.participant }),
      el('td', { text: p ? (p.display_name || '–') : 'empty seat' }),
      el('td', { class: 'num', text: s.units }),
      el('td', { class: 'num', text: s.loads }),
      el('td', { text: p ? new Date(p.joined_at).toLocaleTimeString() : '–' }));
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
    get(''), get('/rounds'), get('/rounds/current'), api(sessionPath('/lobby')), get('/participants'), get('/leaderboard')]);
  renderGame(session);
  renderRounds(rounds.data, current);
  renderParticipants(lobby, people);
  fillLeaderboard($('#leaderboard tbody'), board, null);
  await refreshResults(SESSION_ID, token, rounds.data, resultState, null, null);
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
      const opened = await api(sessionPath('/rounds/open'), { method: 'POST', token, body: policy ? { bots: policy } : undefined });
      showOk($('#action-ok'), `Round ${opened.round_id} is open${opened.bidders ? ` (${opened.bidders} bot${opened.bidders === 1 ? '' : 's'} bid at once)` : ''}.`);
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

desk.begin();
