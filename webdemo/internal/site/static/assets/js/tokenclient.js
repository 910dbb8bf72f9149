// Fetches a Signaling token the way a real client of the token server does, and turns
// every way that can fail into a Problem that says what to do.
import { Problem } from './problem.js';

export const FETCH_TIMEOUT_MS = 10000;

// tokenURL is proxyUrl + serverUrl + "/rtm/{uid}/?expiry=N" (the cors-anywhere style
// of the original proxy.js) when a server URL is set, else proxyUrl + "rtm/...".
export function tokenURL(cfg, uid) {
  const base = cfg.serverUrl ? `${cfg.proxyUrl}${cfg.serverUrl}/` : cfg.proxyUrl;
  return `${base}rtm/${encodeURIComponent(uid)}/?expiry=${cfg.tokenExpiry}`;
}

export async function fetchToken(cfg, uid, timeoutMs = FETCH_TIMEOUT_MS) {
  const url = tokenURL(cfg, uid);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    let res;
    try {
      // X-Requested-With is not a CORS-safelisted header, so the browser sends a real
      // preflight first: the proxy must answer it, as it would for any real client.
      res = await fetch(url, {
        headers: { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' },
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (err) {
      if (ctrl.signal.aborted) throw timedOut(url, timeoutMs);
      throw await networkProblem(url, err);
    }
    let text;
    try {
      text = await res.text();
    } catch {
      if (ctrl.signal.aborted) throw timedOut(url, timeoutMs);
      throw new Problem('Token answer cut off', `The connection to ${originOf(url)} broke while the answer was being read.`,
        'Try again; if it keeps happening, look at the proxy and token server logs.');
    }
    return { url, token: parseAnswer(url, uid, res, text) };
  } finally {
    clearTimeout(timer);
  }
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

function timedOut(url, ms) {
  return new Problem('Token request timed out',
    `Nothing came back from ${originOf(url)} within ${ms / 1000} s.`,
    'Check that the proxy and the token server are running and not overloaded (make run starts both), then try again.');
}

// A fetch that fails with a TypeError is either a server that cannot be reached or an
// answer the browser withheld because of CORS; the error does not say which. An opaque
// "no-cors" request tells them apart: it succeeds whenever the server answers at all.
async function networkProblem(url, err) {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 3000);
  let reachable = false;
  try {
    await fetch(url, { mode: 'no-cors', cache: 'no-store', credentials: 'omit', signal: ctrl.signal });
    reachable = true;
  } catch {
    reachable = false;
  } finally {
    clearTimeout(timer);
  }
  const origin = originOf(url);
  const page = window.location.origin;
  if (reachable) {
    return new Problem('Blocked by CORS',
      `${origin} answered, but the browser blocked the answer: it did not allow this page's origin (${page}). ` +
      'A page may read a cross-origin answer only if it carries Access-Control-Allow-Origin for the page, ' +
      'and here the X-Requested-With header also needs an allowed preflight.',
      `Fetch tokens through corsproxy (proxy_url in configs/webdemo.yaml) and make sure ${page} is in its ` +
      'cors.allowed_origins; if you call a token server directly, it must allow this origin itself.');
  }
  return new Problem('Cannot reach the token URL',
    `Nothing answered at ${origin} (${err.message}).`,
    'Start the proxy and the token server (make run starts all three), or correct proxy_url / server_url in configs/webdemo.yaml.');
}

function parseAnswer(url, uid, res, text) {
  const origin = originOf(url);
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (res.ok) {
    if (body && typeof body.rtmToken === 'string' && body.rtmToken !== '') return body.rtmToken;
    throw new Problem('Unexpected answer', `${origin} answered ${res.status} without an "rtmToken" field.`,
      'Point proxy_url / server_url at a token server that answers GET /rtm/{uid}/ with {"rtmToken": "..."}.');
  }
  const said = describeProblem(body);
  switch (res.status) {
    case 502:
      throw new Problem('Token server down (502 Bad Gateway)',
        `The proxy at ${origin} is running but could not reach the token server behind it.${said}`,
        'Start tokenserver (make run starts it on :8081) and check corsproxy\'s upstream setting ' +
        '(or its allowed_targets when server_url is set).');
    case 504:
      throw new Problem('Token server too slow (504 Gateway Timeout)',
        `The proxy at ${origin} gave up waiting for the token server.${said}`,
        'Check that the token server is healthy (its /healthz), then try again.');
    case 401:
      throw new Problem('The token server wants credentials (401)',
        `The token server refused an anonymous request.${said}`,
        'This demo sends no credentials: run the token server with auth.mode none for the demo.');
    case 403:
      throw new Problem('Refused (403 Forbidden)', `${origin} refused the request.${said}`,
        'If server_url is set, add it to corsproxy\'s allowed_targets; otherwise check the token server\'s access rules.');
    case 404:
      if (uid.includes('/') || uid === '.' || uid === '..') {
        // The browser resolves "." and ".." segments, and a "/" (even as %2F) is a path
        // separator to most routers, so such a user ID never reaches the /rtm/{uid} route.
        throw new Problem('This User ID cannot be sent in the URL (404)',
          `The user ID ${JSON.stringify(uid)} is valid for Signaling, but "/", "." and ".." change the path of GET /rtm/{uid}/, so ${origin} found no such route.${said}`,
          'Choose a user ID without "/" that is not "." or "..", or fetch its token with POST /v1/tokens, which carries the user ID in the body.');
      }
      throw new Problem('No token route there (404)', `${origin} has nothing at ${new URL(url).pathname}.${said}`,
        'proxy_url / server_url must lead to a token server that answers GET /rtm/{uid}/.');
    case 429:
      throw new Problem('Too many token requests (429)', `The token server is rate limiting this client.${said}`,
        `Wait ${res.headers.get('Retry-After') || 'a few'} seconds and try again.`);
  }
  const invalid = invalidParams(body);
  if (res.status >= 400 && res.status < 500 && invalid.length > 0) {
    throw new Problem('The token server refused the User ID',
      invalid.map((p) => `${p.name}: ${p.reason}`).join('; '),
      'Use 1-64 characters of printable ASCII: letters, digits, spaces and punctuation.');
  }
  if (res.status >= 500) {
    throw new Problem(`Token server error (${res.status})`, `${origin} failed to mint a token.${said}`,
      'Look at the token server\'s log for this request; a missing or wrong App ID / App Certificate is the usual cause.');
  }
  throw new Problem(`Token request refused (${res.status})`, `${origin} answered ${res.status}.${said}`,
    'Check the User ID and the token server\'s configuration.');
}

function describeProblem(body) {
  if (!body || typeof body !== 'object') return '';
  const parts = [body.title, body.detail].filter((s) => typeof s === 'string' && s !== '');
  const invalid = invalidParams(body).map((p) => `${p.name}: ${p.reason}`);
  const all = [...parts, ...invalid];
  if (all.length === 0) return '';
  const said = all.join(' — ');
  return ` It said: ${said}${/[.!?]$/.test(said) ? '' : '.'}`;
}

function invalidParams(body) {
  if (!body || !Array.isArray(body.invalidParams)) return [];
  return body.invalidParams
    .filter((p) => p && typeof p.name === 'string' && typeof p.reason === 'string');
}
