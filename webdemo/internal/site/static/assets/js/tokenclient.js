// Fetches a Signaling token the way a real client of the token server does, and turns
// every way that can fail into a Problem that says what to do.
import { Problem } from './problem.js';

export const FETCH_TIMEOUT_MS = 10000;

// serverBase is where the token server's routes are: proxyUrl + serverUrl + "/" (the
// cors-anywhere style of the original proxy.js) when a server URL is set, else proxyUrl.
export function serverBase(cfg) {
  return cfg.serverUrl ? `${cfg.proxyUrl}${cfg.serverUrl}/` : cfg.proxyUrl;
}

// tokenURL is serverBase + "rtm/{uid}/?expiry=N".
export function tokenURL(cfg, uid) {
  return `${serverBase(cfg)}rtm/${encodeURIComponent(uid)}/?expiry=${cfg.tokenExpiry}`;
}

// credentialProblem says what is wrong with a session token typed into the page, or ''.
// A header value the browser refuses would make fetch throw a TypeError, which would
// read as "unreachable" or "blocked by CORS"; Bearer credentials are printable ASCII
// without spaces (RFC 6750's token68 is narrower still, but API keys need not be).
export function credentialProblem(credential) {
  const chars = [...credential];
  const at = chars.findIndex((c) => c < '!' || c > '~');
  if (at < 0) return '';
  const code = chars[at].codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
  return `must be printable ASCII without spaces (U+${code} at position ${at + 1})`;
}

// fetchToken asks for a token for uid. A non-empty credential is sent as
// Authorization: Bearer, as a real app sends its user's session token.
export async function fetchToken(cfg, uid, credential = '', timeoutMs = FETCH_TIMEOUT_MS) {
  const url = tokenURL(cfg, uid);
  const headers = { 'X-Requested-With': 'XMLHttpRequest', Accept: 'application/json' };
  if (credential) headers.Authorization = `Bearer ${credential}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs);
  try {
    let res;
    try {
      // X-Requested-With is not a CORS-safelisted header, so the browser sends a real
      // preflight first: the proxy must answer it, as it would for any real client.
      res = await fetch(url, {
        headers,
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
    // Token-Mode (demo or live) is the token server's own word on its credentials;
    // corsproxy exposes it to the page by default.
    return { url, token: parseAnswer(url, uid, res, text, credential !== ''), mode: res.headers.get('Token-Mode') || '' };
  } finally {
    clearTimeout(timer);
  }
}

export function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}

export function timedOut(url, ms) {
  return new Problem('Token request timed out',
    `Nothing came back from ${originOf(url)} within ${ms / 1000} s.`,
    'Check that the proxy and the token server are running and not overloaded (make run starts both), then try again.');
}

// A fetch that fails with a TypeError is either a server that cannot be reached or an
// answer the browser withheld because of CORS; the error does not say which. An opaque
// "no-cors" request tells them apart: it succeeds whenever the server answers at all.
export async function networkProblem(url, err) {
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

function parseAnswer(url, uid, res, text, sentCredential) {
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
      if (sentCredential) {
        throw new Problem('The token server did not accept the session token (401)',
          `The token server requires caller authentication (auth.mode api_key or jwt) and refused the session token from Options.${said}`,
          'Check the session token under Options: in jwt mode it must be a login JWT signed with the token server\'s ' +
          'auth.jwt secret (or a key of its JWKS) and not expired; in api_key mode one of its auth.api_keys.');
      }
      throw new Problem('The token server requires caller authentication (401)',
        `The token server runs with auth.mode api_key or jwt, and this request carried no credentials.${said}`,
        'A real app sends its user\'s session JWT as Authorization: Bearer … through the proxy ' +
        '(docs/security.md, "Securing the token server"). To try that here, put a session token (jwt mode) or an API key ' +
        '(api_key mode) under Options → Session token; for the plain demo, run the token server with auth.mode none.');
    case 403:
      // Only a caller that identified itself can be refused a user ID by the token
      // server (jwt mode's uid binding); without credentials a 403 is the proxy's.
      if (sentCredential && !/allowed_targets/.test(said)) {
        throw new Problem('Tokens only for your own user ID (403)',
          `The token server only mints tokens for the signed-in user's own ID: the session token belongs to another user than ${JSON.stringify(uid)}.${said}`,
          'Log in with the User ID the session token was issued for (its sub claim, or the token server\'s ' +
          'auth.jwt.uid_claim), or put that user\'s session token under Options.');
      }
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
    case 429: {
      const raw = res.headers.get('Retry-After');
      const wait = retryAfterSeconds(raw, Date.now());
      const fix = wait === null
        ? 'Wait a little and try again. The answer\'s Retry-After header could not be read ' +
          (raw === null
            ? '(the browser hides it unless the proxy lists it in cors.exposed_headers, as corsproxy does by default).'
            : `(it says ${JSON.stringify(raw.slice(0, 40))}, which is neither seconds nor a date).`)
        : `Retry after ${wait} s (at ${timeOfDay(new Date(Date.now() + wait * 1000))}); ` +
          'the Login button works at any time, but an earlier try counts against the limit again.';
      throw new Problem('Too many requests (429)',
        `The proxy or the token server is rate limiting this client (rate_limit.per_ip and burst in their configs).${said}`, fix);
    }
  }
  const invalid = invalidParams(body);
  if (res.status >= 400 && res.status < 500 && invalid.length > 0) {
    throw new Problem('The token server refused the User ID',
      invalid.map((p) => `${p.name}: ${p.reason}`).join('; '),
      'Use 1-64 characters: English letters, digits, spaces and ASCII punctuation only (\'å\' is not allowed).');
  }
  if (res.status >= 500) {
    throw new Problem(`Token server error (${res.status})`, `${origin} failed to mint a token.${said}`,
      'Look at the token server\'s log for this request; a missing or wrong App ID / App Certificate is the usual cause.');
  }
  throw new Problem(`Token request refused (${res.status})`, `${origin} answered ${res.status}.${said}`,
    'Check the User ID and the token server\'s configuration.');
}

// retryAfterSeconds reads Retry-After (RFC 9110 §10.2.3): delay-seconds or an
// HTTP-date. It returns whole seconds, at least 1, or null when there is nothing
// readable.
export function retryAfterSeconds(value, now) {
  if (typeof value !== 'string') return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Math.max(1, Number(v));
  if (!/[a-z]/i.test(v)) return null; // Date.parse reads bare numbers like "1.5" as dates
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(1, Math.ceil((at - now) / 1000));
}

function timeOfDay(d) {
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}

export function describeProblem(body) {
  if (!body || typeof body !== 'object') return '';
  const parts = [body.title, body.detail].filter((s) => typeof s === 'string' && s !== '');
  const invalid = invalidParams(body).map((p) => `${p.name}: ${p.reason}`);
  const all = [...parts, ...invalid];
  if (all.length === 0) return '';
  const said = all.join(' — ');
  return ` It said: ${said}${/[.!?]$/.test(said) ? '' : '.'}`;
}

export function invalidParams(body) {
  if (!body || !Array.isArray(body.invalidParams)) return [];
  return body.invalidParams
    .filter((p) => p && typeof p.name === 'string' && typeof p.reason === 'string');
}
