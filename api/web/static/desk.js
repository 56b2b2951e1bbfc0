// What the participant's page and the instructor's console share around their own tables:
// the sign-in card that takes a pasted token, the desk it opens, one refresh at a time, and
// the game's event stream that keeps the desk current. Each page brings its token, what its
// desk draws, and how it checks a pasted token.

import {
  $, SESSION_ID, debounce, fillEventLog, followEvents, liveIndicator, showAlert,
} from './common.js';

/** An API path of this page's game: `sessionPath('/rounds')`. */
export const sessionPath = (p = '') => `/sessions/${encodeURIComponent(SESSION_ID)}${p}`;

/**
 * The desk of this page's game (`#signin`, `#desk`, `#page-error`, `#events`,
 * `#result-round`).
 *
 * - `token()`: the tab's token for this game, or a falsy value when it has none;
 * - `draw()`: fetches and redraws the desk (async); what it throws is shown in
 *   `#page-error` and then handed to `failed(err)`;
 * - `signIn(typed)`: checks a pasted token with the API and keeps it (async; throws the
 *   API's refusal), after which the desk opens;
 * - `wrongToken`: what `#page-error` says when the API refuses a pasted token (401, 403, 404);
 * - `forget()`: drops the tab's token.
 *
 * Returns `refresh()` (one at a time: a call during a refresh asks for one more after it),
 * `soon()` (one refresh after a burst of calls), `showSignIn()` (stops the live events and
 * shows the sign-in card, keeping the token), `signOut()` (the same, forgetting the token)
 * and `begin()`, called once when the page is ready: it opens the desk if the tab has a
 * token, else shows the sign-in card.
 */
/** How often the desk asks the server itself while the event stream is down, ms. */
export const POLL_DOWN_MS = 4000;
/** ... and while it is live (a safety net: an event lost on the way), ms. */
export const POLL_LIVE_MS = 30000;

export function sessionDesk({ token, draw, failed, signIn, wrongToken, forget }) {
  let feed = null;
  let busy = false;
  let again = false;
  let state = 'reconnecting';
  let lastDraw = 0;
  let poller = null;

  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    lastDraw = Date.now();
    try {
      await draw();
      showAlert($('#page-error'), null);
    } catch (err) {
      showAlert($('#page-error'), err);
      failed(err);
    } finally {
      busy = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  const soon = debounce(refresh, 150);

  /** The polling fallback: a blocked or broken event stream never leaves the desk stale. */
  function poll() {
    const every = state === 'live' ? POLL_LIVE_MS : POLL_DOWN_MS;
    if (Date.now() - lastDraw >= every - 250) refresh();
  }

  function start() {
    $('#signin').hidden = true;
    $('#desk').hidden = false;
    refresh();
    feed = followEvents(SESSION_ID, token(), (event) => {
      fillEventLog($('#events'), event);
      soon();
    }, (now, error) => {
      if (now === 'live' && state !== 'live') soon();  // catch up on what the gap missed
      state = now;
      liveIndicator(now);
      if (error) showAlert($('#page-error'), error);
    });
    if (poller) clearInterval(poller);
    poller = setInterval(poll, 1000);
  }

  function showSignIn() {
    if (feed) feed.stop();
    if (poller) clearInterval(poller);
    poller = null;
    $('#desk').hidden = true;
    $('#signin').hidden = false;
  }

  function signOut() {
    forget();
    showSignIn();
  }

  $('#signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const typed = $('#signin-token').value.trim();
    if (!typed) return;
    try {
      await signIn(typed);
      $('#signin-token').value = '';
      start();
    } catch (err) {
      showAlert($('#page-error'), err.status === 401 || err.status === 403 || err.status === 404
        ? wrongToken : err);
    }
  });

  $('#result-round').addEventListener('change', () => refresh());

  function begin() {
    if (token()) start();
    else $('#signin').hidden = false;
  }

  return { refresh, soon, showSignIn, signOut, begin };
}
