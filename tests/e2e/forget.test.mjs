// Forget suite: what WebKit keeps in memory does not reach the next person (issue #19).
//
// WebKit ends every WebDriver session when its network process goes away, and that is what the kiosk
// does at each session end (src-tauri/src/session.rs). So this suite runs the kiosk as it ships,
// without WebDriver, driven by real clicks and keys, and reads what it did from the test sites' log,
// the screen and the disk. WebDriver only measures the layout first (where the tile, the links and the
// toolbar's buttons are on the screen), in a kiosk of its own.
//
// In each route person A: signs in to a page behind HTTP Basic authentication through the kiosk's own
// dialog (user and password typed for real), visits a page (a link to it then shows as visited: the
// control), and makes the kiosk open a new TLS connection to the same host (its server log says
// whether that connection resumed an earlier TLS session). A leaves by a route:
//   a. "Terminer ma session" then "Oui, terminer" (real clicks);
//   b. inactivity (idle 30 s + countdown 10 s);
//   c. a crash of the web processes (kill -9);
//   d. kill -9 of the kiosk, then a new kiosk on the same state dir.
// Then person B: the protected page's first request carries no Authorization header and the kiosk's
// dialog shows again; the two links (one to the page A visited, one never visited) are painted the
// same; the first TLS connection to A's host is a full handshake; and nothing under <state>/session
// names A's host (origin files, folder names, journals). After the button route, four more sessions:
// the kiosk process holds no more WebKit shared-memory files (a page's picture) than at the portal,
// so the closed views of the people before are really gone from memory; at the 25th end the toolbar
// gets a new web process (it lives as long as the kiosk) and works in it.
//
// Run: tests/e2e/run.sh tests/e2e/forget.test.mjs   (about 3 minutes)

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn, execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  ARTIFACTS, CONFIG_DIR, CONTROL_URL, INSTITUTION, borneBinary, contentOrigin, freshStateDir, hostLog,
  screenGrab, startAll, startBorne, stopAll, toolbarHandle, waitPortal, xclick, xkeys,
} from './lib/harness.mjs';
import { sleep, waitFor } from './lib/webdriver.mjs';

const execFileP = promisify(execFile);
const HOST = new URL(INSTITUTION).hostname;
const PASSWORD = 'motdepasse'; // what the test site's /basic accepts
const layout = {};

/** A config dir like the e2e one, with idle 30 s + warning 10 s. */
function idleConfig() {
  const dir = fs.mkdtempSync(path.join(path.dirname(freshStateDir('forget-config')), 'forget-config-'));
  for (const f of fs.readdirSync(CONFIG_DIR)) fs.copyFileSync(path.join(CONFIG_DIR, f), path.join(dir, f));
  const file = path.join(dir, 'borne.toml');
  let toml = fs.readFileSync(file, 'utf8');
  const set = (key, v) => {
    const re = new RegExp(`^${key}\\s*=.*$`, 'm');
    toml = re.test(toml) ? toml.replace(re, `${key} = ${v}`) : toml.replace(/^\[session\]\s*$/m, `[session]\n${key} = ${v}`);
  };
  set('idle_timeout_secs', 30);
  set('warning_secs', 10);
  fs.writeFileSync(file, toml);
  return dir;
}

const log = async () => (await (await fetch(`${CONTROL_URL}/log?host=${HOST}`)).json());
const tlsConnections = async () =>
  (await (await fetch(`${CONTROL_URL}/connections`)).json()).filter((c) => c.kind === 'tls' && c.sni === HOST);
const lastSeq = async () => {
  const all = [...(await log()), ...(await tlsConnections())];
  return all.reduce((m, e) => Math.max(m, e.seq), 0);
};
const requestsSince = async (seq, p) => (await log()).filter((e) => e.seq > seq && e.path.split('?')[0] === p);

/** The colour of one screen pixel, as "r,g,b" (ImageMagick). */
async function pixel(file, x, y) {
  const { stdout } = await execFileP('convert', [file, '-format', `%[fx:int(255*p{${Math.round(x)},${Math.round(y)}}.r)],%[fx:int(255*p{${Math.round(x)},${Math.round(y)}}.g)],%[fx:int(255*p{${Math.round(x)},${Math.round(y)}}.b)]`, 'info:']);
  return stdout.trim();
}

/** Rect of `css` in the content view, as screen coordinates of its centre. */
async function centre(wd, css) {
  const o = await contentOrigin(wd);
  const r = await wd.getRect({ css });
  return { x: o.x + r.x + Math.min(r.width / 2, 80), y: o.y + r.y + r.height / 2 };
}

/** Rect of `css` in the toolbar (at the window's top left), as screen coordinates of its centre. */
async function toolbarCentre(wd, css) {
  const tb = await toolbarHandle(wd);
  const main = await wd.getWindowHandle();
  try {
    await wd.switchToWindow(tb);
    const r = await wd.getRect({ css });
    return { x: r.x + r.width / 2, y: r.y + r.height / 2 };
  } finally {
    await wd.switchToWindow(main);
  }
}

/** Every path under `dir` (folders and files), and the files' contents that name `needle`. */
function traces(dir, needle) {
  const named = [];
  const holding = [];
  const walk = (d) => {
    let entries = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.name.includes(needle)) named.push(p);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        let buf;
        try {
          buf = fs.readFileSync(p);
        } catch {
          continue;
        }
        for (const enc of ['utf8', 'utf16le']) if (buf.includes(Buffer.from(needle, enc))) holding.push(`${p} [${enc}]`);
      }
    }
  };
  walk(dir);
  return { named, holding };
}

/** The kiosk as it ships (no WebDriver), with its log read for "internal page shown". */
function startStandalone(ctx) {
  ctx.log = ctx.log || '';
  const child = spawn(borneBinary(), ['--config', ctx.configDir, '--state', ctx.stateDir], {
    env: { ...process.env, BORNE_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr.on('data', (d) => { ctx.log += d.toString().replace(/\x1b\[[0-9;]*m/g, ''); });
  ctx.kiosk = child;
  return child;
}

const portalsShown = (ctx) => (ctx.log.match(/internal page shown page="\/index.html"/g) || []).length;

async function waitPortalShown(ctx, count, timeoutMs = 30000) {
  await waitFor(() => portalsShown(ctx) >= count, timeoutMs, { message: `portal shown ${count} time(s) (kiosk log)` });
  await sleep(1200); // pictograms and fonts
}

/** Children of `pid` named `prefix…` (WebKit's processes). */
function children(pid, prefix) {
  const out = [];
  for (const p of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const st = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const comm = st.slice(st.indexOf('(') + 1, st.lastIndexOf(')'));
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && comm.startsWith(prefix)) out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Opens the protected page from the institution's home and signs in through the kiosk's dialog. */
async function signIn(ctx) {
  const seq = await lastSeq();
  await xclick(layout.basic.x, layout.basic.y);
  await waitFor(async () => (await requestsSince(seq, '/basic')).length > 0, 10000, { message: 'GET /basic' });
  await sleep(1500); // the toolbar covers the window with its dialog
  await screenGrab(path.join(ARTIFACTS, `forget-${ctx.route}-auth-dialog.png`));
  await xclick(layout.authUser.x, layout.authUser.y);
  await xkeys(['ctrl+a']);
  await execFileP('xdotool', ['type', '--delay', '40', ctx.user], { env: { ...process.env } });
  await xclick(layout.authPassword.x, layout.authPassword.y);
  await execFileP('xdotool', ['type', '--delay', '40', PASSWORD], { env: { ...process.env } });
  await xkeys(['Return']);
  await waitFor(async () => (await requestsSince(seq, '/basic')).some((e) => e.authorization === ctx.user), 10000, {
    message: `GET /basic with ${ctx.user}'s Authorization`,
  });
}

/** Back to the previous page with the toolbar's "Retour" (real click). */
async function back() {
  await xclick(layout.back.x, layout.back.y);
  await sleep(1200);
}

/** The two links' colours on /links (screen pixels), opened from the home page by a real click. */
async function linkColours(ctx, who) {
  const seq = await lastSeq();
  await xclick(layout.links.x, layout.links.y);
  await waitFor(async () => (await requestsSince(seq, '/links')).length > 0, 10000, { message: 'GET /links' });
  await sleep(1500);
  const file = await screenGrab(path.join(ARTIFACTS, `forget-${ctx.route}-links-${who}.png`));
  return { visited: await pixel(file, layout.la.x, layout.la.y), never: await pixel(file, layout.lb.x, layout.lb.y), file };
}

/** Opens the tile from the portal (real click) and waits for the institution's home. */
async function openTile() {
  const seq = await lastSeq();
  await xclick(layout.tile.x, layout.tile.y);
  await waitFor(async () => (await requestsSince(seq, '/')).length > 0, 10000, { message: 'the institution home' });
  await sleep(1200);
}

function newContext(route) {
  const id = crypto.randomBytes(4).toString('hex');
  return { route, user: `alice-${route}-${id}`, stateDir: freshStateDir(`forget-${route}`), configDir: CONFIG_DIR, log: '' };
}

async function personA(ctx) {
  await openTile();
  await signIn(ctx);
  await back();
  // A page that A visits (it writes its origin's local storage, so WebKit keeps a folder for it).
  let seq = await lastSeq();
  await xclick(layout.visited.x, layout.visited.y);
  await waitFor(async () => (await requestsSince(seq, '/visited')).length > 0, 10000, { message: 'GET /visited' });
  await sleep(1500);
  await back();
  ctx.coloursA = await linkColours(ctx, 'a');
  await back();
  // A new TLS connection to the same host in A's session: the control for resumption.
  seq = await lastSeq();
  await xclick(layout.close.x, layout.close.y);
  await waitFor(async () => (await requestsSince(seq, '/close')).length > 0, 10000, { message: 'GET /close' });
  await sleep(800);
  await back();
  ctx.connectionsA = (await tlsConnections()).filter((c) => c.seq > ctx.startSeq);
  await sleep(1500); // local storage is flushed on a timer
  ctx.onDiskA = traces(path.join(ctx.stateDir, 'session'), HOST);
}

function checksForA(ctx) {
  test('A: the protected page took A\'s password through the kiosk\'s dialog; the visited link shows as visited', () => {
    assert.ok(ctx.coloursA, 'A\'s session did not run');
    assert.notEqual(ctx.coloursA.visited, ctx.coloursA.never,
      `control: the link to the page A visited is painted like the other (${ctx.coloursA.visited}): the check on B would prove nothing (${ctx.coloursA.file})`);
    assert.ok(ctx.connectionsA.length >= 2, `control: A's session opened ${ctx.connectionsA.length} TLS connection(s) to ${HOST}`);
    assert.ok(ctx.connectionsA.some((c) => c.resumed),
      `control: no TLS connection of A's session resumed an earlier one (${JSON.stringify(ctx.connectionsA.map((c) => c.resumed))}): the check on B would prove nothing`);
    assert.ok(ctx.onDiskA.named.length + ctx.onDiskA.holding.length > 0, 'control: nothing under <state>/session named A\'s host during A\'s session');
  });
}

function checksForB(ctx) {
  const needEnd = () => assert.ok(ctx.ended, 'A\'s session did not end');

  test('B: the protected page\'s first request carries no Authorization header, and the kiosk\'s dialog shows again', async () => {
    needEnd();
    await openTile();
    const seq = await lastSeq();
    const before = await screenGrab(path.join(ARTIFACTS, `forget-${ctx.route}-b-before-basic.png`));
    await xclick(layout.basic.x, layout.basic.y);
    await waitFor(async () => (await requestsSince(seq, '/basic')).length > 0, 10000, { message: 'GET /basic' });
    await sleep(1500);
    const shown = await screenGrab(path.join(ARTIFACTS, `forget-${ctx.route}-b-auth-dialog.png`));
    const reqs = await requestsSince(seq, '/basic');
    assert.equal(reqs[0].authorization, null, `B's first /basic request carried A's credentials (${reqs[0].authorization})`);
    assert.ok(reqs.every((e) => e.authorization === null), `a later /basic request carried: ${reqs.map((e) => e.authorization)}`);
    // The dialog: the toolbar covers the window (its title sits where the page was).
    const { stdout } = await execFileP('compare', ['-metric', 'AE', before, shown, 'null:']).catch((e) => ({ stdout: e.stderr }));
    const changed = Number(String(stdout).trim().split(/\s/)[0]);
    assert.ok(changed > 100000, `the screen barely changed after the protected page was asked (${changed} pixels): no dialog? ${shown}`);
    await xclick(layout.authCancel.x, layout.authCancel.y);
    await sleep(1200);
    await screenGrab(path.join(ARTIFACTS, `forget-${ctx.route}-b-auth-cancelled.png`));
  });

  test('B: a link to the page A visited is painted like a link never visited', async () => {
    needEnd();
    // From the portal again (toolbar's "Accueil"), then the tile: wherever « Annuler » left the page.
    await xclick(layout.home.x, layout.home.y);
    await sleep(1200);
    await openTile();
    const c = await linkColours(ctx, 'b');
    assert.equal(c.visited, c.never, `the link to A's page is painted ${c.visited}, the other ${c.never}: ${c.file}`);
    assert.equal(c.never, ctx.coloursA.never, 'the unvisited link changed colour');
  });

  test('B: the first TLS connection to A\'s host after the wipe is a full handshake', async () => {
    needEnd();
    const after = (await tlsConnections()).filter((c) => c.seq > ctx.endSeq);
    assert.ok(after.length > 0, `no TLS connection to ${HOST} after the wipe`);
    assert.equal(after[0].resumed, false, `B's first connection resumed A's TLS session: ${JSON.stringify(after[0])}`);
  });

  test('B: nothing under <state>/session names A\'s host (files, folders, origin records)', () => {
    needEnd();
    const now = traces(path.join(ctx.stateDir, 'session'), HOST);
    assert.deepEqual(now, { named: [], holding: [] }, `after the wipe (A's session had: ${JSON.stringify(ctx.onDiskA)})`);
  });
}

before(async () => {
  await startAll();
  // The layout, measured once under WebDriver in a kiosk of its own (the same config and screen).
  const wd = await startBorne({ stateDir: freshStateDir('forget-layout') });
  try {
    wd.commandTimeoutMs = 20000;
    await waitPortal(wd);
    await sleep(600);
    layout.tile = await centre(wd, `a.tile[href="${INSTITUTION}/"]`);
    await wd.navigateTo(`${INSTITUTION}/`);
    for (const [k, href] of [['basic', '/basic'], ['visited', '/visited'], ['links', '/links'], ['close', '/close']]) {
      layout[k] = await centre(wd, `a[href="${href}"]`);
    }
    await wd.navigateTo(`${INSTITUTION}/links`);
    layout.la = await centre(wd, '#la');
    layout.lb = await centre(wd, '#lb');
    layout.back = await toolbarCentre(wd, '#btn-back');
    layout.home = await toolbarCentre(wd, '#btn-home');
    layout.end = await toolbarCentre(wd, '#btn-end');
    // The password dialog's fields and buttons: open it (a navigation that WebDriver does not wait on).
    await wd.executeScript(`setTimeout(() => { location.href = ${JSON.stringify(`${INSTITUTION}/basic`)}; }, 10); return 1;`);
    const tb = await toolbarHandle(wd);
    const main = await wd.getWindowHandle();
    await wd.switchToWindow(tb);
    try {
      await waitFor(() => wd.executeScript('return !document.getElementById("auth").hidden && window.innerHeight > 300'), 10000, {
        message: 'the password dialog (layout)',
      });
      await sleep(300);
      for (const [k, css] of [['authUser', '#auth-user'], ['authPassword', '#auth-password'], ['authCancel', '#auth-cancel']]) {
        const r = await wd.getRect({ css });
        layout[k] = { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      }
      await wd.click({ css: '#auth-cancel' });
      await sleep(300);
      await wd.click({ css: '#btn-end' });
      await waitFor(() => wd.executeScript('return !document.getElementById("confirm-end").hidden && window.innerHeight > 300'), 10000, {
        message: 'the end confirmation (layout)',
      });
      await sleep(300);
      const r = await wd.getRect({ css: '#confirm-yes' });
      layout.confirmYes = { x: r.x + r.width / 2, y: r.y + r.height / 2 };
      await wd.click({ css: '#confirm-no' });
    } finally {
      await wd.switchToWindow(main);
    }
  } finally {
    await wd.deleteSession().catch(() => {});
  }
  await sleep(1000);
});

after(async () => {
  await stopAll();
});

function route(name, { config, end, released }) {
  describe(name, () => {
    const ctx = newContext(name.split('.')[0]);
    before(async () => {
      if (config) ctx.configDir = config();
      ctx.startSeq = await lastSeq();
      startStandalone(ctx);
      await waitPortalShown(ctx, 1);
    });
    after(async () => {
      if (ctx.kiosk && ctx.kiosk.exitCode === null) {
        ctx.kiosk.kill('SIGTERM');
        await sleep(1000);
        if (ctx.kiosk.exitCode === null) ctx.kiosk.kill('SIGKILL');
      }
    });

    test('A signs in through the kiosk\'s dialog, visits a page, opens a second TLS connection', async () => {
      await personA(ctx);
    });
    checksForA(ctx);

    test('A leaves; the fresh portal shows', async () => {
      assert.ok(ctx.coloursA, 'A\'s session did not run');
      ctx.endSeq = await lastSeq();
      const t0 = Date.now();
      await end(ctx);
      ctx.ended = true;
      // From the kiosk's log: the swap itself, and from its start to the new portal shown.
      const lines = ctx.log.split('\n');
      const at = lines.findLastIndex((l) => l.includes('engine state replaced'));
      if (at >= 0) {
        const ms = /ms=(\d+)/.exec(lines[at])?.[1];
        const shown = lines.slice(at).find((l) => /internal page shown page="\/index.html"/.test(l));
        const ts = (l) => Date.parse(l.trim().split(/\s+/)[0]);
        const toPortal = shown ? ts(shown) - ts(lines[at]) + Number(ms) : NaN;
        console.log(`# ${name}: engine state replaced in ${ms} ms; Terminer → portal shown ${toPortal} ms (kiosk log); ${Date.now() - t0} ms in the test`);
      }
    });

    checksForB(ctx);
    if (released) released(ctx);
  });
}

/** « Terminer ma session » then « Oui, terminer » (real clicks), until the fresh portal shows. */
async function endWithButton(ctx) {
  const shown = portalsShown(ctx);
  await xclick(layout.end.x, layout.end.y);
  await sleep(1200);
  await xclick(layout.confirmYes.x, layout.confirmYes.y);
  await waitPortalShown(ctx, shown + 1, 15000);
}

/** Page backing stores the kiosk process holds (one shared-memory file per live web view's page). */
function sharedMemoryFiles(pid) {
  const dir = `/proc/${pid}/fd`;
  return fs.readdirSync(dir).filter((fd) => {
    try {
      return fs.readlinkSync(path.join(dir, fd)).startsWith('/memfd:WebKitSharedMemory');
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

/** After the button route: the views of the people before are gone from the kiosk's memory. */
function viewsReleased(ctx) {
  test('the views of the people before are released: their pages\' pictures do not pile up in the kiosk', async () => {
    assert.ok(ctx.ended, 'A\'s session did not end');
    const endOnce = () => endWithButton(ctx);
    await endOnce(); // B leaves too: from here on every session is the same
    await sleep(1500);
    const first = sharedMemoryFiles(ctx.kiosk.pid);
    assert.ok(first > 0, 'control: no WebKit shared-memory file in the kiosk process at all: the count below would prove nothing');
    const counts = [];
    const sessions = 6;
    for (let i = 0; i < sessions; i += 1) {
      await openTile();
      await endOnce();
      await sleep(1500);
      counts.push(sharedMemoryFiles(ctx.kiosk.pid));
    }
    console.log(`# shared-memory files in the kiosk: ${first} at the portal, then ${counts.join(', ')} after each of ${sessions} more sessions`);
    // A picture still in flight at the moment of the count may add one (seen on CI: 2 then 2, 3, 2, 3);
    // a view kept alive adds one per session for good (4 then 5, 6, 7, 8 before the fix), so after six
    // sessions a leak stands at least five above the start, far beyond that one in flight.
    const last = counts[counts.length - 1];
    assert.ok(last <= first + 1 && Math.max(...counts) <= first + 2,
      `the kiosk keeps one more page picture per past session (${first} then ${counts.join(', ')}): closed views are not released`);
  });

  test('every 25 session ends the toolbar gets a new web process, and works in it', async () => {
    const ends = () => (ctx.log.match(/engine state replaced/g) || []).length;
    const recycled = () => /toolbar's web process replaced/.test(ctx.log);
    // The toolbar's process: the oldest web process, there since the kiosk started (each person's
    // view gets a new one).
    const started = (pid) => Number(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[19]);
    const web = () => children(ctx.kiosk.pid, 'WebKitWebProces').sort((a, b) => started(a) - started(b));
    const toolbar = web()[0];
    const pss = (pid) => Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))[1]);
    const before = pss(toolbar);
    const endsBefore = ends();
    assert.ok(!recycled(), `not before 25 ends (${ends()} so far)`);
    while (!recycled() && ends() < 30) {
      await openTile();
      await endWithButton(ctx);
    }
    assert.ok(recycled(), `the toolbar's web process replaced within 30 ends (${ends()} ends)`);
    assert.equal(/toolbar's web process replaced.*after=(\d+)/.exec(ctx.log)?.[1], '25');
    await waitFor(() => !children(ctx.kiosk.pid, 'WebKitWebProces').includes(toolbar), 10000,
      { message: 'the toolbar\'s first web process gone' });
    await sleep(2000); // the toolbar loads again in its new process
    // It works: « Terminer » and « Oui, terminer » clicked in it end the next person's session.
    await openTile();
    await endWithButton(ctx);
    const now = web()[0] === toolbar ? null : web();
    console.log(`# toolbar's web process: ${(before / 1024).toFixed(1)} MiB PSS after ${endsBefore} ends; replaced after 25 ends; ` +
      `web processes now: ${now.map((p) => `${(pss(p) / 1024).toFixed(1)} MiB`).join(', ')}`);
    assert.ok(!/web process terminated; wiping/.test(ctx.log), 'the toolbar\'s replacement is not taken for a crash of the person\'s page');
  });
}

route('button. "Terminer ma session", "Oui, terminer" (real clicks)', {
  released: viewsReleased,
  end: endWithButton,
});

route('idle. inactivity (idle 30 s, countdown 10 s)', {
  config: idleConfig,
  end: async (ctx) => {
    const shown = portalsShown(ctx);
    await waitPortalShown(ctx, shown + 1, 60000);
  },
});

route('crash. kill -9 of the web processes', {
  end: async (ctx) => {
    const shown = portalsShown(ctx);
    const procs = children(ctx.kiosk.pid, 'WebKitWebProces');
    assert.ok(procs.length, 'no web process under the kiosk');
    for (const p of procs) process.kill(p, 'SIGKILL');
    await waitPortalShown(ctx, shown + 1, 15000);
  },
});

route('kill. kill -9 of the kiosk, then a new kiosk on the same state dir', {
  end: async (ctx) => {
    const old = ctx.kiosk;
    old.kill('SIGKILL');
    await waitFor(() => old.exitCode !== null || old.signalCode !== null, 10000, { message: 'the kiosk gone' });
    ctx.log = '';
    startStandalone(ctx);
    await waitPortalShown(ctx, 1, 30000);
  },
});
