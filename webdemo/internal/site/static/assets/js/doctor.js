// The Token doctor page: send a pasted token and what the user meant to do with it to
// the token server's POST /v1/tokens/diagnose (through the proxy), and show the verdict
// and each finding in plain words. Every failure is explained as on the Authentication
// Guide page, and the request has a timeout, so the button always comes back.
import { Problem } from './problem.js';
import { FETCH_TIMEOUT_MS, describeProblem, invalidParams, networkProblem, originOf, serverBase, timedOut } from './tokenclient.js';

const CONFIG_TIMEOUT_MS = 10000;
const $ = (id) => document.getElementById(id);
const ui = {
  form: $('doctor-form'),
  token: $('token'),
  tokenError: $('token-error'),
  service: $('service'),
  action: $('action'),
  actionField: $('action-field'),
  channel: $('channel'),
  channelField: $('channel-field'),
  channelError: $('channel-error'),
  userKind: $('user-kind'),
  userKindField: $('user-kind-field'),
  user: $('user'),
  userField: $('user-field'),
  userError: $('user-error'),
  button: $('diagnose'),
  problem: $('problem'),
  problemTitle: $('problem-title'),
  problemDetail: $('problem-detail'),
  problemFix: $('problem-fix'),
  result: $('result'),
  verdict: $('verdict'),
  signedBy: $('signed-by'),
  findings: $('findings'),
  inspection: $('inspection'),
  setupURL: $('setup-url'),
  version: $('version'),
};

let cfg = null;

function diagnoseURL(c) {
  return `${serverBase(c)}v1/tokens/diagnose`;
}

// ---- rendering -------------------------------------------------------------------

function showProblem(err) {
  const p = err instanceof Problem ? err : new Problem('Unexpected error', err && err.message ? err.message : String(err),
    'Reload the page; if it happens again, the browser console has the details.');
  ui.problemTitle.textContent = p.title;
  ui.problemDetail.textContent = p.detail;
  ui.problemFix.textContent = p.fix;
  ui.problem.hidden = false;
}

// fieldErrors are the request's fields as the page names them.
const fieldErrors = { token: ['token', 'tokenError'], channel: ['channel', 'channelError'], uid: ['user', 'userError'], userAccount: ['user', 'userError'] };

function clearErrors() {
  ui.problem.hidden = true;
  for (const [input, error] of Object.values(fieldErrors)) {
    ui[input].removeAttribute('aria-invalid');
    ui[error].hidden = true;
  }
}

// showFieldErrors marks each field the server named; it returns the ones the page has
// no field for.
function showFieldErrors(params) {
  const rest = [];
  for (const p of params) {
    const f = fieldErrors[p.name];
    if (!f) {
      rest.push(p);
      continue;
    }
    ui[f[0]].setAttribute('aria-invalid', 'true');
    ui[f[1]].textContent = p.reason;
    ui[f[1]].hidden = false;
  }
  return rest;
}

const verdicts = {
  'will be accepted': ['accepted', 'Agora will accept this token for that.'],
  'will be refused': ['refused', 'Agora will refuse this token for that.'],
  'cannot tell': ['unknown', 'The token server cannot tell: it has no App Certificate to check the signature with (demo mode).'],
};

function showDiagnosis(d) {
  const [kind, words] = verdicts[d.verdict] || ['unknown', `The token server answered "${d.verdict}".`];
  ui.verdict.dataset.verdict = kind;
  ui.verdict.textContent = d.findings.length > 0
    ? `${words} ${d.findings.length === 1 ? 'One reason' : `${d.findings.length} reasons`}:`
    : words;
  const signers = {
    primary: 'Signed with the project\'s App Certificate.',
    secondary: 'Signed with the project\'s secondary App Certificate (agora.app_certificate_secondary).',
    none: 'Signed with neither of the project\'s App Certificates.',
    unchecked: 'The signature was not checked.',
  };
  ui.signedBy.textContent = signers[d.signedBy] || '';
  ui.findings.replaceChildren(...d.findings.map((f) => {
    const li = document.createElement('li');
    li.dataset.code = f.code;
    const h = document.createElement('h3');
    h.textContent = capitalize(f.problem);
    const code = document.createElement('span');
    code.className = 'code';
    code.textContent = ` (${f.code})`;
    h.append(code);
    const compared = document.createElement('p');
    compared.textContent = `You need: ${f.want}. The token has: ${f.got}.`;
    const fix = document.createElement('p');
    const strong = document.createElement('strong');
    strong.textContent = 'What to do: ';
    fix.append(strong, capitalize(f.fix) + '.');
    li.append(h, compared, fix);
    return li;
  }));
  ui.inspection.textContent = JSON.stringify(d.inspection || d.token006 || {}, null, 2);
  ui.result.hidden = false;
}

function capitalize(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// The services whose tokens name a channel: RTC, and the agents (Conversational AI,
// real-time STT) that join one.
const CHANNEL_SERVICES = ['rtc', 'convoai', 'stt'];

// intent reads the service menu: "service" or "service:action" (chat:app).
function intent() {
  const [service, action] = ui.service.value.split(':');
  return { service, action, channel: CHANNEL_SERVICES.includes(service), user: action !== 'app' };
}

function syncFields() {
  const i = intent();
  ui.channelField.hidden = !i.channel;
  ui.actionField.hidden = i.service !== 'rtc';
  ui.userKindField.hidden = !i.user;
  ui.userField.hidden = !i.user;
}

// ---- the request -----------------------------------------------------------------

function request() {
  const i = intent();
  const body = { token: ui.token.value.trim(), service: i.service };
  if (i.action) body.action = i.action;
  if (i.service === 'rtc') body.action = ui.action.value;
  if (i.channel) body.channel = ui.channel.value;
  if (i.user) body[ui.userKind.value] = ui.user.value;
  return body;
}

async function diagnose(body) {
  const url = diagnoseURL(cfg);
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), FETCH_TIMEOUT_MS);
  try {
    let res;
    let text;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        signal: ctrl.signal,
        cache: 'no-store',
        credentials: 'omit',
      });
      text = await res.text();
    } catch (err) {
      if (ctrl.signal.aborted) throw timedOut(url, FETCH_TIMEOUT_MS);
      throw await networkProblem(url, err);
    }
    let answer = null;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = null;
    }
    return { res, answer, origin: originOf(url) };
  } finally {
    clearTimeout(timer);
  }
}

function refusal(res, answer, origin) {
  const said = describeProblem(answer);
  switch (res.status) {
    case 404:
      return new Problem('The doctor route is not open (404)',
        `${origin} has no POST /v1/tokens/diagnose for this page.${said}`,
        'The proxy keeps the route private unless allowed: add /v1/tokens/diagnose to corsproxy\'s allowed_paths (make run does), ' +
        'or run tokenserver doctor TOKEN in a terminal.');
    case 401:
      return new Problem('The token server requires caller authentication (401)',
        `The token server runs with auth.mode api_key or jwt.${said}`,
        'Run tokenserver doctor TOKEN where the token server runs, or try the doctor against a token server with auth.mode none.');
    case 429:
      return new Problem('Too many requests (429)', `The proxy or the token server is rate limiting this client.${said}`,
        'Wait a little and try again.');
    case 502:
      return new Problem('Token server down (502 Bad Gateway)',
        `The proxy at ${origin} is running but could not reach the token server behind it.${said}`,
        'Start tokenserver (make run starts it on :8081) and check corsproxy\'s upstream setting.');
  }
  if (res.status >= 500) {
    return new Problem(`Token server error (${res.status})`, `${origin} could not diagnose the token.${said}`,
      'Look at the token server\'s log for this request.');
  }
  return new Problem(`Refused (${res.status})`, `${origin} answered ${res.status}.${said}`,
    'Check the fields above and try again.');
}

async function onSubmit(event) {
  event.preventDefault();
  clearErrors();
  const body = request();
  const missing = [];
  if (body.token === '') missing.push({ name: 'token', reason: 'Paste the token to diagnose.' });
  if (body.channel === '') missing.push({ name: 'channel', reason: 'Give the channel the client joins.' });
  if ((body.uid ?? body.userAccount) === '') missing.push({ name: ui.userKind.value, reason: 'Give the uid or user account the client uses.' });
  if (missing.length > 0) {
    showFieldErrors(missing);
    return;
  }
  ui.button.disabled = true;
  ui.button.textContent = 'Diagnosing…';
  try {
    if (!cfg) cfg = await loadConfig();
    const { res, answer, origin } = await diagnose(body);
    if (res.ok && answer && Array.isArray(answer.findings) && typeof answer.verdict === 'string') {
      showDiagnosis(answer);
      return;
    }
    ui.result.hidden = true;
    const params = res.status === 400 ? invalidParams(answer) : [];
    if (params.length > 0) {
      const rest = showFieldErrors(params);
      if (rest.length > 0) {
        showProblem(new Problem('The token server refused the request', rest.map((p) => `${p.name}: ${p.reason}`).join('; '),
          'Correct the fields above and try again.'));
      }
      return;
    }
    if (res.ok) {
      throw new Problem('Unexpected answer', `${origin} answered ${res.status} without a verdict.`,
        'Point proxy_url / server_url at this project\'s tokenserver, which answers POST /v1/tokens/diagnose.');
    }
    throw refusal(res, answer, origin);
  } catch (err) {
    ui.result.hidden = true;
    showProblem(err);
  } finally {
    ui.button.disabled = false;
    ui.button.textContent = 'Diagnose';
  }
}

// ---- configuration ---------------------------------------------------------------

async function loadConfig() {
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), CONFIG_TIMEOUT_MS);
  try {
    const res = await fetch('/config.json', { cache: 'no-store', signal: ctrl.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const c = await res.json();
    ui.setupURL.textContent = diagnoseURL(c);
    ui.version.textContent = `webdemo ${c.version}`;
    return c;
  } catch (err) {
    throw new Problem('Page configuration missing', `GET /config.json failed (${err.message}).`,
      'Check that webdemo is still running, then reload the page.');
  } finally {
    clearTimeout(timer);
  }
}

ui.form.addEventListener('submit', onSubmit);
ui.service.addEventListener('change', syncFields);
syncFields();
loadConfig().then((c) => {
  cfg = c;
  ui.button.disabled = false;
}, (err) => {
  showProblem(err);
  ui.button.disabled = false; // a click tries the configuration again
});
