// Start/stop helpers of the end-to-end suite: X display, sites server, tauri-driver, state dirs,
// the evil log, screenshots and real X input for the toolbar. No npm dependency.
//
// Everything here reuses what is already running (run.sh starts the shared services once for all
// test files) and stops only what it started itself.
//
// Environment:
//   E2E_WORK        work dir (certs, state dirs, artifacts)           default /tmp/borne-e2e
//   E2E_ARTIFACTS   screenshots and logs                               default $E2E_WORK/artifacts
//   E2E_BORNE       the kiosk binary                                   default target/debug/borne, else release
//   E2E_CONFIG      the config dir given to --config                   default tests/e2e/config
//   E2E_DRIVER_PORT tauri-driver's port                                default 4444
//   E2E_NATIVE_DRIVER WebKitWebDriver path                             default /usr/bin/WebKitWebDriver
//   E2E_WM          window manager started with our own Xvfb: openbox | none   default openbox if installed
//   E2E_WINDOW      xdotool search pattern for the kiosk window        default borne

import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import https from 'node:https';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { WebDriver, sleep, waitFor } from './webdriver.mjs';
import { CONTROL, ALLOWED_HOSTS, EVIL_HOSTS, HOSTS } from '../sites/hosts.mjs';

const execFileP = promisify(execFile);

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = path.resolve(E2E_DIR, '..', '..');
export const WORK = process.env.E2E_WORK || '/tmp/borne-e2e';
export const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(WORK, 'artifacts');
export const CONFIG_DIR = path.resolve(process.env.E2E_CONFIG || path.join(E2E_DIR, 'config'));
export const DRIVER_PORT = Number(process.env.E2E_DRIVER_PORT || 4444);
export const NATIVE_DRIVER = process.env.E2E_NATIVE_DRIVER || '/usr/bin/WebKitWebDriver';
export const SCREEN = { width: 1366, height: 768, depth: 24 };
export const CONTROL_URL = `http://${CONTROL.host}:${CONTROL.port}`;
export const PORTAL_URL = 'tauri://localhost/index.html';
export const INSTITUTION = 'https://www.institution.test';
export { sleep, waitFor, ALLOWED_HOSTS, EVIL_HOSTS, HOSTS };

/** Processes this module started, stopped in reverse order by stopAll(). */
const started = [];

function log(...a) {
  if (process.env.E2E_VERBOSE) console.error('[harness]', ...a);
}

function startProcess(name, cmd, args, { env = process.env, logFile } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const out = fs.openSync(logFile || path.join(ARTIFACTS, `${name}.log`), 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const proc = { name, child, exited: false, code: null };
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.code = code ?? signal;
  });
  child.on('error', (e) => {
    proc.exited = true;
    proc.code = e.message;
  });
  started.push(proc);
  log(`started ${name} (pid ${child.pid}): ${cmd} ${args.join(' ')}`);
  return proc;
}

async function stopProcess(proc, timeoutMs = 5000) {
  if (proc.exited) return;
  // SIGTERM, never SIGKILL first: tauri-driver orphans its children on SIGKILL.
  proc.child.kill('SIGTERM');
  const end = Date.now() + timeoutMs;
  while (!proc.exited && Date.now() < end) await sleep(50);
  if (!proc.exited) proc.child.kill('SIGKILL');
}

/** Stops, in reverse order, everything this module started. */
export async function stopAll() {
  while (started.length) await stopProcess(started.pop());
}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  const cargo = path.join(process.env.HOME || '/root', '.cargo', 'bin', cmd);
  return fs.existsSync(cargo) ? cargo : null;
}

// ------------------------------------------------------------------------------------------------
// X display

async function displayWorks(display) {
  try {
    await execFileP('xdpyinfo', ['-display', display], { timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

/** Uses $DISPLAY when it works; otherwise starts Xvfb :99 (1366x768x24) and a window manager. */
export async function ensureDisplay() {
  if (process.env.DISPLAY && (await displayWorks(process.env.DISPLAY))) return process.env.DISPLAY;
  const display = process.env.E2E_DISPLAY || ':99';
  if (!(await displayWorks(display))) {
    startProcess('xvfb', 'Xvfb', [display, '-screen', '0', `${SCREEN.width}x${SCREEN.height}x${SCREEN.depth}`, '-nolisten', 'tcp']);
    await waitFor(() => displayWorks(display), 10000, { message: `Xvfb on ${display}` });
    const wm = process.env.E2E_WM ?? (which('openbox') ? 'openbox' : 'none');
    if (wm !== 'none') {
      startProcess('wm', wm, [], { env: { ...process.env, DISPLAY: display } });
      await sleep(300);
    }
  }
  process.env.DISPLAY = display;
  return display;
}

// ------------------------------------------------------------------------------------------------
// Sites server

async function control(method, p) {
  const res = await fetch(`${CONTROL_URL}${p}`, { method, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`sites control ${method} ${p}: HTTP ${res.status}`);
  return res.json();
}

export async function sitesHealthy() {
  try {
    return (await control('GET', '/health')).ok === true;
  } catch {
    return false;
  }
}

/** Starts tests/e2e/sites/server.mjs unless one already answers on the control port. */
export async function startSites() {
  if (await sitesHealthy()) return;
  const proc = startProcess('sites', process.execPath, [path.join(E2E_DIR, 'sites', 'server.mjs')], {
    env: { ...process.env, E2E_WORK: WORK },
  });
  await waitFor(async () => {
    if (proc.exited) throw new Error(`sites server exited (${proc.code}); see ${ARTIFACTS}/sites.log`);
    return sitesHealthy();
  }, 10000, { message: 'sites server' });
}

/** Requests the kiosk must never have sent (evil hosts and addresses, odd ports, IP literals, insecure http). */
export const evilLog = () => control('GET', '/violations');
/** TCP connections the kiosk must never have opened (evil addresses, odd ports). */
export const evilConnections = () => control('GET', '/connections?violations=1');
export const resetLog = () => control('POST', '/reset');
export const hostLog = (host) => control('GET', `/log?host=${encodeURIComponent(host)}`);

/**
 * Proves the evil log is alive: a request to https://evil.test/ from Node (trusting the test CA)
 * must show up in it. Without this, an empty log could mean a dead server.
 */
export async function canaryRequest(p = '/canary') {
  const ca = fs.readFileSync(path.join(WORK, 'certs', 'ca.pem'));
  await new Promise((resolve, reject) => {
    const req = https.get({ host: 'evil.test', port: 443, path: p, ca, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

// ------------------------------------------------------------------------------------------------
// tauri-driver

async function driverUp(port) {
  try {
    await fetch(`http://127.0.0.1:${port}/status`, { signal: AbortSignal.timeout(2000) });
    return true; // any HTTP answer means it listens
  } catch {
    return false;
  }
}

/** Starts tauri-driver (port 4444, native driver WebKitWebDriver) unless something answers there. */
export async function startTauriDriver() {
  if (await driverUp(DRIVER_PORT)) return;
  const bin = process.env.E2E_TAURI_DRIVER || which('tauri-driver');
  if (!bin) throw new Error('tauri-driver not found: cargo install tauri-driver --locked --version 2.1.0');
  const proc = startProcess('tauri-driver', bin, ['--port', String(DRIVER_PORT), '--native-driver', NATIVE_DRIVER]);
  await waitFor(async () => {
    if (proc.exited) throw new Error(`tauri-driver exited (${proc.code}); see ${ARTIFACTS}/tauri-driver.log`);
    return driverUp(DRIVER_PORT);
  }, 15000, { message: 'tauri-driver' });
}

/** Display, sites server and tauri-driver, reusing whatever already runs. */
export async function startAll() {
  await ensureDisplay();
  await startSites();
  await startTauriDriver();
}

// ------------------------------------------------------------------------------------------------
// The kiosk

/** Pids that `pgrep args` matches ([] when none: pgrep exits 1). */
export async function pgrep(args) {
  try {
    const { stdout } = await execFileP('pgrep', args);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** A process's command name from /proc, or null once it is gone. */
export function procComm(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

/** The kiosk processes started with `--state stateDir`. */
export async function kioskPids(stateDir) {
  return (await pgrep(['-f', '--', `--state ${stateDir}`])).filter((p) => procComm(p) === 'borne');
}

export function borneBinary() {
  if (process.env.E2E_BORNE) return path.resolve(process.env.E2E_BORNE);
  for (const p of ['target/debug/borne', 'target/release/borne']) {
    const abs = path.join(REPO, p);
    if (fs.existsSync(abs)) return abs;
  }
  throw new Error('no kiosk binary: build it (cargo build -p borne) or set E2E_BORNE');
}

/** A fresh, empty state dir for one test file (under $E2E_WORK/state/). */
export function freshStateDir(name) {
  const base = path.join(WORK, 'state');
  fs.mkdirSync(base, { recursive: true });
  const dir = path.join(base, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${Date.now()}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * A copy of the e2e config (tests/e2e/config) under $E2E_WORK/<name>, with `borne.toml` changed by
 * `edits`: [[pattern, replacement]…], each pattern required to match (a config that drifted fails
 * loudly rather than silently testing the defaults), then `append` added at its end.
 */
export function configCopy(name, { edits = [], append = '' } = {}) {
  const dir = path.join(WORK, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const f of fs.readdirSync(CONFIG_DIR)) {
    if (fs.statSync(path.join(CONFIG_DIR, f)).isFile()) fs.copyFileSync(path.join(CONFIG_DIR, f), path.join(dir, f));
  }
  const file = path.join(dir, 'borne.toml');
  let t = fs.readFileSync(file, 'utf8');
  for (const [pattern, replacement] of edits) {
    if (!pattern.test(t)) throw new Error(`configCopy(${name}): ${pattern} matches nothing in borne.toml`);
    t = t.replace(pattern, replacement);
  }
  fs.writeFileSync(file, t + append);
  return dir;
}

export function borneCapabilities({ stateDir, configDir = CONFIG_DIR, extraArgs = [] } = {}) {
  return {
    capabilities: {
      alwaysMatch: {
        'tauri:options': {
          application: borneBinary(),
          args: ['--config', configDir, '--state', stateDir, ...extraArgs],
        },
      },
    },
  };
}

/** Starts the kiosk through tauri-driver and returns a connected WebDriver client. */
export async function startBorne({ stateDir, configDir, extraArgs } = {}) {
  const wd = new WebDriver(`http://127.0.0.1:${DRIVER_PORT}`);
  await wd.newSession(borneCapabilities({ stateDir, configDir, extraArgs }));
  return wd;
}

// ------------------------------------------------------------------------------------------------
// URLs

/**
 * What a content URL is: {kind: 'blocked', host, reason} for the kiosk's blocked page, 'portal',
 * 'internal' (another kiosk page), 'allowed' (an allowed host, right scheme), 'blank' (about:blank),
 * 'document' (a session document in the kiosk's viewer, borne-doc://localhost/<id>), or 'forbidden' (anything that should never show: an evil host, file:, data:, view-source:…).
 */
export function classifyUrl(u) {
  let url;
  try {
    url = new URL(u);
  } catch {
    return { kind: 'forbidden', url: u, why: 'unparsable' };
  }
  if (u === 'about:blank') return { kind: 'blank', url: u };
  if (url.protocol === 'borne-doc:' && url.host === 'localhost' && /^\/[0-9a-f]{32}$/.test(url.pathname)) {
    return { kind: 'document', url: u, id: url.pathname.slice(1) };
  }
  if (url.protocol === 'tauri:' && url.host === 'localhost') {
    if (url.pathname === '/blocked.html') {
      return { kind: 'blocked', url: u, host: url.searchParams.get('host') || '', reason: url.searchParams.get('reason') || '' };
    }
    if (url.pathname === '/' || url.pathname === '/index.html') return { kind: 'portal', url: u };
    return { kind: 'internal', url: u };
  }
  if (url.protocol === 'blob:') {
    try {
      const inner = new URL(url.pathname);
      if (inner.protocol === 'https:' && ALLOWED_HOSTS.includes(inner.hostname)) return { kind: 'allowed', url: u, host: inner.hostname };
    } catch {
      /* fall through */
    }
    return { kind: 'forbidden', url: u, why: 'blob of an unknown origin' };
  }
  const host = url.hostname.replace(/\.$/, '');
  if (url.port) return { kind: 'forbidden', url: u, host, why: `port ${url.port}` };
  if (url.username || url.password) return { kind: 'forbidden', url: u, host, why: 'userinfo' };
  if (url.protocol === 'https:' && ALLOWED_HOSTS.includes(host)) return { kind: 'allowed', url: u, host };
  if (url.protocol === 'http:' && HOSTS[host]?.http) return { kind: 'allowed', url: u, host };
  return { kind: 'forbidden', url: u, host, why: `${url.protocol} ${host}` };
}

// ------------------------------------------------------------------------------------------------
// Screenshots and X input

function xenv() {
  return { ...process.env, DISPLAY: process.env.DISPLAY || process.env.E2E_DISPLAY || ':99' };
}

/**
 * Saves `<name>-content.png` (WebDriver: the content view) and `<name>-screen.png` (the whole X screen,
 * toolbar included, with ImageMagick's import) into `dir`. Returns the paths that were written.
 */
export async function screenshot(wd, name, dir = ARTIFACTS) {
  fs.mkdirSync(dir, { recursive: true });
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  const written = [];
  if (wd?.sessionId) {
    try {
      const p = path.join(dir, `${safe}-content.png`);
      fs.writeFileSync(p, await wd.takeScreenshot());
      written.push(p);
    } catch (e) {
      log(`content screenshot failed: ${e.message}`);
    }
  }
  try {
    const p = path.join(dir, `${safe}-screen.png`);
    await execFileP('import', ['-window', 'root', p], { env: xenv(), timeout: 15000 });
    written.push(p);
  } catch (e) {
    log(`screen screenshot failed: ${e.message}`);
  }
  return written;
}

async function xdotool(args) {
  const { stdout } = await execFileP('xdotool', args, { env: xenv(), timeout: 10000 });
  return stdout.trim();
}

/** The X window id of the kiosk (largest visible window matching E2E_WINDOW, by class then name). */
export async function kioskWindow() {
  const pattern = process.env.E2E_WINDOW || 'borne';
  for (const by of ['--class', '--classname', '--name']) {
    try {
      const ids = (await xdotool(['search', '--onlyvisible', by, pattern])).split(/\s+/).filter(Boolean);
      if (ids.length) return ids[ids.length - 1];
    } catch {
      /* xdotool exits 1 when nothing matches */
    }
  }
  return null;
}

/** Gives the kiosk window the X keyboard focus (needed without a window manager). */
export async function focusKiosk() {
  const id = await kioskWindow();
  if (id) {
    try {
      await xdotool(['windowactivate', '--sync', id]);
    } catch {
      await xdotool(['windowfocus', '--sync', id]);
    }
  }
  return id;
}

/** Real key presses (xdotool key syntax: 'F6', 'Tab', 'Return', 'ctrl+l', 'shift+Tab'…). */
export async function xkeys(keys, { delayMs = 80 } = {}) {
  const list = Array.isArray(keys) ? keys : String(keys).split(/\s+/).filter(Boolean);
  await focusKiosk();
  await xdotool(['key', '--clearmodifiers', '--delay', String(delayMs), ...list]);
}

/**
 * Drives the toolbar (a second, local webview) with real keys: F6 moves the keyboard focus from the
 * content to the toolbar, then `seq` is typed, then F6 gives the focus back to the content (F6 is a
 * toggle and the focus persists, so each call starts and ends in the content).
 * Example: toolbarKeys('Tab Return') activates the first toolbar button ("Accueil").
 * WebDriver also lists the toolbar as a window handle (see toolbarHandle) when a test needs to read it.
 */
export async function toolbarKeys(seq, { focusToolbar = true, returnToContent = true, delayMs = 80 } = {}) {
  const list = Array.isArray(seq) ? [...seq] : String(seq).split(/\s+/).filter(Boolean);
  if (focusToolbar) list.unshift('F6');
  if (returnToContent) list.push('F6');
  await xkeys(list, { delayMs });
}

/** The WebDriver window handle of the toolbar webview (tauri://localhost/toolbar.html), or null. */
export async function toolbarHandle(wd) {
  const main = await wd.getWindowHandle();
  let found = null;
  try {
    for (const h of await wd.getWindowHandles()) {
      if (h === main) continue;
      await wd.switchToWindow(h);
      if ((await wd.getUrl()).startsWith('tauri://localhost/toolbar.html')) found = h;
    }
  } finally {
    await wd.switchToWindow(main);
  }
  return found;
}

/**
 * The statistics of a state dir as the référent reads them (`bornectl stats --csv`, the default
 * period ending today, with `configDir`'s settings): the header, and each column summed over the days.
 */
export async function statsTotals(stateDir, configDir = CONFIG_DIR) {
  const bornectl = path.join(path.dirname(borneBinary()), 'bornectl');
  const { stdout } = await execFileP(bornectl, ['--config', configDir, '--state', stateDir, 'stats', '--csv']);
  const lines = stdout.split('\r\n').filter(Boolean).map((l) => l.split(';'));
  const header = lines[0];
  const totals = {};
  for (const row of lines.slice(1)) header.forEach((h, i) => { if (i > 0) totals[h] = (totals[h] || 0) + Number(row[i]); });
  return { header, totals };
}

/** Waits for the portal with its tiles in the content view. */
export async function waitPortal(wd, timeoutMs = 20000) {
  await waitFor(async () => {
    if (classifyUrl(await wd.getUrl()).kind !== 'portal') return false;
    return (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0;
  }, timeoutMs, { message: 'the portal with its tiles' });
}

/** True when the element exists and no ancestor is hidden. */
export function isVisible(wd, css) {
  return wd.executeScript(`const e = document.querySelector(${JSON.stringify(css)}); return !!e && !e.closest('[hidden]');`);
}

/** The element's text, or null. */
export function textOf(wd, css) {
  return wd.executeScript(`const e = document.querySelector(${JSON.stringify(css)}); return e ? e.textContent : null;`);
}

/** "Terminer ma session" then "Oui, terminer" with real clicks, until the fresh portal shows. */
export async function endSessionWithButton(wd) {
  await clickToolbar(wd, '#btn-end');
  // The dialog shows once the toolbar covers the window (slower on a loaded machine): wait for it
  // rather than for a fixed time, so the second click cannot land before "Oui, terminer" is there.
  await withToolbar(wd, () => waitFor(
    () => wd.executeScript('return !document.getElementById("confirm-end").hidden && window.innerHeight > 300;'),
    10000, { message: 'the end confirmation covering the window' }));
  await sleep(200);
  await clickToolbar(wd, '#confirm-yes');
  await waitPortal(wd);
}

/** Where the test queue borne-e2e (cups-pdf, setup.sh) writes what it prints. */
export const PRINTED = path.join(WORK, 'printed');

/** The files cups-pdf has written so far (pass it to newPrintedPdf before printing). */
export const printedFiles = () => new Set(fs.existsSync(PRINTED) ? fs.readdirSync(PRINTED) : []);

/** Waits for a PDF that cups-pdf writes, not among `before` and not empty; returns its path. */
export async function newPrintedPdf(before, timeoutMs = 20000) {
  let file;
  await waitFor(() => {
    file = [...printedFiles()].find((f) => !before.has(f) && f.endsWith('.pdf'));
    return !!file && fs.statSync(path.join(PRINTED, file)).size > 0;
  }, timeoutMs, { message: 'a new PDF from cups-pdf' });
  return path.join(PRINTED, file);
}

/** Runs `fn()` with the toolbar webview as WebDriver's current window, then goes back to the content. */
export async function withToolbar(wd, fn) {
  const tb = await toolbarHandle(wd);
  if (!tb) throw new Error('no toolbar webview among the WebDriver window handles');
  const main = await wd.getWindowHandle();
  try {
    await wd.switchToWindow(tb);
    return await fn();
  } finally {
    await wd.switchToWindow(main);
  }
}

/**
 * A real mouse click on a toolbar element, found by CSS in the toolbar webview through WebDriver
 * (the toolbar sits at the window's top left, so its rect is also the screen position).
 */
export async function clickToolbar(wd, css) {
  const tb = await toolbarHandle(wd);
  if (!tb) throw new Error('no toolbar webview among the WebDriver window handles');
  const main = await wd.getWindowHandle();
  let r;
  try {
    await wd.switchToWindow(tb);
    r = await wd.getRect({ css });
  } finally {
    await wd.switchToWindow(main);
  }
  const id = await kioskWindow();
  let off = { X: 0, Y: 0 };
  if (id) {
    const geo = await xdotool(['getwindowgeometry', '--shell', id]);
    off = { X: Number(/X=(-?\d+)/.exec(geo)?.[1] || 0), Y: Number(/Y=(-?\d+)/.exec(geo)?.[1] || 0) };
  }
  await xclick(off.X + r.x + r.width / 2, off.Y + r.y + r.height / 2);
}

/**
 * A real mouse click at screen coordinates (for the toolbar, or inside views WebDriver cannot reach).
 * `repeat: 3` is a triple click (selects a paragraph).
 */
export async function xclick(x, y, { button = 1, repeat = 1 } = {}) {
  // No --sync: it waits for a motion event and hangs when the pointer is already there.
  await xdotool(['mousemove', String(Math.round(x)), String(Math.round(y))]);
  await sleep(50);
  await xdotool(['click', ...(repeat > 1 ? ['--repeat', String(repeat), '--delay', '90'] : []), String(button)]);
}

/** Saves the whole X screen (toolbar included) to `file` (ImageMagick's import). */
export async function screenGrab(file) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await execFileP('import', ['-window', 'root', file], { env: xenv(), timeout: 15000 });
  return file;
}

/**
 * What an X selection holds as text ('clipboard' or 'primary'), read with xclip: '' when nobody owns
 * it or it holds no text. Reading a selection is no input to the kiosk (no key, button or motion).
 */
export async function readSelection(selection = 'clipboard') {
  try {
    const { stdout } = await execFileP('xclip', ['-o', '-selection', selection], { env: xenv(), timeout: 5000 });
    return stdout;
  } catch (e) {
    // xclip exits 1 with "Error: target STRING not available" when the selection is empty or unowned.
    if (/not available|no owner/i.test(String(e.stderr || ''))) return '';
    throw new Error(`xclip -o -selection ${selection}: ${String(e.stderr || e.message).trim()}`);
  }
}

/**
 * Screen rectangle of the content view: the kiosk window's geometry (xdotool) with the content view
 * taken as its bottom-right part of window.innerWidth x innerHeight (the toolbar sits above it).
 * Call it with WebDriver on the top-level document. Turns an element rect into an xdotool position.
 */
export async function contentOrigin(wd) {
  const inner = await wd.executeScript('return [window.innerWidth, window.innerHeight]');
  const id = await kioskWindow();
  let g = { X: 0, Y: 0, WIDTH: SCREEN.width, HEIGHT: SCREEN.height };
  if (id) {
    const geo = await xdotool(['getwindowgeometry', '--shell', id]);
    for (const k of Object.keys(g)) g[k] = Number(new RegExp(`${k}=(-?\\d+)`).exec(geo)?.[1] ?? g[k]);
  }
  return { x: g.X + (g.WIDTH - inner[0]), y: g.Y + (g.HEIGHT - inner[1]), width: inner[0], height: inner[1] };
}
