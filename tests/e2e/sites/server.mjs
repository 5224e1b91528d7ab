// The test sites of the end-to-end suite: one Node process, no npm dependency.
//
// Serves every test host of sites/hosts.mjs on its own loopback address, port 443 (TLS, the leaf
// certificate made by setup.sh) and port 80, routing by Host header; the evil addresses and the
// institution's also listen on 8443, so "wrong port" vectors reach something when nothing stops them.
//
// Every request and every TCP connection is logged. A *violation* is anything the kiosk must never
// send: any contact with an evil address or an evil name, a non-default port, plain http to a host
// not marked http-ok, or a host name the server does not know (an IP literal). The escape tests
// assert that the violations stay empty.
//
// Control API on http://127.0.0.1:8099:
//   GET  /health                    {"ok":true, "listening":[…]}
//   GET  /log?host=evil.test        requests received for that host since the last reset
//   GET  /log?role=evil | /log      by role | everything
//   GET  /violations                requests the kiosk must never have sent
//   GET  /connections[?violations=1] TCP connections (evil contact without any request shows here)
//   POST /reset                     forgets the logs
//   GET  /sessions                  signed-in sessions of /login: [{sid, name}] (the wipe suite greps
//                                   the kiosk's disk for the HttpOnly cookie value)
//   GET  /uploads                   files posted to /docs/upload: [{filename, size, sha256, text}]
//   POST /offer?name=N&type=T       the body becomes a download of the institution's, at
//                                   /docs/offered/N (T: image/jpeg, image/png or application/pdf)
//   GET  /flood                     WebSockets of the flood page (flood.test.mjs): {open, stalled, peak,
//                                   accepted, stalledSeen}; peak: most answered ones open at once
//
// Usage: node tests/e2e/sites/server.mjs   (env: E2E_WORK=/tmp/borne-e2e, E2E_CERT_DIR=$E2E_WORK/certs)

import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

import { HOSTS, IPS, EVIL_IPS, ODD_PORT, ODD_PORT_IPS, CONTROL, roleOfHost } from './hosts.mjs';
import { PAGES, FRAMES } from './vectors.mjs';
import { buildPdf, buildLyingPdf } from './pdf.mjs';
import { uploadForm, uploadFrame, received } from './upload-forms.mjs';

const WORK = process.env.E2E_WORK || '/tmp/borne-e2e';
const CERT_DIR = process.env.E2E_CERT_DIR || path.join(WORK, 'certs');
const QUIET = process.env.E2E_QUIET === '1';

// ------------------------------------------------------------------------------------------------
// Logs

let seq = 0;
let requests = [];
let connections = [];
// Open sockets to refused addresses: dropped at each reset, so that a connection the browser keeps in
// its pool (a preconnect, say) cannot hide the next vector's new one.
const refusedSockets = new Set();
const counters = new Map(); // path -> times served (for cache tests)
const sessions = new Map(); // sid -> name (login cookie)
let uploads = []; // files posted to /docs/upload (documents.test.mjs)
// Files a test hands the site to offer as downloads at /docs/offered/<name> (endprint.test.mjs).
const offered = new Map(); // name -> {type, bytes}
const OFFERED_TYPES = new Set(['image/jpeg', 'image/png', 'application/pdf']);
// The flood page's WebSockets (flood.test.mjs): answered and held open, or never answered (stalled).
const flood = { open: new Set(), stalled: new Set(), peak: 0, accepted: 0, stalledSeen: 0 };

function ipRole(ip) {
  for (const h of Object.values(HOSTS)) if (h.ip === ip) return h.role;
  return null;
}

/** True when the kiosk must never have sent this (see the header comment). */
function isViolation({ ip, port, host, scheme }) {
  if (EVIL_IPS.includes(ip)) return true;
  if (port !== 443 && port !== 80) return true;
  const h = HOSTS[host];
  if (!h || h.role === 'evil') return true;
  if (h.ip !== ip) return true;
  if (scheme === 'http' && !h.http) return true;
  return false;
}

function normHost(raw) {
  return String(raw || '')
    .toLowerCase()
    .replace(/:\d+$/, '')
    .replace(/\.$/, '');
}

function record(req, scheme, extra = {}) {
  const sock = req.socket;
  const ip = String(sock.localAddress || '').replace(/^::ffff:/, '');
  const port = sock.localPort;
  const host = normHost(req.headers.host);
  const entry = {
    seq: ++seq,
    time: new Date().toISOString(),
    scheme,
    ip,
    port,
    host,
    method: req.method,
    path: req.url,
    dest: req.headers['sec-fetch-dest'] || null,
    mode: req.headers['sec-fetch-mode'] || null,
    referer: req.headers.referer || null,
    contentLength: req.headers['content-length'] ? Number(req.headers['content-length']) : 0,
    cookie: req.headers.cookie || null, // the wipe suite checks what a later person's requests carry
    authorization: authUser(req.headers.authorization), // the user name a Basic header carries, or null
    ...extra,
  };
  entry.role = roleOfHost(host) || ipRole(ip);
  entry.violation = isViolation(entry);
  requests.push(entry);
  if (!QUIET && entry.violation) {
    console.log(`VIOLATION ${entry.method} ${scheme}://${req.headers.host}${req.url} (on ${ip}:${port})`);
  }
  return entry;
}

/** kind: 'tcp' (accepted), 'tls' (handshake done; sni = the host name the client sent), 'tls-error'. */
/** The user name of a Basic `Authorization` header ('?' for another scheme), or null without one. */
function authUser(header) {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)$/.exec(header);
  if (!m) return '?';
  return Buffer.from(m[1], 'base64').toString('utf8').split(':')[0];
}

function recordConnection(sock, scheme, kind = 'tcp', extra = {}) {
  const ip = String(sock.localAddress || '').replace(/^::ffff:/, '');
  const port = sock.localPort;
  const violation = EVIL_IPS.includes(ip) || (port !== 443 && port !== 80) || (port === 80 && ipRole(ip) !== 'plain');
  connections.push({ seq: ++seq, time: new Date().toISOString(), kind, scheme, ip, port, violation, ...extra });
  if (violation && kind === 'tcp') {
    refusedSockets.add(sock);
    sock.once('close', () => refusedSockets.delete(sock));
  }
}

// ------------------------------------------------------------------------------------------------
// Content

/** The password /basic accepts (any user name). */
const BASIC_PASSWORD = 'motdepasse';

const PIXEL = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
const ATTESTATION = buildPdf({ title: 'Attestation de test', text: 'Attestation de test' });
const INLINE_PDF = buildPdf({
  title: 'Document avec lien',
  text: 'Document de test avec un lien',
  linkUri: 'https://evil.test/from-pdf',
});

// The print suite's lying PDF: three pages whose page tree claims one.
const LYING_PDF = buildLyingPdf({ pages: 3, claimed: 1, text: 'Page qui ment' });

// The documents suite's PDFs: one text each, so pdftotext tells which one came out of the printer.
const DOC_PDFS = {
  attachment: buildPdf({ title: 'Attestation CAF de test', text: 'Attestation de paiement par lien' }),
  post: buildPdf({ title: 'Releve de test', text: 'Releve de situation par formulaire' }),
  blob: buildPdf({ title: 'Quittance de test', text: 'Quittance construite par script' }),
  inline: buildPdf({ title: 'Avis de test', text: 'Avis affiche dans la page' }),
};

// Like CAF: the page fetches the PDF, builds a blob: URL and clicks a link with `download` on it.
const BLOB_SCRIPT = `
document.getElementById('doc-blob').addEventListener('click', function () {
  fetch('/docs/blob-source', { credentials: 'same-origin' })
    .then(function (r) { return r.blob(); })
    .then(function (b) {
      var url = URL.createObjectURL(new Blob([b], { type: 'application/pdf' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = 'quittance-loyer.pdf';
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 30000);
      done('clicked');
    }, function (e) { done('error ' + e); });
});
`;

/** The parts of a multipart/form-data body (binary safe, latin1 in and out). */
function multipartFiles(body, contentType) {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType || '');
  if (!boundary) return [];
  const sep = `--${boundary[1] || boundary[2]}`;
  const files = [];
  for (const part of body.toString('latin1').split(sep)) {
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd < 0) continue;
    const head = part.slice(0, headEnd);
    const name = /filename="([^"]*)"/.exec(head);
    if (!name) continue;
    const content = Buffer.from(part.slice(headEnd + 4).replace(/\r\n$/, ''), 'latin1');
    files.push({
      filename: name[1],
      size: content.length,
      sha256: crypto.createHash('sha256').update(content).digest('hex'),
      text: content.toString('latin1').slice(0, 200),
    });
  }
  return files;
}

function readRawBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

const esc = (s) =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(title, body, head = '') {
  return `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>${esc(title)}</title>${head}
<style>body{font-family:sans-serif;margin:2em;font-size:18px} a,button{font-size:18px}</style>
<script>function done(r) { document.documentElement.dataset.done = r; }</script>
</head><body>
${body}
</body></html>
`;
}

function send(res, status, type, body, headers = {}) {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(String(body), 'utf8');
  res.writeHead(status, {
    'Content-Type': type,
    'Content-Length': buf.length,
    'Cache-Control': 'no-store',
    ...headers,
  });
  res.end(buf);
}

const html = (res, title, body, head = '', headers = {}) =>
  send(res, 200, 'text/html; charset=utf-8', page(title, body, head), headers);

function redirect(res, code, to) {
  res.writeHead(code, { Location: to, 'Content-Length': 0, 'Cache-Control': 'no-store' });
  res.end();
}

function parseCookies(req) {
  const out = {};
  for (const part of String(req.headers.cookie || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}

// Storage page: writes everything a browser can keep about a person, then shows what worked.
const STORAGE_SCRIPT = `
(async function () {
  var mark = new URLSearchParams(location.search).get('v') || 'marque';
  var out = {};
  function step(name, fn) { return Promise.resolve().then(fn).then(function () { out[name] = 'ok'; },
    function (e) { out[name] = 'error: ' + e; }); }
  await step('localStorage', function () { localStorage.setItem('borne-test', mark); });
  await step('sessionStorage', function () { sessionStorage.setItem('borne-test', mark); });
  await step('jsCookie', function () {
    document.cookie = 'jsmark=' + encodeURIComponent(mark) + '; path=/; Secure; SameSite=Lax; max-age=86400';
  });
  await step('indexedDB', function () {
    return new Promise(function (ok, ko) {
      var r = indexedDB.open('borne-test', 1);
      r.onupgradeneeded = function () { r.result.createObjectStore('kv'); };
      r.onerror = function () { ko(r.error); };
      r.onsuccess = function () {
        var tx = r.result.transaction('kv', 'readwrite');
        tx.objectStore('kv').put(mark, 'mark');
        tx.oncomplete = function () { r.result.close(); ok(); };
        tx.onerror = function () { ko(tx.error); };
      };
    });
  });
  await step('serviceWorker', async function () {
    if (!navigator.serviceWorker) throw new Error('no navigator.serviceWorker');
    await navigator.serviceWorker.register('/sw.js', {scope: '/'});
    await navigator.serviceWorker.ready;
  });
  await step('cacheApi', async function () {
    if (!self.caches) throw new Error('no caches');
    var c = await caches.open('borne-test');
    await c.add('/cached-page?v=' + encodeURIComponent(mark));
  });
  document.getElementById('done').textContent = JSON.stringify(out);
  document.body.dataset.ready = '1';
})();`;

// Whoami page: reports, as JSON in <pre id="state">, everything of the person a page can still find.
const WHOAMI_SCRIPT = `
(async function () {
  var s = {cookies: document.cookie, localStorage: {}, sessionStorage: {}, indexedDB: {},
           serviceWorkers: [], caches: {}, historyLength: history.length, errors: []};
  try { for (var i = 0; i < localStorage.length; i++) { var k = localStorage.key(i); s.localStorage[k] = localStorage.getItem(k); } }
  catch (e) { s.errors.push('localStorage: ' + e); }
  try { for (var j = 0; j < sessionStorage.length; j++) { var k2 = sessionStorage.key(j); s.sessionStorage[k2] = sessionStorage.getItem(k2); } }
  catch (e) { s.errors.push('sessionStorage: ' + e); }
  try {
    var dbs = indexedDB.databases ? await indexedDB.databases() : [];
    for (var d of dbs) {
      s.indexedDB[d.name] = await new Promise(function (ok) {
        var r = indexedDB.open(d.name);
        r.onerror = function () { ok('error: ' + r.error); };
        r.onsuccess = function () {
          var db = r.result, res = {};
          var names = Array.prototype.slice.call(db.objectStoreNames);
          if (!names.length) { db.close(); return ok(res); }
          var tx = db.transaction(names, 'readonly');
          names.forEach(function (n) {
            var q = tx.objectStore(n).getAll();
            q.onsuccess = function () { res[n] = q.result; };
          });
          tx.oncomplete = function () { db.close(); ok(res); };
          tx.onerror = function () { db.close(); ok('error: ' + tx.error); };
        };
      });
    }
  } catch (e) { s.errors.push('indexedDB: ' + e); }
  try {
    if (navigator.serviceWorker) {
      var regs = await navigator.serviceWorker.getRegistrations();
      s.serviceWorkers = regs.map(function (r) { return r.scope; });
    }
  } catch (e) { s.errors.push('serviceWorker: ' + e); }
  try {
    if (self.caches) {
      for (var name of await caches.keys()) {
        var c = await caches.open(name);
        s.caches[name] = (await c.keys()).map(function (r) { return r.url; });
      }
    }
  } catch (e) { s.errors.push('caches: ' + e); }
  document.getElementById('state').textContent = JSON.stringify(s, null, 1);
  document.body.dataset.ready = '1';
})();`;

const SW_SCRIPT = `
self.addEventListener('install', function (e) { self.skipWaiting(); });
self.addEventListener('activate', function (e) { e.waitUntil(self.clients.claim()); });
self.addEventListener('fetch', function (e) { /* network as usual */ });
`;

const SW_EVIL_SCRIPT = `
self.addEventListener('install', function (e) {
  e.waitUntil(fetch('https://evil.test/service-worker-fetch', {mode: 'no-cors'}).catch(function () {}));
});
`;

const WORKER_EVIL_SCRIPT = `
fetch('https://evil.test/worker-fetch', {mode: 'no-cors'})
  .then(function () { postMessage('load'); }, function () { postMessage('error'); });
`;

function institutionHome(host) {
  const links = [
    ['/login?name=Alice', 'Se connecter (Alice)'],
    ['/account', 'Mon compte'],
    ['/storage?v=marque', 'Écrire le stockage'],
    ['/whoami', 'Ce que la page sait'],
    ['/download', 'Télécharger une attestation'],
    ['/inline.pdf', 'Voir un PDF'],
    ['/cacheable', 'Page en cache'],
    ['https://docs.institution.test/', 'Documentation'],
    ['/v/', 'Pages des vecteurs'],
    ['/basic', 'Espace protégé'],
    ['/visited', 'Page visitée'],
    ['/links', 'Deux liens'],
    ['/close', 'Fermer la connexion'],
  ];
  return page(
    `Institution de test — ${host}`,
    `<h1 id="title">Institution de test</h1><p id="host">${esc(host)}</p>
<img id="logo" src="/pixel.png" width="16" height="16" alt="">
<ul>${links.map(([h, t]) => `<li><a href="${esc(h)}">${esc(t)}</a></li>`).join('')}</ul>`,
  );
}

async function institution(req, res, url, host) {
  const p = url.pathname;
  const q = url.searchParams;
  if (p === '/' || p === '/index.html') return send(res, 200, 'text/html; charset=utf-8', institutionHome(host));
  // « Lire la sélection » (speech.test.mjs): a paragraph to select. The page's own script replaces
  // getSelection and Selection's toString with empty ones: the kiosk reads the selection in a script
  // world of its own, where the page cannot change what it reads.
  if (p === '/lecture') {
    return html(res, 'Votre attestation',
      `<h1 id="title">Votre attestation de paiement</h1>
<p id="para">Pour obtenir votre attestation de paiement, connectez-vous à votre espace personnel avec votre numéro
d'allocataire et votre code confidentiel. Choisissez ensuite « Mes attestations », puis le mois qui vous intéresse,
et enregistrez le document sur la borne pour l'imprimer.</p>
<p id="other">Une autre ligne, qui n'est pas sélectionnée.</p>`,
      `<script>window.getSelection = function () { return { toString: function () { return ''; }, rangeCount: 0 }; };
Selection.prototype.toString = function () { return ''; };</script>`);
  }
  // The catalogue watch (audit.test.mjs): a tile's entry page that now also loads a script from
  // a host its rules do not list (www.mairie.test), which opens a window there.
  if (p === '/audit/news') {
    return html(res, 'Actualités', '<h1 id="title">Actualités</h1><p id="widget">…</p>',
      '<script src="https://www.mairie.test/audit/widget.js" defer></script>');
  }
  // A hostile page (flood.test.mjs): opens 4 WebSockets to idp.test whose handshake is never answered
  // (half-open, stalled), then `n` at once to this host (answered and held open), and leaves a trace
  // in its storage. The stalled ones go first: WebKit queues a page's connections in order, and the
  // flood's would keep them waiting.
  if (p === '/flood') {
    return html(res, 'Inondation', `<h1 id="title">Inondation</h1>
<p>Ouvertes <span id="opened">0</span>, en échec <span id="failed">0</span>, fermées <span id="closed">0</span>, lancées <span id="started">0</span></p>
<script src="/flood.js?n=${Number(q.get('n') || 1000)}"></script>`);
  }
  if (p === '/flood.js') {
    const n = Number(q.get('n') || 1000);
    return send(res, 200, 'application/javascript', `(function () {
  localStorage.setItem('flood-trace', 'left by the flood page');
  var counts = { opened: 0, failed: 0, closed: 0, started: 0 };
  window.floodSockets = [];
  function show() { for (var k in counts) document.getElementById(k).textContent = counts[k]; }
  for (var i = 0; i < ${n} + 4; i++) {
    var url = i < 4 ? 'wss://idp.test/flood/ws-stall?i=' + i : 'wss://' + location.host + '/flood/ws?i=' + i;
    try {
      var ws = new WebSocket(url);
      counts.started++;
      ws.onopen = function () { counts.opened++; show(); };
      ws.onerror = function () { counts.failed++; show(); };
      ws.onclose = function () { counts.closed++; show(); };
      window.floodSockets.push(ws);
    } catch (e) { counts.failed++; }
  }
  window.floodCounts = counts;
  show();
})();`);
  }
  if (p === '/blank') return html(res, 'Institution — page vide', `<h1 id="title">Institution — page vide</h1><p id="from">${esc(q.get('from') || '')}</p>`);
  if (p === '/pixel.png' || p === '/favicon.ico') return send(res, 200, 'image/png', PIXEL);
  if (p === '/data.json') {
    return send(res, 200, 'application/json', JSON.stringify({ ok: true, host }), {
      'Access-Control-Allow-Origin': '*',
    });
  }
  if (p === '/redirect') {
    const code = Number(q.get('code') || 302);
    return redirect(res, [301, 302, 303, 307, 308].includes(code) ? code : 302, q.get('to') || '/');
  }
  if (p === '/meta') {
    const delay = Number(q.get('delay') || 0);
    return html(res, 'Redirection', '<p>Redirection…</p>', `<meta http-equiv="refresh" content="${delay};url=${esc(q.get('to') || '/')}">`);
  }
  if (p === '/echo') {
    const body = req.method === 'POST' ? await readBody(req) : '';
    return html(res, 'Écho', `<h1 id="title">Écho</h1><pre id="echo">${esc(JSON.stringify({ method: req.method, query: url.search, body }))}</pre>`);
  }
  // A site's own print button (print.test.mjs): window.print() must open the kiosk's dialog.
  if (p === '/imprimer') {
    return html(res, 'Attestation à imprimer', `<button id="print-me" type="button" style="font-size:2rem;padding:1rem 2rem">Imprimer mon attestation</button>
<h1 id="title">Attestation de droits</h1><script src="/imprimer.js"></script>`);
  }
  if (p === '/imprimer.js') {
    return send(res, 200, 'application/javascript', "document.getElementById('print-me').addEventListener('click', function () { window.print(); });");
  }
  // Network faults (netfault.test.mjs): a server error, and a page that answers only after 10 s.
  if (p === '/fault/503') return send(res, 503, 'text/html; charset=utf-8', page('Indisponible', '<h1>503</h1>'), { 'Retry-After': '60' });
  if (p === '/fault/stall') {
    await new Promise((r) => setTimeout(r, 10000));
    if (res.destroyed) return undefined;
    return html(res, 'Enfin', '<h1 id="title">Réponse tardive</h1>');
  }
  if (p === '/v/' || p === '/v') {
    return html(res, 'Vecteurs', `<ul>${Object.keys(PAGES).map((n) => `<li><a href="/v/${n}">${n}</a></li>`).join('')}</ul>`);
  }
  if (p.startsWith('/v/') && Object.hasOwn(PAGES, p.slice(3))) {
    const name = p.slice(3);
    const v = PAGES[name];
    return html(res, `Vecteur ${name}`, `<h1 id="title">Vecteur ${esc(name)}</h1>\n${v.body}`, v.head || '');
  }
  if (p.startsWith('/f/') && Object.hasOwn(FRAMES, p.slice(3))) {
    const v = FRAMES[p.slice(3)];
    return html(res, `Cadre ${p.slice(3)}`, v.body, v.head || '');
  }
  if (p === '/callback') {
    return html(res, 'Retour de connexion', `<h1 id="title">Retour de l'IdP</h1><p id="code">${esc(q.get('code') || '')}</p><p id="state">${esc(q.get('state') || '')}</p>`);
  }

  // --- the wipe suite's pages ---
  if (p === '/login') {
    let name = q.get('name');
    if (req.method === 'POST') name = new URLSearchParams(await readBody(req)).get('name');
    if (!name) {
      return html(res, 'Connexion', `<h1 id="title">Connexion</h1><form method="post" action="/login">
<label>Nom <input id="name" name="name" value=""></label><button id="submit">Se connecter</button></form>`);
    }
    const sid = crypto.randomBytes(12).toString('hex');
    sessions.set(sid, name);
    const cookies = [
      `sid=${sid}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=86400`,
      `prenom=${encodeURIComponent(name)}; Path=/; Secure; SameSite=Lax; Max-Age=86400`,
    ];
    if (req.method === 'POST') {
      res.writeHead(303, { Location: '/account', 'Set-Cookie': cookies, 'Content-Length': 0, 'Cache-Control': 'no-store' });
      return res.end();
    }
    return html(res, 'Connecté', `<h1 id="title">Bienvenue</h1><p id="status">Connecté : ${esc(name)}</p><a id="account" href="/account">Mon compte</a>`, '', { 'Set-Cookie': cookies });
  }
  if (p === '/logout') {
    const sid = parseCookies(req).sid;
    if (sid) sessions.delete(sid);
    return html(res, 'Déconnexion', '<p id="status">Non connecté</p>', '', {
      'Set-Cookie': ['sid=; Path=/; Secure; HttpOnly; Max-Age=0', 'prenom=; Path=/; Secure; Max-Age=0'],
    });
  }
  if (p === '/basic') {
    // HTTP Basic authentication (the browser's own dialog; in the kiosk, the toolbar's).
    const user = authUser(req.headers.authorization);
    const pass = req.headers.authorization ? Buffer.from(req.headers.authorization.split(' ')[1] || '', 'base64').toString('utf8').split(':').slice(1).join(':') : '';
    if (!user || user === '?' || pass !== BASIC_PASSWORD) {
      return send(res, 401, 'text/html; charset=utf-8', page('Accès refusé', '<h1 id="title">Accès refusé</h1><p id="status">Non authentifié</p>'),
        { 'WWW-Authenticate': 'Basic realm="Espace de test", charset="UTF-8"', 'Cache-Control': 'no-store' });
    }
    return html(res, 'Espace protégé', `<h1 id="title">Espace protégé</h1><p id="status">Authentifié : ${esc(user)}</p>`, '', { 'Cache-Control': 'no-store' });
  }
  if (p === '/visited') {
    // It also writes the origin's local storage: WebKit then keeps a folder for this origin on disk.
    return html(res, 'Page visitée', `<h1 id="title">Page visitée</h1><p id="who">${esc(q.get('who') || '')}</p>` +
      '<script>try { localStorage.setItem("visited", String(Date.now())); } catch (e) {}</script>');
  }
  if (p === '/links') {
    // Two big links, painted by :visited only (getComputedStyle hides :visited from scripts).
    const link = (id, href) => `<a id="${id}" class="l" href="${esc(href)}">&nbsp;</a>`;
    return html(res, 'Deux liens',
      `<style>a.l{display:block;width:300px;height:80px;margin:20px;background-color:rgb(200,0,0);text-decoration:none}a.l:visited{background-color:rgb(0,0,200)}</style>` +
      link('la', q.get('a') || '/visited') + link('lb', q.get('b') || '/visited?never'));
  }
  if (p === '/close') {
    // Ends the keep-alive connection: the next request opens a new TLS connection (resumed or not).
    return html(res, 'Fin de connexion', '<p id="status">Connexion fermée</p>', '', { Connection: 'close' });
  }
  if (p === '/account') {
    const name = sessions.get(parseCookies(req).sid);
    const status = name ? `Connecté : ${esc(name)}` : 'Non connecté';
    return html(res, 'Mon compte', `<h1 id="title">Mon compte</h1><p id="status">${status}</p>`);
  }
  if (p === '/storage') {
    return html(res, 'Stockage', `<h1 id="title">Stockage</h1><pre id="done"></pre><script>${STORAGE_SCRIPT}</script>`);
  }
  if (p === '/whoami') {
    return html(res, 'Ce que la page sait', `<h1 id="title">Ce que la page sait</h1><pre id="state"></pre><script>${WHOAMI_SCRIPT}</script>`);
  }
  if (p === '/sw.js') return send(res, 200, 'application/javascript', SW_SCRIPT, { 'Cache-Control': 'no-cache' });
  if (p === '/sw-evil.js') return send(res, 200, 'application/javascript', SW_EVIL_SCRIPT);
  if (p === '/worker-evil.js') return send(res, 200, 'application/javascript', WORKER_EVIL_SCRIPT);
  if (p === '/cached-page') {
    // Cacheable: WebKit's Cache API keeps no entry for a no-store response.
    return html(res, 'Page mise en cache', `<p id="mark">${esc(q.get('v') || '')}</p>`, '', { 'Cache-Control': 'max-age=3600' });
  }
  if (p === '/cacheable') {
    const key = `${host}${p}`;
    const n = (counters.get(key) || 0) + 1;
    counters.set(key, n);
    return send(res, 200, 'text/html; charset=utf-8',
      page('Page en cache', `<h1 id="title">Page en cache</h1><p id="served">${n}</p>`),
      { 'Cache-Control': 'public, max-age=3600', 'Last-Modified': new Date(Date.now() - 3600e3).toUTCString() });
  }
  if (p === '/download') {
    const name = (q.get('name') || 'attestation-test.pdf').replace(/[^A-Za-z0-9._-]/g, '_');
    return send(res, 200, 'application/pdf', ATTESTATION, { 'Content-Disposition': `attachment; filename="${name}"` });
  }
  if (p === '/inline.pdf') return send(res, 200, 'application/pdf', INLINE_PDF, { 'Content-Disposition': 'inline; filename="document.pdf"' });
  if (p === '/lying-count.pdf') return send(res, 200, 'application/pdf', LYING_PDF, { 'Content-Disposition': 'inline; filename="pages.pdf"' });

  // --- the documents suite's pages: the four ways a PDF reaches a person, and an upload form ---
  if (p === '/docs/' || p === '/docs') {
    return html(res, 'Mes démarches — documents', `<h1 id="title">Documents de test</h1>
<p><a id="doc-attachment" href="/docs/attestation">Télécharger mon attestation (lien)</a></p>
<form method="post" action="/docs/releve"><input type="hidden" name="mois" value="2026-11">
<button id="doc-post" type="submit">Obtenir mon relevé (formulaire)</button></form>
<p><button id="doc-blob" type="button">Télécharger ma quittance (script)</button></p>
<p><a id="doc-inline" href="/docs/avis-impot.pdf">Voir mon avis (PDF dans la page)</a></p>
<p><a id="doc-upload" href="/docs/upload">Envoyer une pièce justificative</a></p>
<script>${BLOB_SCRIPT}</script>`);
  }
  if (p === '/docs/attestation') {
    return send(res, 200, 'application/pdf', DOC_PDFS.attachment, { 'Content-Disposition': 'attachment; filename="attestation-paiement.pdf"' });
  }
  if (p === '/docs/releve') {
    if (req.method !== 'POST') return send(res, 405, 'text/plain', 'POST only');
    await readBody(req);
    return send(res, 200, 'application/pdf', DOC_PDFS.post, { 'Content-Disposition': 'attachment; filename="releve-situation.pdf"' });
  }
  if (p === '/docs/blob-source') return send(res, 200, 'application/octet-stream', DOC_PDFS.blob);
  if (p === '/docs/avis-impot.pdf') return send(res, 200, 'application/pdf', DOC_PDFS.inline, { 'Content-Disposition': 'inline' });
  if (p === '/docs/upload') {
    if (req.method === 'POST') {
      const files = multipartFiles(await readRawBody(req), req.headers['content-type']);
      uploads.push(...files);
      const got = files.map((f) => `${esc(f.filename)} (${f.size} octets)`).join(', ') || 'aucun fichier';
      // A link to the next form (scan.test.mjs), the page's first focusable.
      return html(res, 'Pièce reçue', received(q, got));
    }
    return html(res, 'Envoyer une pièce', uploadForm(q));
  }
  if (p === '/docs/upload-frame') return html(res, 'Envoyer une pièce', uploadFrame(q));
  if (p.startsWith('/docs/offered/')) {
    const name = p.slice('/docs/offered/'.length);
    const file = offered.get(name);
    if (!file) return send(res, 404, 'text/plain', 'nothing offered under that name');
    return send(res, 200, file.type, file.bytes, { 'Content-Disposition': `attachment; filename="${name}"` });
  }

  return send(res, 404, 'text/html; charset=utf-8', page('Introuvable', `<h1 id="title">404</h1><p>${esc(p)}</p>`));
}

function idp(req, res, url) {
  if (url.pathname === '/authorize') {
    // Deliberately naive: sends back to whatever redirect_uri it is given (the policy must hold anyway).
    const back = new URL(url.searchParams.get('redirect_uri') || 'https://www.institution.test/callback');
    back.searchParams.set('code', 'code-de-test');
    if (url.searchParams.has('state')) back.searchParams.set('state', url.searchParams.get('state'));
    return redirect(res, 302, back.toString());
  }
  return html(res, 'IdP de test', '<h1 id="title">Fournisseur d’identité de test</h1>');
}

function redirector(req, res, url) {
  if (url.pathname === '/go') {
    return redirect(res, Number(url.searchParams.get('code')) || 302, url.searchParams.get('to') || 'https://evil.test/from-redirector');
  }
  return redirect(res, 302, 'https://evil.test/from-redirector');
}

function plain(req, res, url, scheme) {
  if (url.pathname === '/' || url.pathname === '/page') {
    return html(res, 'Site en clair', `<h1 id="title">plain.test</h1><p id="scheme">${scheme}</p>
<a id="http-link" href="http://plain.test/page?from=link">Page en http</a>`);
  }
  return send(res, 404, 'text/plain', 'not found');
}

function local(res, url) {
  if (url.pathname === '/') return html(res, 'Mairie de test', '<h1 id="title">Mairie de test</h1>');
  if (url.pathname === '/audit/widget.js') {
    return send(res, 200, 'application/javascript',
      "document.getElementById('widget').textContent = 'widget de la mairie'; window.open('https://www.mairie.test/audit/fenetre');");
  }
  return send(res, 404, 'text/plain', 'not found');
}

function evil(req, res, url) {
  const p = url.pathname;
  const cors = {
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Allow-Headers': '*',
    'Access-Control-Allow-Methods': '*',
    Connection: 'close',
  };
  if (req.method === 'OPTIONS') return send(res, 204, 'text/plain', '', cors);
  if (p.endsWith('.pdf')) {
    return send(res, 200, 'application/pdf', ATTESTATION, { ...cors, 'Content-Disposition': 'attachment; filename="evil.pdf"' });
  }
  if (p === '/event-source' || p === '/sse') return send(res, 200, 'text/event-stream', 'data: evil\n\n', cors);
  if (/\.(png|ico)$/.test(p)) return send(res, 200, 'image/png', PIXEL, cors);
  if (p.endsWith('.js')) return send(res, 200, 'application/javascript', "document.title = 'EVIL';", cors);
  if (p.endsWith('.css')) return send(res, 200, 'text/css', 'body { background: red; }', cors);
  return send(res, 200, 'text/html; charset=utf-8',
    page('EVIL', '<h1 id="evil" style="color:red">EVIL — cette page ne devait pas s’ouvrir</h1>'), cors);
}

async function handle(req, res, scheme) {
  const entry = record(req, scheme);
  req.on('error', () => {});
  let url;
  try {
    url = new URL(req.url, `${scheme}://${entry.host || 'unknown'}`);
  } catch {
    return send(res, 400, 'text/plain', 'bad request');
  }
  try {
    switch (entry.role) {
      case 'institution':
        return await institution(req, res, url, entry.host);
      case 'idp':
        return idp(req, res, url);
      case 'redirector':
        return redirector(req, res, url);
      case 'plain':
        return plain(req, res, url, scheme);
      case 'local':
        return local(res, url);
      case 'fault':
        return html(res, 'Panne', '<h1 id="title">Ce site ne devait pas répondre</h1>');
      default:
        return evil(req, res, url);
    }
  } catch (e) {
    console.error('handler error', e);
    if (!res.headersSent) send(res, 500, 'text/plain', String(e));
  }
}

function onUpgrade(req, socket, scheme) {
  record(req, scheme, { upgrade: req.headers.upgrade || true });
  socket.on('error', () => {});
  const p = String(req.url).split('?')[0];
  const role = roleOfHost(normHost(req.headers.host));
  if ((role === 'institution' && p === '/flood/ws') || (role === 'idp' && p === '/flood/ws-stall')) {
    const set = p === '/flood/ws' ? flood.open : flood.stalled;
    set.add(socket);
    flood.peak = Math.max(flood.peak, flood.open.size);
    socket.on('close', () => set.delete(socket));
    if (p === '/flood/ws-stall') {
      flood.stalledSeen += 1; // never answered: the handshake stalls, half-open
      return;
    }
    flood.accepted += 1;
    const accept = crypto.createHash('sha1')
      .update(String(req.headers['sec-websocket-key']) + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11').digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.write(Buffer.from([0x81, 0x02, 0x68, 0x69])); // a text frame, "hi"
    socket.on('data', () => {}); // frames from the page (none expected) are read and ignored
    return;
  }
  socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
}

// ------------------------------------------------------------------------------------------------
// Listeners

function listen(server, port, ip) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => {
      server.off('error', reject);
      resolve(`${ip}:${port}`);
    });
  });
}

async function main() {
  const tls = {
    key: fs.readFileSync(path.join(CERT_DIR, 'leaf.key')),
    cert: fs.readFileSync(path.join(CERT_DIR, 'leaf.pem')),
  };
  const listening = [];
  const servers = [];
  const mk = (scheme) => {
    const s = scheme === 'https'
      ? https.createServer(tls, (req, res) => handle(req, res, 'https'))
      : http.createServer((req, res) => handle(req, res, 'http'));
    s.on('connection', (sock) => {
      sock.on('error', () => {});
      recordConnection(sock, scheme);
    });
    if (scheme === 'https') {
      // `resumed`: the client resumed an earlier TLS session (a ticket it kept) instead of a full handshake.
      s.on('secureConnection', (tls) => recordConnection(tls, scheme, 'tls', { sni: tls.servername || null, resumed: tls.isSessionReused() }));
      s.on('tlsClientError', (err, tls) => recordConnection(tls, scheme, 'tls-error', { error: err.code || err.message }));
    }
    s.on('upgrade', (req, sock) => onUpgrade(req, sock, scheme));
    s.on('clientError', (err, sock) => sock.destroy());
    s.keepAliveTimeout = 2000;
    servers.push(s);
    return s;
  };
  for (const ip of IPS) {
    listening.push(await listen(mk('https'), 443, ip));
    listening.push(await listen(mk('http'), 80, ip));
  }
  for (const ip of ODD_PORT_IPS) listening.push(await listen(mk('https'), ODD_PORT, ip));

  const control = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://control');
    const json = (v, status = 200) => send(res, status, 'application/json', JSON.stringify(v, null, 1));
    if (url.pathname === '/health') return json({ ok: true, pid: process.pid, listening });
    if (url.pathname === '/reset' && req.method === 'POST') {
      for (const sock of refusedSockets) sock.destroy();
      refusedSockets.clear();
      requests = [];
      connections = [];
      uploads = [];
      for (const sock of [...flood.open, ...flood.stalled]) sock.destroy();
      Object.assign(flood, { peak: 0, accepted: 0, stalledSeen: 0 });
      return json({ ok: true });
    }
    if (url.pathname === '/log') {
      let out = requests;
      const host = url.searchParams.get('host');
      const role = url.searchParams.get('role');
      if (host) out = out.filter((e) => e.host === normHost(host));
      if (role) out = out.filter((e) => e.role === role);
      return json(out);
    }
    if (url.pathname === '/violations') return json(requests.filter((e) => e.violation));
    if (url.pathname === '/sessions') return json([...sessions].map(([sid, name]) => ({ sid, name })));
    if (url.pathname === '/uploads') return json(uploads);
    if (url.pathname === '/offer' && req.method === 'POST') {
      const name = url.searchParams.get('name') || '';
      const type = url.searchParams.get('type') || '';
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/.test(name) || !OFFERED_TYPES.has(type)) return json({ error: 'bad name or type' }, 400);
      offered.set(name, { type, bytes: await readRawBody(req) });
      return json({ ok: true, path: `/docs/offered/${name}` });
    }
    if (url.pathname === '/flood') {
      const { open, stalled, peak, accepted, stalledSeen } = flood;
      return json({ open: open.size, stalled: stalled.size, peak, accepted, stalledSeen });
    }
    if (url.pathname === '/connections') {
      return json(url.searchParams.get('violations') ? connections.filter((c) => c.violation) : connections);
    }
    return json({ error: 'not found' }, 404);
  });
  await listen(control, CONTROL.port, CONTROL.host);
  if (!QUIET) console.log(`sites server ready (pid ${process.pid}): ${listening.length} listeners, control on ${CONTROL.host}:${CONTROL.port}`);

  const stop = () => {
    for (const s of [...servers, control]) s.close();
    for (const s of [...servers, control]) s.closeAllConnections?.();
    setTimeout(() => process.exit(0), 200).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error(`sites server failed: ${e.stack || e}`);
  process.exit(1);
});
