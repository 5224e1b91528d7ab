/* The toolbar: a local webview above the remote pages. Its buttons call the shell; it also shows two
   full-window dialogs (end-of-session confirmation, inactivity countdown). Before showing one it asks
   the shell to let it cover the whole window (toolbar_overlay {open:true}), and gives the window back
   after ({open:false}). */
(function () {
  'use strict';

  const Shell = window.BorneShell;
  const I18n = window.BorneI18n;
  const COVER_WAIT_MS = 1500;
  const END_FALLBACK_MS = 4000;
  const ANNOUNCE_EVERY_S = 10;
  const MAX_IDLE_S = 3600;
  const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]), [tabindex]:not([tabindex="-1"])';

  let ready = Promise.resolve();
  let current = null;            // null | 'confirm' | 'idle'
  let covering = null;           // promise of the pending toolbar_overlay {open:true}, or null
  let seq = 0;                   // bumps on every open/close, so a slow open cannot undo a later close
  let returnFocus = null;
  let idleTimer = null;
  let idleEnd = 0;
  let idleShown = -1;
  let idleFirst = 0;
  let endTimer = null;

  const $ = function (id) { return document.getElementById(id); };

  /* ---------- covering the window ---------- */

  function cover(open) {
    return Shell.withTimeout(Shell.invoke('toolbar_overlay', { open: open }), COVER_WAIT_MS).catch(function () {});
  }

  function openOverlay(kind) {
    const mine = ++seq;
    if (current === kind) return Promise.resolve(true);
    if (current) {
      $(overlayId(current)).hidden = true;   // switching dialogs: the window is already covered
    } else if (!returnFocus) {
      returnFocus = document.activeElement;
    }
    if (!covering) covering = cover(true);
    return covering.then(function () {
      if (mine !== seq) return false;          // closed (or replaced) while we were waiting
      current = kind;
      $('bar').inert = true;
      document.documentElement.classList.add('overlay-open');
      $(overlayId(kind)).hidden = false;
      const first = kind === 'confirm' ? $('confirm-no') : $('idle-here');
      first.focus();
      return true;
    });
  }

  function closeOverlay(restoreFocus) {
    seq++;
    stopIdle();
    clearTimeout(endTimer);
    $('confirm-yes').disabled = false;
    $('confirm-no').disabled = false;
    if (current) $(overlayId(current)).hidden = true;
    current = null;
    $('bar').inert = false;
    document.documentElement.classList.remove('overlay-open');
    const target = returnFocus;
    returnFocus = null;
    if (restoreFocus && target && document.contains(target) && typeof target.focus === 'function') target.focus();
    else if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    if (covering) {
      covering = null;
      return cover(false);
    }
    return Promise.resolve();
  }

  function overlayId(kind) { return kind === 'confirm' ? 'confirm-end' : 'idle'; }

  /* Keeps Tab inside the open dialog. */
  function trapTab(ev) {
    const dialog = $(overlayId(current)).querySelector('.dialog');
    const items = Array.prototype.filter.call(dialog.querySelectorAll(FOCUSABLE), function (e) {
      return e.offsetParent !== null;
    });
    if (!items.length) { ev.preventDefault(); return; }
    const first = items[0];
    const last = items[items.length - 1];
    const inside = dialog.contains(document.activeElement);
    if (ev.shiftKey && (document.activeElement === first || !inside)) { ev.preventDefault(); last.focus(); }
    else if (!ev.shiftKey && (document.activeElement === last || !inside)) { ev.preventDefault(); first.focus(); }
  }

  /* ---------- end of session ---------- */

  function askEnd() { openOverlay('confirm'); }

  function confirmEnd() {
    if (current !== 'confirm') return;
    $('confirm-yes').disabled = true;
    $('confirm-no').disabled = true;
    // The shell answers with a 'session-ended' event, which closes the dialog. If it never does,
    // give the window back anyway so the person is not stuck.
    Shell.invoke('end_session').then(function () {
      endTimer = setTimeout(function () { if (current === 'confirm') closeOverlay(false); }, END_FALLBACK_MS);
    }, function () {
      if (current === 'confirm') closeOverlay(true);
    });
  }

  function cancelEnd() {
    if (current === 'confirm') closeOverlay(true);
  }

  /* ---------- inactivity countdown ---------- */

  function remaining() { return Math.max(0, Math.ceil((idleEnd - Date.now()) / 1000)); }

  function countdownText(target, n) {
    let key = 'idle.countdown';
    try {
      if (new Intl.PluralRules(I18n.lang).select(n) === 'one' && I18n.has('idle.countdown.one')) key = 'idle.countdown.one';
    } catch (e) { /* keep the plural form */ }
    if (target) {
      const num = document.createElement('strong');
      num.className = 'countdown-number';
      num.textContent = String(n);
      return I18n.render(target, key, { seconds: num });
    }
    return I18n.t(key, { seconds: n });
  }

  function announce(n) {
    $('idle-live').textContent = I18n.t('idle.title') + ' ' + countdownText(null, n);
  }

  function tick() {
    const n = remaining();
    if (n !== idleShown) {
      idleShown = n;
      countdownText($('idle-countdown'), n);
      if (n !== idleFirst && n > 0 && n % ANNOUNCE_EVERY_S === 0) announce(n);
    }
    if (n === 0) { clearInterval(idleTimer); idleTimer = null; }
  }

  function startIdle(seconds) {
    let s = Math.round(Number(seconds));
    if (!isFinite(s) || s <= 0) s = 60;
    s = Math.min(s, MAX_IDLE_S);
    stopIdle();
    idleEnd = Date.now() + s * 1000;
    idleFirst = s;
    idleShown = s;
    countdownText($('idle-countdown'), s);
    $('idle-live').textContent = '';
    openOverlay('idle').then(function (shown) {
      if (!shown) return;
      // Announced once now (the live region must be empty first to be read), then every 10 s.
      setTimeout(function () { if (current === 'idle') announce(remaining()); }, 150);
      idleTimer = setInterval(tick, 250);
    });
  }

  function stopIdle() {
    if (idleTimer) clearInterval(idleTimer);
    idleTimer = null;
    $('idle-live').textContent = '';
  }

  function stillHere() {
    if (current !== 'idle') return;
    Shell.fire('still_here');
    closeOverlay(true);
  }

  /* ---------- shell events ---------- */

  function resetTextSize() {
    document.documentElement.style.removeProperty('font-size');
  }

  function setOffline(offline) {
    $('offline').textContent = offline ? I18n.t('toolbar.offline') : '';
  }

  function onKioskEvent(ev) {
    const p = ev && ev.payload;
    if (!p || typeof p !== 'object') return;
    ready.then(function () {
      switch (p.kind) {
        case 'idle-warning': startIdle(p.seconds); break;
        case 'idle-cancel': if (current === 'idle') closeOverlay(true); break;
        case 'session-ended': closeOverlay(false); resetTextSize(); I18n.load('fr'); break;
        case 'language': if (typeof p.lang === 'string') I18n.load(p.lang); break;
        case 'offline': setOffline(p.value === true); break;
        default: break;
      }
    });
  }

  /* ---------- wiring ---------- */

  function onKeyDown(ev) {
    if (current === 'idle') {
      ev.preventDefault();
      ev.stopPropagation();
      stillHere();
      return;
    }
    if (current === 'confirm') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); cancelEnd(); }
      else if (ev.key === 'Tab') trapTab(ev);
    }
  }

  function onClick(ev) {
    if (current === 'idle') {
      ev.preventDefault();
      ev.stopPropagation();
      stillHere();
    }
  }

  function onFocusIn(ev) {
    if (!current) return;
    const dialog = $(overlayId(current)).querySelector('.dialog');
    if (!dialog.contains(ev.target)) {
      const first = dialog.querySelector(FOCUSABLE);
      if (first) first.focus();
    }
  }

  function start() {
    $('btn-home').addEventListener('click', function () { Shell.fire('go_home'); });
    $('btn-back').addEventListener('click', function () { Shell.fire('go_back'); });
    $('btn-print').addEventListener('click', function () { Shell.fire('print_page'); });
    $('btn-help').addEventListener('click', function () { Shell.fire('show_help'); });
    $('btn-end').addEventListener('click', askEnd);
    $('confirm-yes').addEventListener('click', confirmEnd);
    $('confirm-no').addEventListener('click', cancelEnd);
    $('idle-here').addEventListener('click', stillHere);
    document.addEventListener('keydown', onKeyDown, true);
    document.addEventListener('click', onClick, true);
    document.addEventListener('focusin', onFocusIn);

    ready = Shell.portalData(3000).then(function (data) {
      return I18n.load(data && data.language);
    }).catch(function () {});
    Shell.listen('kiosk', onKioskEvent);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
