// A day of use, measured (issue 15, item 6): drives SESSIONS person-sessions through the kiosk as it
// ships (no WebDriver: real clicks and keys with xdotool, as tests/e2e/forget.test.mjs does) and
// records, every SAMPLE_EVERY sessions, the memory, open descriptors and threads of the kiosk's
// whole process tree, and for every session the time from the « Oui, terminer » click to the clean
// portal (the kiosk's log line `internal page shown page="/index.html"`).
//
// WebDriver only measures the layout first (where the tile, the links, the toolbar's buttons and its
// dialogs are on the screen), in a kiosk of its own that is then closed. Under WebDriver the kiosk
// keeps WebKit's network process at each session end (src-tauri/src/session.rs, `under_webdriver`);
// the measured kiosk is started without it, so it takes the shipped path (the network process is
// stopped and a new one starts for the next person).
//
// One person's session (STEPS, comma-separated, in this order; default all):
//   tile      the institution's tile on the portal            (waits for GET / on the sites server)
//   browse    two pages: « Mon compte », then « Page visitée », each left with « Retour »
//   form      « Espace protégé »: the kiosk's password dialog, user and password typed, Enter
//             (waits for GET /basic carrying that user), then « Retour »
//   download  « Télécharger une attestation »: waits for the file in <state>/session/downloads and
//             the kiosk's viewer
//   print     « Imprimer » on that document, « Imprimer » in the dialog: waits for the PDF cups-pdf
//             writes in $E2E_WORK/printed, then closes the dialog
// then « Terminer ma session », « Oui, terminer », and the kiosk's log line of the fresh portal.
//
// Started by tests/bench/day-of-use.sh (setup, display, sites server, tauri-driver, teardown).
// Environment: SESSIONS (300), SAMPLE_EVERY (25), STEPS, DAY_SETTLE_MS (3000: from the portal shown
// to a sample), DAY_OUT (results file), DAY_CSV (per-session file), DAY_WORK (kiosk log, screenshots),
// DAY_COMMIT, DAY_BUILD, DAY_LOAD_BEFORE (written into the results), and the harness's E2E_* variables.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  CONFIG_DIR, CONTROL_URL, INSTITUTION, WORK, borneBinary, contentOrigin, ensureDisplay, freshStateDir,
  screenGrab, startBorne, startSites, startTauriDriver, stopAll, toolbarHandle, waitPortal,
} from '../e2e/lib/harness.mjs';
import { sleep, waitFor } from '../e2e/lib/webdriver.mjs';

const execFileP = promisify(execFile);
const HERE = path.dirname(new URL(import.meta.url).pathname);
const SESSIONS = Number(process.env.SESSIONS || 300);
const SAMPLE_EVERY = Number(process.env.SAMPLE_EVERY || 25);
const ALL_STEPS = ['tile', 'browse', 'form', 'download', 'print'];
const STEPS = (process.env.STEPS || ALL_STEPS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const SETTLE_MS = Number(process.env.DAY_SETTLE_MS || 3000);
const OUT = process.env.DAY_OUT || path.join(HERE, 'results', 'day-of-use.md');
const CSV = process.env.DAY_CSV || path.join(HERE, 'results', 'day-of-use.csv');
const DAY_WORK = process.env.DAY_WORK || path.join(WORK, 'day-of-use');
const PRINTED = path.join(WORK, 'printed');
const HOST = new URL(INSTITUTION).hostname;
const PASSWORD = 'motdepasse'; // what the test site's /basic accepts
// No new session starts after this time (any Date.parse format, e.g. 2026-12-07T01:10:00Z): the
// results then hold the sessions run so far.
const STOP_AT = process.env.DAY_STOP_AT ? Date.parse(process.env.DAY_STOP_AT) : Infinity;
const MARKER = '<!-- Hand-written notes below this line are kept when the script writes this file again. -->';

for (const s of STEPS) if (!ALL_STEPS.includes(s)) throw new Error(`unknown step ${s} (steps: ${ALL_STEPS.join(', ')})`);
if (STEPS.some((s) => s !== 'tile') && !STEPS.includes('tile')) throw new Error('every step but "tile" needs "tile"');
if (STEPS.includes('print') && !STEPS.includes('download')) throw new Error('"print" prints the downloaded document: it needs "download"');

const say = (...a) => console.error('[day-of-use]', ...a);
const layout = {};

// ------------------------------------------------------------------------------------------------
// X input (xdotool, as the harness; the click's time is taken just before the button goes down)

const xenv = () => ({ ...process.env });
async function xdotool(args) {
  const { stdout } = await execFileP('xdotool', args, { env: xenv(), timeout: 10000 });
  return stdout.trim();
}
/** A real click at screen coordinates; returns Date.now() just before the press. */
async function click(p) {
  await xdotool(['mousemove', String(Math.round(p.x)), String(Math.round(p.y))]);
  await sleep(40);
  const t = Date.now();
  await xdotool(['click', '1']);
  return t;
}
const typeText = (text) => xdotool(['type', '--delay', '20', text]);
const keys = (...k) => xdotool(['key', '--clearmodifiers', ...k]);

// ------------------------------------------------------------------------------------------------
// The sites server's log

const hostLog = async () => (await fetch(`${CONTROL_URL}/log?host=${HOST}`, { signal: AbortSignal.timeout(5000) })).json();
const resetLog = () => fetch(`${CONTROL_URL}/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
async function lastSeq() {
  const l = await hostLog();
  return l.length ? l[l.length - 1].seq : 0;
}
async function waitRequest(seq, p, what, pred = () => true, timeoutMs = 15000) {
  await waitFor(async () => (await hostLog()).some((e) => e.seq > seq && e.path.split('?')[0] === p && pred(e)), timeoutMs, { message: what });
}

// ------------------------------------------------------------------------------------------------
// The kiosk without WebDriver, and its log

class Kiosk {
  constructor(stateDir) {
    this.stateDir = stateDir;
    this.counts = {}; // message -> how many lines so far
    this.events = []; // {at, msg, fields}
    this.logFile = fs.createWriteStream(path.join(DAY_WORK, 'kiosk.log'));
    this.rest = '';
  }

  start() {
    this.child = spawn(borneBinary(), ['--config', CONFIG_DIR, '--state', this.stateDir], {
      env: { ...process.env, BORNE_LOG: 'info' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.child.stderr.on('data', (d) => this.feed(d.toString()));
    this.pid = this.child.pid;
  }

  feed(text) {
    const lines = (this.rest + text.replace(/\x1b\[[0-9;]*m/g, '')).split('\n');
    this.rest = lines.pop();
    for (const line of lines) {
      this.logFile.write(`${line}\n`);
      const m = /^\s*(\S+)\s+(TRACE|DEBUG|INFO|WARN|ERROR)\s+\S+?:\s+(.*)$/.exec(line);
      if (!m) continue;
      const at = Date.parse(m[1]);
      const body = m[3];
      // "message key=value …": tracing's fmt layer writes the message first, then the fields.
      let msg = body;
      let fields = '';
      const f = /^(.*?)((?:\s+[a-z_]+=\S+)+)$/.exec(body);
      if (f) [msg, fields] = [f[1], f[2]];
      // Internal pages are told apart by their path; every other line by its message.
      const page = /\bpage=\S+/.exec(fields);
      const key = page ? `${msg} ${page[0]}` : msg;
      this.counts[key] = (this.counts[key] || 0) + 1;
      this.events.push({ at, key, msg, fields, level: m[2] });
      if (this.events.length > 2000) this.events.splice(0, 1000);
    }
  }

  count(key) {
    return this.counts[key] || 0;
  }

  async waitCount(key, n, what, timeoutMs = 20000) {
    await waitFor(() => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`the kiosk exited (${this.child.exitCode ?? this.child.signalCode})`);
      return this.count(key) >= n;
    }, timeoutMs, { message: what });
  }

  lastEvent(key) {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i].key === key) return this.events[i];
    return null;
  }

  async stop() {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      for (let i = 0; i < 50 && this.child.exitCode === null && this.child.signalCode === null; i++) await sleep(100);
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
    this.logFile.end();
  }
}

const PORTAL = 'internal page shown page="/index.html"';
const REPLACED = 'engine state replaced for the next person';

// ------------------------------------------------------------------------------------------------
// The process tree: memory, descriptors, threads

function procTable() {
  const t = new Map();
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      t.set(Number(p), { pid: Number(p), ppid, comm });
    } catch {
      /* gone */
    }
  }
  return t;
}

function treeOf(root) {
  const t = procTable();
  const out = [];
  const todo = [root];
  while (todo.length) {
    const pid = todo.shift();
    const p = t.get(pid);
    if (!p) continue;
    out.push(p);
    for (const c of t.values()) if (c.ppid === pid) todo.push(c.pid);
  }
  return out;
}

/** What a descriptor is, from its link: socket, pipe, anon_inode:[eventfd], /dev/dri, memfd, a file… */
function fdKind(link, stateDir) {
  if (link.startsWith('socket:')) return 'socket';
  if (link.startsWith('pipe:')) return 'pipe';
  if (link.startsWith('anon_inode:')) return link.replace(/^anon_inode:/, 'anon:');
  if (link.startsWith('/memfd:')) return `memfd:${link.slice(7).replace(/\s*\(deleted\)$/, '').replace(/[0-9a-f-]{8,}/g, '*')}`;
  if (link.startsWith('/dev/')) return link.replace(/\d+$/, 'N');
  if (link.startsWith(stateDir)) return `state${/\(deleted\)$/.test(link) ? ' (deleted)' : ''}`;
  if (link.startsWith('/tmp/') || link.startsWith('/var/tmp/')) return `tmp file${/\(deleted\)$/.test(link) ? ' (deleted)' : ''}`;
  if (/\(deleted\)$/.test(link)) return 'file (deleted)';
  return 'file';
}

function readProc(p, stateDir) {
  const r = { pid: p.pid, comm: p.comm, pss: 0, rss: 0, uss: 0, fds: 0, threads: 0, fdKinds: {} };
  try {
    const s = fs.readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] || 0);
    r.pss = kb('Pss');
    r.rss = kb('Rss');
    r.uss = kb('Private_Clean') + kb('Private_Dirty');
  } catch {
    /* gone */
  }
  try {
    const fds = fs.readdirSync(`/proc/${p.pid}/fd`);
    r.fds = fds.length;
    for (const fd of fds) {
      let link;
      try {
        link = fs.readlinkSync(`/proc/${p.pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const k = fdKind(link, stateDir);
      r.fdKinds[k] = (r.fdKinds[k] || 0) + 1;
      // Deleted files still open: the first suspects when descriptors grow.
      if (/\(deleted\)$/.test(link) && !link.startsWith('/memfd:')) (r.deleted = r.deleted || []).push(link.replace(stateDir, '<state>'));
    }
  } catch {
    /* gone */
  }
  try {
    r.threads = fs.readdirSync(`/proc/${p.pid}/task`).length;
  } catch {
    /* gone */
  }
  return r;
}

/** The whole tree now: totals (kB, counts), per process, descriptors by kind. */
function sampleTree(root, stateDir) {
  const procs = treeOf(root).map((p) => readProc(p, stateDir));
  const total = { pss: 0, rss: 0, uss: 0, fds: 0, threads: 0, procs: procs.length };
  const fdKinds = {};
  for (const p of procs) {
    for (const k of ['pss', 'rss', 'uss', 'fds', 'threads']) total[k] += p[k];
    for (const [k, n] of Object.entries(p.fdKinds)) fdKinds[k] = (fdKinds[k] || 0) + n;
  }
  return { total, procs, fdKinds };
}

// ------------------------------------------------------------------------------------------------
// Layout, measured once under WebDriver in a kiosk of its own

async function centre(wd, css, maxHalf = 80) {
  const o = await contentOrigin(wd);
  const r = await wd.getRect({ css });
  return { x: o.x + r.x + Math.min(r.width / 2, maxHalf), y: o.y + r.y + r.height / 2 };
}

async function inToolbar(wd, fn) {
  const tb = await toolbarHandle(wd);
  const main = await wd.getWindowHandle();
  await wd.switchToWindow(tb);
  try {
    return await fn();
  } finally {
    await wd.switchToWindow(main);
  }
}

async function toolbarCentre(wd, css) {
  const r = await wd.getRect({ css });
  return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
}

async function measureLayout() {
  const wd = await startBorne({ stateDir: freshStateDir('day-of-use-layout') });
  try {
    wd.commandTimeoutMs = 20000;
    await waitPortal(wd);
    await sleep(600);
    layout.tile = await centre(wd, `a.tile[href="${INSTITUTION}/"]`);
    await wd.navigateTo(`${INSTITUTION}/`);
    for (const [k, href] of [['account', '/account'], ['visited', '/visited'], ['basic', '/basic'], ['download', '/download']]) {
      layout[k] = await centre(wd, `a[href="${href}"]`);
    }
    await inToolbar(wd, async () => {
      for (const [k, css] of [['back', '#btn-back'], ['home', '#btn-home'], ['print', '#btn-print'], ['end', '#btn-end']]) {
        layout[k] = await toolbarCentre(wd, css);
      }
    });
    const overlay = (id) => `return !document.getElementById(${JSON.stringify(id)}).hidden && window.innerHeight > 300`;
    // The password dialog (a navigation WebDriver does not wait on).
    await wd.executeScript(`setTimeout(() => { location.href = ${JSON.stringify(`${INSTITUTION}/basic`)}; }, 10); return 1;`);
    await inToolbar(wd, async () => {
      await waitFor(() => wd.executeScript(overlay('auth')), 10000, { message: 'the password dialog (layout)' });
      await sleep(300);
      for (const [k, css] of [['authUser', '#auth-user'], ['authPassword', '#auth-password']]) {
        layout[k] = await toolbarCentre(wd, css);
      }
      await wd.click({ css: '#auth-cancel' });
      await sleep(300);
      await wd.click({ css: '#btn-end' });
      await waitFor(() => wd.executeScript(overlay('confirm-end')), 10000, { message: 'the end confirmation (layout)' });
      await sleep(300);
      layout.confirmYes = await toolbarCentre(wd, '#confirm-yes');
      await wd.click({ css: '#confirm-no' });
      await sleep(300);
    });
    // The print dialog over a downloaded document in the viewer (what each session prints).
    await wd.navigateTo(`${INSTITUTION}/`);
    await wd.click({ css: 'a[href="/download"]' });
    await waitFor(async () => (await wd.getUrl()).startsWith('borne-doc://'), 15000, { message: 'the viewer (layout)' });
    await sleep(1500);
    await inToolbar(wd, async () => {
      await wd.click({ css: '#btn-print' });
      await waitFor(() => wd.executeScript(`${overlay('print')} && !document.getElementById('print-form').hidden &&
        !document.getElementById('print-go').disabled && document.getElementById('print-preview').naturalWidth > 0`), 20000,
      { message: 'the print dialog ready (layout)' });
      await sleep(300);
      layout.printGo = await toolbarCentre(wd, '#print-go');
      await wd.click({ css: '#print-cancel' });
    });
  } finally {
    await wd.deleteSession().catch(() => {});
  }
  await sleep(1500);
  say('layout', JSON.stringify(layout));
}

// ------------------------------------------------------------------------------------------------
// One person's session

const printedFiles = () => (fs.existsSync(PRINTED) ? fs.readdirSync(PRINTED).filter((f) => f.endsWith('.pdf')) : []);
const downloadsOf = (stateDir) => {
  const d = path.join(stateDir, 'session', 'downloads');
  return fs.existsSync(d) ? fs.readdirSync(d) : [];
};

async function back() {
  await click(layout.back);
  await sleep(700); // no request to wait for: WebKit's back/forward cache
}

async function person(kiosk, n, rec) {
  const t = (name, t0) => { rec.steps[name] = Date.now() - t0; };
  await resetLog();
  let t0 = Date.now();
  if (STEPS.includes('tile')) {
    const seq = await lastSeq();
    await click(layout.tile);
    await waitRequest(seq, '/', 'the institution home (tile)');
    await sleep(600);
    t('tile', t0);
  }
  if (STEPS.includes('browse')) {
    t0 = Date.now();
    for (const [k, p] of [['account', '/account'], ['visited', '/visited']]) {
      const seq = await lastSeq();
      await click(layout[k]);
      await waitRequest(seq, p, `GET ${p}`);
      await sleep(400);
      await back();
    }
    t('browse', t0);
  }
  if (STEPS.includes('form')) {
    t0 = Date.now();
    const user = `personne-${n}`;
    const seq = await lastSeq();
    const asked = kiosk.count('a site asks for a password');
    await click(layout.basic);
    await kiosk.waitCount('a site asks for a password', asked + 1, 'the password dialog asked (kiosk log)');
    await sleep(700); // the toolbar covers the window with its dialog
    await click(layout.authUser);
    await keys('ctrl+a');
    await typeText(user);
    await click(layout.authPassword);
    await typeText(PASSWORD);
    await keys('Return');
    await waitRequest(seq, '/basic', `GET /basic with ${user}'s Authorization`, (e) => e.authorization === user);
    await sleep(400);
    await back();
    t('form', t0);
  }
  if (STEPS.includes('download')) {
    t0 = Date.now();
    const before = downloadsOf(kiosk.stateDir).length;
    const done = kiosk.count('download finished');
    await click(layout.download);
    await kiosk.waitCount('download finished', done + 1, 'the download finished (kiosk log)');
    await waitFor(() => downloadsOf(kiosk.stateDir).length > before, 10000, { message: 'the file in <state>/session/downloads' });
    await sleep(900); // the viewer draws the document
    t('download', t0);
  }
  if (STEPS.includes('print')) {
    t0 = Date.now();
    const ready = kiosk.count('document ready to print');
    const submitted = kiosk.count('print job submitted');
    const before = new Set(printedFiles());
    await click(layout.print);
    await kiosk.waitCount('document ready to print', ready + 1, 'the print dialog ready (kiosk log)');
    await sleep(500); // the preview shows, the button is enabled
    await click(layout.printGo);
    await kiosk.waitCount('print job submitted', submitted + 1, 'the job submitted (kiosk log)');
    let file;
    await waitFor(() => {
      file = printedFiles().find((f) => !before.has(f));
      return !!file && fs.statSync(path.join(PRINTED, file)).size > 0;
    }, 30000, { message: 'a new PDF from cups-pdf' });
    fs.rmSync(path.join(PRINTED, file), { force: true });
    // « Fermer » has the focus once the job is sent (and moved: the form is hidden); Escape closes too.
    await keys('Escape');
    await sleep(300);
    t('print', t0);
  }
}

/** « Terminer ma session », « Oui, terminer »; returns the times, from the click and the kiosk's log. */
async function endSession(kiosk, rec) {
  const shown = kiosk.count(PORTAL);
  const replaced = kiosk.count(REPLACED);
  await click(layout.end);
  await sleep(800); // the confirmation covers the window
  const t0 = await click(layout.confirmYes);
  await kiosk.waitCount(PORTAL, shown + 1, 'the fresh portal (kiosk log)', 20000);
  const seen = Date.now();
  const portal = kiosk.lastEvent(PORTAL);
  rec.toPortalMs = portal.at - t0;
  rec.toPortalSeenMs = seen - t0;
  if (kiosk.count(REPLACED) > replaced) rec.replacedMs = Number(/ms=(\d+)/.exec(kiosk.lastEvent(REPLACED).fields)?.[1]);
  rec.leftInDownloads = downloadsOf(kiosk.stateDir).length;
}

async function recover(kiosk, n, err) {
  say(`session ${n}: ${err.message}; ending it`);
  await screenGrab(path.join(DAY_WORK, `failed-${n}.png`)).catch(() => {});
  // Escape closes whichever toolbar dialog is open (password, print, end confirmation).
  await keys('Escape').catch(() => {});
  await sleep(500);
}

// ------------------------------------------------------------------------------------------------
// Results

const mib = (kb) => (kb / 1024).toFixed(1);
const pct = (a, b) => (a ? (((b - a) / a) * 100).toFixed(1) : 'n/a');
function quantile(sorted, q) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
function dist(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return {
    n: v.length, min: v[0], p10: quantile(v, 0.1), median: quantile(v, 0.5), p90: quantile(v, 0.9),
    p99: quantile(v, 0.99), max: v[v.length - 1], mean: v.length ? Math.round(v.reduce((a, b) => a + b, 0) / v.length) : NaN,
  };
}

function machine() {
  const cpu = os.cpus()[0]?.model || '?';
  return `${os.hostname()}: ${os.cpus().length} × ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${os.release()}`;
}

function writeResults({ samples, sessions, started, finished, aborted, loadBefore, loadAfter, webkit }) {
  const L = [];
  const first = samples.find((s) => s.session === SAMPLE_EVERY) || samples[1] || samples[0];
  const last = samples[samples.length - 1];
  L.push('# A day of use, measured');
  L.push('');
  L.push(`Generated by \`tests/bench/day-of-use.sh\` (issue 15, item 6). ${aborted ? `**Stopped early: ${aborted}**` : ''}`);
  L.push('');
  L.push(`- Machine: ${machine()}`);
  L.push(`- Date: ${new Date(started).toISOString()} → ${new Date(finished).toISOString()} (${((finished - started) / 60000).toFixed(1)} min)`);
  L.push(`- Kiosk: \`${process.env.DAY_BUILD || borneBinary()}\`, commit ${process.env.DAY_COMMIT || '?'}; WebKitGTK ${webkit || '?'}; \`WEBKIT_DISABLE_COMPOSITING_MODE\` ${process.env.WEBKIT_DISABLE_COMPOSITING_MODE ?? 'unset (the kiosk sets 1)'}`);
  L.push('- Path measured: the shipped one. The kiosk runs without WebDriver (driven by xdotool clicks and keys), so each session end stops WebKit\'s network process; WebDriver only measured the layout first, in another kiosk.');
  L.push(`- Sessions: ${sessions.length} of ${SESSIONS}; steps: ${STEPS.join(', ')}; a sample every ${SAMPLE_EVERY} sessions, ${SETTLE_MS / 1000} s after the fresh portal was shown (and one before the first person).`);
  L.push(`- Load average before: ${loadBefore}; after: ${loadAfter}`);
  L.push(`- Failed sessions (a step timed out, the session was ended anyway): ${sessions.filter((s) => s.error).length}${sessions.some((s) => s.error) ? ` (${sessions.filter((s) => s.error).map((s) => `#${s.n}: ${s.error}`).slice(0, 5).join('; ')})` : ''}`);
  L.push('');
  L.push('## The whole process tree every ' + SAMPLE_EVERY + ' sessions');
  L.push('');
  L.push('The kiosk and every descendant (its WebKit web and network processes). PSS sums `Pss:` of `/proc/<pid>/smaps_rollup`; USS is `Private_Clean + Private_Dirty`; descriptors count `/proc/<pid>/fd`, threads `/proc/<pid>/task`. Terminer → portal: median of the sessions since the previous row.');
  L.push('');
  L.push('| after session | PSS MiB | RSS MiB | USS MiB | processes | descriptors | threads | Terminer → portal, median ms |');
  L.push('|---:|---:|---:|---:|---:|---:|---:|---:|');
  let prev = 0;
  for (const s of samples) {
    const since = sessions.filter((x) => x.n > prev && x.n <= s.session).map((x) => x.toPortalMs);
    const med = since.length ? dist(since).median : '';
    L.push(`| ${s.session} | ${mib(s.total.pss)} | ${mib(s.total.rss)} | ${mib(s.total.uss)} | ${s.total.procs} | ${s.total.fds} | ${s.total.threads} | ${med} |`);
    prev = s.session;
  }
  L.push('');
  if (first && last && first !== last) {
    const g = (k) => pct(first.total[k], last.total[k]);
    const ok = (v, lim) => (Number(v) < lim ? 'met' : '**missed**');
    L.push(`**Growth from session ${first.session} to ${last.session}** (goal: memory under 5 %, no descriptor or thread growth):`);
    L.push('');
    L.push(`- PSS ${mib(first.total.pss)} → ${mib(last.total.pss)} MiB: ${g('pss')} % (${ok(g('pss'), 5)}); RSS ${g('rss')} % (${ok(g('rss'), 5)}); USS ${g('uss')} %`);
    L.push(`- descriptors ${first.total.fds} → ${last.total.fds} (${last.total.fds - first.total.fds >= 0 ? '+' : ''}${last.total.fds - first.total.fds}; ${last.total.fds <= first.total.fds ? 'met' : '**missed**'})`);
    L.push(`- threads ${first.total.threads} → ${last.total.threads} (${last.total.threads - first.total.threads >= 0 ? '+' : ''}${last.total.threads - first.total.threads}; ${last.total.threads <= first.total.threads ? 'met' : '**missed**'})`);
    L.push('');
    L.push(`### Per process, after session ${first.session} and ${last.session}`);
    L.push('');
    L.push('| process | PSS MiB | RSS MiB | descriptors | threads |');
    L.push('|---|---:|---:|---:|---:|');
    // The web process alive at both samples is the toolbar's (the person's view gets a new one each
    // session): told apart, since they grow for different reasons.
    const longLived = new Set(first.procs.filter((p) => last.procs.some((q) => q.pid === p.pid)).map((p) => p.pid));
    const by = (s) => {
      const m = {};
      for (const p of s.procs) {
        const web = p.comm.startsWith('WebKitWebProces');
        const k = web ? (longLived.has(p.pid) ? 'web process, long-lived (toolbar)' : 'web process, the person\'s view') : p.comm;
        m[k] = m[k] || { n: 0, pss: 0, rss: 0, fds: 0, threads: 0 };
        m[k].n++;
        for (const f of ['pss', 'rss', 'fds', 'threads']) m[k][f] += p[f];
      }
      return m;
    };
    const a = by(first);
    const b = by(last);
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      const x = a[k] || { n: 0, pss: 0, rss: 0, fds: 0, threads: 0 };
      const y = b[k] || { n: 0, pss: 0, rss: 0, fds: 0, threads: 0 };
      L.push(`| ${k} (${x.n} → ${y.n}) | ${mib(x.pss)} → ${mib(y.pss)} | ${mib(x.rss)} → ${mib(y.rss)} | ${x.fds} → ${y.fds} | ${x.threads} → ${y.threads} |`);
    }
    L.push('');
    const deleted = last.procs.filter((p) => p.deleted?.length).map((p) => `${p.comm} (${p.deleted.length}): ${[...new Set(p.deleted)].slice(0, 6).map((d) => `\`${d}\``).join(', ')}`);
    L.push(`### Descriptors by kind (whole tree), after session ${first.session} and ${last.session}`);
    L.push('');
    L.push('| kind | ' + first.session + ' | ' + last.session + ' |');
    L.push('|---|---:|---:|');
    for (const k of [...new Set([...Object.keys(first.fdKinds), ...Object.keys(last.fdKinds)])].sort()) {
      L.push(`| ${k} | ${first.fdKinds[k] || 0} | ${last.fdKinds[k] || 0} |`);
    }
    L.push('');
    if (deleted.length) {
      L.push(`Deleted files still open after session ${last.session}: ${deleted.join('; ')}.`);
      L.push('');
    }
  }
  L.push('## « Oui, terminer » → clean portal, every session');
  L.push('');
  L.push('From the click (the script\'s clock, just before the button goes down) to the timestamp of the kiosk\'s log line `internal page shown page="/index.html"`; "engine state replaced" is the kiosk\'s own `ms=` of `session::end` (the synchronous part: stats, resets, wipe, network process stopped, new view made).');
  L.push('');
  L.push('| ms | n | min | p10 | median | p90 | p99 | max | mean |');
  L.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [name, key] of [['click → portal shown (kiosk log)', 'toPortalMs'], ['engine state replaced (kiosk)', 'replacedMs'], ['click → log line read by the script', 'toPortalSeenMs']]) {
    const d = dist(sessions.map((s) => s[key]));
    L.push(`| ${name} | ${d.n} | ${d.min} | ${d.p10} | ${d.median} | ${d.p90} | ${d.p99} | ${d.max} | ${d.mean} |`);
  }
  L.push('');
  const tp = sessions.map((s) => s.toPortalMs).filter(Number.isFinite);
  if (tp.length) {
    const buckets = [200, 300, 400, 500, 700, 1000, 1500, 2000, Infinity];
    L.push('| click → portal | ' + buckets.map((b, i) => (b === Infinity ? `> ${buckets[i - 1]} ms` : `≤ ${b} ms`)).join(' | ') + ' |');
    L.push('|---|' + buckets.map(() => '---:').join('|') + '|');
    const counts = buckets.map((b, i) => tp.filter((v) => v <= b && (i === 0 || v > buckets[i - 1])).length);
    L.push('| sessions | ' + counts.join(' | ') + ' |');
    L.push('');
  }
  const stepNames = STEPS.filter((s) => sessions.some((x) => x.steps[s] !== undefined));
  if (stepNames.length) {
    L.push('Time of each step (median ms, script\'s clock, fixed waits included): ' +
      stepNames.map((s) => `${s} ${dist(sessions.map((x) => x.steps[s])).median}`).join(', ') +
      `; a whole session ${dist(sessions.map((x) => x.totalMs)).median} ms.` +
      ` Files left in the session's downloads after the portal showed: ${sessions.reduce((a, s) => a + (s.leftInDownloads || 0), 0)}.`);
    L.push('');
  }
  L.push(`Per-session figures: \`${path.relative(path.join(HERE, '..', '..'), CSV)}\`.`);
  L.push('');
  let notes = '';
  if (fs.existsSync(OUT)) {
    const old = fs.readFileSync(OUT, 'utf8');
    const at = old.indexOf(MARKER);
    if (at >= 0) notes = old.slice(at + MARKER.length);
  }
  L.push(MARKER);
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, L.join('\n') + (notes || '\n'));
  const header = ['session', 'to_portal_ms', 'replaced_ms', 'seen_ms', 'total_ms', ...ALL_STEPS.map((s) => `${s}_ms`), 'error'];
  fs.writeFileSync(CSV, [header.join(','), ...sessions.map((s) => [s.n, s.toPortalMs ?? '', s.replacedMs ?? '', s.toPortalSeenMs ?? '', s.totalMs,
    ...ALL_STEPS.map((k) => s.steps[k] ?? ''), s.error ? JSON.stringify(s.error) : ''].join(','))].join('\n') + '\n');
}

// ------------------------------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(DAY_WORK, { recursive: true });
  const loadBefore = process.env.DAY_LOAD_BEFORE || os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const started = Date.now();
  await ensureDisplay();
  await startSites();
  await startTauriDriver();
  await measureLayout();

  const stateDir = freshStateDir('day-of-use');
  const kiosk = new Kiosk(stateDir);
  const samples = [];
  const sessions = [];
  let aborted = null;
  const webkit = process.env.DAY_WEBKIT || null;
  const stopping = { now: false };
  process.on('SIGINT', () => { stopping.now = true; });
  process.on('SIGTERM', () => { stopping.now = true; });
  try {
    kiosk.start();
    await kiosk.waitCount(PORTAL, 1, 'the first portal (kiosk log)', 60000);
    await sleep(SETTLE_MS);
    samples.push({ session: 0, ...sampleTree(kiosk.pid, stateDir) });
    say(`before the first person: PSS ${mib(samples[0].total.pss)} MiB, ${samples[0].total.fds} fds, ${samples[0].total.threads} threads`);
    for (let n = 1; n <= SESSIONS && !stopping.now; n++) {
      if (Date.now() > STOP_AT) {
        aborted = `DAY_STOP_AT (${process.env.DAY_STOP_AT}) reached after ${sessions.length} sessions`;
        if (sessions.length % SAMPLE_EVERY !== 0) {
          await sleep(SETTLE_MS);
          samples.push({ session: sessions.length, ...sampleTree(kiosk.pid, stateDir) });
        }
        break;
      }
      const rec = { n, steps: {} };
      const t0 = Date.now();
      try {
        await person(kiosk, n, rec);
      } catch (e) {
        rec.error = e.message;
        await recover(kiosk, n, e);
      }
      try {
        await endSession(kiosk, rec);
      } catch (e) {
        rec.error = `${rec.error ? `${rec.error}; ` : ''}end: ${e.message}`;
        sessions.push(rec);
        await screenGrab(path.join(DAY_WORK, `end-failed-${n}.png`)).catch(() => {});
        aborted = `session ${n} could not be ended (${e.message})`;
        break;
      }
      rec.totalMs = Date.now() - t0;
      sessions.push(rec);
      say(`session ${n}: ${rec.totalMs} ms, Terminer → portal ${rec.toPortalMs} ms (engine ${rec.replacedMs} ms)${rec.error ? `, FAILED: ${rec.error}` : ''}`);
      if (n % SAMPLE_EVERY === 0 || n === SESSIONS) {
        await sleep(SETTLE_MS);
        const s = { session: n, ...sampleTree(kiosk.pid, stateDir) };
        samples.push(s);
        say(`after session ${n}: PSS ${mib(s.total.pss)} MiB, RSS ${mib(s.total.rss)} MiB, ${s.total.procs} processes, ${s.total.fds} fds, ${s.total.threads} threads`);
        fs.writeFileSync(path.join(DAY_WORK, 'samples.json'), JSON.stringify(samples, null, 1));
      } else {
        await sleep(700); // tiles and pictograms
      }
    }
    if (stopping.now && !aborted) {
      aborted = `interrupted after ${sessions.length} sessions`;
      if (sessions.length % SAMPLE_EVERY !== 0) samples.push({ session: sessions.length, ...sampleTree(kiosk.pid, stateDir) });
    }
  } catch (e) {
    aborted = e.message;
    say(`stopped: ${e.message}`);
  } finally {
    await kiosk.stop();
    await stopAll();
  }
  const loadAfter = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  writeResults({ samples, sessions, started, finished: Date.now(), aborted, loadBefore, loadAfter, webkit });
  fs.writeFileSync(path.join(DAY_WORK, 'sessions.json'), JSON.stringify(sessions, null, 1));
  say(`results: ${OUT}`);
  if (aborted) process.exitCode = 1;
}

main().catch(async (e) => {
  say(e.stack || e.message);
  await stopAll().catch(() => {});
  process.exit(1);
});
