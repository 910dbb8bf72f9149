// Loads agora-rtm-sdk 2.x from the configured URL (it is never part of this repository:
// webdemo serves the copy `make sdk` fetched, or the page takes it from a CDN) and
// explains the SDK's errors in terms of what the developer should change.
import { Problem } from './problem.js';

// A script from this site or a CDN arrives within a second or two; a request a firewall
// drops would otherwise keep the page waiting much longer.
export const SDK_LOAD_TIMEOUT_MS = 6000;

let loading = null;

// loadSDK resolves with window.AgoraRTM. It loads the script once per page: every later
// call, a Login included, gets the same promise, and a failure the same Problem, which
// the page shows once (reloading the page tries again).
export function loadSDK(url, timeoutMs = SDK_LOAD_TIMEOUT_MS) {
  if (loading) return loading;
  if (window.AgoraRTM && typeof window.AgoraRTM.RTM === 'function') {
    loading = Promise.resolve(window.AgoraRTM);
    return loading;
  }
  const script = document.createElement('script');
  loading = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(notLoaded(url, `no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    script.addEventListener('load', () => {
      clearTimeout(timer);
      if (window.AgoraRTM && typeof window.AgoraRTM.RTM === 'function') {
        resolve(window.AgoraRTM);
      } else {
        reject(new Problem('Signaling SDK not usable',
          `${url} loaded but did not define AgoraRTM.RTM.`,
          'Run make sdk (it fetches agora-rtm.js of the npm package agora-rtm-sdk 2.x into .sdk/, which webdemo then serves) ' +
          'and restart make run, or point sdk_url at that file.'));
      }
    });
    script.addEventListener('error', () => {
      clearTimeout(timer);
      reject(notLoaded(url, 'the request failed or was blocked'));
    });
    script.src = url;
    script.async = true;
    document.head.append(script);
  });
  loading.catch(() => script.remove());
  return loading;
}

function notLoaded(url, why) {
  return new Problem('Signaling SDK not loaded',
    `The page could not load the Agora Signaling SDK from ${url} (${why}).`,
    'Behind a firewall or offline, serve the SDK from this site: run make sdk (npm fetches agora-rtm-sdk 2.x ' +
    'into .sdk/), restart make run, and reload this page; webdemo then serves it as /sdk/agora-rtm.js. ' +
    'Otherwise check that this browser can reach that URL (a script blocker stops it), or set sdk_url.');
}

// Error codes of agora-rtm-sdk 2.x (RTM_ERROR_*) that mean Agora did not accept the
// App ID / token pair.
const REJECTED = new Map([
  [-10003, 'invalid App ID'],
  [-10005, 'invalid token'],
  [-10006, 'invalid user ID'],
  [-10009, 'token expired'],
  [-10012, 'login rejected'],
  [-10015, 'login not authorized'],
  [-10016, 'App ID does not match the token'],
]);

export function describeSDKError(err) {
  if (!err || typeof err !== 'object') return String(err);
  const code = err.errorCode ?? err.code;
  const reason = err.reason || err.message || String(err);
  return code !== undefined ? `${reason} (code ${code})` : reason;
}

// DEMO_FIX is what ends demo mode, said the same way as the page's banner.
const DEMO_FIX = 'The token server runs in demo mode: it has no App Certificate and signs with a placeholder, which ' +
  'Agora does not know. Put these two lines, with your project\'s values from console.agora.io (Signaling enabled), into ' +
  '.env in the repository root and restart make run: AGORA_APP_ID=<your App ID> and AGORA_APP_CERTIFICATE=<your App Certificate>.';

// loginProblem explains why Agora refused a login (or a token renewal); demo says the
// token server runs in demo mode (its Token-Mode header, or config.json's mode before
// the first token), which is then the reason.
export function loginProblem(err, action, demo = false) {
  const code = err && typeof err === 'object' ? (err.errorCode ?? err.code) : undefined;
  const what = describeSDKError(err);
  if (REJECTED.has(code) && demo) {
    return new Problem(`Agora rejected the credentials (${REJECTED.get(code)}): demo mode`,
      `${action} failed: ${what}. This is expected in demo mode: the token is well-formed, but signed with a placeholder.`,
      DEMO_FIX);
  }
  if (REJECTED.has(code)) {
    return new Problem(`Agora rejected the credentials (${REJECTED.get(code)})`,
      `${action} failed: ${what}. The token server minted the token, but Agora does not accept it.`,
      'Most often the token server runs in demo mode (no App ID / App Certificate): put your project\'s ' +
      'AGORA_APP_ID and AGORA_APP_CERTIFICATE from console.agora.io in .env (copy configs/.env.example; docker compose ' +
      'reads the certificate from AGORA_APP_CERTIFICATE_FILE), or set TOKENSERVER_AGORA_APP_ID / ' +
      'TOKENSERVER_AGORA_APP_CERTIFICATE when running the token server alone. Enable Signaling for that project and ' +
      'restart. If agora.app_id is set here, it must be the same App ID.');
  }
  if (code === -10011) {
    return new Problem('Agora did not answer', `${action} failed: ${what}.`,
      'Check the network: the browser must reach *.agora.io and *.sd-rtn.com (a firewall or offline machine stops it).');
  }
  return new Problem(`${action} failed`, what,
    'Look at the log below and the browser console; retry, and if it persists check the App ID and the token server.');
}
