// Loads agora-rtm-sdk 2.x from the configured URL (it is never part of this repository)
// and explains the SDK's errors in terms of what the developer should change.
import { Problem } from './problem.js';

export const SDK_LOAD_TIMEOUT_MS = 20000;

let loading = null;

// loadSDK resolves with window.AgoraRTM. A failed load is forgotten, so the next Login
// tries again (the CDN may have been briefly unreachable).
export function loadSDK(url, timeoutMs = SDK_LOAD_TIMEOUT_MS) {
  if (window.AgoraRTM && typeof window.AgoraRTM.RTM === 'function') {
    return Promise.resolve(window.AgoraRTM);
  }
  if (loading) return loading;
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
          'Point sdk_url at agora-rtm.js of the npm package agora-rtm-sdk version 2.x.'));
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
  loading.catch(() => {
    loading = null;
    script.remove();
  });
  return loading;
}

function notLoaded(url, why) {
  return new Problem('Signaling SDK not loaded',
    `The page could not load the Agora Signaling SDK from ${url} (${why}).`,
    'Check that this browser can reach that URL (a script blocker or an offline machine stops it), ' +
    'or download agora-rtm.js from the npm package agora-rtm-sdk 2.x, serve it yourself and set sdk_url.');
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

// loginProblem explains why Agora refused a login (or a token renewal).
export function loginProblem(err, action) {
  const code = err && typeof err === 'object' ? (err.errorCode ?? err.code) : undefined;
  const what = describeSDKError(err);
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
