// The lobby: look a game up by its id (or an invitation link ?session=ID), take a seat, or
// create a game as the instructor (its token is shown once) and list the instructor's games.

import {
  $, ApiError, api, el, fillRows, readRules, showAlert, statusBadge, tokens,
} from './common.js';

const errorBox = $('#lobby-error');
let lobby = null;

function inviteUrl(sessionId) {
  return `${window.location.origin}/?session=${encodeURIComponent(sessionId)}`;
}

function consoleUrl(sessionId) {
  return `/console/${encodeURIComponent(sessionId)}`;
}

async function showSeats(sessionId) {
  showAlert(errorBox, null);
  lobby = await api(`/sessions/${encodeURIComponent(sessionId)}/lobby`);
  $('#seats-title').textContent = `${lobby.name} (rules: ${lobby.rules_name})`;
  $('#seats-title').append(' ', statusBadge(lobby.status));
  fillRows($('#seats tbody'), lobby.seats.map((s) => el('tr', {},
    el('td', { text: s.participant }), el('td', { text: s.units }), el('td', { text: s.loads }),
    el('td', { text: s.taken ? 'taken' : 'free' }))));
  const free = lobby.seats.filter((s) => !s.taken);
  const select = $('#join-seat');
  select.replaceChildren(...free.map((s) => el('option', { value: s.participant,
    text: `${s.participant} (${s.units ? `${s.units} unit${s.units > 1 ? 's' : ''}` : ''}${s.units && s.loads ? ', ' : ''}${s.loads ? `${s.loads} load${s.loads > 1 ? 's' : ''}` : ''})` })));
  $('#join-form button').disabled = free.length === 0;
  if (!free.length) showAlert(errorBox, 'Every seat of this game is taken.');
  $('#seats-box').hidden = false;
}

$('#find-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const id = $('#join-session').value.trim();
  if (!id) {
    showAlert(errorBox, 'Enter the game id your instructor gave you.');
    return;
  }
  try {
    await showSeats(id);
  } catch (err) {
    $('#seats-box').hidden = true;
    showAlert(errorBox, err.status === 404 ? `No game has the id “${id}”: check it with your instructor.` : err);
  }
});

$('#join-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  if (!lobby) return;
  const name = $('#join-name').value.trim();
  if (!name) {
    showAlert(errorBox, 'Enter your name: the instructor sees it next to your seat.');
    $('#join-name').focus();
    return;
  }
  try {
    const joined = await api(`/sessions/${encodeURIComponent(lobby.id)}/participants`, {
      method: 'POST', body: { participant: $('#join-seat').value || null, display_name: name } });
    tokens.setParticipant(lobby.id, { token: joined.token, participant: joined.participant, name });
    window.location.assign(`/play/${encodeURIComponent(lobby.id)}`);
  } catch (err) {
    showAlert(errorBox, err);
    if (err.status === 409 || err.status === 422) await showSeats(lobby.id).catch(() => {});
  }
});

function showMySeats() {
  const seats = tokens.seats();
  $('#my-seats').replaceChildren(...seats.map((s) => el('li', {},
    el('a', { href: `/play/${encodeURIComponent(s.sessionId)}`, text: `${s.participant} in game ${s.sessionId}` }))));
  $('#my-seats-box').hidden = seats.length === 0;
}

// ------------------------------------------------------------------ instructor

function readCreateForm() {
  const problems = [];
  const value = (id) => $(id).value.trim();
  const scale = Number(value('#create-scale'));
  if (!(scale > 0)) problems.push('Fleet scale must be a number above 0 (0.01 is a small classroom game).');
  const rounds = Number(value('#create-rounds'));
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 366) problems.push('Energy rounds must be a whole number from 1 to 366.');
  const hours = Number(value('#create-hours'));
  if (!Number.isInteger(hours) || hours < 1 || hours > 168) problems.push('Hours per energy round must be a whole number from 1 to 168.');
  const seedText = value('#create-seed');
  const seed = seedText === '' ? null : Number(seedText);
  if (seed !== null && (!Number.isInteger(seed) || seed < 0)) problems.push('The seed must be a whole number ≥ 0, or blank.');
  const name = value('#create-name') || 'Mengxi game';
  const body = { name, preset: $('#create-preset').value, scale, energy_rounds: rounds, hours_per_round: hours, seed };
  if ($('#create-bots').checked) body.bots = {};
  const overrides = readRules('create', body, problems);
  if (Object.keys(overrides).length) body.overrides = overrides;
  return { body, problems };
}

$('#create-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  showAlert(errorBox, null);
  const { body, problems } = readCreateForm();
  if (problems.length) {
    showAlert(errorBox, problems.join(' '));
    return;
  }
  const button = $('#create-form button[type=submit]');
  button.disabled = true;
  button.textContent = 'Creating…';
  try {
    let made;
    try {
      made = await api('/sessions', { method: 'POST', body, token: tokens.instructor() || undefined });
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401 && tokens.instructor())) throw err;
      // the tab's token is not known to this server (a new database): start afresh
      tokens.forgetInstructor();
      made = await api('/sessions', { method: 'POST', body });
    }
    const id = made.session.id;
    if (made.instructor_token) {
      tokens.setInstructor(made.instructor_token);
      $('#instructor-token').value = made.instructor_token;
      $('#token-box').hidden = false;
    } else {
      $('#token-box').hidden = true;
    }
    const invite = $('#invite-link');
    invite.href = inviteUrl(id);
    invite.textContent = inviteUrl(id);
    $('#console-link').href = consoleUrl(id);
    $('#created').hidden = false;
    await showGames();
  } catch (err) {
    showAlert(errorBox, err);
  } finally {
    button.disabled = false;
    button.textContent = 'Create the game';
  }
});

$('#copy-token').addEventListener('click', async () => {
  const input = $('#instructor-token');
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
    $('#copy-token').textContent = 'Copied';
  } catch {
    $('#copy-token').textContent = 'Select and copy it by hand';
  }
});

async function showGames() {
  const token = tokens.instructor();
  const table = $('#games');
  if (!token) {
    table.hidden = true;
    $('#games-hint').textContent = 'No instructor token in this tab: create a game, or paste a token you kept.';
    return;
  }
  let games;
  try {
    games = await api('/sessions?limit=100', { token });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) tokens.forgetInstructor();
    throw err;
  }
  $('#games-hint').textContent = `${games.count} game${games.count === 1 ? '' : 's'} made with the instructor token of this tab.`;
  fillRows($('#games tbody'), games.data.map((g) => el('tr', {},
    el('td', {}, el('strong', { text: g.name }), el('br'), el('code', { text: g.id })),
    el('td', {}, statusBadge(g.status)),
    el('td', { text: `${g.rounds_cleared} of ${g.rounds_total} cleared` }),
    el('td', { text: `${g.participants.length} of ${g.seats.length}` }),
    el('td', {}, el('a', { href: consoleUrl(g.id), text: 'console' }), ' · ',
      el('a', { href: inviteUrl(g.id), text: 'invitation' })))));
  table.hidden = games.count === 0;
}

$('#signin-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const token = $('#signin-token').value.trim();
  if (!token) return;
  tokens.setInstructor(token);
  try {
    await showGames();
    $('#signin-token').value = '';
  } catch (err) {
    tokens.forgetInstructor();
    showAlert(errorBox, err.status === 401 ? 'That token is not an instructor token of this server.' : err);
  }
});

// ------------------------------------------------------------------ start

const invited = new URLSearchParams(window.location.search).get('session');
if (invited) {
  $('#join-session').value = invited;
  showSeats(invited).catch((err) => showAlert(errorBox, err.status === 404 ? `No game has the id “${invited}”.` : err));
  $('#join-name').focus();
}
showMySeats();
showGames().catch((err) => showAlert(errorBox, err));
