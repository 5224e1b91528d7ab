// Nothing slow on the GTK main thread (issue 15, item 2): CUPS frozen and a USB stick that does not
// answer, and the kiosk still answers and feeds systemd's watchdog throughout.
//
// The kiosk runs with a watchdog of its own: WATCHDOG_USEC=1000000 (a ping every 0.5 s from the GTK
// main loop, watchdog.rs) and NOTIFY_SOCKET pointed at a Unix datagram socket this test reads (a
// small python3 listener writes one timestamp per WATCHDOG=1). It is started through a wrapper
// script that sets, for this kiosk only, that environment, a PATH whose first folder holds an `lp`
// that never returns, and a USB stick that is a FUSE mount (bindfs) of a folder.
//
// 1. cupsd stopped (SIGSTOP): « Imprimer » waits for `lpstat`, killed after its limit (10 s); the
//    person reads « L'imprimante ne répond pas : demandez à l'accueil. ».
// 2. an `lp` that never returns (cupsd running): killed after its limit (30 s), the English log line
//    names it, the same French message, no job left in the queue, the fake `lp` process gone.
// 3. the stick's FUSE daemon stopped (SIGSTOP): the file chooser's list (`upload_list`, asked as the
//    toolbar asks it) answers `usb-slow` after 10 s, and the stick lists again once it answers.
// During each freeze the toolbar answers (`display` in well under a second, the help dialog opens
// with a real click) and the watchdog pings keep coming (no gap over 2 s).
//
// Run: tests/e2e/run.sh tests/e2e/frozen.test.mjs   (about 2 minutes; needs bindfs, python3)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  freshStateDir,
  borneBinary,
  classifyUrl,
  clickToolbar,
  withToolbar,
  waitFor,
  sleep,
  screenGrab,
  INSTITUTION,
  WORK,
  ARTIFACTS,
  CONFIG_DIR,
  DRIVER_PORT,
} from './lib/harness.mjs';
import { WebDriver } from './lib/webdriver.mjs';

const execFileP = promisify(execFile);
const PRINTER = 'borne-e2e';
const PRINTER_FR = "L'imprimante ne répond pas : demandez à l'accueil.";
const HERE = path.join(WORK, 'frozen');
const FAKE_BIN = path.join(HERE, 'bin');
const NOTIFY = path.join(HERE, 'notify.sock');
const PINGS = path.join(HERE, 'pings.log');
const KIOSK_LOG = path.join(ARTIFACTS, 'frozen-kiosk.log');
const LP_PID = path.join(HERE, 'lp.pid');
const STICK_SRC = path.join(HERE, 'stick-src');
const STICK = path.join(HERE, 'usb', 'CLE-LENTE');
const stateDir = freshStateDir('frozen');
let wd;
let listener;
let bindfs;
let cupsdPid;

async function sh(cmd, args) {
  const { stdout } = await execFileP(cmd, args, { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return stdout;
}

function writeExecutable(file, text) {
  fs.writeFileSync(file, text);
  fs.chmodSync(file, 0o755);
}

const mounted = () => fs.readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === STICK);

/** The WATCHDOG=1 pings received between `from` and `to` (ms since the epoch). */
function pings(from, to) {
  const text = fs.existsSync(PINGS) ? fs.readFileSync(PINGS, 'utf8') : '';
  return text.split('\n').filter((l) => l.endsWith(' WATCHDOG=1')).map((l) => Number(l.split(' ')[0]))
    .filter((t) => t >= from && t <= to);
}

/** The watchdog was fed all along [from, to]: a ping every 0.5 s, no gap over 2 s. */
function assertFed(from, to, what) {
  const p = pings(from, to);
  const edges = [from, ...p, to];
  let gap = 0;
  for (let i = 1; i < edges.length; i += 1) gap = Math.max(gap, edges[i] - edges[i - 1]);
  const secs = (to - from) / 1000;
  console.log(`${what}: ${p.length} watchdog pings in ${secs.toFixed(1)} s, longest gap ${gap} ms`);
  assert.ok(gap < 2000, `${what}: the watchdog went ${gap} ms without a ping`);
  assert.ok(p.length >= Math.floor(secs * 2 * 0.7), `${what}: only ${p.length} pings in ${secs.toFixed(1)} s`);
  return { pings: p.length, secs, gap };
}

/** `display` asked from the toolbar: its time in the page, and the WebDriver round trip (both through the main thread). */
async function displayAnswers() {
  const t0 = Date.now();
  const inPage = await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    const t0 = performance.now();
    window.__TAURI__.core.invoke('display').then(() => done(performance.now() - t0), (e) => done(-1));`));
  return { inPage, roundTrip: Date.now() - t0 };
}

/** Asks `display` again and again while `pending()` holds; each answer must come fast. */
async function toolbarAnswersWhile(pending, what) {
  const times = [];
  while (await pending()) {
    const t = await displayAnswers();
    assert.ok(t.inPage >= 0, `${what}: display refused`);
    times.push(t);
    await sleep(700);
  }
  assert.ok(times.length >= 3, `${what}: only ${times.length} display calls during the freeze`);
  const slowest = Math.max(...times.map((t) => t.inPage));
  const slowestTrip = Math.max(...times.map((t) => t.roundTrip));
  console.log(`${what}: display answered ${times.length} times, slowest ${slowest.toFixed(0)} ms in the page, ${slowestTrip} ms through WebDriver`);
  assert.ok(slowest < 1000, `${what}: display took ${slowest} ms`);
  assert.ok(slowestTrip < 3000, `${what}: WebDriver waited ${slowestTrip} ms`);
}

const dialog = () => withToolbar(wd, () => wd.executeScript(`return {
  open: !document.getElementById('print').hidden,
  form: !document.getElementById('print-form').hidden,
  status: document.getElementById('print-status').textContent };`));

async function openDialog() {
  await clickToolbar(wd, '#btn-print');
  await waitFor(async () => { const d = await dialog(); return d.open && d.form; }, 20000, { message: 'the print dialog ready' });
}

async function closeDialog() {
  await clickToolbar(wd, '#print-cancel');
  await waitFor(async () => !(await dialog()).open, 5000, { message: 'the dialog closed' });
}

/**
 * « Imprimer » with CUPS frozen (`freeze()` runs once the dialog is ready: GTK's own printing, which
 * makes the PDF, lists CUPS's printers): the French message after the limit, the UI and the watchdog
 * alive meanwhile.
 */
async function printWhileFrozen(what, limitMs, freeze = async () => {}) {
  await openDialog();
  await freeze();
  const t0 = Date.now();
  await clickToolbar(wd, '#print-go');
  let status = '';
  await toolbarAnswersWhile(async () => {
    status = (await dialog()).status;
    if (Date.now() - t0 > limitMs + 20000) throw new Error(`${what}: no answer after ${Date.now() - t0} ms (status: ${status})`);
    return status !== PRINTER_FR;
  }, what);
  const t1 = Date.now();
  console.log(`${what}: the French printer message after ${((t1 - t0) / 1000).toFixed(1)} s`);
  await screenGrab(path.join(ARTIFACTS, `frozen-${what.replace(/\W+/g, '-')}.png`));
  const fed = assertFed(t0, t1, what);
  await closeDialog();
  return { ms: t1 - t0, ...fed };
}

before(async () => {
  await startAll();
  assert.match(await sh('lpstat', ['-p', PRINTER]).catch(() => ''), /enabled/, `the ${PRINTER} queue (setup.sh makes it)`);
  cupsdPid = (await sh('pidof', ['cupsd'])).trim().split(/\s+/)[0];
  assert.ok(cupsdPid, 'cupsd runs');
  fs.rmSync(HERE, { recursive: true, force: true });
  fs.mkdirSync(FAKE_BIN, { recursive: true });
  // An `lp` that never returns (exec: the process the kiosk kills is the one that sleeps).
  writeExecutable(path.join(FAKE_BIN, 'lp'), `#!/bin/sh\necho $$ > ${LP_PID}\nexec sleep 86399\n`);
  // The stick: a FUSE mount of a folder, whose daemon the test stops.
  fs.mkdirSync(path.join(STICK_SRC, 'Scans'), { recursive: true });
  fs.writeFileSync(path.join(STICK_SRC, 'Scans', 'scan.pdf'), '%PDF-1.4\n%%EOF\n');
  fs.mkdirSync(STICK, { recursive: true });
  bindfs = spawn('bindfs', ['-f', STICK_SRC, STICK], { stdio: 'ignore' });
  await waitFor(() => mounted(), 10000, { message: 'the bindfs stick mounted' });
  // systemd's notification socket, played by python3: one line per datagram.
  listener = spawn('python3', ['-u', '-c', `import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], 'a', buffering=1)
while True:
    d = s.recv(256).decode(errors='replace').strip()
    out.write('%d %s\\n' % (time.time() * 1000, d))
`, NOTIFY, PINGS], { stdio: 'ignore' });
  await waitFor(() => fs.existsSync(NOTIFY), 5000, { message: 'the notify socket' });
  const wrapper = path.join(HERE, 'borne');
  writeExecutable(wrapper, `#!/bin/sh
export PATH="${FAKE_BIN}:$PATH" NOTIFY_SOCKET="${NOTIFY}" WATCHDOG_USEC=1000000 BORNE_USB_ROOTS="${STICK}"
exec "${borneBinary()}" "$@" 2>>"${KIOSK_LOG}"
`);
  fs.rmSync(KIOSK_LOG, { force: true });
  wd = new WebDriver(`http://127.0.0.1:${DRIVER_PORT}`);
  await wd.newSession({ capabilities: { alwaysMatch: { 'tauri:options': {
    application: wrapper, args: ['--config', CONFIG_DIR, '--state', stateDir] } } } });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'portal' &&
    (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0, 20000, { message: 'the portal' });
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  await sleep(500);
  // The watchdog is on and fed before anything freezes.
  await waitFor(() => pings(0, Date.now()).length >= 4, 10000, { message: 'watchdog pings from the kiosk' });
});

after(async () => {
  if (cupsdPid) await sh('kill', ['-CONT', cupsdPid]).catch(() => {});
  if (bindfs && bindfs.exitCode === null) {
    bindfs.kill('SIGCONT');
    await sh('umount', [STICK]).catch(() => {});
    bindfs.kill('SIGTERM');
  }
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  listener?.kill('SIGTERM');
  await stopAll();
});

test('cupsd stopped: the toolbar answers, the watchdog is fed, the person reads the printer message', async () => {
  try {
    const r = await printWhileFrozen('cupsd stopped', 10000, () => sh('kill', ['-STOP', cupsdPid]));
    assert.ok(r.ms < 30000, `the message came after ${r.ms} ms`);
  } finally {
    await sh('kill', ['-CONT', cupsdPid]);
  }
  await waitFor(async () => /enabled/.test(await sh('lpstat', ['-p', PRINTER])), 10000, { message: 'CUPS answering again' });
});

test('an lp that never returns is killed after 30 s: the English log line, the French message, nothing queued', async () => {
  const before = fs.existsSync(KIOSK_LOG) ? fs.readFileSync(KIOSK_LOG, 'utf8').length : 0;
  const r = await printWhileFrozen('lp never returns', 30000);
  assert.ok(r.ms >= 29000, `lp's limit is 30 s: the message came after ${r.ms} ms`);
  const log = fs.readFileSync(KIOSK_LOG, 'utf8').slice(before).replace(/\x1b\[[0-9;]*m/g, '');
  assert.match(log, /CUPS does not answer.*lp gave no answer within 30 s \(killed\)/);
  const pid = fs.readFileSync(LP_PID, 'utf8').trim();
  assert.ok(!fs.existsSync(`/proc/${pid}`), `the frozen lp (pid ${pid}) was killed and reaped`);
  assert.equal((await sh('lpstat', ['-o', PRINTER])).trim(), '', 'no job left in the queue');
});

test('a USB stick that does not answer: upload_list says usb-slow after 10 s, the toolbar and the watchdog go on', async () => {
  const upload = () => withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('upload_list').then(done, (e) => done({ code: String(e && e.code || e) }));`));
  const list = await upload();
  assert.deepEqual(list.map((d) => d.name), ['scan.pdf'], 'the stick lists while it answers');
  bindfs.kill('SIGSTOP');
  try {
    // The kernel's FUSE caches (1 s) expire: every read of the stick now waits for the stopped daemon.
    await sleep(1500);
    const t0 = Date.now();
    // (`code`, not `error`: a WebDriver answer whose value holds `error` reads as a WebDriver failure.)
    await withToolbar(wd, () => wd.executeScript(`window.__frozenUsb = null;
      window.__TAURI__.core.invoke('upload_list').then((l) => { window.__frozenUsb = { list: l, at: Date.now() }; },
        (e) => { window.__frozenUsb = { code: String(e && e.code || e), at: Date.now() }; });`));
    const answer = () => withToolbar(wd, () => wd.executeScript('return window.__frozenUsb;'));
    // The help dialog opens with a real click while the stick hangs.
    await sleep(1000);
    await clickToolbar(wd, '#btn-help');
    await waitFor(() => withToolbar(wd, () => wd.executeScript('return !document.getElementById("help").hidden;')), 3000,
      { message: 'the help dialog open while the stick hangs' });
    await clickToolbar(wd, '#help-close');
    await waitFor(() => withToolbar(wd, () => wd.executeScript('return document.getElementById("help").hidden;')), 3000,
      { message: 'the help dialog closed' });
    assert.equal(await answer(), null, 'the listing still hangs');
    await toolbarAnswersWhile(async () => {
      if (Date.now() - t0 > 30000) throw new Error('upload_list never answered');
      return (await answer()) === null;
    }, 'stick frozen');
    const got = await answer();
    const t1 = Date.now();
    console.log(`stick frozen: upload_list answered ${JSON.stringify(got.code || got.list)} after ${((got.at - t0) / 1000).toFixed(1)} s`);
    assert.equal(got.code, 'usb-slow');
    assert.ok(got.at - t0 >= 9000, `the stick's limit is 10 s: answered after ${got.at - t0} ms`);
    const fr = await withToolbar(wd, () => wd.executeScript('return window.BorneI18n.t("documents.error.usb-slow");'));
    assert.equal(fr, 'Votre clé USB ne répond pas. Retirez-la, rebranchez-la, puis touchez « Actualiser la liste ».');
    assertFed(t0, t1, 'stick frozen');
    assert.match(fs.readFileSync(KIOSK_LOG, 'utf8'), /a USB stick gave no answer in time/);
  } finally {
    bindfs.kill('SIGCONT');
  }
  // The stick answers again: so does the list.
  const again = await upload();
  assert.deepEqual(again.map((d) => d.name), ['scan.pdf'], JSON.stringify(again));
});
