// The Authentication Guide page: fetch a Signaling token for a user ID, log in with it,
// keep the session alive by renewing the token, log out. Every step is logged, every
// failure is explained, and every call that could hang has a timeout, so the button
// always comes back.
import { Problem, withTimeout } from './problem.js';
import { userIdProblems } from './uid.js';
import { decodeToken } from './token.js';
import { credentialProblem, fetchToken, tokenURL } from './tokenclient.js';
import { loadSDK, loginProblem, describeSDKError } from './sdk.js';

const LOGIN_TIMEOUT_MS = 20000;
const LOGOUT_TIMEOUT_MS = 10000;
const RENEW_TIMEOUT_MS = 10000;
const CONFIG_TIMEOUT_MS = 10000;
// A link that fails again right after a fresh login (a wrong clock or token lifetime, a
// network that keeps dropping) is not fixed by one more login; logging in again forever
// would only hide the cause. A click on Login starts the count again.
const MAX_RELOGINS = 3;
const RELOGIN_WINDOW_MS = 60000;
const LOG_LIMIT = 300;

const $ = (id) => document.getElementById(id);
const ui = {
  form: $('login-form'),
  uid: $('uid'),
  button: $('login'),
  uidError: $('uid-error'),
  checkUid: $('check-uid'),
  options: document.querySelector('#login-form details.options'),
  sessionToken: $('session-token'),
  sessionTokenError: $('session-token-error'),
  state: $('state'),
  expiry: $('expiry'),
  problem: $('problem'),
  problemTitle: $('problem-title'),
  problemDetail: $('problem-detail'),
  problemFix: $('problem-fix'),
  log: $('log'),
  clearLog: $('clear-log'),
  setupTokenURL: $('setup-token-url'),
  setupAppID: $('setup-app-id'),
  setupExpiry: $('setup-expiry'),
  setupSDK: $('setup-sdk'),
  demoBanner: $('demo-banner'),
  demoHow: $('demo-how'),
  statusNote: $('status-note'),
  version: $('version'),
};

const session = {
  cfg: null,
  busy: '', // what the page is doing right now, '' when idle
  client: null, // the logged-in RTM instance; events from any other instance are stale
  uid: '',
  expiresAt: null,
  ticker: 0,
  renewing: false,
  relogins: [],
  demo: false, // the token server signs with a placeholder (banner shown)
};

// ---- rendering -------------------------------------------------------------------

function render() {
  const loggedIn = session.client !== null;
  ui.button.disabled = session.busy !== '';
  ui.button.textContent = session.busy || (loggedIn ? 'Logout' : 'Login');
  ui.button.classList.toggle('logout', loggedIn && !session.busy);
  ui.uid.disabled = session.busy !== '';
  ui.sessionToken.disabled = session.busy !== '';
  ui.uid.readOnly = loggedIn;
  if (session.busy) {
    ui.state.dataset.state = 'busy';
    ui.state.textContent = session.busy;
  } else if (loggedIn) {
    ui.state.dataset.state = 'in';
    ui.state.textContent = `Logged in as ${session.uid}`;
  } else {
    ui.state.dataset.state = 'out';
    ui.state.textContent = 'Logged out';
  }
}

function setBusy(label) {
  session.busy = label;
  render();
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

function clock(d) {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function log(level, message) {
  const now = new Date();
  const li = document.createElement('li');
  li.className = level;
  const t = document.createElement('time');
  t.dateTime = now.toISOString();
  t.textContent = `${clock(now)}.${pad(now.getMilliseconds(), 3)}`;
  li.append(t, ' ', message);
  ui.log.append(li);
  while (ui.log.children.length > LOG_LIMIT) ui.log.firstElementChild.remove();
  ui.log.scrollTop = ui.log.scrollHeight;
}

// logged holds the Problems already written to the log: one that comes back (the SDK
// that failed to load, met again at Login) is shown in the box but logged only once.
const logged = new WeakSet();

function showProblem(err) {
  const p = err instanceof Problem ? err : new Problem('Unexpected error', err && err.message ? err.message : String(err),
    'Reload the page; if it happens again, the browser console has the details.');
  ui.problemTitle.textContent = p.title;
  ui.problemDetail.textContent = p.detail;
  ui.problemFix.textContent = p.fix;
  ui.problem.hidden = false;
  if (logged.has(p)) return;
  logged.add(p);
  log('error', `${p.title}: ${p.detail}`);
}

function clearProblem() {
  ui.problem.hidden = true;
}

function showUidError(problems) {
  const bad = problems.length > 0;
  ui.uidError.hidden = !bad;
  ui.uidError.textContent = bad ? `User ID ${problems.join('; ')}.` : '';
  ui.uid.setAttribute('aria-invalid', String(bad));
}

// sessionCredential is what goes after "Bearer " in Authorization, '' for none. It is
// read at every token request, so a developer can paste a fresh JWT before a renewal.
// A pasted "Bearer …" is accepted as it is.
function sessionCredential() {
  return ui.sessionToken.value.trim().replace(/^bearer\s+/i, '');
}

function showSessionTokenError(problem) {
  ui.sessionTokenError.hidden = problem === '';
  ui.sessionTokenError.textContent = problem ? `Session token ${problem}.` : '';
  ui.sessionToken.setAttribute('aria-invalid', String(problem !== ''));
}

// ---- expiry countdown ------------------------------------------------------------

function setExpiry(expiresAt) {
  session.expiresAt = expiresAt;
  if (!session.ticker) session.ticker = setInterval(tick, 1000);
  tick();
}

function stopExpiry() {
  clearInterval(session.ticker);
  session.ticker = 0;
  session.expiresAt = null;
  ui.expiry.hidden = true;
}

function tick() {
  if (!session.expiresAt) return;
  const left = Math.round((session.expiresAt.getTime() - Date.now()) / 1000);
  ui.expiry.hidden = false;
  ui.expiry.classList.toggle('soon', left > 0 && left <= 60);
  ui.expiry.classList.toggle('over', left <= 0);
  if (left <= 0) {
    ui.expiry.textContent = 'Token expired';
    return;
  }
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  const text = h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${m}:${pad(s)}`;
  ui.expiry.textContent = `Token expires in ${text}`;
  ui.expiry.title = `at ${clock(session.expiresAt)}`;
}

// ---- configuration and SDK -------------------------------------------------------

async function loadConfig() {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), CONFIG_TIMEOUT_MS);
  try {
    const res = await fetch('/config.json', { cache: 'no-store', signal: ctrl.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return await res.json();
  } catch (err) {
    throw new Problem('Page configuration missing', `GET /config.json failed (${err.message}).`,
      'Check that webdemo is still running, then reload the page.');
  } finally {
    clearTimeout(timer);
  }
}

async function requireConfig() {
  if (session.cfg) return session.cfg;
  const cfg = await loadConfig();
  session.cfg = cfg;
  showSetup(cfg);
  log('info', `Configuration loaded: tokens from ${tokenURL(cfg, 'UID').replace('UID', '{uid}')}`);
  if (!cfg.appId) log('info', 'No App ID configured: the page will use the App ID inside each token.');
  if (cfg.mode === 'demo') showDemo(true, 'the token server has no App Certificate');
  prepareSDK(cfg);
  return cfg;
}

// showDemo shows or hides the demo-mode banner. The token server's Token-Mode on each
// token answer has the last word; webdemo's demo_mode only says it before the first
// token. So the page is right however the programs are wired (make run, compose, Helm).
function showDemo(demo, why) {
  const was = session.demo;
  session.demo = demo;
  ui.demoBanner.hidden = !demo;
  if (demo && !was) log('warn', `Demo mode: ${why}, so Agora will reject the login (see the banner above).`);
}

// sdkMissing says on the status line, next to Logged out, that Login cannot work yet.
function sdkMissing() {
  ui.statusNote.textContent = 'Signaling SDK missing: run make sdk, restart make run, reload';
  ui.statusNote.hidden = false;
}

function showSetup(cfg) {
  ui.setupTokenURL.textContent = tokenURL(cfg, 'UID').replace('UID', '{uid}');
  ui.setupAppID.textContent = cfg.appId || '(from the token)';
  ui.setupExpiry.textContent = `${cfg.tokenExpiry} s`;
  ui.setupSDK.textContent = `${cfg.sdkUrl} (loading…)`;
  ui.version.textContent = `webdemo ${cfg.version}`;
}

function prepareSDK(cfg) {
  loadSDK(cfg.sdkUrl).then((AgoraRTM) => {
    const version = AgoraRTM.VERSION ? ` ${AgoraRTM.VERSION}` : '';
    ui.setupSDK.textContent = `${cfg.sdkUrl} (loaded${version})`;
    log('info', `Signaling SDK${version} loaded`);
  }, (err) => {
    ui.setupSDK.textContent = `${cfg.sdkUrl} (not loaded)`;
    sdkMissing();
    showProblem(err);
  });
}

// ---- the session -----------------------------------------------------------------

const q = (s) => JSON.stringify(s);

// getToken fetches a token for uid and reads the App ID and expiry out of it.
async function getToken(cfg, uid) {
  const credential = sessionCredential();
  const bad = credentialProblem(credential);
  if (bad) {
    throw new Problem('Session token unusable', `The session token under Options ${bad}.`,
      'Paste the token itself (a JWT is three base64url parts joined by dots), or empty the field.');
  }
  // The credential itself never goes into the log: the page's log is for screenshots.
  const auth = credential ? ' with Authorization: Bearer (session token from Options)' : '';
  log('info', `Fetching a token: GET ${tokenURL(cfg, uid)}${auth}`);
  const { token, mode } = await fetchToken(cfg, uid, credential);
  if (mode === 'demo' || mode === 'live') {
    showDemo(mode === 'demo', 'the token server answered Token-Mode: demo (it has no App Certificate)');
  }
  let info;
  try {
    info = await decodeToken(token);
  } catch (err) {
    if (!cfg.appId) {
      throw new Problem('Cannot read the token', `The token server's token cannot be read (${err.message}) and no App ID is configured.`,
        'Set agora.app_id in configs/webdemo.yaml, or point the page at a token server that returns AccessToken2 ("007…") tokens.');
    }
    log('warn', `Cannot read the token (${err.message}); using the configured App ID and lifetime.`);
    info = { appId: cfg.appId, rtmUserId: uid, expiresAt: new Date(Date.now() + cfg.tokenExpiry * 1000) };
  }
  log('ok', `Got a token (${token.slice(0, 10)}…, ${token.length} characters) for ${q(info.rtmUserId)}, ` +
    `App ID ${info.appId}, expires at ${clock(info.expiresAt)}`);
  if (info.rtmUserId !== uid) {
    throw new Problem('The token is for another user', `It was minted for ${q(info.rtmUserId)}, not ${q(uid)}.`,
      'The token server must put the requested user ID into the token; check its /rtm/{uid}/ route.');
  }
  if (cfg.appId && cfg.appId.toLowerCase() !== info.appId.toLowerCase()) {
    throw new Problem('App ID mismatch', `The page is set to App ID ${cfg.appId}, the token was minted for ${info.appId}; Agora would refuse the login.`,
      'Make agora.app_id in configs/webdemo.yaml the token server\'s App ID, or leave it empty to use the one in the token.');
  }
  return { token, appId: cfg.appId || info.appId, info };
}

function safeLogout(client) {
  try {
    Promise.resolve(client.logout()).catch(() => {});
  } catch {
    // the instance is being abandoned; nothing more to do
  }
}

// connect runs the whole login: token, SDK, client, login.
async function connect(cfg, uid) {
  const { token, appId, info } = await getToken(cfg, uid);
  let AgoraRTM;
  try {
    AgoraRTM = await loadSDK(cfg.sdkUrl);
  } catch (err) {
    // The failure itself was logged when the page loaded; say why this Login stops.
    sdkMissing();
    log('error', `Cannot log in without the Signaling SDK (${cfg.sdkUrl} did not load). ` +
      'Get it with make sdk (npm fetches agora-rtm-sdk 2.x into .sdk/), restart make run and reload this page.');
    throw err;
  }
  let client;
  try {
    client = new AgoraRTM.RTM(appId, uid);
  } catch (err) {
    throw new Problem('The Signaling SDK refused the App ID or User ID', describeSDKError(err),
      'The App ID must be 32 hex characters and the User ID 1-64 characters: English letters, digits, spaces and ASCII punctuation only.');
  }
  listen(client, cfg, uid);
  log('info', `Logging in to Agora Signaling as ${q(uid)} with App ID ${appId}…`);
  try {
    await withTimeout(client.login({ token }), LOGIN_TIMEOUT_MS, () => new Problem('Agora did not answer',
      `login() did not finish within ${LOGIN_TIMEOUT_MS / 1000} s.`,
      'Check the network: the browser must reach *.agora.io and *.sd-rtn.com.'));
  } catch (err) {
    safeLogout(client);
    throw err instanceof Problem ? err : loginProblem(err, 'Login', session.demo);
  }
  session.client = client;
  session.uid = uid;
  setExpiry(info.expiresAt);
  log('ok', `Logged in as ${q(uid)}`);
}

function listen(client, cfg, uid) {
  client.addEventListener('tokenPrivilegeWillExpire', (channelName) => {
    if (client !== session.client) return;
    renew(client, cfg, uid, channelName);
  });
  client.addEventListener('linkState', (ev) => {
    const e = ev || {};
    log(e.currentState === 'FAILED' ? 'warn' : 'info',
      `Connection ${e.previousState || '?'} → ${e.currentState || '?'}${e.reasonCode ? ` (${linkReason(e)})` : ''}`);
    if (client !== session.client) return;
    // While the link is DISCONNECTED or SUSPENDED the SDK reconnects by itself; FAILED
    // means it gave up. An expired token needs a new login whatever the state.
    if (e.currentState === 'FAILED' || (tokenExpired(e) && e.currentState !== 'CONNECTED' && e.currentState !== 'CONNECTING')) {
      linkLost(client, cfg, uid, e);
    }
  });
}

function linkReason(e) {
  if (!e.reasonCode) return 'no reason given';
  return e.reason && e.reason !== e.reasonCode ? `${e.reasonCode}: ${e.reason}` : e.reasonCode;
}

// Agora reports an expired token on the link as TOKEN_EXPIRED; older builds only put
// it in the reason text ("ticket expired").
function tokenExpired(e) {
  return e.reasonCode === 'TOKEN_EXPIRED' || /expired/i.test(e.reason || '');
}

// The reasons (agora-rtm-sdk 2.x reasonCode) for which logging in again on our own
// would be wrong. Any other failed link is logged in again with a fresh token.
const NO_RELOGIN = new Map([
  // Another tab or device logged in with this user ID. Logging in again would end that
  // session, which would then do the same, and the two would take turns forever.
  ['SAME_UID_LOGIN', (uid) => new Problem('Logged in elsewhere',
    `User ID ${q(uid)} logged in from another tab, browser or device, so Agora ended this session (SAME_UID_LOGIN). ` +
    'The page does not log in again: that would end the other session, and the two would take turns forever.',
    'Use a different user ID in each tab or device. Login takes the user ID back here and ends the other session.')],
  // Removed on purpose (e.g. by the project's backend through Agora's REST API).
  ['KICKED_OUT_BY_SERVER', (uid) => new Problem('Removed by Agora',
    `Agora removed ${q(uid)} from Signaling on purpose (KICKED_OUT_BY_SERVER), so the page does not log in again by itself.`,
    'If that was not meant, log in again; if it keeps happening, ask whoever manages the Agora project.')],
  // The SDK logged the session out itself.
  ['LOGOUT', () => new Problem('Logged out by the Signaling SDK',
    'The SDK ended the session with a logout (LOGOUT), so the page does not log in again by itself.',
    'Log in again whenever you like.')],
]);

// linkLost drops the session whose link Agora gave up on, then logs in again unless
// the reason says not to.
function linkLost(client, cfg, uid, e) {
  session.client = null;
  stopExpiry();
  safeLogout(client);
  const final = NO_RELOGIN.get(e.reasonCode);
  if (final) {
    render();
    showProblem(final(uid));
    return;
  }
  relogin(cfg, uid, e);
}

async function renew(client, cfg, uid, channelName) {
  if (session.renewing) return;
  session.renewing = true;
  log('info', 'Agora says the token expires soon: fetching a new one');
  try {
    const { token, info } = await getToken(cfg, uid);
    if (client !== session.client) return;
    const renewing = channelName ? client.renewToken(token, { channelName }) : client.renewToken(token);
    await withTimeout(renewing, RENEW_TIMEOUT_MS, () => new Problem('Token renewal timed out',
      `renewToken() did not finish within ${RENEW_TIMEOUT_MS / 1000} s.`,
      'Nothing yet: if the old token expires, Agora disconnects and the page logs in again with a fresh token.'));
    if (client !== session.client) return;
    setExpiry(info.expiresAt);
    log('ok', `Token renewed; it now expires at ${clock(info.expiresAt)}`);
  } catch (err) {
    if (client === session.client) {
      showProblem(err instanceof Problem ? err : loginProblem(err, 'Renewing the token', session.demo));
    }
  } finally {
    session.renewing = false;
  }
}

async function relogin(cfg, uid, e) {
  const now = Date.now();
  session.relogins = session.relogins.filter((t) => now - t < RELOGIN_WINDOW_MS);
  if (session.relogins.length >= MAX_RELOGINS) {
    render();
    showProblem(new Problem('Stopped logging in again',
      `The connection failed again (${linkReason(e)}) after the page had logged in again ${MAX_RELOGINS} times ` +
      `within ${RELOGIN_WINDOW_MS / 1000} s, so it stopped: one more login would most likely fail the same way.`,
      (tokenExpired(e)
        ? 'Check the clocks of the token server and this computer, and the token lifetime (token_expiry). '
        : 'Check the network (the browser must reach *.agora.io and *.sd-rtn.com) and the reasons in the log below. ') +
      'Then click Login.'));
    return;
  }
  session.relogins.push(now);
  log('warn', `The connection failed (${linkReason(e)}): logging in again with a fresh token ` +
    `(${session.relogins.length} of at most ${MAX_RELOGINS} within ${RELOGIN_WINDOW_MS / 1000} s)`);
  setBusy('Logging in again…');
  try {
    await connect(cfg, uid);
  } catch (err) {
    showProblem(err);
  } finally {
    setBusy('');
  }
}

async function login() {
  clearProblem();
  session.relogins = [];
  const uid = ui.uid.value;
  if (ui.checkUid.checked) {
    const problems = userIdProblems(uid);
    showUidError(problems);
    if (problems.length > 0) {
      log('warn', `User ID ${q(uid)} ${problems.join('; ')}`);
      ui.uid.focus();
      return;
    }
  } else {
    showUidError([]);
  }
  const bad = credentialProblem(sessionCredential());
  showSessionTokenError(bad);
  if (bad) {
    log('warn', `Session token ${bad}`);
    ui.options.open = true;
    ui.sessionToken.focus();
    return;
  }
  setBusy('Logging in…');
  try {
    const cfg = await requireConfig();
    await connect(cfg, uid);
  } catch (err) {
    showProblem(err);
  } finally {
    setBusy('');
  }
}

async function logout() {
  const client = session.client;
  session.client = null;
  stopExpiry();
  clearProblem();
  setBusy('Logging out…');
  log('info', 'Logging out…');
  try {
    await withTimeout(client.logout(), LOGOUT_TIMEOUT_MS, () => new Problem('Logout timed out',
      `logout() did not finish within ${LOGOUT_TIMEOUT_MS / 1000} s; the page dropped the session anyway.`,
      'Nothing: log in again whenever you like.'));
    log('ok', 'Logged out');
  } catch (err) {
    showProblem(err instanceof Problem ? err : new Problem('Logout failed', describeSDKError(err),
      'The page dropped the session anyway; log in again whenever you like.'));
  } finally {
    setBusy('');
  }
}

// ---- wiring ----------------------------------------------------------------------

ui.form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (session.busy) return;
  if (session.client) logout();
  else login();
});
ui.uid.addEventListener('input', () => showUidError([]));
ui.sessionToken.addEventListener('input', () => showSessionTokenError(''));
ui.clearLog.addEventListener('click', () => ui.log.replaceChildren());
window.addEventListener('pagehide', () => {
  if (session.client) safeLogout(session.client);
});

render();
// The steps to leave demo mode are open where there is room; on a phone they fold, so
// the banner does not push the Log in form out of the first screen.
ui.demoHow.open = window.matchMedia('(min-width: 40rem)').matches;
requireConfig().catch(showProblem);
if (!ui.uid.value) ui.uid.focus();
