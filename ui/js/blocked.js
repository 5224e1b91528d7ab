/* The page shown instead of a refused address:
   blocked.html?host=<host>&reason=<code>. The host is untrusted: it is cleaned, then shown with
   textContent inside <bdi>, never as HTML. */
(function () {
  'use strict';

  const Shell = window.BorneShell;
  const I18n = window.BorneI18n;
  const REASONS = ['malformed', 'scheme', 'data-navigation', 'blob-origin', 'userinfo', 'port',
    'ip-literal', 'host-not-allowed', 'insecure-http'];
  const MAX_HOST = 253;
  const BACK_FALLBACK_MS = 800;

  let backTimer = null;

  function params() {
    try { return new URLSearchParams(window.location.search); } catch (e) { return new URLSearchParams(''); }
  }

  /* Removes control and bidi-override characters (they could disguise the name) and bounds the length. */
  function cleanHost(v) {
    if (typeof v !== 'string') return '';
    // eslint-disable-next-line no-control-regex
    let h = v.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '').trim();
    if (h.length > MAX_HOST) h = h.slice(0, MAX_HOST) + '…';
    return h;
  }

  function goHome() {
    Shell.invoke('go_home').catch(function () { window.location.href = 'index.html'; });
  }

  function goBack() {
    if (window.history.length > 1) {
      window.history.back();
      // If nothing happened (no usable previous page), go to the portal.
      clearTimeout(backTimer);
      backTimer = setTimeout(goHome, BACK_FALLBACK_MS);
    } else {
      goHome();
    }
  }

  function render(data) {
    const q = params();
    const host = cleanHost(q.get('host'));
    const siteEl = document.getElementById('blocked-site');
    if (host) {
      const b = document.createElement('bdi');
      b.className = 'blocked-host';
      b.textContent = host;
      I18n.render(siteEl, 'blocked.site', { host: b });
      siteEl.hidden = false;
    }

    const reason = q.get('reason');
    const reasonEl = document.getElementById('blocked-reason');
    if (reason && REASONS.indexOf(reason) >= 0 && I18n.has('blocked.reason.' + reason)) {
      reasonEl.textContent = I18n.t('blocked.reason.' + reason);
      reasonEl.hidden = false;
    }

    const place = data && data.centre && typeof data.centre.help_place === 'string' ? data.centre.help_place.trim() : '';
    const whereEl = document.getElementById('blocked-where');
    if (place) {
      I18n.render(whereEl, 'blocked.where', { place: place });
      whereEl.hidden = false;
    }
  }

  function start() {
    document.getElementById('blocked-back').addEventListener('click', goBack);
    document.getElementById('blocked-home').addEventListener('click', goHome);
    window.addEventListener('pagehide', function () { clearTimeout(backTimer); });

    Shell.portalData(3000).then(function (data) {
      return I18n.load(data && data.language).then(function () { return data; });
    }).then(render, function () { render(null); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
