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
export function sessionDesk({ token, draw, failed, signIn, wrongToken, forget }) {
  let feed = null;
  let busy = false;
  let again = false;

  async function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
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

  function start() {
    $('#signin').hidden = true;
    $('#desk').hidden = false;
    refresh();
    feed = followEvents(SESSION_ID, token(), (event) => {
      fillEventLog($('#events'), event);
      soon();
    }, (state, error) => {
      liveIndicator(state);
      if (error) showAlert($('#page-error'), error);
    });
  }

  function showSignIn() {
    if (feed) feed.stop();
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
