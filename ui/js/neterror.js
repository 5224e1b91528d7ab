/* The page shown when a site cannot be reached:
   neterror.html?kind=<code>&service=<name>&host=<host>&retry=<url>. Every value is untrusted: names
   are cleaned and set with textContent; only an http(s) address is retried. */
(function () {
  'use strict';

  const Shell = window.BorneShell;
  const I18n = window.BorneI18n;
  const KINDS = ['offline', 'dns', 'refused', 'timeout', 'tls', 'server', 'unreachable'];
  const MAX_NAME = 120;

  function params() {
    try { return new URLSearchParams(window.location.search); } catch (e) { return new URLSearchParams(''); }
  }

  function clean(v) {
    if (typeof v !== 'string') return '';
    // eslint-disable-next-line no-control-regex
    let s = v.replace(/[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g, '').trim();
    if (s.length > MAX_NAME) s = s.slice(0, MAX_NAME) + '…';
    return s;
  }

  function retryUrl() {
    try {
      const u = new URL(params().get('retry') || '');
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function goHome() {
    Shell.invoke('go_home').catch(function () { window.location.href = 'index.html'; });
  }

  function retry() {
    const url = retryUrl();
    if (url) window.location.replace(url);
    else goHome();
  }

  function render(data) {
    const q = params();
    const kind = KINDS.indexOf(q.get('kind')) >= 0 ? q.get('kind') : 'unreachable';
    const name = clean(q.get('service')) || clean(q.get('host'));
    const title = document.getElementById('neterror-title');
    if (kind === 'offline') {
      title.textContent = I18n.t('neterror.title.offline');
    } else if (name) {
      const b = document.createElement('bdi');
      b.textContent = name;
      I18n.render(title, 'neterror.title', { service: b });
    } else {
      title.textContent = I18n.t('neterror.title.unnamed');
    }
    document.title = title.textContent;
    document.getElementById('neterror-kind').textContent = I18n.t('neterror.kind.' + kind);
    const place = data && data.centre && typeof data.centre.help_place === 'string' ? data.centre.help_place.trim() : '';
    const whereEl = document.getElementById('neterror-where');
    if (place) {
      I18n.render(whereEl, 'blocked.where', { place: place });
      whereEl.hidden = false;
    }
    document.documentElement.setAttribute('data-kind', kind);
    document.getElementById('neterror-retry').focus();
  }

  function start() {
    document.getElementById('neterror-retry').addEventListener('click', retry);
    document.getElementById('neterror-home').addEventListener('click', goHome);
    // No network at all: the page comes back by itself when the network does.
    Shell.listen('kiosk', function (ev) {
      const p = ev && ev.payload;
      if (p && p.kind === 'offline' && p.value === false && params().get('kind') === 'offline') retry();
    });
    Shell.portalData(3000).then(function (data) {
      return I18n.load(data && data.language).then(function () { return data; });
    }).then(render, function () { render(null); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
