// app.js - the dashboard's frame: sign in with a token, learn the role,
// and show the page the address names (#/rollouts, #/rollouts/FLAG,
// #/flags, #/flags/KEY, #/segments, #/segments/NAME), each updating
// itself until another is shown.

import { forgetToken, get, setToken, token, whenUnauthorized } from './api.js';
import { prepareCharts } from './charts.js';
import { byId, clear, say } from './dom.js';
import { mountFlag, mountList } from './flags_page.js';
import { mount as mountOverview } from './overview.js';
import { identity, setIdentity } from './roles.js';
import { mount as mountRollout } from './rollout_page.js';
import { mountList as mountSegments, mountSegment } from './segments_page.js';

let unmount = () => {};

function showLogin(message) {
  unmount();
  unmount = () => {};
  clear(byId('view'));
  byId('who').hidden = true;
  byId('login').hidden = false;
  byId('login-error').textContent = message || '';
  byId('token').focus();
}

function showWho() {
  const who = identity();
  byId('who-text').textContent = 'Signed in as ' + who.name + ' (' + who.role + ')';
  byId('who').hidden = false;
  byId('login').hidden = true;
}

// "#/rollouts/a%2Fb" -> ['rollouts', 'a/b'].
function place() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const page = parts[0] || 'rollouts';
  const arg = parts.length > 1 ? decodeURIComponent(parts.slice(1).join('/')) : '';
  return [page, arg];
}

function route() {
  if (!token()) {
    showLogin('');
    return;
  }
  unmount();
  const view = clear(byId('view'));
  const [page, arg] = place();
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.getAttribute('data-nav') === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  view.setAttribute('data-page', page + (arg ? '/' : ''));
  if (page === 'flags') unmount = arg ? mountFlag(view, arg) : mountList(view);
  else if (page === 'segments') unmount = arg ? mountSegment(view, arg) : mountSegments(view);
  else unmount = arg ? mountRollout(view, arg) : mountOverview(view);
  document.title = (arg ? arg + ' – ' : '') + page + ' – canary-server';
}

async function signIn() {
  try {
    setIdentity(await get('/v1/admin/whoami'));
  } catch (e) {
    if (token()) say('Cannot reach the server: ' + e.message);
    return;
  }
  showWho();
  route();
}

function start() {
  prepareCharts();
  whenUnauthorized(() => showLogin(token() ? '' : 'Sign in with an API token.'));
  byId('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId('token');
    const value = input.value.trim();
    input.value = '';
    if (!value) return;
    setToken(value);
    signIn().then(() => {
      if (!token()) byId('login-error').textContent = 'That token was refused.';
    });
  });
  byId('sign-out').addEventListener('click', () => {
    forgetToken();
    setIdentity(null);
    showLogin('Signed out.');
  });
  window.addEventListener('hashchange', () => {
    if (token()) route();
  });
  if (token()) signIn();
  else showLogin('');
}

start();
