// A stand-in for agora-rtm-sdk 2.x, used only by the e2e browser tests (the real SDK
// talks to Agora's servers, which a test machine cannot reach). It has the same
// surface the page uses — AgoraRTM.RTM(appId, userId), login({token}), renewToken,
// logout, addEventListener('linkState' | 'tokenPrivilegeWillExpire') — and records
// every call on window.fakeRTM so a test can see exactly what the page did.
(function () {
  'use strict';

  const calls = [];
  const instances = [];
  const control = {
    // When set, login() rejects with this object, shaped like the SDK's RTMBaseError
    // ({errorCode, reason, operation}).
    rejectLogin: null,
  };

  class RTM {
    constructor(appId, userId, rtmConfig) {
      if (typeof appId !== 'string' || typeof userId !== 'string') {
        throw new TypeError('RTM(appId, userId): both must be strings');
      }
      this.id = instances.length;
      this.listeners = new Map();
      this.loggedIn = false;
      instances.push(this);
      calls.push({ instance: this.id, method: 'constructor', appId, userId, hasConfig: rtmConfig !== undefined });
    }

    addEventListener(name, listener) {
      if (!this.listeners.has(name)) this.listeners.set(name, []);
      this.listeners.get(name).push(listener);
    }

    removeEventListener(name, listener) {
      const list = this.listeners.get(name) || [];
      this.listeners.set(name, list.filter((l) => l !== listener));
    }

    emit(name, payload) {
      for (const listener of this.listeners.get(name) || []) listener(payload);
    }

    linkState(previousState, currentState, reasonCode, operation) {
      this.emit('linkState', {
        previousState, currentState, reasonCode, operation,
        reason: reasonCode, serviceType: 'MESSAGE', affectedChannels: [], unrestoredChannels: [],
        isResumed: false, timestamp: Date.now(),
      });
    }

    async login(options) {
      calls.push({ instance: this.id, method: 'login', token: options && options.token });
      this.linkState('IDLE', 'CONNECTING', 'LOGIN', 'LOGIN');
      if (control.rejectLogin) {
        this.linkState('CONNECTING', 'FAILED', 'LOGIN_REJECTED', 'LOGIN');
        const err = new Error(control.rejectLogin.reason);
        Object.assign(err, { error: true, operation: 'login' }, control.rejectLogin);
        throw err;
      }
      this.loggedIn = true;
      this.linkState('CONNECTING', 'CONNECTED', 'LOGIN_SUCCESS', 'LOGIN');
      return { timestamp: Date.now() };
    }

    async renewToken(token, options) {
      calls.push({ instance: this.id, method: 'renewToken', token, channelName: options && options.channelName });
      return { timestamp: Date.now() };
    }

    async logout() {
      calls.push({ instance: this.id, method: 'logout' });
      this.loggedIn = false;
      this.linkState('CONNECTED', 'IDLE', 'LOGOUT', 'LOGOUT');
      // Like the real SDK: logging out removes the instance's listeners.
      this.listeners.clear();
      return { timestamp: Date.now() };
    }
  }

  window.AgoraRTM = { VERSION: '2.2.2-e2e-fake', BUILD: 'e2e', RTM };

  window.fakeRTM = {
    calls,
    control,
    // emit fires an SDK event on the newest instance, as Agora's servers would.
    emit(name, payload) {
      const rtm = instances[instances.length - 1];
      if (!rtm) throw new Error('no RTM instance yet');
      rtm.emit(name, payload);
    },
    // failLink reports the newest instance's link failing for reasonCode (a
    // LinkStateChangeReason of agora-rtm-sdk 2.x, e.g. RECONNECT_TIMEOUT, SAME_UID_LOGIN).
    failLink(reasonCode, operation = 'SERVER_REJECT') {
      const rtm = instances[instances.length - 1];
      rtm.loggedIn = false;
      rtm.linkState('CONNECTED', 'FAILED', reasonCode, operation);
    },
    // expireToken reports the link failing because the token expired.
    expireToken() {
      this.failLink('TOKEN_EXPIRED');
    },
  };
})();
