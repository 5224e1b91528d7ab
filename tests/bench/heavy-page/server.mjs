// The heavy page of tests/bench/heavy-page.sh: an institution-like HTTPS page with about 150
// subresources (40 scripts, 30 stylesheets, 70 images, 10 fonts) spread over four host names of the
// end-to-end suite (tests/e2e/sites/hosts.mjs, certificate from tests/e2e/setup.sh), HTTP/1.1 with
// keep-alive, every answer cacheable (Cache-Control: max-age=3600, ETag) like a real site's static
// files, after an artificial per-request delay (HEAVY_DELAY_MS) standing for a slow link.
//
// The page reports its own Navigation Timing when its load event has run (POST /__done on its own
// host): navigation start → load event start, measured by the engine itself, the same way for the
// kiosk and the bare view. Every request is counted by host and path.
//
// Control API on http://127.0.0.1:8098 (plain http, loopback):
//   GET  /health   {"ok":true}
//   POST /reset    forgets counts and reports
//   GET  /stats    {"requests":N, "fetches":{"host/path":n,…}, "conns":N, "reports":[{…timing…}]}
//
// Usage: node tests/bench/heavy-page/server.mjs
//   env: E2E_CERT_DIR (default /tmp/borne-e2e/certs), HEAVY_DELAY_MS (default 20),
//        HEAVY_FONT (a TrueType file served as the 10 fonts)

import http from 'node:http';
import https from 'node:https';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import crypto from 'node:crypto';

import { HOSTS } from '../../e2e/sites/hosts.mjs';

const CERT_DIR = process.env.E2E_CERT_DIR || '/tmp/borne-e2e/certs';
const DELAY_MS = Number(process.env.HEAVY_DELAY_MS ?? 20);
const FONT_FILE = process.env.HEAVY_FONT || '/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Oblique.ttf';
const CONTROL_PORT = 8098;

/** The page's host, then the three hosts its subresources come from (four names, two addresses). */
export const PAGE_HOST = 'www.institution.test';
export const ASSET_HOSTS = ['docs.institution.test', 'institution.test', 'idp.test'];
const ALL_HOSTS = [PAGE_HOST, ...ASSET_HOSTS];
export const COUNTS = Object.freeze({ scripts: 40, styles: 30, images: 70, fonts: 10 });

const hostOf = (i) => ALL_HOSTS[i % ALL_HOSTS.length];
const url = (i, p) => `https://${hostOf(i)}${p}`;

// --- bodies (deterministic) -------------------------------------------------------------------
const filler = (label, bytes) => {
  const line = `/* ${label}: filler standing for a real site's code, so that sizes look like one's. */\n`;
  return line.repeat(Math.ceil(bytes / line.length)); // whole comments: a cut one would swallow the rest
};

function script(i) {
  return `${filler(`script ${i}`, 14000)}\nwindow.__heavy = (window.__heavy || 0) + 1;\n`;
}

function style(i) {
  let css = filler(`style ${i}`, 6000);
  for (let k = 0; k < 40; k++) css += `.s${i}-${k} { margin: ${k % 5}px; color: #${(i * 40 + k).toString(16).padStart(3, '0')}; }\n`;
  if (i < COUNTS.fonts) {
    css += `@font-face { font-family: "heavy${i}"; src: url("${url(i + 1, `/fonts/f${i}.ttf`)}") format("truetype"); }\n`;
    css += `.f${i} { font-family: "heavy${i}", sans-serif; }\n`;
  }
  return css;
}

function crc32(buf) {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}

function pngChunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A 64×64 RGB picture of noise seeded by i (about 12 KB: it does not compress). */
function image(i) {
  const w = 64;
  const h = 64;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  const rnd = crypto.createHash('sha256').update(`img${i}`).digest();
  let s = rnd.readUInt32BE(0);
  for (let y = 0; y < h; y++) {
    raw[y * (w * 3 + 1)] = 0;
    for (let x = 0; x < w * 3; x++) {
      s = (s * 1103515245 + 12345) >>> 0;
      raw[y * (w * 3 + 1) + 1 + x] = s >>> 24;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', zlib.deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

const FONT = fs.readFileSync(FONT_FILE);

/** The page: stylesheets and half the scripts in <head> (blocking, as institutions' pages do), the
 * other scripts at the end of <body>, pictures in between, text in each font. */
function page() {
  const head = [];
  const body = [];
  for (let i = 0; i < COUNTS.styles; i++) head.push(`<link rel="stylesheet" href="${url(i, `/css/s${i}.css`)}">`);
  for (let i = 0; i < COUNTS.scripts / 2; i++) head.push(`<script src="${url(i, `/js/a${i}.js`)}"></script>`);
  body.push('<h1>Institution de test : page lourde</h1>');
  for (let i = 0; i < COUNTS.fonts; i++) body.push(`<p class="f${i}">Texte dans la police ${i}</p>`);
  for (let i = 0; i < COUNTS.images; i++) body.push(`<img src="${url(i, `/img/i${i}.png`)}" width="64" height="64" alt="">`);
  for (let i = COUNTS.scripts / 2; i < COUNTS.scripts; i++) body.push(`<script src="${url(i, `/js/a${i}.js`)}"></script>`);
  body.push(`<script>
addEventListener('load', () => setTimeout(() => {
  const n = performance.getEntriesByType('navigation')[0] || {};
  const t = performance.timing;
  fetch('/__done', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
    load: n.loadEventStart || (t.loadEventStart - t.navigationStart),
    dcl: n.domContentLoadedEventStart || (t.domContentLoadedEventStart - t.navigationStart),
    resources: performance.getEntriesByType('resource').length,
    scripts: window.__heavy || 0,
    ua: navigator.userAgent,
  }) });
}, 0));
</script>`);
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Page lourde</title>\n${head.join('\n')}\n</head><body>\n${body.join('\n')}\n</body></html>\n`;
}

const ROUTES = new Map();
const add = (p, type, body, cache = true) => ROUTES.set(p, { type, body: Buffer.from(body), cache });
for (let i = 0; i < COUNTS.scripts; i++) add(`/js/a${i}.js`, 'text/javascript', script(i));
for (let i = 0; i < COUNTS.styles; i++) add(`/css/s${i}.css`, 'text/css', style(i));
for (let i = 0; i < COUNTS.images; i++) add(`/img/i${i}.png`, 'image/png', image(i));
for (let i = 0; i < COUNTS.fonts; i++) add(`/fonts/f${i}.ttf`, 'font/ttf', FONT);
add('/heavy/', 'text/html; charset=utf-8', page(), false);
for (const r of ROUTES.values()) r.etag = `"${crypto.createHash('sha1').update(r.body).digest('hex').slice(0, 16)}"`;

// --- counts ---------------------------------------------------------------------------------------
let fetches = new Map();
let reports = [];
let requests = 0;
let conns = 0;

function handle(req, res) {
  const host = (req.headers.host || '').replace(/:\d+$/, '');
  const p = new URL(req.url, 'https://x').pathname;
  if (p === '/__done' && req.method === 'POST') {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      try {
        reports.push({ ...JSON.parse(data), at: Date.now() });
      } catch {
        reports.push({ bad: data });
      }
      res.writeHead(204, { 'access-control-allow-origin': '*' }).end();
    });
    return;
  }
  requests++;
  const key = `${host}${p}`;
  fetches.set(key, (fetches.get(key) || 0) + 1);
  const r = ROUTES.get(p);
  setTimeout(() => {
    if (!r) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const headers = {
      'content-type': r.type,
      'content-length': r.body.length,
      'access-control-allow-origin': '*',
      'cache-control': r.cache ? 'public, max-age=3600' : 'no-cache',
      etag: r.etag,
    };
    if (req.headers['if-none-match'] === r.etag) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, headers).end(r.body);
  }, DELAY_MS);
}

const tls = { key: fs.readFileSync(path.join(CERT_DIR, 'leaf.key')), cert: fs.readFileSync(path.join(CERT_DIR, 'leaf.pem')) };
const ips = [...new Set(ALL_HOSTS.map((h) => HOSTS[h].ip))];
for (const ip of ips) {
  const s = https.createServer({ ...tls, keepAlive: true, keepAliveTimeout: 30000 }, handle);
  s.keepAliveTimeout = 30000;
  s.on('secureConnection', () => conns++);
  s.listen(443, ip);
}

http
  .createServer((req, res) => {
    const json = (o) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(o));
    if (req.url === '/health') return json({ ok: true });
    if (req.url === '/reset' && req.method === 'POST') {
      fetches = new Map();
      reports = [];
      requests = 0;
      conns = 0;
      return json({ ok: true });
    }
    if (req.url === '/stats') return json({ requests, conns, fetches: Object.fromEntries(fetches), reports });
    res.writeHead(404).end();
  })
  .listen(CONTROL_PORT, '127.0.0.1');

console.error(`heavy page: https://${PAGE_HOST}/heavy/ (${ROUTES.size - 1} subresources over ${ALL_HOSTS.length} hosts, ${DELAY_MS} ms per request)`);
