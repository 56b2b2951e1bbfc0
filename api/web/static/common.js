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
  capacity: { price: 'yuan/kW·yr', quantity: 'accredited MW', tick: 'MW' },
  energy: { price: 'yuan/MWh', quantity: 'MW', tick: 'MW' },
  green: { price: 'premium yuan/MWh', quantity: 'MWh of certificates', tick: 'MWh' },
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

/**
 * The leaderboard from `/standings`: every seat from the start, empty seats and bots marked,
 * ranked by profit (revenue − variable cost − fixed cost share ± penalties and compensation).
 */
export function fillLeaderboard(tbody, board, me) {
  fillRows(tbody, board.data.map((r) => {
    const mark = r.seat === 'bot' ? 'bot' : r.seat === 'empty' ? 'empty seat' : (r.display_name || '');
    const who = el('td', {}, r.participant === me ? `${r.participant} (you)` : r.participant,
      mark ? el('span', { class: `seat ${r.seat}`, text: ` ${mark}` }) : null);
    return el('tr', { class: `${r.participant === me ? 'me' : ''} ${r.seat === 'empty' ? 'empty' : ''}`.trim(), 'data-seat': r.seat },
      el('td', { text: r.rank }), who,
      el('td', { class: 'num', 'data-label': 'Revenue yuan', text: yuanOfFen(r.revenue_fen) }),
      el('td', { class: 'num', 'data-label': 'Costs yuan', text: yuanOfFen(r.cost_fen) }),
      el('td', { class: 'num', 'data-label': 'Profit yuan', text: yuanOfFen(r.profit_fen) }));
  }));
}

export function fillEventLog(list, event) {
  const when = new Date(event.created_at).toLocaleTimeString();
  const words = { session_created: 'game created', participant_joined: 'joined', round_opened: 'round opened',
    gate_closed: 'gate closed', round_cleared: 'round cleared', bids_received: 'bids received',
    round_voided: 'round voided', session_halted: 'game halted', session_resumed: 'game resumed' };
  const who = event.data && event.data.participant ? ` ${event.data.participant}` : '';
  const what = `${words[event.kind] || event.kind}${event.round_id ? `: ${event.round_id}` : ''}${who}`;
  list.prepend(el('li', { 'data-kind': event.kind }, el('time', { text: when }), ` ${what}`));
  while (list.children.length > 50) list.lastChild.remove();
}

// ------------------------------------------------------------------ briefing (Markdown)

/** Inline Markdown (**bold** only) as text and <strong> nodes. */
function inline(text) {
  const out = [];
  text.split(/(\*\*[^*]+\*\*)/).forEach((part) => {
    if (part.startsWith('**') && part.endsWith('**') && part.length > 4) out.push(el('strong', { text: part.slice(2, -2) }));
    else if (part) out.push(document.createTextNode(part));
  });
  return out;
}

/**
 * Render the briefing's Markdown (headings, paragraphs, lists, tables, bold) into `box` as
 * DOM nodes built with textContent: the text never reaches innerHTML.
 */
export function renderMarkdown(box, text) {
  const nodes = [];
  const lines = text.split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) { i += 1; continue; }
    const heading = /^(#{1,3}) (.*)$/.exec(line);
    if (heading) {
      nodes.push(el(`h${heading[1].length + 2}`, {}, inline(heading[2])));
      i += 1;
    } else if (line.startsWith('|')) {
      const rows = [];
      while (i < lines.length && lines[i].startsWith('|')) {
        if (!/^\|[-| ]+\|$/.test(lines[i])) rows.push(lines[i].slice(1, -1).split('|').map((c) => c.trim()));
        i += 1;
      }
      const [head, ...body] = rows;
      nodes.push(el('div', { class: 'scroll' }, el('table', { class: 'data' },
        el('thead', {}, el('tr', {}, head.map((c) => el('th', { scope: 'col', text: c })))),
        el('tbody', {}, body.map((r) => el('tr', {}, r.map((c) => el('td', {}, inline(c)))))))));
    } else if (line.startsWith('- ')) {
      const items = [];
      while (i < lines.length && lines[i].startsWith('- ')) {
        items.push(el('li', {}, inline(lines[i].slice(2))));
        i += 1;
      }
      nodes.push(el('ul', {}, items));
    } else {
      const para = [];
      while (i < lines.length && lines[i].trim() && !/^(#|\||- )/.test(lines[i])) {
        para.push(lines[i]);
        i += 1;
      }
      nodes.push(el('p', {}, inline(para.join(' '))));
    }
  }
  box.replaceChildren(...nodes);
}

// ------------------------------------------------------------------ rules in the page

/**
 * The rules fields of prefix `p` (the `rules_fields` macro): market switches that differ from
 * their starting state (`data-initial`, else on) and the numbers typed, as rules overrides;
 * seats and the obligation go into `body`; problems (each naming its rule) into `problems`.
 */
export function readRules(p, body, problems) {
  const overrides = {};
  const value = (id) => $(`#${p}-${id}`).value.trim();
  const changed = (id) => {
    const box = $(`#${p}-${id}`);
    const initial = box.dataset.initial === undefined ? true : box.dataset.initial === 'true';
    return box.checked !== initial ? box.checked : null;
  };
  const capacity = changed('capacity-on');
  if (capacity !== null) overrides['capacity.enabled'] = capacity;
  const compensation = changed('compensation-on');
  if (compensation !== null) overrides['compensation.enabled'] = compensation;
  const obligation = changed('obligation-on');
  if (obligation !== null) body.obligation = obligation;
  if (value('format')) overrides['capacity.format'] = value('format');
  const numbers = [['energy-cap', 'energy.price_cap_yuan_per_mwh', 'The energy price cap', (v) => Number.isFinite(v)],
    ['offer-cap', 'capacity.offer_cap_yuan_per_kw_yr', 'The capacity offer cap', (v) => v > 0],
    ['recovery', 'compensation.recovery_ratio', 'The compensation rate', (v) => v >= 0 && v <= 1]];
  for (const [id, key, what, ok] of numbers) {
    const text = value(id);
    if (text === '') continue;
    const v = Number(text.replace(/,/g, ''));
    if (!ok(v)) problems.push(`${what} (${key}): “${text}” is not allowed.`);
    else overrides[key] = v;
  }
  for (const [id, key, what] of [['gencos', 'gencos', 'Generator seats'], ['retailers', 'retailers', 'Retailer seats']]) {
    const text = value(id);
    if (text === '') continue;
    const v = Number(text);
    if (!Number.isInteger(v) || v < 1 || v > 1000) problems.push(`${what} must be a whole number from 1 to 1000, or blank.`);
    else body[key] = v;
  }
  return overrides;
}

/** Set the market switches of prefix `p` to a game's rules and set-up (their starting state). */
export function setRuleSwitches(p, rules, setup) {
  const states = { 'capacity-on': rules.capacity.enabled, 'compensation-on': rules.compensation.enabled,
    'obligation-on': setup.obligation !== false };
  for (const [id, on] of Object.entries(states)) {
    const box = $(`#${p}-${id}`);
    if (box.dataset.initial === undefined) box.checked = Boolean(on);
    box.dataset.initial = String(Boolean(on));
  }
}

// ------------------------------------------------------------------ deadline countdown

/** "m:ss" of a number of seconds (0 and below: "0:00"). */
export function clockText(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/**
 * Keep `node` counting down to the session's deadline when it belongs to `round` and the
 * round is open (`setup.deadline` of the session: {round_id, at, auto_clear}); empty and
 * hidden otherwise. Calls `onDue()` once when the countdown reaches 0.
 */
export function countdown(node, session, round, onDue) {
  if (node.timer) clearInterval(node.timer);
  node.timer = null;
  const due = session.setup && session.setup.deadline;
  if (!due || !round || due.round_id !== round.round_id || round.status !== 'open') {
    node.textContent = '';
    node.hidden = true;
    return;
  }
  const at = Date.parse(due.at);
  let fired = false;
  const tick = () => {
    const left = (at - Date.now()) / 1000;
    node.hidden = false;
    node.textContent = left > 0
      ? `Gate closes in ${clockText(left)}${due.auto_clear ? ' (the round then clears by itself)' : ''}`
      : 'The deadline has passed: the gate is closing…';
    if (left <= 0 && !fired) {
      fired = true;
      if (onDue) setTimeout(onDue, 1000);
    }
  };
  tick();
  node.timer = setInterval(tick, 1000);
}

// ------------------------------------------------------------------ downloads

/** Download an API path's CSV with the bearer token in a header (never in the URL). */
export async function downloadCsv(path, token, filename) {
  const response = await fetch(API + path, { headers: { Authorization: `Bearer ${token}`, Accept: 'text/csv' }, cache: 'no-store' });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { body = null; }
    throw new ApiError(response.status, body);
  }
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
  return blob;
}

/** A seat's rejoin link: its token rides in the URL fragment, which no request carries. */
export function rejoinUrl(sessionId, token) {
  return `${window.location.origin}/play/${encodeURIComponent(sessionId)}#token=${encodeURIComponent(token)}`;
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
  const words = { live: 'live updates on', reconnecting: 'reconnecting… (checking every few seconds)',
    stopped: 'live updates off' };
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
