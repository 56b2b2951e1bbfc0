// Shared by every page: the API client, tokens kept in this tab's sessionStorage, small DOM
// helpers, the event stream and the tables both the participant and the instructor show.
// Every text reaches the page through textContent, never innerHTML.

export const API = document.querySelector('meta[name="mengxi-api"]').content;
export const SESSION_ID = document.body.dataset.sessionId || '';

/** A refusal of the API: `detail` says what to do, `problems` lists each bad item. */
export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body.detail === 'string' ? body.detail
      : `the server answered ${status}`;
    super(detail);
    this.status = status;
    this.code = body && body.code;
    this.problems = (body && Array.isArray(body.problems)) ? body.problems : [];
  }
}

/** Call the JSON API; returns the parsed body or throws an ApiError. */
export async function api(path, { method = 'GET', body, token, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    h['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, { method, headers: h, body: payload, cache: 'no-store' });
  } catch {
    throw new ApiError(0, { detail: 'the server did not answer; check the connection and try again' });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { detail: text };
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// ------------------------------------------------------------------ tokens (this tab only)

const PARTICIPANT = 'mengxi.participant.';
const INSTRUCTOR = 'mengxi.instructor';

export const tokens = {
  participant(sessionId) {
    const raw = sessionStorage.getItem(PARTICIPANT + sessionId);
    try {
      return raw ? JSON.parse(raw) : null;
    } catch {
      return null;
    }
  },
  setParticipant(sessionId, seat) {
    sessionStorage.setItem(PARTICIPANT + sessionId, JSON.stringify(seat));
  },
  forgetParticipant(sessionId) {
    sessionStorage.removeItem(PARTICIPANT + sessionId);
  },
  seats() {
    const out = [];
    for (let i = 0; i < sessionStorage.length; i += 1) {
      const key = sessionStorage.key(i);
      if (key && key.startsWith(PARTICIPANT)) {
        const seat = tokens.participant(key.slice(PARTICIPANT.length));
        if (seat) out.push({ sessionId: key.slice(PARTICIPANT.length), ...seat });
      }
    }
    return out;
  },
  instructor() {
    return sessionStorage.getItem(INSTRUCTOR);
  },
  setInstructor(token) {
    sessionStorage.setItem(INSTRUCTOR, token);
  },
  forgetInstructor() {
    sessionStorage.removeItem(INSTRUCTOR);
  },
};

// ------------------------------------------------------------------ DOM helpers

export const $ = (selector, root = document) => root.querySelector(selector);

/** An element with attributes (`class`, `for`, data, aria, properties) and children. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key in node && !key.includes('-') && key !== 'list' && key !== 'form') node[key] = value;
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replace a table body's rows. */
export function fillRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

export function showAlert(box, error) {
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  const message = error instanceof Error ? error.message : String(error);
  box.replaceChildren(el('p', { text: message }));
  if (error instanceof ApiError && error.problems.length && error.problems[0].index === undefined) {
    box.append(el('ul', {}, error.problems.map((p) => el('li', { text: p.loc ? `${p.loc}: ${p.reason}` : p.reason }))));
  }
  box.hidden = false;
}

export function showOk(box, message) {
  box.textContent = message || '';
  box.hidden = !message;
}

/** A definition list from [term, value] pairs (values may be nodes). */
export function fillFacts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([term, value]) => [
    el('dt', { text: term }), el('dd', {}, value === null || value === undefined ? '–' : value)]));
}

// ------------------------------------------------------------------ formats

const numberFormats = new Map();
export function num(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (!numberFormats.has(digits)) {
    numberFormats.set(digits, new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }));
  }
  return numberFormats.get(digits).format(value);
}

export const yuanOfFen = (fen) => num(fen / 100, 2);

export function statusBadge(status) {
  const words = { pending: 'pending', open: 'open: taking bids', gate_closed: 'gate closed', cleared: 'cleared',
    waiting: 'waiting', running: 'running', finished: 'finished' };
  return el('span', { class: `badge ${status}`, text: words[status] || status });
}

export const UNITS = {
  capacity: { price: 'yuan/kW·yr', quantity: 'accredited MW' },
  energy: { price: 'yuan/MWh', quantity: 'MW' },
  green: { price: 'premium yuan/MWh', quantity: 'MWh' },
};

export function roundName(round) {
  if (!round) return '–';
  const hours = round.hours && round.hours.length ? `, hours ${round.hours[0]}–${round.hours[round.hours.length - 1]}` : '';
  const extra = round.kind === 'green' ? `, ${round.product} ${round.mode}` : '';
  return `${round.round_id} (${round.kind}${extra}${hours})`;
}

export function hoursText(hours) {
  if (!hours || !hours.length) return '–';
  return hours.length === 1 ? String(hours[0]) : `${hours[0]}–${hours[hours.length - 1]} (${hours.length} h)`;
}

// ------------------------------------------------------------------ shared tables

export function fillLeaderboard(tbody, board, me) {
  fillRows(tbody, board.data.map((r) => el('tr', { class: r.participant === me ? 'me' : '' },
    el('td', { text: r.rank }),
    el('td', { text: r.participant === me ? `${r.participant} (you)` : r.participant }),
    el('td', { class: 'num', text: yuanOfFen(r.revenue_fen) }),
    el('td', { class: 'num', text: yuanOfFen(r.cost_fen + r.variable_cost_fen) }),
    el('td', { class: 'num', text: num(r.profit_yuan, 2) }))));
}

export function fillEventLog(list, event) {
  const when = new Date(event.created_at).toLocaleTimeString();
  const words = { session_created: 'game created', participant_joined: 'joined', round_opened: 'round opened',
    gate_closed: 'gate closed', round_cleared: 'round cleared' };
  const who = event.data && event.data.participant ? ` ${event.data.participant}` : '';
  const what = `${words[event.kind] || event.kind}${event.round_id ? `: ${event.round_id}` : ''}${who}`;
  list.prepend(el('li', { 'data-kind': event.kind }, el('time', { text: when }), ` ${what}`));
  while (list.children.length > 50) list.lastChild.remove();
}

// ------------------------------------------------------------------ live events

/**
 * Follow the session's server-sent events with the bearer token in a header (so the token
 * never appears in a URL or a server log), resuming after the last event seen on reconnect.
 * Calls onEvent(event) for each; onState('live' | 'reconnecting' | 'stopped', error?).
 */
export function followEvents(sessionId, token, onEvent, onState) {
  let last = 0;
  let stopped = false;
  let controller = null;

  function dispatch(block) {
    let id = null;
    let kind = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'id') id = value;
      else if (field === 'event') kind = value;
      else if (field === 'data') data.push(value);
    }
    if (!data.length) return;
    if (id !== null && /^\d+$/.test(id)) last = Math.max(last, Number(id));
    let event;
    try {
      event = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    onEvent({ kind, ...event });
  }

  async function run() {
    while (!stopped) {
      controller = new AbortController();
      try {
        const response = await fetch(`${API}/sessions/${encodeURIComponent(sessionId)}/events?after=${last}`, {
          headers: { Authorization: `Bearer ${token}`, Accept: 'text/event-stream' },
          cache: 'no-store',
          signal: controller.signal,
        });
        if (response.status === 401 || response.status === 403 || response.status === 404) {
          let body = null;
          try { body = await response.json(); } catch { body = null; }
          stopped = true;
          onState('stopped', new ApiError(response.status, body));
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        onState('live');
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          // normalise line ends, keeping a trailing \r until its \n arrives
          const keep = buffer.endsWith('\r') ? '\r' : '';
          buffer = buffer.slice(0, buffer.length - keep.length).replace(/\r\n?/g, '\n') + keep;
          let cut;
          while ((cut = buffer.indexOf('\n\n')) >= 0) {
            dispatch(buffer.slice(0, cut));
            buffer = buffer.slice(cut + 2);
          }
        }
      } catch {
        if (stopped) return;
      }
      if (stopped) return;
      onState('reconnecting');
      await new Promise((resolve) => { setTimeout(resolve, 1500); });
    }
  }

  run();
  return {
    stop() {
      stopped = true;
      if (controller) controller.abort();
    },
  };
}

/** The header's live indicator. */
export function liveIndicator(state) {
  const node = $('#live');
  const words = { live: 'live updates on', reconnecting: 'reconnecting…', stopped: 'live updates off' };
  node.textContent = words[state] || '';
  node.dataset.state = state;
}

/** Run fn at most once per `ms`, after the last call (a burst of events makes one refresh). */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
