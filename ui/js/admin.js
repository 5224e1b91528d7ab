/* The référent's corner: PIN, tiles, centre and settings, statistics, Matomo, versions, maintenance.
   Every decision is the shell's (commands admin_*): this page only shows forms and answers. Text
   comes from the strings files (admin.*), set with textContent. */
(function () {
  'use strict';

  const Shell = window.BorneShell;
  const I18n = window.BorneI18n;
  const $ = function (id) { return document.getElementById(id); };
  let data = null;
  let editing = -1; // index of the own tile in the form, -1 for a new one
  let days = 7;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function button(key, cls, onClick, params) {
    const b = el('button', 'btn ' + (cls || 'btn-secondary'), I18n.t(key, params));
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  function say(key, params) {
    $('status').textContent = key ? I18n.t(key, params) : '';
  }

  function problems(host, list) {
    host.textContent = '';
    if (!list || !list.length) return;
    const ul = el('ul');
    list.forEach(function (p) { ul.appendChild(el('li', null, p)); });
    host.appendChild(ul);
  }

  function errorCode(e) {
    return (e && (e.code || (typeof e === 'string' ? e : ''))) || 'internal';
  }

  // ---------- PIN ----------

  function showPin(status) {
    $('admin-main').hidden = true;
    $('pin-screen').hidden = false;
    const choose = status.state === 'not-set';
    $('pin-title').textContent = I18n.t(choose ? 'admin.pin.choose_title' : 'admin.pin.title');
    $('pin-help').textContent = I18n.t(choose ? 'admin.pin.choose_help' : 'admin.pin.help');
    $('confirm-field').hidden = !choose;
    $('pin-submit').textContent = I18n.t(choose ? 'admin.pin.choose' : 'admin.pin.enter');
    $('pin-form').dataset.mode = choose ? 'choose' : 'enter';
    if (status.state === 'locked') pinMessage('admin.pin.locked', { minutes: Math.ceil(status.wait / 60) });
    else if (status.state === 'wait') pinMessage('admin.pin.wait', { seconds: status.wait });
    $('pin').focus();
  }

  function pinMessage(key, params) {
    $('pin-message').textContent = key ? I18n.t(key, params) : '';
  }

  function submitPin(ev) {
    ev.preventDefault();
    const pin = $('pin').value;
    const confirm = $('pin-confirm').value;
    $('pin').value = '';
    $('pin-confirm').value = '';
    // The previous answer goes while this code is checked (hashing takes a moment, off the UI thread).
    pinMessage(null);
    if ($('pin-form').dataset.mode === 'choose') {
      Shell.invoke('admin_set_pin', { pinCode: pin, confirm: confirm }).then(open, function (e) {
        pinMessage('admin.error.' + errorCode(e));
        $('pin').focus();
      });
      return;
    }
    Shell.invoke('admin_unlock', { pinCode: pin }).then(function (r) {
      if (r && r.ok) return open();
      if (r.state === 'wrong') pinMessage('admin.pin.wrong', { left: r.left, seconds: r.wait });
      else if (r.state === 'locked') pinMessage('admin.pin.locked', { minutes: Math.ceil(r.wait / 60) });
      else if (r.state === 'unrecorded') pinMessage('admin.pin.unrecorded', { minutes: Math.ceil(r.wait / 60) });
      else if (r.state === 'wait') pinMessage('admin.pin.wait', { seconds: r.wait });
      $('pin').focus();
    }, function (e) { pinMessage('admin.error.' + errorCode(e)); });
  }

  // ---------- Main ----------

  function open() {
    return Shell.invoke('admin_data').then(function (d) {
      data = d;
      const fromPin = !$('pin-screen').hidden;
      $('pin-screen').hidden = true;
      $('admin-main').hidden = false;
      renderAll();
      showTab(currentTab || 'tiles');
      // The keyboard lands on the first screen's button, not on a hidden field.
      if (fromPin) document.querySelector('.tab').focus();
    }, function (e) { say('admin.error.' + errorCode(e)); });
  }

  function reload(messageKey, params) {
    return Shell.invoke('admin_data').then(function (d) {
      data = d;
      renderAll();
      if (messageKey) say(messageKey, params);
    });
  }

  let currentTab = null;
  function showTab(name) {
    currentTab = name;
    document.querySelectorAll('.admin-section').forEach(function (s) { s.hidden = s.id !== 'sec-' + name; });
    document.querySelectorAll('.tab').forEach(function (b) {
      b.setAttribute('aria-current', b.dataset.tab === name ? 'page' : 'false');
    });
    if (name === 'stats') loadStats();
    if (name === 'maintenance') loadLogs();
    if (name === 'network') loadNetwork(false);
    if (name === 'printers') loadPrinters();
  }

  function renderAll() {
    const pl = $('problems-list');
    pl.textContent = '';
    (data.problems || []).forEach(function (p) { pl.appendChild(el('li', null, p)); });
    $('problems').hidden = !(data.problems || []).length;
    renderOwnTiles();
    renderNational();
    renderThemes();
    fillTileSelects();
    renderSettings();
    renderHelp();
    renderMatomo();
    renderVersions();
    $('version').textContent = I18n.t('admin.maintenance.version', { version: data.version });
    renderCatalogue();
    renderUpdates();
  }

  // The system's A/B updates: version and slot running, the last check and what came of it, what
  // waits for the next restart, the last refusal and rollback (codes from borne_core::updates).
  function renderUpdates() {
    const u = data.updates;
    const ul = $('updates-status');
    ul.textContent = '';
    const line = function (key, params) { ul.appendChild(el('li', null, I18n.t(key, params))); };
    $('update-now').hidden = !u;
    $('update-url-form').hidden = !u;
    if (document.activeElement !== $('u-url')) $('u-url').value = data.update_url || '';
    if (!u) { line('admin.updates.none'); return; }
    if (u.running) line('admin.updates.running', { version: u.running, slot: u.slot || '?' });
    else line('admin.updates.running_unknown');
    if (u.last_check) line('admin.updates.last_check', { when: u.last_check }); else line('admin.updates.never');
    if (u.outcome) line('admin.updates.outcome.' + u.outcome);
    const w = String(u.reboot_window || '').split('-');
    if (u.pending) line('admin.updates.pending', { version: u.pending, from: w[0], to: w[1] });
    else line('admin.updates.no_pending');
    if (u.last_refusal) {
      const r = u.last_refusal;
      const why = I18n.t('admin.updates.refusal.' + r.why);
      if (r.version) line('admin.updates.refusal', { when: r.when, version: r.version, why: why });
      else line('admin.updates.refusal_unnamed', { when: r.when, why: why });
    } else {
      line('admin.updates.no_refusal');
    }
    if (u.last_rollback) line('admin.updates.rollback', u.last_rollback);
    // Where the address in use comes from, and when the borne looks again (after failed checks: sooner
    // at first, then less often; the updater's record, local time of the borne).
    if (u.url) line('admin.updates.url.in_use', { url: u.url, from: I18n.t('admin.updates.from.' + (u.url_from || 'image')) });
    if (u.failures > 0 && u.next_check) line('admin.updates.failures', { count: u.failures, when: u.next_check });
    else if (u.next_check) line('admin.updates.next_check', { when: u.next_check });
  }

  // The référent's update address: checked by the core (French problems back, nothing written on a bad
  // one), then read by the updater at its next check.
  function submitUpdateUrl(ev) {
    ev.preventDefault();
    $('update-url-message').textContent = '';
    const url = $('u-url').value.trim();
    Shell.invoke('admin_save_update_url', { url: url, summary: I18n.t('admin.summary.update_url') }).then(function (r) {
      problems($('update-url-problems'), r.ok ? [] : r.problems);
      if (!r.ok) { $('update-url-message').textContent = I18n.t('admin.not_saved'); return; }
      Shell.invoke('admin_data').then(function (d) {
        data = d;
        renderAll();
        $('u-url').value = d.update_url || '';
        $('update-url-message').textContent = I18n.t(url ? 'admin.updates.url.saved' : 'admin.updates.url.cleared');
      });
    }, function (e) { say('admin.error.' + errorCode(e)); });
  }

  function updateNow() {
    $('update-message').textContent = '';
    Shell.invoke('admin_update_now').then(function (r) {
      $('update-message').textContent = I18n.t('admin.updates.now.' + (r.ok ? 'started' : r.code));
    });
  }

  function refreshUpdates() {
    Shell.invoke('admin_data').then(function (d) { data.updates = d.updates; renderUpdates(); });
  }

  // The federation's signed catalogue: what is in force, the last check and the last refusal.
  function renderCatalogue() {
    const c = data.catalogue;
    const ul = $('catalogue-status');
    ul.textContent = '';
    if (!c) return;
    const line = function (key, params) { ul.appendChild(el('li', null, I18n.t(key, params))); };
    line('admin.catalogue.version', { version: c.version });
    line('admin.catalogue.source.' + (c.source === 'channel' ? 'channel' : 'shipped'));
    if (c.channel_url) line('admin.catalogue.url', { url: c.channel_url }); else line('admin.catalogue.no_url');
    if (c.key_ids && c.key_ids.length) line('admin.catalogue.keys', { keys: c.key_ids.join(', ') });
    if (c.last_check) {
      line('admin.catalogue.last_check', { when: c.last_check });
      // Network, HTTP status or size: ordinary errors, tried again; anything else is a refusal.
      const fetchErrors = ['unreachable', 'http-status', 'too-big', 'bad-url'];
      let result = ['applied', 'up-to-date'].indexOf(c.last_result) >= 0 ? c.last_result : 'other';
      if (fetchErrors.indexOf(c.last_result) >= 0) result = 'unreachable';
      line('admin.catalogue.result.' + result);
    } else {
      line('admin.catalogue.never');
    }
    if (c.pending) line('admin.catalogue.pending');
    // The refusal's reason is the core's French text (borne_core::messages), like the config problems.
    if (c.last_refusal) line('admin.catalogue.last_refusal', { when: c.last_refusal.when, message: c.last_refusal.message });
    else line('admin.catalogue.no_refusal');
    if (c.set_aside && c.set_aside.length) {
      line('admin.catalogue.set_aside');
      c.set_aside.forEach(function (n) { ul.appendChild(el('li', null, n)); });
    }
  }

  function themeName(id) {
    const t = (data.themes || []).find(function (x) { return x.id === id; });
    return t ? t.name : id;
  }

  // ---------- Tiles ----------

  function savePortal(form, summaryKey, params) {
    return Shell.invoke('admin_save_portal', { form: form, summary: I18n.t(summaryKey, params) }).then(function (r) {
      if (r.ok) return reload('admin.saved').then(function () { return true; });
      problems($('tile-problems'), r.problems);
      say('admin.not_saved');
      return false;
    });
  }

  function copyPortal() {
    return JSON.parse(JSON.stringify(data.portal));
  }

  function renderOwnTiles() {
    const ul = $('own-tiles');
    ul.textContent = '';
    if (!data.portal.tiles.length) ul.appendChild(el('li', null, I18n.t('admin.tiles.none')));
    data.portal.tiles.forEach(function (t, i) {
      const li = el('li', 'admin-row');
      li.appendChild(el('span', 'admin-row-text', t.name + ' — ' + t.url));
      li.appendChild(button('admin.edit', 'btn-secondary', function () { editTile(i); }, {}));
      li.appendChild(button('admin.delete', 'btn-danger', function () {
        const f = copyPortal();
        const removed = f.tiles.splice(i, 1)[0];
        f.order = f.order.filter(function (id) { return id !== removed.id; });
        f.hidden = f.hidden.filter(function (id) { return id !== removed.id; });
        savePortal(f, 'admin.summary.tile_removed', { name: removed.name });
      }));
      ul.appendChild(li);
    });
  }

  function fillTileSelects() {
    const theme = $('t-theme');
    const picto = $('t-picto');
    const thPicto = $('th-picto');
    theme.textContent = '';
    picto.textContent = '';
    thPicto.textContent = '';
    (data.themes || []).forEach(function (t) {
      const o = el('option', null, t.name);
      o.value = t.id;
      theme.appendChild(o);
    });
    (data.pictograms || []).forEach(function (p) {
      const o = el('option', null, I18n.has('admin.picto.' + p) ? I18n.t('admin.picto.' + p) : p);
      o.value = p;
      picto.appendChild(o);
      thPicto.appendChild(o.cloneNode(true));
    });
  }

  function tileFromForm() {
    return {
      id: editing >= 0 ? data.portal.tiles[editing].id : '',
      name: $('t-name').value.trim(),
      description: $('t-desc').value.trim(),
      theme: $('t-theme').value,
      pictogram: $('t-picto').value,
      url: $('t-url').value.trim(),
      hosts: $('t-hosts').value.split(/[\s,;]+/).map(function (h) { return h.trim(); }).filter(Boolean)
    };
  }

  function formWithTile() {
    const f = copyPortal();
    const t = tileFromForm();
    if (editing >= 0) f.tiles[editing] = t; else f.tiles.push(t);
    return f;
  }

  function editTile(i) {
    editing = i;
    const t = data.portal.tiles[i];
    $('t-name').value = t.name;
    $('t-desc').value = t.description;
    $('t-theme').value = t.theme;
    $('t-picto').value = t.pictogram;
    $('t-url').value = t.url;
    $('t-hosts').value = t.hosts.join('\n');
    $('tile-form-title').textContent = I18n.t('admin.tiles.edit', { name: t.name });
    $('t-name').focus();
  }

  function resetTileForm() {
    editing = -1;
    $('tile-form').reset();
    problems($('tile-problems'), []);
    $('tile-form-title').textContent = I18n.t('admin.tiles.add');
  }

  let checkTimer = null;
  function liveCheck() {
    clearTimeout(checkTimer);
    checkTimer = setTimeout(function () {
      if (!$('t-name').value.trim() && !$('t-url').value.trim()) { problems($('tile-problems'), []); return; }
      Shell.invoke('admin_check_portal', { form: formWithTile() }).then(function (list) {
        problems($('tile-problems'), list);
      }, function () {});
    }, 400);
  }

  function submitTile(ev) {
    ev.preventDefault();
    const t = tileFromForm();
    if (!t.name) { problems($('tile-problems'), [I18n.t('admin.tiles.name_missing')]); $('t-name').focus(); return; }
    savePortal(formWithTile(), editing >= 0 ? 'admin.summary.tile_changed' : 'admin.summary.tile_added', { name: t.name })
      .then(function (ok) { if (ok) resetTileForm(); });
  }

  function renderNational() {
    const ol = $('national-tiles');
    ol.textContent = '';
    const order = data.portal.order.slice();
    const ids = data.national.map(function (s) { return s.id; });
    const ordered = order.filter(function (id) { return ids.indexOf(id) >= 0; })
      .concat(ids.filter(function (id) { return order.indexOf(id) < 0; }));
    ordered.forEach(function (id, i) {
      const s = data.national.find(function (x) { return x.id === id; });
      const li = el('li', 'admin-row');
      const label = el('label', 'admin-check');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.checked = data.portal.hidden.indexOf(id) < 0;
      cb.addEventListener('change', function () {
        const f = copyPortal();
        f.hidden = f.hidden.filter(function (h) { return h !== id; });
        if (!cb.checked) f.hidden.push(id);
        savePortal(f, cb.checked ? 'admin.summary.shown' : 'admin.summary.hidden', { name: s.name });
      });
      label.appendChild(cb);
      label.appendChild(el('span', null, s.name + ' (' + themeName(s.theme) + ')'));
      li.appendChild(label);
      const move = function (delta) {
        return function () {
          const list = ordered.slice();
          const j = i + delta;
          if (j < 0 || j >= list.length) return;
          list[i] = list[j];
          list[j] = id;
          const f = copyPortal();
          f.order = list;
          savePortal(f, 'admin.summary.order', { name: s.name });
        };
      };
      const up = button('admin.up', 'btn-secondary', move(-1), { name: s.name });
      up.setAttribute('aria-label', I18n.t('admin.up_label', { name: s.name }));
      const down = button('admin.down', 'btn-secondary', move(1), { name: s.name });
      down.setAttribute('aria-label', I18n.t('admin.down_label', { name: s.name }));
      li.appendChild(up);
      li.appendChild(down);
      ol.appendChild(li);
    });
  }

  function renderThemes() {
    const ul = $('themes-list');
    ul.textContent = '';
    (data.themes || []).forEach(function (t) {
      const li = el('li', 'admin-row');
      const id = 'theme-' + t.id;
      const label = el('label', null, I18n.t('admin.themes.name_of', { id: t.id }));
      label.htmlFor = id;
      const input = el('input');
      input.id = id;
      input.value = t.name;
      li.appendChild(label);
      li.appendChild(input);
      li.appendChild(button('admin.themes.rename', 'btn-secondary', function () {
        const f = copyPortal();
        const name = input.value.trim();
        const existing = f.themes.find(function (x) { return x.id === t.id; });
        if (existing) existing.name = name; else f.themes.push({ id: t.id, name: name, pictogram: t.pictogram });
        savePortal(f, 'admin.summary.theme', { name: name });
      }, {}));
      ul.appendChild(li);
    });
  }

  function submitTheme(ev) {
    ev.preventDefault();
    const name = $('th-name').value.trim();
    if (!name) { problems($('theme-problems'), [I18n.t('admin.themes.name_missing')]); $('th-name').focus(); return; }
    const f = copyPortal();
    f.themes.push({ id: '', name: name, pictogram: $('th-picto').value });
    Shell.invoke('admin_save_portal', { form: f, summary: I18n.t('admin.summary.theme_added', { name: name }) }).then(function (r) {
      problems($('theme-problems'), r.ok ? [] : r.problems);
      if (r.ok) { $('th-name').value = ''; reload('admin.saved'); } else say('admin.not_saved');
    });
  }

  function testUrl(ev) {
    ev.preventDefault();
    Shell.invoke('admin_test_url', { url: $('test-url').value }).then(function (r) {
      const out = $('test-result');
      if (r.allowed) out.textContent = I18n.t('admin.test.allowed', { rule: r.rule, tiles: (r.needed_by || []).join(', ') });
      else out.textContent = I18n.t('admin.test.blocked', { reason: I18n.t('blocked.reason.' + r.reason) });
    });
  }

  // ---------- Settings ----------

  function renderSettings() {
    const s = data.settings;
    $('s-name').value = s.centre_name;
    $('s-place').value = s.help_place;
    $('s-hours').value = s.opening_hours;
    $('s-idle').value = s.idle_timeout_secs;
    $('s-warning').value = s.warning_secs;
    $('s-printer').value = s.printer;
    $('s-quota').value = s.page_quota;
    $('s-scanner').checked = s.scanner === true;
    $('s-accompanied').value = s.accompanied_idle_secs || '';
    $('s-tone').checked = s.countdown_tone !== false;
    renderHours(s.hours);
    renderTeam();
    $('s-catalogue').value = s.catalogue_url || '';
    renderKit();
    const box = $('s-languages');
    box.textContent = '';
    (data.languages || []).forEach(function (code) {
      const label = el('label', 'admin-check');
      const cb = el('input');
      cb.type = 'checkbox';
      cb.value = code;
      cb.checked = s.languages.indexOf(code) >= 0;
      label.appendChild(cb);
      label.appendChild(el('span', null, I18n.has('language.' + code) ? I18n.t('language.' + code) : code));
      box.appendChild(label);
    });
  }

  function settingsFromForm() {
    const langs = [];
    document.querySelectorAll('#s-languages input:checked').forEach(function (cb) { langs.push(cb.value); });
    // The help screen's part of the settings goes back as it is.
    return {
      ask_outcome: data.settings.ask_outcome,
      contacts: data.settings.contacts,
      centre_name: $('s-name').value,
      help_place: $('s-place').value,
      opening_hours: $('s-hours').value,
      idle_timeout_secs: Number($('s-idle').value) || 0,
      warning_secs: Number($('s-warning').value) || 0,
      languages: langs,
      printer: $('s-printer').value,
      page_quota: Number($('s-quota').value) || 0,
      scanner: $('s-scanner').checked,
      accompanied_idle_secs: Number($('s-accompanied').value) || null,
      countdown_tone: $('s-tone').checked,
      hours: hoursFromForm(),
      catalogue_url: $('s-catalogue').value
    };
  }

  function submitSettings(ev) {
    ev.preventDefault();
    Shell.invoke('admin_save_settings', { form: settingsFromForm(), summary: I18n.t('admin.summary.settings') }).then(function (r) {
      problems($('settings-problems'), r.ok ? [] : r.problems);
      if (r.ok) reload('admin.saved'); else say('admin.not_saved');
    });
  }

  // The structured opening hours ([hours]): a line a day, the closures, use when closed, dark screen.
  // What the form does not show (power-off and the wake time) goes back as it was.
  let hoursKept = null;

  function renderHours(h) {
    const hours = h || { days: ['', '', '', '', '', '', ''], closures: [], use_when_closed: true, dark_after_minutes: 10,
      power_off: false, wake_before_minutes: 15 };
    hoursKept = hours;
    const box = $('s-days');
    box.textContent = '';
    for (let i = 0; i < 7; i++) {
      const p = el('p', 'field');
      const label = el('label', null, I18n.t('admin.hours.day' + i));
      label.htmlFor = 's-day-' + i;
      const input = el('input');
      input.id = 's-day-' + i;
      input.spellcheck = false;
      input.value = (hours.days || [])[i] || '';
      p.appendChild(label);
      p.appendChild(input);
      box.appendChild(p);
    }
    $('s-closures').value = (hours.closures || []).join(', ');
    $('s-use-closed').checked = hours.use_when_closed !== false;
    $('s-dark').value = hours.dark_after_minutes || 10;
  }

  function hoursFromForm() {
    const days = [];
    for (let i = 0; i < 7; i++) days.push($('s-day-' + i).value);
    const closures = $('s-closures').value.split(',').map(function (c) { return c.trim(); }).filter(Boolean);
    const kept = hoursKept || {};
    return { days: days, closures: closures, use_when_closed: $('s-use-closed').checked,
      dark_after_minutes: Number($('s-dark').value) || 10, power_off: kept.power_off === true,
      wake_before_minutes: kept.wake_before_minutes || 15 };
  }

  // ---------- Réseau (NetworkManager) and Imprimante (CUPS) ----------

  function errText(prefix, err) {
    const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'other';
    return I18n.has(prefix + code) ? I18n.t(prefix + code) : I18n.t(prefix + 'other');
  }

  let netJoin = null;               // {ssid, security, hidden} of the form shown

  function loadNetwork(rescan) {
    $('net-link').textContent = I18n.t('admin.network.loading');
    $('net-internet').textContent = '';
    Shell.invoke('admin_network', { rescan: rescan }).then(renderNetwork, function (err) {
      $('net-link').textContent = errText('admin.wifi.error.', err);
      $('net-list').textContent = '';
    });
  }

  function renderNetwork(d) {
    const link = d.link || {};
    let line = I18n.t('admin.wifi.state.' + link.wifi, { ssid: link.ssid || '' });
    if (link.wired) line += ' — ' + I18n.t('admin.wifi.wired');
    $('net-link').textContent = line;
    $('net-internet').textContent = I18n.t('admin.wifi.connectivity.' + (link.connectivity || 'unknown'));
    const ul = $('net-list');
    ul.textContent = '';
    (d.networks || []).forEach(function (n) {
      const li = el('li', 'admin-row');
      const bits = [I18n.t('admin.wifi.security.' + n.security), I18n.t('admin.network.signal', { signal: n.signal })];
      if (n.in_use) bits.push(I18n.t('admin.network.in_use'));
      if (n.saved) bits.push(I18n.t('admin.network.saved'));
      li.appendChild(el('strong', null, n.ssid));
      li.appendChild(el('span', null, ' — ' + bits.join(', ') + ' '));
      if (!n.in_use && n.security !== 'enterprise' && n.security !== 'wep') {
        const b = el('button', 'btn btn-secondary', I18n.t('admin.network.choose'));
        b.type = 'button';
        b.addEventListener('click', function () { showJoin({ ssid: n.ssid, security: n.security, hidden: false }); });
        li.appendChild(b);
      }
      if (n.saved) {
        const f = el('button', 'btn btn-secondary', I18n.t('admin.network.forget'));
        f.type = 'button';
        f.addEventListener('click', function () { forgetNetwork(n.ssid); });
        li.appendChild(f);
      }
      ul.appendChild(li);
    });
    if (!ul.children.length) ul.appendChild(el('li', null, I18n.t('admin.network.none')));
  }

  function showJoin(j) {
    netJoin = j;
    $('net-form').hidden = false;
    $('net-form-title').textContent = j.hidden ? I18n.t('admin.network.hidden_title') : I18n.t('admin.network.join_title', { ssid: j.ssid });
    $('net-ssid-row').hidden = !j.hidden;
    $('net-security-row').hidden = !j.hidden;
    $('net-ssid').value = j.hidden ? '' : j.ssid;
    const sel = $('net-security');
    sel.textContent = '';
    ['personal', 'wpa3-personal', 'open'].forEach(function (code) {
      const o = el('option', null, I18n.t('admin.wifi.security.' + code));
      o.value = code;
      sel.appendChild(o);
    });
    const needs = j.hidden || j.security === 'personal' || j.security === 'wpa3-personal';
    $('net-password-row').hidden = !needs;
    $('net-password').value = '';
    $('net-message').textContent = '';
    (j.hidden ? $('net-ssid') : (needs ? $('net-password') : $('net-join'))).focus();
  }

  function submitJoin(ev) {
    ev.preventDefault();
    if (!netJoin) return;
    const hidden = netJoin.hidden;
    const ssid = hidden ? $('net-ssid').value : netJoin.ssid;
    const security = hidden ? $('net-security').value : netJoin.security;
    const password = $('net-password-row').hidden ? null : $('net-password').value;
    $('net-password').value = '';
    $('net-join').disabled = true;
    $('net-message').textContent = I18n.t('admin.network.joining');
    Shell.invoke('admin_network_join', { ssid: ssid, security: security, password: password, hidden: hidden }).then(function (link) {
      $('net-join').disabled = false;
      $('net-form').hidden = true;
      netJoin = null;
      say('admin.network.joined', { ssid: (link && link.ssid) || ssid });
      loadNetwork(false);
    }, function (err) {
      $('net-join').disabled = false;
      $('net-message').textContent = errText('admin.wifi.error.', err);
    });
  }

  function forgetNetwork(ssid) {
    Shell.invoke('admin_network_forget', { ssid: ssid }).then(function () {
      say('admin.network.forgotten');
      loadNetwork(false);
    }, function (err) { $('net-link').textContent = errText('admin.wifi.error.', err); });
  }

  function loadPrinters() {
    $('pr-message').textContent = '';
    Shell.invoke('admin_printers').then(renderPrinters, function (err) {
      $('pr-current').textContent = errText('admin.printers.error.', err);
    });
  }

  function renderPrinters(d) {
    const ul = $('pr-reasons');
    ul.textContent = '';
    if (!d.current) {
      $('pr-current').textContent = I18n.t('admin.printers.no_current');
    } else if (d.status_error) {
      $('pr-current').textContent = I18n.has('admin.printers.error.' + d.status_error)
        ? I18n.t('admin.printers.error.' + d.status_error, { name: d.current }) : I18n.t('admin.printers.error.other');
    } else {
      const st = d.status || {};
      const state = st.accepting === false ? 'not-accepting' : (st.state || 'idle');
      $('pr-current').textContent = I18n.t('admin.printers.current', { name: d.current, state: I18n.t('admin.printers.state.' + state) });
      (st.reasons || []).forEach(function (r) {
        ul.appendChild(el('li', null, I18n.has('admin.printers.reason.' + r.code) ? I18n.t('admin.printers.reason.' + r.code) : I18n.t('admin.printers.reason.other')));
      });
    }
    $('pr-test').disabled = !d.current;
    $('pr-resume').disabled = !d.current;
  }

  function discoverPrinters() {
    const ul = $('pr-found');
    ul.textContent = '';
    $('pr-message').textContent = I18n.t('admin.printers.searching');
    Shell.invoke('admin_printers_discover').then(function (found) {
      $('pr-message').textContent = found.length ? '' : I18n.t('admin.printers.none_found');
      found.forEach(function (f) {
        const li = el('li', 'admin-row');
        const kind = [f.driverless ? I18n.t('admin.printers.driverless') : null,
          I18n.t(f.connection === 'usb' ? 'admin.printers.usb' : 'admin.printers.network')].filter(Boolean).join(', ');
        li.appendChild(el('strong', null, f.make_and_model || f.info || f.uri));
        li.appendChild(el('span', null, ' — ' + kind + ' '));
        const b = el('button', 'btn btn-primary', I18n.t('admin.printers.choose'));
        b.type = 'button';
        b.addEventListener('click', function () { addPrinter(f.uri); });
        li.appendChild(b);
        ul.appendChild(li);
      });
    }, function (err) { $('pr-message').textContent = errText('admin.printers.error.', err); });
  }

  function addPrinter(uri) {
    $('pr-message').textContent = I18n.t('admin.printers.adding');
    Shell.invoke('admin_printers_add', { uri: uri }).then(function (name) {
      $('pr-found').textContent = '';
      $('pr-message').textContent = '';
      reload('admin.printers.added', { name: name }).then(loadPrinters);
    }, function (err) { $('pr-message').textContent = errText('admin.printers.error.', err); });
  }

  // The team's staff code (sessions « accompagnées ») and a nomad borne's place of the day.
  function renderTeam() {
    $('staff-state').textContent = I18n.t(data.staff_code ? 'admin.staff.set' : 'admin.staff.not_set');
    $('staff-remove').hidden = !data.staff_code;
    const nomad = data.nomad || { places: [] };
    const places = nomad.places || [];
    $('place-box').hidden = places.length === 0;
    const sel = $('place-choice');
    sel.textContent = '';
    places.forEach(function (p) {
      const o = el('option', null, p.name);
      o.value = p.code;
      if (nomad.today && nomad.today.code === p.code) o.selected = true;
      sel.appendChild(o);
    });
    $('place-state').textContent = nomad.today ? I18n.t('admin.place.current', { place: nomad.today.name }) : I18n.t('admin.place.none');
  }

  function submitStaff(ev) {
    ev.preventDefault();
    const code = $('staff-code').value;
    const confirm = $('staff-confirm').value;
    $('staff-code').value = '';
    $('staff-confirm').value = '';
    Shell.invoke('admin_set_staff_code', { code: code, confirm: confirm }).then(function (r) {
      problems($('staff-problems'), r.ok ? [] : r.problems);
      if (r.ok) reload('admin.staff.saved'); else say('admin.not_saved');
    }, function () { say('admin.not_saved'); });
  }

  function removeStaff() {
    Shell.invoke('admin_set_staff_code', { code: '', confirm: '' }).then(function (r) {
      problems($('staff-problems'), r.ok ? [] : r.problems);
      if (r.ok) reload('admin.saved'); else say('admin.not_saved');
    }, function () { say('admin.not_saved'); });
  }

  function setPlace(choice) {
    Shell.invoke('admin_set_place', { choice: choice }).then(function (r) {
      problems($('place-problems'), r.ok ? [] : r.problems);
      if (!r.ok) { say('admin.not_saved'); return; }
      const p = ((data.nomad || {}).places || []).filter(function (x) { return x.code === choice; })[0];
      reload(p ? 'admin.place.saved' : 'admin.saved', p ? { place: p.name } : undefined);
    }, function () { say('admin.not_saved'); });
  }

  // The communication kit: the second language is one the borne offers (the saved settings'), the
  // first after French unless the référent chooses; « Français seulement » prints French alone.
  function renderKit() {
    const select = $('kit-lang');
    const chosen = select.value;
    select.textContent = '';
    const offered = (data.settings.languages || []).filter(function (c) { return c !== 'fr'; });
    offered.concat(['fr']).forEach(function (code) {
      const o = el('option', null, code === 'fr' ? I18n.t('admin.kit.french_only') : (I18n.has('language.' + code) ? I18n.t('language.' + code) : code));
      o.value = code;
      select.appendChild(o);
    });
    if (chosen && offered.concat(['fr']).indexOf(chosen) >= 0) select.value = chosen;
  }

  function printKit(ev) {
    const piece = ev.currentTarget.dataset.piece;
    const buttons = document.querySelectorAll('.kit-print');
    buttons.forEach(function (b) { b.disabled = true; });
    $('kit-message').textContent = I18n.t('admin.kit.working');
    Shell.invoke('admin_print_kit', { piece: piece, lang: $('kit-lang').value }).then(function (r) {
      $('kit-message').textContent = I18n.t('admin.kit.done', { pages: r.pages });
    }, function (e) {
      $('kit-message').textContent = I18n.t('admin.error.' + errorCode(e));
    }).then(function () {
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  function findLogos() {
    Shell.invoke('admin_logos').then(function (list) {
      const ul = $('logo-list');
      ul.textContent = '';
      if (!list.length) ul.appendChild(el('li', null, I18n.t('admin.logo.none')));
      list.forEach(function (path) {
        const li = el('li', 'admin-row');
        li.appendChild(el('span', 'admin-row-text', path.split('/').pop()));
        li.appendChild(button('admin.logo.use', 'btn-primary', function () {
          Shell.invoke('admin_set_logo', { path: path }).then(function (r) {
            if (r.ok) say('admin.logo.done'); else $('status').textContent = r.message;
          });
        }, {}));
        ul.appendChild(li);
      });
    });
  }

  // ---------- Help: the directory, the end-of-session question, the "Avant de commencer" sheets ----------

  const CONTACT_FIELDS = ['name', 'what', 'place', 'hours', 'phone'];
  let contacts = [];
  let editingSheet = null; // id of the sheet in the form, null for a new one

  function renderContacts() {
    const ol = $('contacts-list');
    ol.textContent = '';
    if (!contacts.length) ol.appendChild(el('li', null, I18n.t('admin.help.none')));
    contacts.forEach(function (c, i) {
      const li = el('li', 'admin-contact');
      const fs = el('fieldset', 'field');
      fs.appendChild(el('legend', null, I18n.t('admin.help.contact', { n: i + 1 })));
      CONTACT_FIELDS.forEach(function (f) {
        const id = 'c-' + i + '-' + f;
        const p = el('p', 'field');
        const label = el('label', null, I18n.t('admin.help.field.' + f));
        label.htmlFor = id;
        const input = el('input');
        input.id = id;
        input.value = c[f] || '';
        input.maxLength = 120;
        input.addEventListener('input', function () { contacts[i][f] = input.value; });
        p.appendChild(label);
        p.appendChild(input);
        fs.appendChild(p);
      });
      const rm = button('admin.help.remove', 'btn-secondary', function () {
        contacts.splice(i, 1);
        renderContacts();
        $('contact-add').focus();
      });
      rm.setAttribute('aria-label', I18n.t('admin.help.remove_label', { n: i + 1 }));
      fs.appendChild(rm);
      li.appendChild(fs);
      ol.appendChild(li);
    });
  }

  function renderHelp() {
    $('h-outcome').checked = data.settings.ask_outcome === true;
    contacts = (data.settings.contacts || []).map(function (c) { return Object.assign({}, c); });
    renderContacts();
    renderSheets();
  }

  function addContact() {
    contacts.push({ name: '', what: '', place: '', hours: '', phone: '' });
    renderContacts();
    const first = $('c-' + (contacts.length - 1) + '-name');
    if (first) first.focus();
  }

  function submitHelp(ev) {
    ev.preventDefault();
    const form = Object.assign({}, data.settings, { ask_outcome: $('h-outcome').checked, contacts: contacts });
    Shell.invoke('admin_save_settings', { form: form, summary: I18n.t('admin.summary.help') }).then(function (r) {
      problems($('help-problems'), r.ok ? [] : r.problems);
      if (r.ok) reload('admin.saved'); else say('admin.not_saved');
    });
  }

  function ownSheets() {
    return ((data.own_demarches && data.own_demarches.sheets) || []).map(function (d) { return Object.assign({}, d); });
  }

  function serviceName(id) {
    const s = (data.services || []).find(function (x) { return x.id === id; });
    return s ? s.name : id;
  }

  function renderSheets() {
    const own = ownSheets();
    const ul = $('sheets-list');
    ul.textContent = '';
    (data.demarches || []).forEach(function (d) {
      const mine = own.some(function (o) { return o.id === d.id; });
      const li = el('li', 'admin-row');
      li.appendChild(el('span', 'admin-row-text', d.title + ' — ' + serviceName(d.service) + (mine ? ' — ' + I18n.t('admin.sheets.own') : '')));
      const edit = button('admin.sheets.edit', 'btn-secondary', function () { editSheet(d); });
      edit.setAttribute('aria-label', I18n.t('admin.sheets.edit_label', { title: d.title }));
      li.appendChild(edit);
      if (mine) {
        const rm = button('admin.sheets.remove', 'btn-secondary', function () { removeSheet(d); });
        rm.setAttribute('aria-label', I18n.t('admin.sheets.remove_label', { title: d.title }));
        li.appendChild(rm);
      }
      ul.appendChild(li);
    });
    const sel = $('d-service');
    sel.textContent = '';
    (data.services || []).forEach(function (s) {
      const o = el('option', null, s.name);
      o.value = s.id;
      sel.appendChild(o);
    });
    resetSheetForm();
  }

  function resetSheetForm() {
    editingSheet = null;
    $('sheet-form-title').textContent = I18n.t('admin.sheets.add');
    $('d-title').value = '';
    $('d-documents').value = '';
    $('d-steps').value = '';
    problems($('sheet-problems'), []);
  }

  function editSheet(d) {
    editingSheet = d.id;
    $('sheet-form-title').textContent = I18n.t('admin.sheets.editing', { title: d.title });
    $('d-service').value = d.service;
    $('d-title').value = d.title;
    $('d-documents').value = (d.documents || []).join('\n');
    $('d-steps').value = (d.steps || []).join('\n');
    $('d-title').focus();
  }

  function saveSheets(own, summary) {
    return Shell.invoke('admin_save_demarches', { form: { sheets: own }, summary: summary }).then(function (r) {
      problems($('sheet-problems'), r.ok ? [] : r.problems);
      if (r.ok) reload('admin.saved'); else say('admin.not_saved');
      return r;
    });
  }

  function submitSheet(ev) {
    ev.preventDefault();
    const lines = function (v) { return v.split('\n').map(function (l) { return l.trim(); }).filter(Boolean); };
    const sheet = {
      id: editingSheet || '',
      service: $('d-service').value,
      title: $('d-title').value,
      documents: lines($('d-documents').value),
      steps: lines($('d-steps').value)
    };
    const own = ownSheets();
    const at = editingSheet ? own.findIndex(function (o) { return o.id === editingSheet; }) : -1;
    if (at >= 0) own[at] = sheet; else own.push(sheet);
    saveSheets(own, I18n.t('admin.summary.sheet', { title: sheet.title.trim() }));
  }

  function removeSheet(d) {
    const own = ownSheets().filter(function (o) { return o.id !== d.id; });
    saveSheets(own, I18n.t('admin.summary.sheet_removed', { title: d.title }));
  }

  // ---------- Statistics ----------

  function chart(daysList) {
    const ns = 'http://www.w3.org/2000/svg';
    const w = 640;
    const h = 200;
    const max = Math.max(1, Math.max.apply(null, daysList.map(function (d) { return d.sessions; })));
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + (h + 40));
    svg.setAttribute('class', 'chart');
    svg.setAttribute('role', 'img');
    const total = daysList.reduce(function (a, d) { return a + d.sessions; }, 0);
    svg.setAttribute('aria-label', I18n.t('admin.stats.chart_label', { days: daysList.length, total: total }));
    const bw = w / daysList.length;
    daysList.forEach(function (d, i) {
      const bh = Math.round((d.sessions / max) * (h - 20));
      const r = document.createElementNS(ns, 'rect');
      r.setAttribute('x', String(i * bw + bw * 0.15));
      r.setAttribute('y', String(h - bh));
      r.setAttribute('width', String(bw * 0.7));
      r.setAttribute('height', String(bh));
      r.setAttribute('class', 'chart-bar');
      svg.appendChild(r);
      if (daysList.length <= 7 || i % 5 === 0) {
        const t = document.createElementNS(ns, 'text');
        t.setAttribute('x', String(i * bw + bw / 2));
        t.setAttribute('y', String(h + 24));
        t.setAttribute('text-anchor', 'middle');
        t.textContent = d.date.slice(8) + '/' + d.date.slice(5, 7);
        svg.appendChild(t);
      }
      if (d.sessions > 0) {
        const v = document.createElementNS(ns, 'text');
        v.setAttribute('x', String(i * bw + bw / 2));
        v.setAttribute('y', String(h - bh - 4));
        v.setAttribute('text-anchor', 'middle');
        v.textContent = String(d.sessions);
        svg.appendChild(v);
      }
    });
    return svg;
  }

  function table(captionKey, rows) {
    const t = el('table', 'admin-table');
    t.appendChild(el('caption', null, I18n.t(captionKey)));
    const body = el('tbody');
    rows.forEach(function (r) {
      const tr = el('tr');
      const th = el('th', null, r[0]);
      th.scope = 'row';
      tr.appendChild(th);
      tr.appendChild(el('td', null, String(r[1])));
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }

  function loadStats() {
    document.querySelectorAll('.period').forEach(function (b) {
      b.setAttribute('aria-pressed', String(Number(b.dataset.days) === days));
    });
    Shell.invoke('admin_stats', { days: days }).then(function (s) {
      const host = $('stats-body');
      host.textContent = '';
      host.appendChild(el('h3', null, I18n.t('admin.stats.sessions', { total: s.sessions, from: s.from, to: s.to })));
      host.appendChild(chart(s.days));
      const label = function (prefix) { return function (p) { return [I18n.t(prefix + p[0]), p[1]]; }; };
      host.appendChild(table('admin.stats.tiles', s.tiles.length ? s.tiles : [[I18n.t('admin.stats.none'), 0]]));
      host.appendChild(table('admin.stats.durations', s.durations.map(label('admin.stats.duration.'))));
      host.appendChild(table('admin.stats.ends', s.ends.map(label('admin.stats.end.'))));
      // Sessions marked « accompagnée » by a médiateur and the others (sessions counted before the
      // marks existed are in neither), never who accompanied.
      host.appendChild(table('admin.stats.accompaniment', [
        [I18n.t('admin.stats.accompanied'), s.accompanied],
        [I18n.t('admin.stats.autonomous'), s.autonomous]
      ]));
      // A nomad borne: its sessions place by place, most first (a borne that stays in its centre has none).
      const places = Array.isArray(s.places) ? s.places : [];
      if (places.length) host.appendChild(table('admin.stats.places', places.map(function (p) { return [p.name, p.sessions]; })));
      host.appendChild(table('admin.stats.other', [
        [I18n.t('admin.stats.pages'), s.pages],
        [I18n.t('admin.stats.printed_at_end'), s.printed_at_end],
        [I18n.t('admin.stats.print_failures'), s.print_failures],
        [I18n.t('admin.stats.downloads'), s.downloads],
        [I18n.t('admin.stats.help'), s.help]
      ]));
      host.appendChild(table('admin.stats.outcomes', s.outcomes.map(label('admin.stats.outcome.'))));
      const p = s.push;
      const push = el('p', 'admin-push');
      if (!p || p.state === 'never') push.textContent = I18n.t('admin.stats.push_never', { backlog: p ? p.backlog : 0 });
      else push.textContent = I18n.t('admin.stats.push', { last: p.last || '—', backlog: p.backlog }) + (p.message ? ' ' + p.message : '');
      host.appendChild(push);
    }, function (e) { say('admin.error.' + errorCode(e)); });
  }

  function exportCsv() {
    Shell.invoke('admin_export_csv', { days: days }).then(function (r) {
      if (r.ok) say('admin.stats.exported', { file: r.file }); else $('status').textContent = r.message;
    });
  }

  // ---------- Matomo ----------

  function renderMatomo() {
    const m = data.matomo || {};
    $('m-url').value = m.url || '';
    $('m-site').value = m.site_id || '';
    $('m-token-now').textContent = m.token ? I18n.t('admin.matomo.token_now', { token: m.token }) : I18n.t('admin.matomo.no_token');
  }

  function submitMatomo(ev) {
    ev.preventDefault();
    Shell.invoke('admin_save_matomo', { url: $('m-url').value, siteId: Number($('m-site').value) || 0, token: $('m-token').value })
      .then(function (r) {
        $('m-token').value = '';
        $('matomo-message').textContent = r.ok ? I18n.t('admin.saved') : r.message;
        if (r.ok) reload();
      });
  }

  function testMatomo() {
    $('matomo-message').textContent = I18n.t('admin.matomo.testing');
    Shell.invoke('admin_test_matomo').then(function (r) { $('matomo-message').textContent = r.message; });
  }

  // ---------- Versions ----------

  function renderVersions() {
    const ul = $('versions-list');
    ul.textContent = '';
    if (!data.versions.length) ul.appendChild(el('li', null, I18n.t('admin.versions.none')));
    data.versions.forEach(function (v) {
      const li = el('li', 'admin-row');
      li.appendChild(el('span', 'admin-row-text', v.when + ' — ' + I18n.t('admin.versions.file.' + v.file) + ' — ' + v.summary));
      const b = button('admin.versions.restore', 'btn-secondary', function () {
        Shell.invoke('admin_restore', { id: v.id }).then(function (r) {
          if (r.ok) reload('admin.versions.restored', { when: v.when }); else say('admin.not_saved');
        });
      }, {});
      b.setAttribute('aria-label', I18n.t('admin.versions.restore_label', { when: v.when, summary: v.summary }));
      li.appendChild(b);
      ul.appendChild(li);
    });
  }

  // ---------- Maintenance ----------

  function loadLogs() {
    Shell.invoke('admin_logs').then(function (lines) { $('logs').textContent = lines.join('\n'); });
  }

  function power(ev) {
    const action = ev.currentTarget.dataset.action;
    Shell.invoke('admin_power', { action: action }).then(function (r) {
      $('power-message').textContent = r.ok ? I18n.t('admin.power.done') : r.message;
    });
  }

  // ---------- Start ----------

  function start() {
    I18n.load('fr').then(function () {
      $('pin-form').addEventListener('submit', submitPin);
      $('leave').addEventListener('click', function () { Shell.fire('admin_leave'); });
      document.querySelectorAll('.tab').forEach(function (b) {
        b.addEventListener('click', function () { showTab(b.dataset.tab); });
      });
      $('tile-form').addEventListener('submit', submitTile);
      $('tile-form').addEventListener('input', liveCheck);
      $('tile-cancel').addEventListener('click', resetTileForm);
      $('test-form').addEventListener('submit', testUrl);
      $('theme-form').addEventListener('submit', submitTheme);
      $('settings-form').addEventListener('submit', submitSettings);
      $('staff-form').addEventListener('submit', submitStaff);
      $('net-refresh').addEventListener('click', function () { loadNetwork(true); });
      $('net-hidden').addEventListener('click', function () { showJoin({ ssid: '', security: 'personal', hidden: true }); });
      $('net-form').addEventListener('submit', submitJoin);
      $('net-cancel').addEventListener('click', function () { $('net-form').hidden = true; netJoin = null; });
      $('pr-discover').addEventListener('click', discoverPrinters);
      $('pr-address-form').addEventListener('submit', function (ev) {
        ev.preventDefault();
        $('pr-message').textContent = I18n.t('admin.printers.adding');
        Shell.invoke('admin_printers_add_address', { address: $('pr-address').value }).then(function (name) {
          $('pr-address').value = '';
          $('pr-message').textContent = '';
          reload('admin.printers.added', { name: name }).then(loadPrinters);
        }, function (err) { $('pr-message').textContent = errText('admin.printers.error.', err); });
      });
      $('pr-test').addEventListener('click', function () {
        Shell.invoke('admin_printers_test_page').then(function () { say('admin.printers.test_sent'); loadPrinters(); },
          function (err) { $('pr-message').textContent = errText('admin.printers.error.', err); });
      });
      $('pr-resume').addEventListener('click', function () {
        Shell.invoke('admin_printers_resume').then(function () { say('admin.printers.resumed'); loadPrinters(); },
          function (err) { $('pr-message').textContent = errText('admin.printers.error.', err); });
      });
      $('staff-remove').addEventListener('click', removeStaff);
      $('place-choose').addEventListener('click', function () { setPlace($('place-choice').value); });
      $('place-clear').addEventListener('click', function () { setPlace(null); });
      $('help-form').addEventListener('submit', submitHelp);
      $('contact-add').addEventListener('click', addContact);
      $('sheet-form').addEventListener('submit', submitSheet);
      $('sheet-cancel').addEventListener('click', resetSheetForm);
      $('logo-find').addEventListener('click', findLogos);
      document.querySelectorAll('.kit-print').forEach(function (b) { b.addEventListener('click', printKit); });
      document.querySelectorAll('.period').forEach(function (b) {
        b.addEventListener('click', function () { days = Number(b.dataset.days); loadStats(); });
      });
      $('export').addEventListener('click', exportCsv);
      $('matomo-form').addEventListener('submit', submitMatomo);
      $('m-test').addEventListener('click', testMatomo);
      $('logs-refresh').addEventListener('click', loadLogs);
      document.querySelectorAll('.power').forEach(function (b) { b.addEventListener('click', power); });
      $('update-now').addEventListener('click', updateNow);
      $('updates-refresh').addEventListener('click', refreshUpdates);
      $('update-url-form').addEventListener('submit', submitUpdateUrl);
      return Shell.invoke('admin_status');
    }).then(function (status) {
      if (status.unlocked) return open();
      showPin(status);
    }, function (e) {
      $('pin-screen').hidden = false;
      pinMessage('admin.error.' + errorCode(e));
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
