// A laptop borne (issue #18, nomad mode). The battery: the kernel's power-supply files (the folder
// run.sh gives the kiosk as BORNE_POWER_SUPPLY_DIR, written here as the kernel writes
// /sys/class/power_supply) shown in the toolbar, a calm warning when low, « en charge » when plugged
// in; axe-core on the toolbar. The lid: logind's sleep protocol on a private bus (BORNE_LOGIND_BUS),
// spoken by tests/bin/logind-standin.rs as logind does: the kiosk holds a "delay" lock on sleep;
// `PrepareForSleep(true)` ends the person's session and wipes it, then the lock is let go within
// logind's 5 s; after the wake a new lock is taken. The same signal from anyone else than logind's
// name owner changes nothing.
//
// Run: tests/e2e/run.sh tests/e2e/laptop.test.mjs
// Takes battery-low.png (the toolbar with the warning).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  borneBinary,
  classifyUrl,
  screenGrab,
  statsTotals,
  waitFor,
  waitPortal,
  withToolbar,
  sleep,
  ARTIFACTS,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('laptop');
const POWER = process.env.BORNE_POWER_SUPPLY_DIR;
const BUS = process.env.BORNE_LOGIND_BUS;
let wd;
let logind = null;
const said = []; // the stand-in's lines, in order

/** Writes a power supply's files as the kernel shows them. */
function supply(name, files) {
  const d = path.join(POWER, name);
  fs.mkdirSync(d, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(d, f), `${v}\n`);
}

/** Waits for a line of the stand-in matching `re`, among those after index `from`; returns it. */
async function heard(re, from = 0, timeoutMs = 15000) {
  let line;
  await waitFor(() => (line = said.slice(from).find((l) => re.test(l))) !== undefined, timeoutMs,
    { message: `logind stand-in: ${re} (heard: ${JSON.stringify(said)})` });
  return line;
}

const battery = () => withToolbar(wd, () => wd.executeScript(`const b = document.getElementById('battery');
  return { text: b.textContent, low: b.classList.contains('battery-low'), role: b.getAttribute('role'),
    shown: getComputedStyle(b).display !== 'none' };`));

before(async () => {
  assert.ok(POWER && BUS, 'run.sh exports BORNE_POWER_SUPPLY_DIR and BORNE_LOGIND_BUS');
  supply('AC', { type: 'Mains', online: 0 });
  supply('BAT0', { type: 'Battery', capacity: 64, status: 'Discharging' });
  const bin = path.join(path.dirname(borneBinary()), 'logind-standin');
  logind = spawn(bin, [], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: BUS }, stdio: ['pipe', 'pipe', 'inherit'] });
  readline.createInterface({ input: logind.stdout }).on('line', (l) => said.push(l));
  await heard(/^ready$/);
  await startAll();
  wd = await startBorne({ stateDir });
  await waitPortal(wd);
});

after(async () => {
  fs.rmSync(path.join(POWER, 'AC'), { recursive: true, force: true });
  fs.rmSync(path.join(POWER, 'BAT0'), { recursive: true, force: true });
  if (logind) logind.kill('SIGTERM');
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('the battery\'s level in the toolbar; a calm warning when it runs low; « en charge » once plugged in; axe-core clean', async () => {
  let b;
  await waitFor(async () => (b = await battery()).text !== '', 20000, { message: 'the battery in the toolbar' });
  assert.deepEqual(b, { text: 'Batterie 64 %', low: false, role: null, shown: true });
  supply('BAT0', { type: 'Battery', capacity: 12, status: 'Discharging' });
  await waitFor(async () => (b = await battery()).low, 25000, { message: 'the low-battery warning' });
  assert.deepEqual(b, { text: 'Batterie faible 12 % Il faut brancher le chargeur.', low: true, role: 'status', shown: true });
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on the toolbar with the warning: ${JSON.stringify(v, null, 1)}`);
  // The pill stays within the bar: its two lines fit, nothing cut.
  const fits = await withToolbar(wd, () => wd.executeScript(`const b = document.getElementById('battery').getBoundingClientRect();
    const bar = document.querySelector('.bar').getBoundingClientRect();
    return b.top >= bar.top && b.bottom <= bar.bottom && b.right <= window.innerWidth;`));
  assert.ok(fits, 'the battery pill fits in the bar');
  await screenGrab(path.join(ARTIFACTS, 'battery-low.png'));
  supply('AC', { type: 'Mains', online: 1 });
  supply('BAT0', { type: 'Battery', capacity: 13, status: 'Charging' });
  await waitFor(async () => !(b = await battery()).low, 25000, { message: 'the warning gone once plugged in' });
  assert.deepEqual(b, { text: 'En charge 13 %', low: false, role: null, shown: true });
});

test('the kiosk holds logind\'s "delay" lock on sleep', async () => {
  const line = await heard(/^inhibit /);
  assert.equal(line, 'inhibit sleep delay Le numérique à mon service');
});

test('PrepareForSleep from anyone but logind changes nothing', async () => {
  await wd.click({ css: 'a.tile' });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'a site open' });
  const site = await wd.getUrl();
  // Another connection on the same bus sends logind's signal: the kiosk listens to logind's name only.
  execFileSync('gdbus', ['emit', '--address', BUS, '--object-path', '/org/freedesktop/login1',
    '--signal', 'org.freedesktop.login1.Manager.PrepareForSleep', 'true']);
  await sleep(2500);
  assert.equal(await wd.getUrl(), site, 'the person\'s page stays');
  assert.ok(!said.some((l) => l.startsWith('released')), `the lock is still held: ${JSON.stringify(said)}`);
});

test('the lid closes: the session ends and is wiped before the sleep, the lock let go within logind\'s delay; a new lock after the wake', async () => {
  assert.equal(classifyUrl(await wd.getUrl()).kind, 'allowed', 'a person\'s site is open');
  const before = (await statsTotals(stateDir)).totals.fin_mise_en_veille || 0;
  const from = said.length;
  logind.stdin.write('sleep\n');
  await heard(/^released sleep delay$/, from);
  const slept = await heard(/^slept/, from);
  assert.match(slept, /^slept \d+$/, 'the lock was let go before logind\'s 5 s ran out');
  await waitPortal(wd);
  assert.equal(await wd.executeScript('return history.length'), 1, 'a fresh view: no way back to the site');
  await waitFor(async () => ((await statsTotals(stateDir)).totals.fin_mise_en_veille || 0) === before + 1, 10000,
    { message: 'the session counted as ended by a sleep (fin_mise_en_veille)' });
  const wake = said.length;
  logind.stdin.write('wake\n');
  await heard(/^woke$/, wake);
  assert.equal(await heard(/^inhibit /, wake), 'inhibit sleep delay Le numérique à mon service');
});
