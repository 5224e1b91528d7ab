/* Talks to the kiosk shell (Tauri v2, withGlobalTauri). Every page works without it: in a plain
   browser `available()` is false and `invoke` rejects, so pages can show a message instead. */
(function () {
  'use strict';

  function tauri() {
    return typeof window.__TAURI__ === 'object' && window.__TAURI__ !== null ? window.__TAURI__ : null;
  }

  function available() {
    const t = tauri();
    return !!(t && t.core && typeof t.core.invoke === 'function');
  }

  /** Calls a shell command; always returns a promise (rejected when there is no shell). */
  function invoke(cmd, args) {
    if (!available()) return Promise.reject(new Error('no-shell'));
    try {
      return Promise.resolve(tauri().core.invoke(cmd, args));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Calls a shell command and forgets about it: errors are ignored. */
  function fire(cmd, args) {
    invoke(cmd, args).catch(function () {});
  }

  /** Resolves with the promise's value, or rejects after `ms` milliseconds. */
  function withTimeout(promise, ms) {
    return new Promise(function (resolve, reject) {
      const timer = setTimeout(function () { reject(new Error('timeout')); }, ms);
      promise.then(
        function (v) { clearTimeout(timer); resolve(v); },
        function (e) { clearTimeout(timer); reject(e); }
      );
    });
  }

  /** Listens to a shell event; resolves to an unlisten function (a no-op without the shell). */
  function listen(name, handler) {
    const t = tauri();
    if (!t || !t.event || typeof t.event.listen !== 'function') return Promise.resolve(function () {});
    try {
      return Promise.resolve(t.event.listen(name, handler)).catch(function () { return function () {}; });
    } catch (err) {
      return Promise.resolve(function () {});
    }
  }

  /** The portal data ({centre, centre_tile, themes, language}), or null when the shell cannot give it. */
  function portalData(ms) {
    return withTimeout(invoke('portal'), ms || 5000).then(
      function (data) { return data && typeof data === 'object' ? data : null; },
      function () { return null; }
    );
  }

  /* ---------- text size and contrast (chosen in the toolbar, reset at each session end) ---------- */

  const TEXT_SIZES = [100, 150, 200];

  /** Marks the page with the session's display choices: <html data-text="150" data-contrast="high">. */
  function applyDisplay(d) {
    const root = document.documentElement;
    const text = d && TEXT_SIZES.indexOf(d.text) >= 0 ? d.text : 100;
    root.setAttribute('data-text', String(text));
    if (d && d.contrast === true) root.setAttribute('data-contrast', 'high');
    else root.removeAttribute('data-contrast');
  }

  function followDisplay() {
    if (!available()) return;
    invoke('display').then(applyDisplay, function () {});
    listen('kiosk', function (ev) {
      const p = ev && ev.payload;
      if (!p || typeof p !== 'object') return;
      if (p.kind === 'display') applyDisplay(p);
      else if (p.kind === 'session-ended') applyDisplay(null);
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', followDisplay);
  else followDisplay();

  window.BorneShell = { available: available, invoke: invoke, fire: fire, withTimeout: withTimeout, listen: listen, portalData: portalData, applyDisplay: applyDisplay, TEXT_SIZES: TEXT_SIZES };
})();
