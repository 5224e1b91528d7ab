// Wipe suite: when a person leaves, the next one must find nothing of them.
//
// In each route, "person A" uses the test institution and leaves every trace a browser can keep: an
// HttpOnly+Secure session cookie and a script cookie, localStorage, sessionStorage, IndexedDB, a
// service worker, a Cache API entry, an HTTP-cached page, a back/forward list, a downloaded file and a
// text copied to the clipboard with real input (X selection PRIMARY too). Each trace is first proven
// to exist (so that a check below can fail). A then leaves by one route:
//   a. "Terminer ma session" in the toolbar, then "Oui, terminer" (real clicks);
//   b. inactivity (a generated config with idle 30 s + warning 10 s): the countdown shows in the
//      toolbar (countdown.png), then the session ends by itself;
//   c. `kill -9` of the kiosk, then a new kiosk on the same state dir (the wipe at start);
// and "person B" checks, one test() each: on the screen (the portal as it looked at start, and its
// institution tile answering a real click), in the X selections, through the page (/account, /whoami,
// history.length and back, the cached page re-fetched, the server seeing no cookie), and on disk last
// (<state>/session/downloads; every file of <state>/session/webdata, and recent files in the user's
// XDG dirs, grepped for A's cookie value and markers, UTF-8 and UTF-16, 8 s after the wipe so that
// WebKit's lazy writes have landed).
//   d. a crash of the content's web process (kill -9) shows the portal on screen within 5 s, and a
//      real click through to /account sends no cookie (WebKitWebDriver drops its session on a crash).
// Docs screenshots (whole X screen, in $E2E_ARTIFACTS): portal.png (the first route whose wipe shows
// the portal), blocked.png, countdown.png; wipe-<route>-*.png for the rest.
// The sites server's control API gives A's HttpOnly cookie value (GET /sessions) and logs each
// request's Cookie header.
//
// Run: tests/e2e/run.sh tests/e2e/wipe.test.mjs   (about 2 to 2.5 minutes)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  screenshot,
  screenGrab,
  readSelection,
  clickToolbar,
  toolbarHandle,
  contentOrigin,
  xclick,
  xkeys,
  hostLog,
  evilLog,
  sleep,
  waitFor,
  CONFIG_DIR,
  CONTROL_URL,
  ARTIFACTS,
  WORK,
  INSTITUTION,
  kioskPids,
  procComm,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const INST_HOST = new URL(INSTITUTION).hostname;

// ------------------------------------------------------------------------------------------------
// Helpers

const rand = () => crypto.randomBytes(5).toString('hex');

/** Runs `fn`; on failure saves screenshots (content view and whole screen) before rethrowing. */
async function withShots(ctx, name, fn) {
  try {
    await fn();
  } catch (e) {
    // WebKit's snapshot waits for a paint: bounded, so a view that never paints costs 5 s, not 20.
    const saved = ctx.wd?.commandTimeoutMs;
    if (ctx.wd) ctx.wd.commandTimeoutMs = 5000;
    const shots = await screenshot(ctx.wd, `wipe-${ctx.route}-${name}`).catch(() => []);
    if (ctx.wd) ctx.wd.commandTimeoutMs = saved;
    if (shots.length) e.message += `\n  screenshots: ${shots.join(', ')}`;
    throw e;
  }
}

/** A config dir like tests/e2e/config with other [session] timings (generated: one source of truth). */
function configWith({ idle, warning }) {
  const dir = path.join(WORK, 'config-idle');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(CONFIG_DIR)) {
    const src = path.join(CONFIG_DIR, f);
    if (fs.statSync(src).isFile()) fs.copyFileSync(src, path.join(dir, f));
  }
  const file = path.join(dir, 'borne.toml');
  let toml = fs.readFileSync(file, 'utf8');
  const set = (key, v) => {
    const re = new RegExp(`^(${key}\\s*=\\s*)\\d+`, 'm');
    assert.match(toml, re, `${key} not found in ${file}`);
    toml = toml.replace(re, `$1${v}`);
  };
  set('idle_timeout_secs', idle);
  set('warning_secs', warning);
  fs.writeFileSync(file, toml);
  return dir;
}

async function sessions() {
  const res = await fetch(`${CONTROL_URL}/sessions`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}

async function instRequests(pathPrefix) {
  return (await hostLog(INST_HOST)).filter((e) => e.path.startsWith(pathPrefix));
}

async function lastSeq() {
  const log = await hostLog(INST_HOST);
  return log.length ? log[log.length - 1].seq : 0;
}

/** Waits until the content view shows the portal with its tiles. */
async function waitPortal(wd, timeoutMs = 20000) {
  await waitFor(async () => {
    if (classifyUrl(await wd.getUrl()).kind !== 'portal') return false;
    return (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0;
  }, timeoutMs, { message: 'the portal with its tiles', interval: 200 });
}

/** Loads an institution page and waits for `[data-ready]` on <body> when `ready`. */
async function open(ctx, p, { ready = false } = {}) {
  await ctx.wd.navigateTo(`${INSTITUTION}${p}`);
  ctx.visited.push(`${INSTITUTION}${p}`);
  if (ready) {
    await waitFor(() => ctx.wd.executeScript('return document.body && document.body.dataset.ready === "1"'), 15000, {
      message: `${p} ready`,
    });
  }
}

async function whoami(ctx) {
  await open(ctx, '/whoami', { ready: true });
  return JSON.parse(await ctx.wd.getText({ css: '#state' }));
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir) {
  const out = [];
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/** The needles' occurrences in the bytes of every file under `dir` (UTF-8 and UTF-16LE): [{file, what}]. */
function grepTree(dir, needles) {
  const hits = [];
  for (const file of filesUnder(dir)) {
    let buf;
    try {
      buf = fs.readFileSync(file);
    } catch {
      continue; // vanished meanwhile
    }
    for (const [what, s] of Object.entries(needles)) {
      for (const enc of ['utf8', 'utf16le']) {
        if (buf.includes(Buffer.from(s, enc))) hits.push({ file: path.relative(dir, file), what, enc, size: buf.length });
      }
    }
  }
  return hits;
}

function listDownloads(stateDir) {
  try {
    return fs.readdirSync(path.join(stateDir, 'session', 'downloads'));
  } catch (e) {
    if (e.code === 'ENOENT') return [];
    throw e;
  }
}

/** The pid of the kiosk started for `stateDir` (by its --state argument). */
async function bornePid(stateDir) {
  const pids = await kioskPids(stateDir);
  assert.equal(pids.length, 1, `expected one borne process for ${stateDir}, found ${JSON.stringify(pids)}`);
  return pids[0];
}

/** Descendants of `pid` whose command is WebKitWebProcess. */
function webProcesses(pid) {
  const children = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) || []) {
      if (/^WebKitWebProces/.test(procComm(c) || '')) out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** CPU ticks (user + system) of a process. */
function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch {
    return -1;
  }
}

/** True when `pid` no longer runs (gone, or a zombie not yet reaped by its parent). */
function processGone(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return ['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3));
  } catch {
    return true;
  }
}

/** The toolbar page's state, read through its WebDriver handle. */
async function toolbarState(wd) {
  const tb = await toolbarHandle(wd);
  if (!tb) throw new Error('no toolbar handle');
  const main = await wd.getWindowHandle();
  try {
    await wd.switchToWindow(tb);
    return await wd.executeScript(`return {
      confirm: !document.getElementById('confirm-end').hidden,
      idle: !document.getElementById('idle').hidden,
      countdown: document.getElementById('idle-countdown').textContent,
      overlay: document.documentElement.classList.contains('overlay-open'),
      height: window.innerHeight,
    }`);
  } finally {
    await wd.switchToWindow(main);
  }
}

/** Is a screen region (the content view) more than one flat colour? ImageMagick's standard deviation. */
async function regionStdDev(file, r) {
  const geo = `${Math.round(r.width)}x${Math.round(r.height)}+${Math.round(r.x)}+${Math.round(r.y)}`;
  const { stdout } = await execFileP('convert', [file, '-crop', geo, '+repage', '-colorspace', 'gray', '-format', '%[fx:standard_deviation]', 'info:'], {
    timeout: 15000,
  });
  return Number(stdout.trim());
}

/** How many pixels of a region differ between two screen grabs (5 % fuzz): ImageMagick's compare. */
async function regionDiff(a, b, r) {
  const geo = `${Math.round(r.width)}x${Math.round(r.height)}+${Math.round(r.x)}+${Math.round(r.y)}`;
  const crop = async (f) => {
    const out = `${f}.crop.png`;
    await execFileP('convert', [f, '-crop', geo, '+repage', out], { timeout: 15000 });
    return out;
  };
  const [ca, cb] = [await crop(a), await crop(b)];
  try {
    await execFileP('compare', ['-metric', 'AE', '-fuzz', '5%', ca, cb, 'null:'], { timeout: 15000 });
    return 0;
  } catch (e) {
    // compare exits 1 when the images differ and prints the count on stderr.
    const n = Number(String(e.stderr || '').trim().split(/\s+/)[0]);
    if (Number.isFinite(n)) return n;
    throw e;
  } finally {
    fs.rmSync(ca, { force: true });
    fs.rmSync(cb, { force: true });
  }
}

// ------------------------------------------------------------------------------------------------
// Person A

function newContext(route) {
  const id = rand();
  return {
    route,
    id,
    name: `Alice${route}${id}`, // login name, in the `prenom` cookie and the sessions table
    mark: `trace-${route}-${id}`, // storage marker (localStorage, sessionStorage, IndexedDB, Cache API, jsmark cookie)
    download: `attestation-${route}-${id}.pdf`,
    cacheable: `/cacheable?who=${route}-${id}`,
    sid: null,
    wd: null,
    stateDir: null,
    configDir: CONFIG_DIR,
    visited: [],
    cacheableA: 0, // server requests for the cacheable page during A's session
    servedA: null,
    traces: false, // A's traces were all proven
    ended: false, // the route ended A's session and B is on a fresh portal
    afterWipeSeq: 0,
  };
}

/**
 * Starts the kiosk for this route. At the first start, also records how the portal looks on screen
 * (the reference B's screen is compared with) and where the institution tile is, for real clicks.
 */
async function startKiosk(ctx) {
  ctx.startedAt ||= Date.now();
  ctx.stateDir ||= freshStateDir(`wipe-${ctx.route}`);
  ctx.wd = await startBorne({ stateDir: ctx.stateDir, configDir: ctx.configDir });
  ctx.wd.commandTimeoutMs = 20000; // a hung kiosk fails the test, not the whole file's time budget
  await waitPortal(ctx.wd);
  if (!ctx.portalRef) {
    await sleep(600); // pictograms and fonts
    ctx.portalRef = await screenGrab(path.join(ARTIFACTS, `wipe-${ctx.route}-portal-at-start.png`));
    ctx.origin = await contentOrigin(ctx.wd);
    const r = await ctx.wd.getRect({ css: `a.tile[href="${INSTITUTION}/"]` });
    ctx.tileAt = { x: ctx.origin.x + r.x + r.width / 2, y: ctx.origin.y + r.y + r.height / 2 };
  }
}

/**
 * Waits (up to `timeoutMs`) until the screen's content region looks like the portal did at start
 * (under 1 % of its pixels differ) and is not one flat colour. Returns {ok, diff, pixels, sd, file, took}.
 */
async function portalOnScreen(ctx, name, timeoutMs = 5000) {
  const file = path.join(ARTIFACTS, `wipe-${ctx.route}-${name}.png`);
  const region = ctx.origin;
  const pixels = Math.round(region.width) * Math.round(region.height);
  const start = Date.now();
  let diff = null;
  let sd = null;
  for (;;) {
    await sleep(400);
    await screenGrab(file);
    diff = await regionDiff(ctx.portalRef, file, region);
    sd = await regionStdDev(file, region);
    const ok = diff < pixels * 0.01 && sd > 0.02;
    if (ok || Date.now() - start > timeoutMs) return { ok, diff, pixels, sd, file, took: Date.now() - start };
  }
}

/** The needles B must not find on disk. */
function needles(ctx) {
  const n = { 'login name (prenom cookie)': ctx.name, 'storage marker': ctx.mark };
  if (ctx.sid) n['HttpOnly sid cookie value'] = ctx.sid;
  return n;
}

/**
 * A's session: every trace, each proven. Real input comes last (the selection and Ctrl+C): in the idle
 * route it opens the session, so the 30 s of inactivity start from there.
 */
async function personA(ctx) {
  const { wd } = ctx;
  const problems = [];
  const check = (ok, msg) => {
    if (!ok) problems.push(msg);
  };

  // From the portal, through the tile (history: portal, then institution pages).
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/`), 10000, { message: 'the institution' });
  ctx.visited.push(`${INSTITUTION}/`);

  // Sign in: HttpOnly+Secure `sid` and a script-visible `prenom`.
  await open(ctx, `/login?name=${ctx.name}`);
  check((await wd.getText({ css: '#status' })) === `Connecté : ${ctx.name}`, 'login page does not say connected');
  ctx.sid = (await sessions()).find((s) => s.name === ctx.name)?.sid || null;
  check(ctx.sid, 'the server has no session for A');
  await open(ctx, '/account');
  check((await wd.getText({ css: '#status' })) === `Connecté : ${ctx.name}`, '/account does not say connected');

  // Storage of every kind (localStorage, sessionStorage, js cookie, IndexedDB, service worker, Cache API).
  await open(ctx, `/storage?v=${ctx.mark}`, { ready: true });
  const done = JSON.parse(await wd.getText({ css: '#done' }));
  for (const k of ['localStorage', 'sessionStorage', 'jsCookie', 'indexedDB', 'serviceWorker', 'cacheApi']) {
    check(done[k] === 'ok', `storage step ${k}: ${done[k]}`);
  }

  // A cacheable page (Cache-Control: max-age), visited twice. The kiosk keeps WebKit's memory cache
  // for the session (no disk cache: its folder's place is taken by a file), so the second visit is
  // served from memory: the control that makes B's check below mean something.
  const before = (await instRequests(ctx.cacheable)).length;
  await open(ctx, ctx.cacheable);
  ctx.servedA = await wd.getText({ css: '#served' });
  await open(ctx, '/account');
  await open(ctx, ctx.cacheable);
  await sleep(300);
  ctx.cacheableA = (await instRequests(ctx.cacheable)).length;
  check(ctx.cacheableA - before === 1, `the cacheable page reached the server ${ctx.cacheableA - before} times in A's two visits (expected 1: the second from the session's memory cache)`);
  check(fs.statSync(path.join(ctx.stateDir, 'session', 'webdata', 'WebKitCache')).isFile(), 'WebKit made its disk cache folder');

  // What a page of the institution sees of A: proves /whoami detects each kind of trace.
  const w = await whoami(ctx);
  check(w.cookies.includes(`prenom=${ctx.name}`) && w.cookies.includes(`jsmark=${ctx.mark}`), `whoami cookies: ${w.cookies}`);
  check(w.localStorage['borne-test'] === ctx.mark, `whoami localStorage: ${JSON.stringify(w.localStorage)}`);
  check(w.sessionStorage['borne-test'] === ctx.mark, `whoami sessionStorage: ${JSON.stringify(w.sessionStorage)}`);
  check(JSON.stringify(w.indexedDB['borne-test'] || {}).includes(ctx.mark), `whoami indexedDB: ${JSON.stringify(w.indexedDB)}`);
  check(w.serviceWorkers.length > 0, `whoami serviceWorkers: ${JSON.stringify(w.serviceWorkers)}`);
  check(Object.values(w.caches).flat().some((u) => u.includes(ctx.mark)), `whoami caches: ${JSON.stringify(w.caches)}`);
  check(w.historyLength >= 5, `history.length is only ${w.historyLength}`);

  // A download (attachment) from a link of the institution.
  await wd.executeScript(
    'const a = document.createElement("a"); a.id = "dl"; a.href = arguments[0]; a.textContent = "Télécharger"; document.body.append(a); a.click();',
    [`/download?name=${ctx.download}`],
  );
  const dl = path.join(ctx.stateDir, 'session', 'downloads', ctx.download);
  try {
    await waitFor(() => fs.existsSync(dl) && fs.statSync(dl).size > 100, 10000, { message: dl });
    // The finished download opens in the kiosk's viewer: wait for it before going on.
    await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'document', 10000, { message: 'the viewer' });
  } catch {
    problems.push(`no download at ${dl}: ${JSON.stringify(listDownloads(ctx.stateDir))}`);
  }

  // Copy a text with real input: triple click on "Connecté : <name>" (PRIMARY), then Ctrl+C (CLIPBOARD).
  await open(ctx, '/account');
  const r = await wd.getRect({ css: '#status' });
  const o = await contentOrigin(wd);
  await xclick(o.x + r.x + Math.min(r.width / 2, 60), o.y + r.y + r.height / 2, { repeat: 3 });
  await sleep(200);
  await xkeys('ctrl+c');
  let clip = '';
  let prim = '';
  try {
    await waitFor(async () => {
      clip = await readSelection('clipboard');
      prim = await readSelection('primary');
      return clip.includes(ctx.name) && prim.includes(ctx.name);
    }, 5000, { message: 'the copied text in the X selections' });
  } catch {
    problems.push(`after the selection and Ctrl+C: clipboard ${JSON.stringify(clip)}, primary ${JSON.stringify(prim)} (expected "Connecté : ${ctx.name}")`);
  }
  ctx.traces = problems.length === 0;
  return problems;
}

// ------------------------------------------------------------------------------------------------
// Person B: the same checks after every route

/** The toolbar webview's height now (a bar is 76 px; a dialog covers the window). */
async function toolbarHeight(ctx) {
  try {
    return (await toolbarState(ctx.wd)).height;
  } catch (e) {
    return `unknown (${e.message.slice(0, 80)})`;
  }
}

/** After a wipe that went through a toolbar dialog (confirmation, countdown): the bar is a bar again. */
function toolbarGivesBack(ctx) {
  test('after the wipe, the toolbar closes its dialog and gives the window back (76 px bar)', async () => {
    assert.ok(ctx.ended, 'A\'s session did not end');
    const s = await toolbarState(ctx.wd);
    assert.ok(!s.confirm && !s.idle && !s.overlay, `a dialog is still open after the wipe: ${JSON.stringify(s)}`);
    assert.ok(s.height < 150, `the toolbar webview still covers the window (${s.height} px high): the portal is under it, out of sight and out of reach`);
  });
}

function personBChecks(ctx) {
  const needEnd = () => assert.ok(ctx.ended, 'A\'s session did not end (see the route\'s test): nothing to check');

  test('B sees the portal on the screen (as at start), not an empty page (portal.png)', async () => {
    needEnd();
    const r = await portalOnScreen(ctx, 'portal-after-wipe');
    // The docs screenshot: the first route whose wipe shows the portal as it should.
    if (r.ok && !fs.existsSync(path.join(ARTIFACTS, 'portal.png'))) fs.copyFileSync(r.file, path.join(ARTIFACTS, 'portal.png'));
    assert.ok(
      r.ok,
      `after the wipe WebDriver reports the portal, but on the screen ${r.diff} of ${r.pixels} content pixels differ from the portal at start ` +
        `(std dev ${r.sd}; toolbar webview height ${await toolbarHeight(ctx)} px): ${r.file} vs ${ctx.portalRef}`,
    );
  });

  test('B: the X clipboard is empty', async () => {
    needEnd();
    const clip = await readSelection('clipboard');
    assert.equal(clip, '', `the CLIPBOARD selection still holds ${JSON.stringify(clip)}`);
  });

  test('B: the X primary selection is empty', async () => {
    needEnd();
    const prim = await readSelection('primary');
    assert.equal(prim, '', `the PRIMARY selection still holds ${JSON.stringify(prim)}`);
  });

  test('B: no download left in <state>/session/downloads/', () => {
    needEnd();
    assert.deepEqual(listDownloads(ctx.stateDir), []);
  });

  test('B: history.length is 1 and back never reaches a page of A', () =>
    withShots(ctx, 'history', async () => {
      needEnd();
      const { wd } = ctx;
      await waitPortal(wd);
      const len = await wd.executeScript('return history.length');
      const seq = await lastSeq();
      const seen = [];
      // WebKitWebDriver's back waits several seconds when there is nowhere to go: once is enough then.
      for (let i = 0; i < (len > 1 ? 3 : 1); i++) {
        await wd.back().catch((e) => seen.push(`back: ${e.message}`));
        await sleep(700);
        seen.push(await wd.getUrl());
      }
      const reached = (await hostLog(INST_HOST)).filter((e) => e.seq > seq);
      const problems = [];
      if (len !== 1) problems.push(`history.length on B's portal is ${len}`);
      const aPages = seen.filter((u) => typeof u === 'string' && (classifyUrl(u).kind === 'allowed' || ctx.visited.includes(u)));
      if (aPages.length) problems.push(`back reached: ${aPages.join(', ')}`);
      if (reached.length) problems.push(`back made the kiosk request: ${reached.map((e) => e.path).join(', ')}`);
      assert.deepEqual(problems, [], `after the wipe (URLs after each back: ${seen.join(' | ')})`);
    }));

  test('B: /account says not connected, and the request carried no cookie of A', () =>
    withShots(ctx, 'account', async () => {
      needEnd();
      const seq = await lastSeq();
      await open(ctx, '/account');
      const status = await ctx.wd.getText({ css: '#status' });
      const req = (await hostLog(INST_HOST)).filter((e) => e.seq > seq && e.path === '/account').pop();
      assert.equal(status, 'Non connecté');
      assert.ok(req, 'the server did not see the /account request');
      assert.equal(req.cookie, null, `B's /account request sent cookies: ${req.cookie}`);
    }));

  // One /whoami load for the checks below.
  let w = null;
  let whoamiReq = null;
  const bWhoami = async () => {
    needEnd();
    if (!w) {
      const seq = await lastSeq();
      w = await whoami(ctx);
      whoamiReq = (await hostLog(INST_HOST)).filter((e) => e.seq > seq && e.path === '/whoami').pop() || null;
    }
    return w;
  };

  test('B: /whoami: no cookie (document.cookie, nor in the request)', async () => {
    const s = await bWhoami();
    assert.equal(s.cookies, '', `document.cookie: ${s.cookies}`);
    assert.ok(whoamiReq, 'the server did not see the /whoami request');
    assert.equal(whoamiReq.cookie, null, `B's /whoami request sent cookies: ${whoamiReq.cookie}`);
  });
  test('B: /whoami: no localStorage', async () => {
    const s = await bWhoami();
    assert.deepEqual(s.localStorage, {}, `errors: ${s.errors.join('; ')}`);
  });
  test('B: /whoami: no sessionStorage', async () => {
    const s = await bWhoami();
    assert.deepEqual(s.sessionStorage, {}, `errors: ${s.errors.join('; ')}`);
  });
  test('B: /whoami: no IndexedDB database', async () => {
    const s = await bWhoami();
    assert.deepEqual(s.indexedDB, {}, `errors: ${s.errors.join('; ')}`);
    assert.ok(!s.errors.some((e) => e.startsWith('indexedDB')), s.errors.join('; '));
  });
  test('B: /whoami: no service worker registration', async () => {
    const s = await bWhoami();
    assert.deepEqual(s.serviceWorkers, [], `errors: ${s.errors.join('; ')}`);
    assert.ok(!s.errors.some((e) => e.startsWith('serviceWorker')), s.errors.join('; '));
  });
  test('B: /whoami: no Cache API entry', async () => {
    const s = await bWhoami();
    assert.deepEqual(s.caches, {}, `errors: ${s.errors.join('; ')}`);
    assert.ok(!s.errors.some((e) => e.startsWith('caches')), s.errors.join('; '));
  });

  test('B: the cacheable page A saw is fetched from the server again (not from a cache)', () =>
    withShots(ctx, 'cacheable', async () => {
      needEnd();
      const before = (await instRequests(ctx.cacheable)).length;
      await open(ctx, ctx.cacheable);
      await sleep(300);
      const after = (await instRequests(ctx.cacheable)).length;
      const served = await ctx.wd.getText({ css: '#served' });
      assert.equal(after - before, 1, `B's visit made ${after - before} request(s) to the server (page shows served=${served}, A saw ${ctx.servedA})`);
      assert.notEqual(served, ctx.servedA, 'B sees the copy A saw');
    }));

  test('B: a real click on the institution tile of the portal opens it', () =>
    withShots(ctx, 'real-click', async () => {
      needEnd();
      // Back to the portal the way a person does: the toolbar's "Accueil" (real click).
      await clickToolbar(ctx.wd, '#btn-home');
      await waitPortal(ctx.wd, 8000);
      const seq = await lastSeq();
      await xclick(ctx.tileAt.x, ctx.tileAt.y);
      const ok = await waitFor(async () => (await hostLog(INST_HOST)).some((e) => e.seq > seq && e.path === '/'), 5000, {
        message: 'GET / on the institution',
      }).catch(() => false);
      assert.ok(ok, `a real click on the institution tile at (${ctx.tileAt.x}, ${ctx.tileAt.y}) did not open it (toolbar webview height ${await toolbarHeight(ctx)} px)`);
    }));

  // On disk, last: WebKit writes some records lazily (the HTTP cache's subresource lists a few seconds
  // after a page load), so a write that lands after the wipe must have had time to land. B's own
  // browsing above cannot put A's values there (its URLs carry neither A's name nor A's marker).
  const settled = async () => {
    const wait = ctx.endedAt + 8000 - Date.now();
    if (wait > 0) await sleep(wait);
  };
  test('B: no file under <state>/session/webdata/ holds A\'s cookie value or markers', async () => {
    needEnd();
    await settled();
    assert.ok(ctx.sid, 'A\'s sid is unknown: the disk check would be partial');
    const dir = path.join(ctx.stateDir, 'session', 'webdata');
    const hits = grepTree(dir, needles(ctx));
    assert.deepEqual(hits, [], `A's traces on disk (${filesUnder(dir).length} files scanned):\n${hits.map((h) => `  ${h.file} (${h.size} B): ${h.what} [${h.enc}]`).join('\n')}`);
  });

  test('B: no file of the kiosk\'s user outside <state> written during A\'s session holds A\'s traces', async () => {
    needEnd();
    await settled();
    // WebKit's own XDG dirs (favicon database, HSTS, caches) when the shell does not point them into
    // the session folder.
    const home = process.env.HOME || '/root';
    const dirs = [
      process.env.XDG_CACHE_HOME || path.join(home, '.cache'),
      process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'),
      process.env.XDG_STATE_HOME || path.join(home, '.local', 'state'),
      process.env.XDG_CONFIG_HOME || path.join(home, '.config'),
    ];
    const hits = [];
    let scanned = 0;
    for (const dir of dirs) {
      for (const file of filesUnder(dir)) {
        let st;
        try {
          st = fs.statSync(file);
        } catch {
          continue;
        }
        if (st.mtimeMs < ctx.startedAt - 2000 || st.size > 50e6) continue;
        scanned++;
        const buf = fs.readFileSync(file);
        for (const [what, s] of Object.entries(needles(ctx))) {
          for (const enc of ['utf8', 'utf16le']) if (buf.includes(Buffer.from(s, enc))) hits.push(`${file}: ${what} [${enc}]`);
        }
      }
    }
    assert.deepEqual(hits, [], `A's traces outside the state dir (${scanned} recent files scanned)`);
  });
}

// ------------------------------------------------------------------------------------------------
// The suite

before(async () => {
  await startAll();
});

after(async () => {
  await stopAll();
});

/** Ends the WebDriver session; a kiosk that does not answer is killed (WebKitWebDriver holds one session). */
async function endKiosk(ctx) {
  if (!ctx.wd?.sessionId) return;
  const wd = ctx.wd;
  const id = wd.sessionId;
  try {
    await wd.deleteSession();
  } catch (e) {
    console.error(`deleteSession: ${e.message}; killing the kiosk of ${ctx.stateDir}`);
    for (const pid of await kioskPids(ctx.stateDir)) {
      process.kill(pid, 'SIGKILL');
    }
    await sleep(1000);
    await wd.request('DELETE', `/session/${id}`, undefined, 10000).catch(() => {});
    wd.sessionId = null;
  }
}

describe('a. "Terminer ma session" (toolbar, confirmation, real clicks)', () => {
  const ctx = newContext('button');
  before(() => startKiosk(ctx));
  after(() => endKiosk(ctx));

  test('A signs in and leaves every trace (each one proven)', () =>
    withShots(ctx, 'person-a', async () => {
      assert.deepEqual(await personA(ctx), []);
    }));

  test('A ends the session: Terminer, then "Oui, terminer"', () =>
    withShots(ctx, 'end-button', async () => {
      const { wd } = ctx;
      await clickToolbar(wd, '#btn-end');
      await waitFor(async () => {
        const s = await toolbarState(wd);
        return s.confirm && s.overlay && s.height > 300;
      }, 5000, { message: 'the confirmation dialog over the window' });
      await sleep(300);
      await clickToolbar(wd, '#confirm-yes');
      await waitPortal(wd, 15000);
      ctx.ended = true;
      ctx.endedAt ||= Date.now();
    }));

  toolbarGivesBack(ctx);
  personBChecks(ctx);
});

describe('b. inactivity (idle 30 s, countdown 10 s)', () => {
  const ctx = newContext('idle');
  before(async () => {
    ctx.configDir = configWith({ idle: 30, warning: 10 });
    await startKiosk(ctx);
  });
  after(() => endKiosk(ctx));

  test('A signs in and leaves every trace (each one proven; the copy is the last real input)', () =>
    withShots(ctx, 'person-a', async () => {
      assert.deepEqual(await personA(ctx), []);
      ctx.lastInput = Date.now();
    }));

  test('without input, the countdown shows in the toolbar (countdown.png)', () =>
    withShots(ctx, 'countdown', async () => {
      const { wd } = ctx;
      assert.ok(ctx.lastInput, 'A\'s session did not run');
      const s = await waitFor(async () => {
        const st = await toolbarState(wd);
        return st.idle && /\d/.test(st.countdown) ? st : null;
      }, 45000, { message: 'the inactivity countdown', interval: 500 });
      const after = (Date.now() - ctx.lastInput) / 1000;
      assert.ok(after >= 28, `the countdown showed ${after.toFixed(1)} s after the last input (idle is 30 s)`);
      assert.ok(s.overlay && s.height > 300, `the countdown does not cover the window: ${JSON.stringify(s)}`);
      await sleep(400);
      await screenGrab(path.join(ARTIFACTS, 'countdown.png'));
      const tb = await toolbarHandle(wd);
      const main = await wd.getWindowHandle();
      await wd.switchToWindow(tb);
      let violations;
      try {
        fs.writeFileSync(path.join(ARTIFACTS, 'countdown-toolbar.png'), await wd.takeScreenshot());
        violations = await axeViolations(wd);
      } finally {
        await wd.switchToWindow(main);
      }
      ctx.countdownShown = true;
      assert.deepEqual(violations, [], `axe-core on the countdown: ${JSON.stringify(violations, null, 1)}`);
    }));

  test('then the session ends by itself', () =>
    withShots(ctx, 'idle-end', async () => {
      assert.ok(ctx.countdownShown, 'no countdown');
      await waitPortal(ctx.wd, 20000);
      const after = (Date.now() - ctx.lastInput) / 1000;
      ctx.ended = true;
      ctx.endedAt ||= Date.now();
      assert.ok(after >= 38, `ended ${after.toFixed(1)} s after the last input (idle 30 + warning 10)`);
    }));

  toolbarGivesBack(ctx);
  personBChecks(ctx);
});

describe('c. kill -9 of the kiosk, then a new kiosk on the same state dir', () => {
  const ctx = newContext('kill');
  before(() => startKiosk(ctx));
  after(() => endKiosk(ctx));

  test('A signs in and leaves every trace (each one proven)', () =>
    withShots(ctx, 'person-a', async () => {
      assert.deepEqual(await personA(ctx), []);
    }));

  test('kill -9 of the kiosk leaves A\'s traces on disk (control)', () =>
    withShots(ctx, 'kill', async () => {
      const pid = await bornePid(ctx.stateDir);
      await sleep(1500); // let WebKit write what it writes (local storage is flushed on a timer)
      process.kill(pid, 'SIGKILL');
      await waitFor(() => processGone(pid), 10000, { message: `borne ${pid} gone` });
      const old = ctx.wd;
      ctx.wd = null;
      await old.deleteSession().catch(() => {});
      await sleep(500);
      const onDisk = grepTree(path.join(ctx.stateDir, 'session', 'webdata'), needles(ctx));
      ctx.killedTraces = onDisk;
      assert.ok(listDownloads(ctx.stateDir).includes(ctx.download), 'A\'s download is not on disk after the kill');
      assert.ok(onDisk.some((h) => h.what === 'HttpOnly sid cookie value'), `A's sid is not on disk after the kill (found: ${JSON.stringify(onDisk)}); the start-wipe check would prove nothing`);
    }));

  test('B starts on a fresh kiosk (same state dir)', () =>
    withShots(ctx, 'restart', async () => {
      await startKiosk(ctx);
      ctx.ended = true;
      ctx.endedAt ||= Date.now();
    }));

  test('at start, <state>/session/webdata was emptied (A\'s cookie value in no file)', () => {
    assert.ok(ctx.ended, 'no new kiosk');
    const dir = path.join(ctx.stateDir, 'session', 'webdata');
    const hits = grepTree(dir, { 'HttpOnly sid cookie value': ctx.sid });
    assert.deepEqual(hits, [], 'A\'s sid survived the start wipe');
    assert.ok(ctx.killedTraces?.length, 'control: nothing of A was on disk before the restart');
  });

  personBChecks(ctx);

  test('docs: blocked.png (a link to evil from the institution, whole screen; on the restarted kiosk)', () =>
    withShots(ctx, 'docs-blocked', async () => {
      assert.ok(ctx.ended, 'the kiosk did not come back from the wipe');
      const { wd } = ctx;
      await wd.navigateTo(`${INSTITUTION}/v/link-plain`);
      await wd.click({ css: '#go' });
      await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 8000, { message: 'the blocked page' });
      assert.equal(classifyUrl(await wd.getUrl()).host, 'evil.test');
      // Translated and laid out (the host line is shown by its script).
      await waitFor(() => wd.executeScript('const e = document.getElementById("blocked-site"); return !!e && !e.hidden && document.readyState === "complete"'), 5000, {
        message: 'the blocked page filled in',
      });
      await sleep(1000);
      const file = await screenGrab(path.join(ARTIFACTS, 'blocked.png'));
      const sd = await regionStdDev(file, ctx.origin);
      assert.ok(sd > 0.05, `the blocked page is not visible on the screen (content std dev ${sd}): ${file}`);
      fs.writeFileSync(path.join(ARTIFACTS, 'blocked-content.png'), await wd.takeScreenshot());
      assert.deepEqual(await evilLog(), []);
    }));
});

describe('d. a crash of the content\'s web process', () => {
  // WebKitWebDriver drops its session when the controlled page's web process dies ("session deleted
  // because of page crash or hang"), so after the crash everything is checked the way a person would
  // see it: the screen (compared with the portal as it looked at start) and real clicks (the
  // institution tile, then "Mon compte"), with the server's log saying whether a cookie was sent.
  const ctx = newContext('crash');
  let accountAt = null;
  let endAt = null;
  before(async () => {
    await startKiosk(ctx);
    const tb = await toolbarHandle(ctx.wd);
    const main = await ctx.wd.getWindowHandle();
    await ctx.wd.switchToWindow(tb);
    try {
      const r = await ctx.wd.getRect({ css: '#btn-end' });
      endAt = { x: r.x + r.width / 2, y: r.y + r.height / 2 }; // the toolbar sits at the window's top left
    } finally {
      await ctx.wd.switchToWindow(main);
    }
  });
  after(() => endKiosk(ctx));

  test('A signs in', () =>
    withShots(ctx, 'crash-login', async () => {
      await open(ctx, '/');
      const o = await contentOrigin(ctx.wd);
      const r = await ctx.wd.getRect({ css: 'a[href="/account"]' });
      accountAt = { x: o.x + r.x + Math.min(r.width / 2, 40), y: o.y + r.y + r.height / 2 };
      await open(ctx, `/login?name=${ctx.name}`);
      await open(ctx, '/account');
      assert.equal(await ctx.wd.getText({ css: '#status' }), `Connecté : ${ctx.name}`);
    }));

  test('kill -9 of the web process shows a fresh portal within 5 s, not a white screen', async (t) => {
    const { wd } = ctx;
    const pid = await bornePid(ctx.stateDir);
    const procs = webProcesses(pid);
    assert.ok(procs.length, `no WebKitWebProcess under borne ${pid}`);
    // The content's process is the one that works while the content page burns CPU.
    const t0 = new Map(procs.map((p) => [p, cpuTicks(p)]));
    await wd.executeScript('const end = Date.now() + 800; let x = 0; while (Date.now() < end) x++; return x;');
    const busy = procs.map((p) => ({ p, d: cpuTicks(p) - t0.get(p) })).sort((a, b) => b.d - a.d);
    assert.ok(busy[0].d >= 30, `no web process burnt the content's CPU: ${JSON.stringify(busy)}`);
    const victim = busy[0].p;
    t.diagnostic(`web processes (pid, CPU ticks during the burn): ${JSON.stringify(busy)}; killing ${victim}`);
    process.kill(victim, 'SIGKILL');
    const r = await portalOnScreen(ctx, 'after-crash', 5000);
    t.diagnostic(`after ${r.took} ms: ${r.diff} of ${r.pixels} content pixels differ from the portal at start; std dev ${r.sd}`);
    try {
      t.diagnostic(`WebDriver after the crash: ${await wd.getUrl()}`);
    } catch (e) {
      t.diagnostic(`WebDriver after the crash: ${e.message.slice(0, 160)}`);
    }
    assert.ok(r.sd > 0.02, `the content view is one flat colour (std dev ${r.sd}): ${r.file}`);
    assert.ok(r.ok, `5 s after the crash the content view is not the portal (${r.diff} of ${r.pixels} pixels differ): ${r.file} vs ${ctx.portalRef}`);
    ctx.ended = true;
    ctx.endedAt ||= Date.now();
    if (!fs.existsSync(path.join(ARTIFACTS, 'portal.png'))) fs.copyFileSync(r.file, path.join(ARTIFACTS, 'portal.png'));
  });

  test('after the crash, A\'s login is gone (real clicks: tile, then "Mon compte")', async () => {
    assert.ok(ctx.ended, 'no portal after the crash');
    const seq = await lastSeq();
    await xclick(ctx.tileAt.x, ctx.tileAt.y);
    await waitFor(async () => (await hostLog(INST_HOST)).some((e) => e.seq > seq && e.path === '/'), 8000, {
      message: 'the institution home after a real click on its tile',
    });
    await sleep(800);
    await xclick(accountAt.x, accountAt.y);
    const req = await waitFor(async () => (await hostLog(INST_HOST)).find((e) => e.seq > seq && e.path === '/account'), 8000, {
      message: '/account after a real click on "Mon compte"',
    });
    await sleep(500);
    await screenGrab(path.join(ARTIFACTS, 'wipe-crash-account.png'));
    assert.equal(req.cookie, null, `the /account request after the crash carried: ${req.cookie}`);
  });

  test('after the crash, the toolbar still answers: a real click on "Terminer ma session" opens its dialog', async () => {
    // The toolbar is a related view of the content (one web process for both): the crash was its too.
    assert.ok(ctx.ended && endAt, 'no portal after the crash');
    const before = await screenGrab(path.join(ARTIFACTS, 'wipe-crash-before-end-click.png'));
    await xclick(endAt.x, endAt.y);
    await sleep(1500);
    const afterFile = await screenGrab(path.join(ARTIFACTS, 'wipe-crash-after-end-click.png'));
    const whole = { x: 0, y: 0, width: ctx.origin.x + ctx.origin.width, height: ctx.origin.y + ctx.origin.height };
    const diff = await regionDiff(before, afterFile, whole);
    const pixels = whole.width * whole.height;
    assert.ok(diff > pixels * 0.2, `nothing happened on the screen (${diff} of ${pixels} pixels changed): ${before} vs ${afterFile}`);
  });
});
