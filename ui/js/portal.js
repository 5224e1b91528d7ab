/* The portal: the centre's name, its own tile, then the tiles grouped by theme.
   Data comes from the shell: invoke('portal'), its texts already in the person's language. A text
   the core lists in an item's `in_french` (a référent's own tile or sheet, a proper name) is French
   in a page of another language: it is wrapped in a <span lang="fr" dir="ltr">, in the same place,
   so screen readers read it in French and it reads left to right inside an Arabic page. Every text
   from the configuration is set with textContent; only http(s) addresses become links. */
(function () {
  'use strict';

  const Shell = window.BorneShell;
  const I18n = window.BorneI18n;
  const PICTO_RE = /^[a-z0-9][a-z0-9-]{0,40}$/;
  const DEFAULT_PICTO = 'lien';
  const TILE_OPENED_WAIT_MS = 100;

  let navigating = false;
  let sheets = [];
  let sheetOpener = null;
  let offline = false;

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function str(v) { return typeof v === 'string' ? v.trim() : ''; }

  /* Whether `field` of `item` is shown in French in a page of another language. */
  function inFrench(item, field) {
    return I18n.lang !== 'fr' && !!item && Array.isArray(item.in_french) && item.in_french.indexOf(field) >= 0;
  }

  /* A « quoted » button or page name never breaks across lines: its spaces become no-break spaces
     (a line ending in « and a name cut in two are hard to read, worse inside right-to-left text). */
  function keepQuotes(text) {
    return text.replace(/«([^«»]{1,60})»/g, function (m, inner) { return '«' + inner.replace(/ /g, '\u00A0') + '»'; });
  }

  /* `text` as a node: a text node, or a span marked French (see the top of the file). */
  function textNode(text, french) {
    text = keepQuotes(text);
    if (!french) return document.createTextNode(text);
    const span = el('span', null, text);
    span.lang = 'fr';
    span.dir = 'ltr';
    return span;
  }

  /* Replaces the content of `node` with `text`, marked French when `french`. */
  function setText(node, text, french) {
    node.textContent = '';
    node.appendChild(textNode(text, french));
    return node;
  }

  function safeUrl(v) {
    try {
      const u = new URL(str(v));
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function pictogram(name, className) {
    const img = el('img', className);
    img.src = 'pictograms/' + (PICTO_RE.test(str(name)) ? str(name) : DEFAULT_PICTO) + '.svg';
    img.alt = '';
    img.width = 48;
    img.height = 48;
    img.decoding = 'async';
    img.addEventListener('error', function onError() {
      img.removeEventListener('error', onError);
      img.src = 'pictograms/' + DEFAULT_PICTO + '.svg';
    });
    return img;
  }

  /* Tells the shell which tile was opened (statistics), waiting at most ~100 ms, then follows the link. */
  function onTileClick(ev) {
    const a = ev.currentTarget;
    const id = a.getAttribute('data-tile-id');
    if (ev.defaultPrevented) return;
    if (ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) {
      Shell.fire('tile_opened', { id: id });
      return; // let the browser (and the shell's policy) handle it
    }
    ev.preventDefault();
    if (navigating) return;
    navigating = true;
    Shell.withTimeout(Shell.invoke('tile_opened', { id: id }), TILE_OPENED_WAIT_MS)
      .catch(function () {})
      .then(function () { window.location.assign(a.href); });
  }

  function tile(data, extraClass) {
    const url = safeUrl(data && data.url);
    const name = str(data && data.name);
    if (!url || !name) return null;
    const a = el('a', 'tile' + (extraClass ? ' ' + extraClass : ''));
    a.href = url;
    a.setAttribute('data-tile-id', str(data.id));
    a.appendChild(pictogram(data.pictogram, 'tile-icon'));
    const text = el('span', 'tile-text');
    text.appendChild(setText(el('span', 'tile-name'), name, inFrench(data, 'name')));
    const desc = str(data.description);
    if (desc) text.appendChild(setText(el('span', 'tile-desc'), desc, inFrench(data, 'description')));
    a.appendChild(text);
    a.addEventListener('click', onTileClick);
    return a;
  }

  function tileList(tiles) {
    const ul = el('ul', 'tiles');
    ul.setAttribute('role', 'list'); // keeps list semantics in WebKit despite list-style: none
    (Array.isArray(tiles) ? tiles : []).forEach(function (t) {
      const a = tile(t);
      if (!a) return;
      const li = el('li', 'tiles-item');
      li.appendChild(a);
      sheets.filter(function (d) { return d.service === t.id; }).forEach(function (d) {
        const b = el('button', 'btn btn-secondary sheet-button');
        b.type = 'button';
        I18n.render(b, 'portal.before.button', { title: textNode(str(d.title), inFrench(d, 'title')) });
        b.setAttribute('data-sheet-id', str(d.id));
        b.addEventListener('click', function () { openSheet(d, a, b); });
        li.appendChild(b);
      });
      ul.appendChild(li);
    });
    return ul;
  }

  /* "Avant de commencer": documents and steps, then "C'est parti" opens the tile. */
  function openSheet(d, tileLink, opener) {
    sheetOpener = opener;
    setText(document.getElementById('sheet-title'), str(d.title), inFrench(d, 'title'));
    const fill = function (id, lines, french) {
      const list = document.getElementById(id);
      list.textContent = '';
      (Array.isArray(lines) ? lines : []).forEach(function (l) { list.appendChild(setText(el('li'), str(l), french)); });
    };
    fill('sheet-documents', d.documents, inFrench(d, 'documents'));
    fill('sheet-steps', d.steps, inFrench(d, 'steps'));
    const go = document.getElementById('sheet-go');
    go.href = tileLink.href;
    go.setAttribute('data-tile-id', tileLink.getAttribute('data-tile-id'));
    document.getElementById('sheet-overlay').hidden = false;
    document.getElementById('sheet-title').focus();
  }

  function closeSheet() {
    document.getElementById('sheet-overlay').hidden = true;
    if (sheetOpener) sheetOpener.focus();
    sheetOpener = null;
  }

  function renderCentreTile(data) {
    const host = document.getElementById('centre-tile');
    host.textContent = '';
    if (!data) return 0;
    const a = tile(data, 'tile-centre');
    if (!a) return 0;
    const section = el('section', 'centre-section');
    section.setAttribute('aria-label', I18n.t('portal.centre_label'));
    section.appendChild(a);
    host.appendChild(section);
    return 1;
  }

  function renderThemes(themes) {
    const host = document.getElementById('themes');
    host.textContent = '';
    let count = 0;
    (Array.isArray(themes) ? themes : []).forEach(function (theme, i) {
      if (!theme || typeof theme !== 'object') return;
      const list = tileList(theme.tiles);
      if (!list.children.length) return;
      const section = el('section', 'theme');
      const h2 = el('h2', 'theme-title');
      h2.id = 'theme-' + i;
      h2.appendChild(pictogram(theme.pictogram, 'theme-icon'));
      h2.appendChild(setText(el('span'), str(theme.name), inFrench(theme, 'name')));
      section.setAttribute('aria-labelledby', h2.id);
      section.appendChild(h2);
      section.appendChild(list);
      host.appendChild(section);
      count += list.children.length;
    });
    return count;
  }

  function renderCentre(centre) {
    const name = str(centre && centre.name);
    const h1 = document.getElementById('centre-name');
    h1.textContent = name || I18n.t('portal.default_title');
    document.title = name ? I18n.t('portal.doc_title', { centre: name }) : I18n.t('portal.default_title');

    const place = str(centre && centre.help_place);
    const hours = str(centre && centre.opening_hours);
    const placeEl = document.getElementById('help-place');
    const hoursEl = document.getElementById('help-hours');
    placeEl.hidden = !place;
    hoursEl.hidden = !hours;
    if (place) I18n.render(placeEl, 'portal.help.place', { place: place });
    if (hours) I18n.render(hoursEl, 'portal.help.hours', { hours: hours });
    document.getElementById('help-info').hidden = !place && !hours;
  }

  /* No network: every tile says so (it stays a link: the page comes back when the network does). */
  function applyOffline() {
    document.documentElement.classList.toggle('is-offline', offline);
    document.querySelectorAll('.tile').forEach(function (a) {
      let note = a.querySelector('.tile-offline');
      if (offline && !note) {
        note = el('span', 'tile-offline', I18n.t('portal.offline'));
        a.querySelector('.tile-text').appendChild(note);
      } else if (!offline && note) {
        note.remove();
      }
    });
  }

  function setOffline(value) {
    offline = value === true;
    applyOffline();
  }

  function showError() {
    const h1 = document.getElementById('centre-name');
    if (!h1.textContent) h1.textContent = I18n.has('portal.default_title') ? I18n.t('portal.default_title') : '';
    if (!h1.textContent) h1.hidden = true;
    document.getElementById('portal-error').hidden = false;
  }

  function start() {
    document.getElementById('admin-link').addEventListener('click', function (ev) {
      ev.preventDefault();
      Shell.invoke('admin_open').catch(function (e) {
        if (e && e.code === 'session-open') document.getElementById('admin-busy').hidden = false;
      });
    });
    Shell.invoke('portal_logo').then(function (src) {
      if (typeof src !== 'string' || src.indexOf('data:image/') !== 0) return;
      const img = document.getElementById('centre-logo');
      img.src = src;
      img.hidden = false;
    }, function () {});
    window.addEventListener('pageshow', function () { navigating = false; });
    document.getElementById('sheet-go').addEventListener('click', onTileClick);
    document.getElementById('sheet-close').addEventListener('click', closeSheet);
    document.addEventListener('keydown', function (ev) {
      if (ev.key === 'Escape' && !document.getElementById('sheet-overlay').hidden) closeSheet();
    });
    Shell.listen('kiosk', function (ev) {
      const p = ev && ev.payload;
      if (p && p.kind === 'offline') setOffline(p.value);
    });

    show();
  }

  /* The language menu: each language named in itself, with its own lang attribute. */
  function renderLanguages(data) {
    const nav = document.getElementById('languages');
    const list = document.getElementById('language-list');
    list.textContent = '';
    const langs = Array.isArray(data.languages) ? data.languages.filter(function (l) { return /^[a-z]{2,3}$/.test(l); }) : [];
    nav.hidden = langs.length < 2;
    langs.forEach(function (code) {
      const li = el('li');
      const b = el('button', 'btn btn-secondary language-button', I18n.t('language.' + code));
      b.type = 'button';
      b.lang = code;
      b.setAttribute('aria-pressed', String(code === data.language));
      b.addEventListener('click', function () {
        Shell.invoke('set_language', { code: code }).then(function () { return show(); }, function () {});
      });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  /* The shell could not give the portal in time (a slow start on an old PC, a busy machine): the
     message stays and the portal is asked again, calmly, until it comes. */
  let retryDelay = 2000;
  function retryLater() {
    setTimeout(show, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 15000);
  }

  /* Fetches the portal data and shows everything in the session's language. */
  function show() {
    return Shell.portalData().then(function (data) {
      return I18n.load(data && data.language).then(function () { return data; });
    }).then(function (data) {
      const main = document.getElementById('portal');
      if (!data) {
        showError();
        retryLater();
      } else {
        retryDelay = 2000;
        document.getElementById('portal-error').hidden = true;
        sheets = Array.isArray(data.demarches) ? data.demarches : [];
        renderCentre(data.centre);
        renderLanguages(data);
        document.getElementById('welcome').hidden = false;
        const n = renderCentreTile(data.centre_tile) + renderThemes(data.themes);
        document.getElementById('portal-empty').hidden = n > 0;
        Shell.invoke('network_offline').then(setOffline, function () {});
      }
      main.setAttribute('aria-busy', 'false');
    }).catch(function () {
      showError();
      retryLater();
      document.getElementById('portal').setAttribute('aria-busy', 'false');
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
