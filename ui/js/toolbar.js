/* The toolbar: a local webview above the remote pages. Its buttons call the shell; it also shows
   full-window dialogs (end-of-session confirmation, inactivity countdown, printing, « Mes documents »,
   the list a site's file chooser gets instead of the disk, and the password dialog a site asks for). Before showing one it asks
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
  let current = null;            // null | a key of OVERLAYS
  let docsMode = null;           // 'list' (« Mes documents ») | 'upload' (a site asked for a file) while 'docs' shows
  let covering = null;           // promise of the pending toolbar_overlay {open:true}, or null
  let seq = 0;                   // bumps on every open/close, so a slow open cannot undo a later close
  let returnFocus = null;
  let idleTimer = null;
  let idleEnd = 0;
  let idleShown = -1;
  let idleFirst = 0;
  let endTimer = null;

  const $ = function (id) { return document.getElementById(id); };

  /* Each dialog: its element and the control that gets the focus when it opens. */
  const OVERLAYS = {
    confirm: { id: 'confirm-end', first: 'confirm-no' },
    print: { id: 'print', first: 'print-cancel' },
    idle: { id: 'idle', first: 'idle-here' },
    help: { id: 'help', first: 'help-title' },
    display: { id: 'display', first: 'display-close' },
    outcome: { id: 'outcome', first: 'outcome-title' },
    docs: { id: 'docs', first: 'docs-close' },
    auth: { id: 'auth', first: 'auth-user' },
    scan: { id: 'scan', first: 'scan-go' },
    accompany: { id: 'accompany', first: 'accompany-code' },
    closed: { id: 'closed', first: 'closed-title' },
    dark: { id: 'dark', first: 'dark-box' },
  };

  /* ---------- covering the window ---------- */

  function cover(open) {
    return Shell.withTimeout(Shell.invoke('toolbar_overlay', { open: open }), COVER_WAIT_MS).catch(function () {});
  }

  function openOverlay(kind) {
    const mine = ++seq;
    if (current === kind) return Promise.resolve(true);
    if ((current === 'docs' || current === 'scan') && docsMode === 'upload' && kind !== 'docs' && kind !== 'scan') {
      // Another dialog replaces the file list (the countdown, say): the site's chooser is cancelled.
      // Scanning a document for the site keeps it waiting.
      Shell.fire('upload_choose', { id: null });
      docsMode = null;
    }
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
      $(OVERLAYS[kind].first).focus();
      return true;
    });
  }

  function closeOverlay(restoreFocus) {
    seq++;
    stopIdle();
    clearTimeout(endTimer);
    Array.prototype.forEach.call(document.querySelectorAll('#confirm-end button, #outcome button'), function (b) {
      b.disabled = false;
    });
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

  function overlayId(kind) { return OVERLAYS[kind].id; }

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

  let endPrinting = false;        // « Imprimer mes documents avant de partir » is running
  let endOffer = null;            // {documents, pages, left} of the open confirmation

  function askEnd() {
    $('confirm-print-box').hidden = true;
    $('confirm-status').textContent = '';
    $('confirm-status').classList.remove('dialog-error');
    openOverlay('confirm').then(function (shown) {
      if (!shown) return;
      Shell.invoke('end_offer').then(function (offer) {
        if (current !== 'confirm' || endPrinting || !offer || !(offer.documents > 0)) return;
        endOffer = offer;
        $('confirm-print-text').textContent = I18n.t('confirm.print.text', { n: offer.documents, pages: offer.pages });
        $('confirm-print').disabled = false;
        $('confirm-print-box').hidden = false;
      }, function () {});
    });
  }

  /* Prints the session's documents not printed yet, waits for the sheets, then goes on to the end. */
  function printBeforeLeaving() {
    if (current !== 'confirm' || endPrinting) return;
    endPrinting = true;
    const buttons = document.querySelectorAll('#confirm-end button');
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    $('confirm-status').classList.remove('dialog-error');
    $('confirm-status').textContent = I18n.t('confirm.print.working');
    Shell.invoke('end_print').then(function () {
      endPrinting = false;
      if (current !== 'confirm') return;
      $('confirm-status').textContent = I18n.t('confirm.print.done');
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      $('confirm-print-box').hidden = true;
      setTimeout(confirmEnd, 2500);
    }, function (err) {
      endPrinting = false;
      if (current !== 'confirm') return;
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = false; });
      const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
      let key = I18n.has('print.error.' + code) ? 'print.error.' + code : 'print.error.internal';
      if (code === 'quota') key = 'confirm.print.quota';
      const o = endOffer || { pages: 0, left: 0 };
      $('confirm-status').textContent = I18n.t(key, { pages: o.pages, left: o.left });
      $('confirm-status').classList.add('dialog-error');
    });
  }

  let askOutcome = false;         // the référent turned the end-of-session question on

  function confirmEnd() {
    if (current !== 'confirm' || endPrinting) return;
    if (askOutcome) { openOverlay('outcome'); return; }
    endWith(null);
  }

  /* Ends the session, with the answer to the question when it was asked. The shell answers with a
     'session-ended' event, which closes the dialog. If it never does, give the window back anyway
     so the person is not stuck. */
  function endWith(outcome) {
    const kind = current;
    if (kind !== 'confirm' && kind !== 'outcome') return;
    const buttons = document.querySelectorAll('#confirm-end button, #outcome button');
    Array.prototype.forEach.call(buttons, function (b) { b.disabled = true; });
    const args = outcome ? { outcome: outcome } : {};
    // The 'session-ended' event may come before this answer: once the dialog has closed (seq moved
    // on), the fallback must not close the next person's dialog a few seconds later.
    const at = seq;
    Shell.invoke('end_session', args).then(function () {
      if (seq !== at) return;
      endTimer = setTimeout(function () { if (seq === at && current === kind) closeOverlay(false); }, END_FALLBACK_MS);
    }, function () {
      if (seq === at && current === kind) closeOverlay(true);
    });
  }

  function cancelEnd() {
    if (current === 'confirm') closeOverlay(true);
  }

  /* ---------- printing ---------- */

  const MAX_COPIES_FALLBACK = 5;
  let printDoc = null;            // {pages, left, max_copies} of the prepared document, or null
  let printBusy = false;

  function printStatus(key, params) {
    $('print-status').textContent = key ? I18n.t(key, params) : '';
  }

  function printError(err) {
    const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
    const key = I18n.has('print.error.' + code) ? 'print.error.' + code : 'print.error.internal';
    printStatus(key, { left: printDoc ? printDoc.left : 0 });
    $('print-status').classList.add('dialog-error');
  }

  function copies() { return Number($('print-copies').value || $('print-copies').textContent) || 1; }

  function setCopies(n) {
    const max = printDoc ? printDoc.max_copies : MAX_COPIES_FALLBACK;
    n = Math.max(1, Math.min(max, n));
    $('print-copies').value = String(n);
    $('print-copies').textContent = String(n);
    $('print-less').disabled = n <= 1;
    $('print-more').disabled = n >= max;
  }

  function onRangeChoice() {
    $('print-range').hidden = !$('print-some').checked;
  }

  /* `docId`: a document of « Mes documents », printed as it is; otherwise what the content view shows. */
  function askPrint(docId) {
    if (current === 'print' || printBusy) return;
    const args = typeof docId === 'string' ? { document: docId } : {};
    printDoc = null;
    $('print-form').hidden = true;
    $('print-go').disabled = true;
    $('print-status').classList.remove('dialog-error');
    printStatus('print.preparing');
    openOverlay('print').then(function (shown) {
      if (!shown) return;
      Shell.invoke('print_prepare', args).then(function (doc) {
        if (current !== 'print') return;
        printDoc = doc;
        $('print-all').checked = true;
        onRangeChoice();
        $('print-first').max = String(doc.pages);
        $('print-last').max = String(doc.pages);
        $('print-first').value = '1';
        $('print-last').value = String(doc.pages);
        $('print-all-label').textContent = I18n.t(doc.pages === 1 ? 'print.pages.all.one' : 'print.pages.all', { pages: doc.pages });
        setCopies(1);
        const previewOk = typeof doc.preview === 'string' && doc.preview.indexOf('data:image/png;base64,') === 0;
        $('print-preview-box').hidden = !previewOk;
        if (previewOk) $('print-preview').src = doc.preview;
        else $('print-preview').removeAttribute('src');
        $('print-left').textContent = I18n.t('print.left', { left: doc.left });
        printStatus(null);
        $('print-form').hidden = false;
        $('print-go').disabled = doc.left <= 0;
        if (doc.left <= 0) { printError({ code: 'quota' }); }
        else $('print-go').focus();
      }, function (err) {
        if (current === 'print') printError(err);
      });
    });
  }

  function submitPrint() {
    if (current !== 'print' || !printDoc || printBusy) return;
    const pages = $('print-some').checked
      ? { kind: 'range', first: Number($('print-first').value), last: Number($('print-last').value) }
      : { kind: 'all' };
    printBusy = true;
    $('print-go').disabled = true;
    $('print-status').classList.remove('dialog-error');
    printStatus('print.sending');
    Shell.invoke('print_submit', { copies: copies(), pages: pages }).then(function (done) {
      printBusy = false;
      if (current !== 'print') return;
      printDoc.left = done.left;
      $('print-form').hidden = true;
      printStatus(done.pages === 1 ? 'print.done.one' : 'print.done', { pages: done.pages });
      $('print-cancel').textContent = I18n.t('print.close');
      $('print-cancel').focus();
    }, function (err) {
      printBusy = false;
      if (current !== 'print') return;
      $('print-go').disabled = false;
      printError(err);
    });
  }

  function closePrint() {
    if (current !== 'print') return;
    $('print-cancel').textContent = I18n.t('print.cancel');
    closeOverlay(true);
  }

  /* ---------- "J'ai besoin d'aide" ---------- */

  let helpData = { centre: null, help: null };

  function textOrNothing(v) { return typeof v === 'string' ? v.trim() : ''; }

  function fillHelp() {
    const centre = helpData.centre || {};
    const help = helpData.help || {};
    $('help-centre').textContent = textOrNothing(centre.name);
    const place = textOrNothing(centre.help_place);
    const hours = textOrNothing(centre.opening_hours);
    $('help-place').textContent = I18n.t('help.place', { place: place || I18n.t('help.place.default') });
    $('help-hours').textContent = hours ? I18n.t('help.hours', { hours: hours }) : '';
    $('help-hours').hidden = !hours;
    const list = $('help-contacts');
    list.textContent = '';
    const contacts = Array.isArray(help.contacts) ? help.contacts : [];
    contacts.forEach(function (c) {
      const li = document.createElement('li');
      const name = document.createElement('span');
      name.className = 'help-contact-line help-contact-name';
      name.textContent = textOrNothing(c.name);
      li.appendChild(name);
      [['what', null], ['place', 'help.contact.place'], ['hours', 'help.contact.hours'], ['phone', 'help.contact.phone']].forEach(function (f) {
        const v = textOrNothing(c[f[0]]);
        if (!v) return;
        const line = document.createElement('span');
        line.className = 'help-contact-line';
        line.textContent = f[1] ? I18n.t(f[1], { value: v }) : v;
        li.appendChild(line);
      });
      list.appendChild(li);
    });
    $('help-directory').hidden = contacts.length === 0;
  }

  /* The centre's help data and the question setting, as the référent last saved them. */
  function refreshData() {
    return Shell.portalData(2000).then(function (data) {
      if (!data) return;
      helpData = { centre: data.centre || null, help: data.help || null };
      askOutcome = !!(data.help && data.help.ask_outcome === true);
      setScanner(data.scanner === true);
    });
  }

  function askHelp() {
    if (current === 'help') return;
    $('help-status').textContent = '';
    $('help-status').classList.remove('dialog-error');
    $('help-print').disabled = false;
    refreshData().then(function () {
      fillHelp();
      return openOverlay('help');
    }).then(function (shown) {
      if (shown) Shell.fire('help_opened');
    });
  }

  function printHelp() {
    if (current !== 'help') return;
    $('help-print').disabled = true;
    $('help-status').classList.remove('dialog-error');
    $('help-status').textContent = I18n.t('print.sending');
    Shell.invoke('help_print').then(function () {
      if (current !== 'help') return;
      $('help-status').textContent = I18n.t('help.printed');
      $('help-print').disabled = false;
    }, function (err) {
      if (current !== 'help') return;
      const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
      const key = I18n.has('print.error.' + code) ? 'print.error.' + code : 'print.error.internal';
      $('help-status').textContent = I18n.t(key, { left: 0 });
      $('help-status').classList.add('dialog-error');
      $('help-print').disabled = false;
    });
  }

  function closeHelp() { if (current === 'help') closeOverlay(true); }

  /* ---------- text size and contrast ---------- */

  let display = { text: 100, contrast: false };

  function showDisplay(d) {
    display = { text: Shell.TEXT_SIZES.indexOf(d && d.text) >= 0 ? d.text : 100, contrast: !!(d && d.contrast === true) };
    Shell.applyDisplay(display);
    Array.prototype.forEach.call(document.querySelectorAll('.display-size'), function (b) {
      b.setAttribute('aria-pressed', String(Number(b.getAttribute('data-size')) === display.text));
    });
    $('display-contrast').setAttribute('aria-pressed', String(display.contrast));
  }

  function setDisplay(text, contrast) {
    Shell.invoke('set_display', { text: text, contrast: contrast }).then(function () {
      showDisplay({ text: text, contrast: contrast });
    }, function () {});
  }

  function askDisplay() { openOverlay('display'); }
  function closeDisplay() { if (current === 'display') closeOverlay(true); }
  /* ---------- « Mes documents », and the file a site asks for ---------- */

  function docsStatus(key, isError) {
    $('docs-status').textContent = key ? I18n.t(key) : '';
    $('docs-status').classList.toggle('dialog-error', !!isError);
  }

  function docsError(err) {
    const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
    docsStatus(I18n.has('documents.error.' + code) ? 'documents.error.' + code : 'documents.error.internal', true);
  }

  function placeText(doc) {
    const place = doc.place || {};
    if (place.kind === 'usb') {
      const where = I18n.t('documents.place.usb', { label: place.label || '' });
      return place.folder ? where + ' › ' + place.folder : where;
    }
    return I18n.t('documents.place.session');
  }

  function docButton(key, act, doc, primary) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn ' + (primary ? 'btn-primary' : 'btn-secondary');
    b.textContent = I18n.t(key);
    b.setAttribute('aria-label', I18n.t(key) + ' : ' + doc.name);
    b.dataset.act = act;
    b.dataset.id = doc.id;
    return b;
  }

  function renderDocs(list) {
    const ul = $('docs-list');
    ul.textContent = '';
    (Array.isArray(list) ? list : []).forEach(function (doc) {
      if (!doc || typeof doc.id !== 'string' || typeof doc.name !== 'string') return;
      const li = document.createElement('li');
      li.className = 'doc-item';
      const text = document.createElement('span');
      text.className = 'doc-text';
      const name = document.createElement('span');
      name.className = 'doc-name';
      name.textContent = doc.name;
      const place = document.createElement('span');
      place.className = 'doc-place';
      place.textContent = placeText(doc);
      text.appendChild(name);
      text.appendChild(place);
      li.appendChild(text);
      if (docsMode === 'upload') {
        li.appendChild(docButton('upload.choose', 'choose', doc, true));
      } else if (doc.kind === 'other') {
        const note = document.createElement('span');
        note.className = 'doc-place';
        note.textContent = I18n.t('documents.not_viewable');
        li.appendChild(note);
      } else {
        li.appendChild(docButton('documents.open', 'open', doc, true));
        if (doc.kind === 'pdf') li.appendChild(docButton('documents.print', 'print', doc, false));
      }
      ul.appendChild(li);
    });
    const empty = !ul.children.length;
    docsStatus(empty ? (docsMode === 'upload' ? 'upload.empty' : 'documents.empty') : null);
    return !empty;
  }

  function loadDocs() {
    const mode = docsMode;
    const cmd = mode === 'upload' ? 'upload_list' : 'documents_list';
    return Shell.invoke(cmd).then(function (list) {
      if (current !== 'docs' || docsMode !== mode) return;
      const any = renderDocs(list);
      if (scanMade && mode === 'list') { docsStatus(null); $('docs-status').textContent = I18n.t('scan.done', { name: scanMade }); scanMade = null; }
      // The first file's button takes the focus, unless the person already moved it.
      // With no file to offer, « Numériser un document » (when a scanner is there) is the way on.
      const first = any ? $('docs-list').querySelector('button') : (scanner ? $('docs-scan') : null);
      const at = document.activeElement;
      if (first && (!at || at === document.body || at === $('docs-close') || !document.contains(at))) first.focus();
    }, function (err) {
      if (current === 'docs') docsError(err);
    });
  }

  function openDocs(mode) {
    if (current === 'docs' && docsMode === 'upload' && mode === 'list') return;
    docsMode = mode;
    const upload = mode === 'upload';
    $('docs-title').textContent = I18n.t(upload ? 'upload.title' : 'documents.title');
    $('docs-hint').textContent = I18n.t(upload ? 'upload.hint' : 'documents.hint');
    $('docs-close').textContent = I18n.t(upload ? 'upload.cancel' : 'documents.close');
    $('docs-refresh').hidden = !upload;
    $('docs-scan-row').hidden = !scanner;
    $('docs-list').textContent = '';
    docsStatus('documents.loading');
    openOverlay('docs').then(function (shown) { if (shown) loadDocs(); });
  }

  function onDocsClick(ev) {
    const b = ev.target && ev.target.closest ? ev.target.closest('button[data-act]') : null;
    if (!b || current !== 'docs') return;
    const id = b.dataset.id;
    if (b.dataset.act === 'open') {
      Shell.invoke('document_open', { id: id }).then(function () { docsMode = null; closeOverlay(false); }, docsError);
    } else if (b.dataset.act === 'print') {
      docsMode = null;
      askPrint(id);
    } else if (b.dataset.act === 'choose') {
      Shell.invoke('upload_choose', { id: id }).then(function () { docsMode = null; closeOverlay(false); }, docsError);
    }
  }

  function closeDocs() {
    if (current !== 'docs') return;
    if (docsMode === 'upload') Shell.fire('upload_choose', { id: null });
    docsMode = null;
    closeOverlay(true);
  }

  /* ---------- « Numériser un document » ---------- */

  let scanner = false;           // the référent says a scanner is connected ([printing] scanner)
  let scanFor = null;            // 'list' | 'upload': where the document goes once made
  let scanPages = [];            // the pages' pictures (data: URLs), in order, for this session
  let scanning = false;          // a page is being scanned

  function scanStatus(key, vars, isError) {
    $('scan-status').textContent = key ? I18n.t(key, vars || {}) : '';
    $('scan-status').classList.toggle('dialog-error', !!isError);
  }

  function scanError(err) {
    const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
    if (code === 'session-ended') return;
    let key = 'scan.error.internal';
    if (I18n.has('scan.error.' + code)) key = 'scan.error.' + code;
    else if (I18n.has('documents.error.' + code)) key = 'documents.error.' + code;
    if (current === 'scan') scanStatus(key, null, true);
  }

  function pageButton(key, act, n) {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'btn btn-secondary';
    b.textContent = I18n.t(key);
    b.setAttribute('aria-label', I18n.t(key) + ' : ' + I18n.t('scan.page', { n: n + 1 }));
    b.dataset.act = act;
    b.dataset.index = String(n);
    return b;
  }

  function renderScan() {
    const ol = $('scan-pages');
    ol.textContent = '';
    scanPages.forEach(function (src, i) {
      const li = document.createElement('li');
      li.className = 'scan-page';
      const img = document.createElement('img');
      img.alt = I18n.t('scan.page', { n: i + 1 });
      if (typeof src === 'string' && src.indexOf('data:image/jpeg;base64,') === 0) img.src = src;
      const name = document.createElement('span');
      name.className = 'scan-page-name';
      name.setAttribute('aria-hidden', 'true');
      name.textContent = I18n.t('scan.page', { n: i + 1 });
      li.appendChild(img);
      li.appendChild(name);
      li.appendChild(pageButton('scan.rotate', 'rotate', i));
      li.appendChild(pageButton('scan.retake', 'retake', i));
      li.appendChild(pageButton('scan.remove', 'remove', i));
      ol.appendChild(li);
    });
    $('scan-go').textContent = I18n.t(scanPages.length ? 'scan.go.more' : 'scan.go');
    $('scan-finish').hidden = !scanPages.length || scanning;
  }

  function setScanning(on) {
    scanning = on;
    $('scan-go').hidden = on;
    $('scan-stop').hidden = !on;
    $('scan-finish').hidden = on || !scanPages.length;
    $('scan-colour').disabled = on;
    Array.prototype.forEach.call($('scan-pages').querySelectorAll('button'), function (b) { b.disabled = on; });
  }

  function openScan(forWhat) {
    scanFor = forWhat;
    openOverlay('scan').then(function (shown) {
      if (!shown) return;
      renderScan();
      setScanning(false);
      $('scan-go').disabled = true;
      scanStatus('scan.searching');
      Shell.invoke('scan_open').then(function (st) {
        if (current !== 'scan') return;
        // Pages the shell no longer holds (never expected) are not shown.
        if (st && typeof st.pages === 'number' && st.pages < scanPages.length) { scanPages = scanPages.slice(0, st.pages); renderScan(); }
        $('scan-go').disabled = false;
        scanStatus('scan.ready', { scanner: st && st.scanner ? st.scanner : '' });
        $('scan-go').focus();
      }, function (err) {
        $('scan-go').disabled = false;
        scanError(err);
      });
    });
  }

  function scanPage(retake) {
    if (scanning || current !== 'scan') return;
    setScanning(true);
    scanStatus('scan.working');
    $('scan-stop').focus();
    Shell.invoke('scan_page', { colour: $('scan-colour').checked, retake: retake }).then(function (p) {
      scanPages[p.index] = p.preview;
      scanPages.length = p.pages;
      if (current !== 'scan') { scanning = false; return; }
      renderScan();
      setScanning(false);
      scanStatus('scan.added', { n: p.index + 1 });
      $('scan-go').focus();
    }, function (err) {
      scanning = false;
      if (current !== 'scan') return;
      setScanning(false);
      scanError(err);
      $('scan-go').focus();
    });
  }

  function stopScan() {
    if (scanning) Shell.fire('scan_stop');
  }

  function onScanClick(ev) {
    const b = ev.target && ev.target.closest ? ev.target.closest('button[data-act]') : null;
    if (!b || current !== 'scan' || scanning) return;
    const i = Number(b.dataset.index);
    if (!(i >= 0)) return;
    if (b.dataset.act === 'retake') {
      scanPage(i);
    } else if (b.dataset.act === 'rotate') {
      Shell.invoke('scan_rotate', { index: i }).then(function (p) {
        scanPages[p.index] = p.preview;
        renderScan();
        scanStatus('scan.rotated', { n: p.index + 1 });
        const again = $('scan-pages').querySelector('button[data-act="rotate"][data-index="' + p.index + '"]');
        if (again) again.focus();
      }, scanError);
    } else if (b.dataset.act === 'remove') {
      Shell.invoke('scan_remove', { index: i }).then(function (left) {
        scanPages.splice(i, 1);
        scanPages.length = Math.min(scanPages.length, typeof left === 'number' ? left : scanPages.length);
        renderScan();
        scanStatus('scan.removed');
        $('scan-go').focus();
      }, scanError);
    }
  }

  function finishScan() {
    if (scanning || current !== 'scan' || !scanPages.length) return;
    $('scan-finish').disabled = true;
    $('scan-go').disabled = true;
    scanStatus('scan.making');
    Shell.invoke('scan_finish').then(function (made) {
      $('scan-finish').disabled = false;
      $('scan-go').disabled = false;
      scanPages = [];
      if (current !== 'scan') return;
      if (scanFor === 'upload' && docsMode === 'upload') {
        // Straight to the site that asked for a file.
        Shell.invoke('upload_choose', { id: made.id }).then(function () { docsMode = null; closeOverlay(false); }, function (err) {
          openDocs('upload');
          docsError(err);
        });
      } else {
        scanMade = made && typeof made.name === 'string' ? made.name : null;
        openDocs('list');
      }
    }, function (err) {
      $('scan-finish').disabled = false;
      $('scan-go').disabled = false;
      scanError(err);
    });
  }

  let scanMade = null;

  function setScanner(on) {
    scanner = on;
    $('btn-scan').hidden = !on;
  }           // the name of the document just made, said once above « Mes documents »

  function closeScan() {
    if (current !== 'scan') return;
    stopScan();
    if (scanFor === 'upload' && docsMode === 'upload') openDocs('upload');
    else closeOverlay(true);
  }

  /* ---------- « Session accompagnée » (the centre's team) ---------- */

  let teamMinutes = 30;

  function accompanyStatus(key, vars, isError) {
    $('accompany-status').textContent = key ? I18n.t(key, vars || {}) : '';
    $('accompany-status').classList.toggle('dialog-error', !!isError);
  }

  function setAccompanied(on) {
    $('btn-accompany').setAttribute('aria-pressed', on ? 'true' : 'false');
    $('accompany-badge').hidden = !on;
  }

  function openAccompany() {
    $('accompany-code').value = '';
    $('accompany-code').disabled = false;
    $('accompany-go').disabled = false;
    accompanyStatus(null);
    $('accompany-help').textContent = I18n.t('accompanied.help', { minutes: teamMinutes });
    openOverlay('accompany').then(function (shown) {
      if (!shown) return;
      Shell.invoke('accompany_state').then(function (st) {
        if (current !== 'accompany' || !st) return;
        teamMinutes = st.minutes || teamMinutes;
        $('accompany-help').textContent = I18n.t('accompanied.help', { minutes: teamMinutes });
        if (!st.set) {
          $('accompany-code').disabled = true;
          $('accompany-go').disabled = true;
          accompanyStatus('accompanied.not_set', null, true);
          $('accompany-cancel').focus();
        } else if (st.accompanied) {
          setAccompanied(true);
          accompanyStatus('accompanied.done', { minutes: teamMinutes });
        }
      }, function () {});
    });
  }

  function submitAccompany(ev) {
    if (ev) ev.preventDefault();
    if (current !== 'accompany' || $('accompany-go').disabled) return;
    const code = $('accompany-code').value;
    $('accompany-go').disabled = true;
    Shell.invoke('accompany', { code: code }).then(function (r) {
      $('accompany-code').value = '';
      $('accompany-go').disabled = false;
      if (current !== 'accompany' || !r) return;
      teamMinutes = r.minutes || teamMinutes;
      if (r.ok) {
        setAccompanied(true);
        accompanyStatus('accompanied.done', { minutes: teamMinutes });
        setTimeout(function () { if (current === 'accompany') closeOverlay(true); }, 1500);
        return;
      }
      const wait = r.wait || 0;
      const mins = Math.max(1, Math.ceil(wait / 60));
      if (r.state === 'wrong') accompanyStatus('accompanied.wrong', { left: r.left || 0, seconds: wait }, true);
      else if (r.state === 'wait') accompanyStatus('accompanied.wait', { seconds: wait }, true);
      else if (r.state === 'locked') accompanyStatus('accompanied.locked', { minutes: mins }, true);
      else if (r.state === 'unrecorded') accompanyStatus('accompanied.unrecorded', { minutes: mins }, true);
      else accompanyStatus('accompanied.not_set', null, true);
      $('accompany-code').focus();
    }, function () {
      $('accompany-go').disabled = false;
      accompanyStatus('scan.error.internal', null, true);
    });
  }

  function closeAccompany() {
    if (current !== 'accompany') return;
    $('accompany-code').value = '';
    closeOverlay(true);
  }

  /* ---------- outside the opening hours ---------- */

  let hoursNext = '';

  function fillClosed(usable) {
    $('closed-next').textContent = hoursNext;
    const place = helpData && helpData.centre && helpData.centre.help_place;
    $('closed-help').textContent = place ? I18n.t('hours.closed.help', { place: place }) : '';
    $('closed-use').hidden = !usable;
  }

  function onHours(p) {
    hoursNext = typeof p.next === 'string' ? p.next : '';
    if (p.mode === 'closed') {
      fillClosed(p.usable === true);
      openOverlay('closed');
    } else if (p.mode === 'dark') {
      openOverlay('dark');
    } else if (current === 'closed' || current === 'dark') {
      closeOverlay(false);
    }
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
      sayCountdown(s);
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

  /* ---------- a site asks for a user name and password ---------- */

  function askAuth(p) {
    const host = typeof p.host === 'string' ? p.host : '';
    $('auth-text').textContent = I18n.t(p.proxy === true ? 'auth.text.proxy' : 'auth.text', { host: host });
    $('auth-retry').hidden = p.retry !== true;
    $('auth-password').value = '';
    if (p.retry !== true) $('auth-user').value = '';
    openOverlay('auth');
  }

  function clearAuth() {
    $('auth-user').value = '';
    $('auth-password').value = '';
  }

  function submitAuth(ev) {
    if (ev) ev.preventDefault();
    if (current !== 'auth') return;
    const user = $('auth-user').value;
    const password = $('auth-password').value;
    clearAuth();
    Shell.fire('auth_answer', { user: user, password: password });
    closeOverlay(true);
  }

  function cancelAuth() {
    if (current !== 'auth') return;
    clearAuth();
    Shell.fire('auth_answer', {});
    closeOverlay(true);
  }

  /* ---------- « Écouter »: read aloud ---------- */

  let speaking = false;          // the voice is speaking (the shell says when it starts and ends)
  let spoke = false;             // the person used the voice in this session: the countdown is read to them too
  let speechStatusTimer = null;

  function speechStatus(key) {
    clearTimeout(speechStatusTimer);
    $('speech-status').textContent = key ? I18n.t(key) : '';
    if (key) speechStatusTimer = setTimeout(function () { $('speech-status').textContent = ''; }, 8000);
  }

  function speechError(err) {
    const code = err && typeof err === 'object' && typeof err.code === 'string' ? err.code : 'internal';
    const key = I18n.has('speech.error.' + code) ? 'speech.error.' + code : 'speech.error.internal';
    speechStatus(key);
    // Said as well as shown, for whoever cannot read it (unless the voice itself failed).
    if (code !== 'no-voice' && code !== 'internal') Shell.invoke('speech_say', { text: I18n.t(key) }).catch(function () {});
  }

  function listen(what) {
    spoke = true;
    speechStatus(null);
    return Shell.invoke('speech_read', { what: what }).catch(speechError);
  }

  function say(text) {
    spoke = true;
    speechStatus(null);
    return Shell.invoke('speech_say', { text: text }).catch(speechError);
  }

  /* « Écouter » while the voice speaks stops it. On a kiosk page it reads the page; on a site it
     is « Lire la sélection » (a site's page whole is menus and banners: the person chooses). */
  function onListen() {
    if (speaking) { Shell.fire('speech_stop'); return; }
    listen($('btn-listen').getAttribute('data-source') === 'selection' ? 'selection' : 'page');
  }

  function setContent(kioskPage) {
    const key = kioskPage ? 'toolbar.listen' : 'toolbar.read_selection';
    $('btn-listen').setAttribute('data-source', kioskPage ? 'page' : 'selection');
    $('btn-listen').querySelector('.icon').className = 'icon ' + (kioskPage ? 'icon-listen' : 'icon-read-selection');
    $('listen-label').setAttribute('data-i18n', key);
    $('listen-label').textContent = I18n.t(key);
  }

  function setSpeaking(on) {
    speaking = on;
    Array.prototype.forEach.call(document.querySelectorAll('#btn-listen, .dialog-listen'), function (b) {
      b.setAttribute('aria-pressed', String(on));
    });
  }

  function showVolume(st) {
    if (!st || typeof st.volume !== 'number') return;
    const max = typeof st.max === 'number' ? st.max : 5;
    Array.prototype.forEach.call(document.querySelectorAll('.volume-bars span'), function (b, i) {
      b.classList.toggle('on', i < st.volume);
    });
    $('volume-text').textContent = I18n.t('toolbar.volume.level', { level: st.volume, max: max });
    document.querySelector('.volume').setAttribute('data-level', String(st.volume));
  }

  function stepVolume(delta) { Shell.invoke('speech_volume', { delta: delta }).then(showVolume, function () {}); }
  function refreshVolume() { Shell.invoke('speech_state').then(showVolume, function () {}); }

  function shownChild(c) { return !c.hidden && c.getClientRects().length > 0; }

  /* A dialog's text as the person sees it: title, text, choices (its own « Écouter » left out:
     hidden for the moment of reading, no repaint happens in between). */
  function dialogText(d) {
    const own = d.querySelector('.dialog-listen');
    if (own) own.hidden = true;
    const text = Array.prototype.filter.call(d.children, shownChild)
      .map(function (c) { return c.innerText; }).join('\n');
    if (own) own.hidden = false;
    return text;
  }

  /* Every dialog but the countdown (where any touch means « Je suis encore là ») gets its own
     « Écouter », last of its buttons: the dialog keeps its height (its buttons stay on the screen). */
  function addListenButtons() {
    Array.prototype.forEach.call(document.querySelectorAll('.overlay .dialog'), function (d) {
      if (d.closest('#idle')) return;
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'btn btn-secondary dialog-listen';
      b.setAttribute('aria-pressed', 'false');
      const icon = document.createElement('span');
      icon.className = 'icon icon-listen';
      icon.setAttribute('aria-hidden', 'true');
      const label = document.createElement('span');
      label.setAttribute('data-i18n', 'toolbar.listen');
      b.appendChild(icon);
      b.appendChild(label);
      b.addEventListener('click', function () {
        if (speaking) { Shell.fire('speech_stop'); return; }
        say(dialogText(d));
      });
      const actions = d.querySelectorAll('.dialog-actions');
      (actions.length ? actions[actions.length - 1] : d).appendChild(b);
    });
  }

  /* The countdown, read when the person has used the voice in this session. */
  function sayCountdown(n) {
    if (!spoke) return;
    Shell.invoke('speech_say', {
      text: [I18n.t('idle.title'), countdownText(null, n), I18n.t('idle.still_here'), I18n.t('idle.hint')].join('\n'),
    }).catch(function () {});
  }

  /* ---------- shell events ---------- */

  function resetTextSize() {
    document.documentElement.style.removeProperty('font-size');
  }

  function setOffline(offline) {
    $('offline').textContent = offline ? I18n.t('toolbar.offline') : '';
  }

  /* A laptop borne's battery (`{percent, plugged, low}`, or null on a desktop PC). The level is plain
     text; only the low warning is announced (a live region would read every percent). */
  let battery = null;
  function showBattery(b) {
    if (b !== undefined) battery = (b && typeof b.percent === 'number') ? b : null;
    const el = $('battery');
    if (!battery) { el.textContent = ''; el.removeAttribute('role'); el.classList.remove('battery-low'); return; }
    const low = battery.low === true;
    // Two short lines in the pill (« Batterie faible » / « 12 % »); the advice for screen readers.
    const what = document.createElement('span');
    what.textContent = I18n.t(low ? 'toolbar.battery_low' : (battery.plugged ? 'toolbar.battery_plugged' : 'toolbar.battery'));
    const level = document.createElement('span');
    level.textContent = I18n.t('toolbar.battery_percent', { percent: battery.percent });
    el.replaceChildren(what, document.createTextNode(' '), level);
    if (low) {
      const hint = document.createElement('span');
      hint.className = 'visually-hidden';
      hint.textContent = ' ' + I18n.t('toolbar.battery_low_hint');
      el.appendChild(hint);
    }
    el.classList.toggle('battery-low', low);
    if (low) el.setAttribute('role', 'status'); else el.removeAttribute('role');
  }

  function onKioskEvent(ev) {
    const p = ev && ev.payload;
    if (!p || typeof p !== 'object') return;
    ready.then(function () {
      switch (p.kind) {
        case 'idle-warning': startIdle(p.seconds); break;
        case 'idle-cancel': if (current === 'idle') closeOverlay(true); break;
        case 'session-ended':
          setAccompanied(false); if (current === 'accompany') $('accompany-code').value = '';
          docsMode = null; endPrinting = false; scanPages = []; scanning = false; scanFor = null; scanMade = null; clearAuth(); closeOverlay(false); resetTextSize(); showDisplay(null);
          spoke = false; setSpeaking(false); speechStatus(null);
          I18n.load('fr').then(function () { refreshVolume(); showBattery(); }); refreshData();
          break;
        case 'speech': setSpeaking(p.speaking === true); break;
        case 'content': setContent(p.kiosk !== false); break;
        case 'display': showDisplay(p); break;
        case 'language':
          if (typeof p.lang === 'string') I18n.load(p.lang).then(function () {
            refreshVolume();
            showBattery();
            if (current === 'help') fillHelp();
            if (current === 'scan') renderScan();
          });
          break;
        case 'offline': setOffline(p.value === true); break;
        case 'print-request': askPrint(); break;
        case 'upload-request': openDocs('upload'); break;
        case 'auth-request': askAuth(p); break;
        case 'auth-cancelled': if (current === 'auth') { clearAuth(); closeOverlay(true); } break;
        case 'documents-changed': if (current === 'docs' && docsMode === 'list') loadDocs(); break;
        case 'hours': onHours(p); break;
        case 'battery': showBattery(p); break;
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
    if (current === 'print') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); closePrint(); }
      else if (ev.key === 'Tab') trapTab(ev);
    }
    if (current === 'help' || current === 'display' || current === 'outcome') {
      if (ev.key === 'Escape' || ev.key === 'Esc') {
        ev.preventDefault();
        if (current === 'outcome') closeOverlay(true);
        else if (current === 'help') closeHelp();
        else closeDisplay();
      } else if (ev.key === 'Tab') trapTab(ev);
    }
    if (current === 'docs') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); closeDocs(); }
      else if (ev.key === 'Tab') trapTab(ev);
    }
    if (current === 'auth') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); cancelAuth(); }
      else if (ev.key === 'Tab') trapTab(ev);
    }
    if (current === 'dark') { ev.preventDefault(); return; }   // the shell wakes the screen on any key
    if (current === 'closed' && ev.key === 'Tab') trapTab(ev);
    if (current === 'accompany') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); closeAccompany(); }
      else if (ev.key === 'Tab') trapTab(ev);
    }
    if (current === 'scan') {
      if (ev.key === 'Escape' || ev.key === 'Esc') { ev.preventDefault(); if (scanning) stopScan(); else closeScan(); }
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
    $('btn-print').addEventListener('click', function () { askPrint(null); });
    $('btn-docs').addEventListener('click', function () { openDocs('list'); });
    $('btn-scan').addEventListener('click', function () { openScan('list'); });
    $('confirm-print').addEventListener('click', printBeforeLeaving);
    $('btn-accompany').addEventListener('click', openAccompany);
    $('closed-use').addEventListener('click', function () { Shell.fire('hours_use_anyway'); });
    $('closed-admin').addEventListener('click', function () { Shell.fire('hours_admin'); });
    $('accompany-form').addEventListener('submit', submitAccompany);
    $('accompany-cancel').addEventListener('click', closeAccompany);
    $('docs-scan').addEventListener('click', function () { if (current === 'docs') openScan(docsMode === 'upload' ? 'upload' : 'list'); });
    $('scan-go').addEventListener('click', function () { scanPage(null); });
    $('scan-stop').addEventListener('click', stopScan);
    $('scan-finish').addEventListener('click', finishScan);
    $('scan-close').addEventListener('click', closeScan);
    $('scan-pages').addEventListener('click', onScanClick);
    $('docs-list').addEventListener('click', onDocsClick);
    $('docs-close').addEventListener('click', closeDocs);
    $('docs-refresh').addEventListener('click', function () { if (current === 'docs') { docsStatus('documents.loading'); loadDocs(); } });
    $('print-go').addEventListener('click', submitPrint);
    $('print-cancel').addEventListener('click', closePrint);
    $('print-less').addEventListener('click', function () { setCopies(copies() - 1); });
    $('print-more').addEventListener('click', function () { setCopies(copies() + 1); });
    $('print-all').addEventListener('change', onRangeChoice);
    $('print-some').addEventListener('change', onRangeChoice);
    $('print-form').addEventListener('submit', function (ev) { ev.preventDefault(); submitPrint(); });
    $('btn-help').addEventListener('click', askHelp);
    $('help-print').addEventListener('click', printHelp);
    $('help-close').addEventListener('click', closeHelp);
    $('btn-display').addEventListener('click', askDisplay);
    $('btn-listen').addEventListener('click', onListen);
    $('btn-volume-down').addEventListener('click', function () { stepVolume(-1); });
    $('btn-volume-up').addEventListener('click', function () { stepVolume(1); });
    addListenButtons();
    $('display-close').addEventListener('click', closeDisplay);
    Array.prototype.forEach.call(document.querySelectorAll('.display-size'), function (b) {
      b.addEventListener('click', function () { setDisplay(Number(b.getAttribute('data-size')), display.contrast); });
    });
    $('display-contrast').addEventListener('click', function () { setDisplay(display.text, !display.contrast); });
    Array.prototype.forEach.call(document.querySelectorAll('.outcome-answer'), function (b) {
      b.addEventListener('click', function () { endWith(b.getAttribute('data-outcome')); });
    });
    $('auth-form').addEventListener('submit', submitAuth);
    $('auth-cancel').addEventListener('click', cancelAuth);
    $('btn-end').addEventListener('click', askEnd);
    $('confirm-yes').addEventListener('click', confirmEnd);
    $('confirm-no').addEventListener('click', cancelEnd);
    $('idle-here').addEventListener('click', stillHere);
    document.addEventListener('keydown', onKeyDown, true);
    document.addEventListener('click', onClick, true);
    document.addEventListener('focusin', onFocusIn);

    ready = Shell.portalData(3000).then(function (data) {
      if (data) {
        helpData = { centre: data.centre || null, help: data.help || null };
        askOutcome = !!(data.help && data.help.ask_outcome === true);
        setScanner(data.scanner === true);
      }
      return I18n.load(data && data.language);
    }).catch(function () {});
    ready.then(function () { return Shell.invoke('network_offline'); }).then(setOffline, function () {});
    ready.then(refreshVolume);
    ready.then(function () { return Shell.invoke('battery_state'); }).then(showBattery, function () {});
    Shell.listen('kiosk', onKioskEvent);
    // What the opening hours show now (the toolbar may start after the shell's first word on it).
    ready.then(function () { Shell.fire('hours_now'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
