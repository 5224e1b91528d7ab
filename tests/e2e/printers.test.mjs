// « Imprimante » in the référent's admin screens (issue #18, item 2), against the machine's real CUPS
// and a real IPP Everywhere printer on loopback (`ippeveprinter`, keeping what it receives): the
// borne's printer and its state in words; « Chercher les imprimantes » answers (nothing announced
// here: no mDNS); the ippeveprinter added by its address through the screen (CUPS makes its driver
// from the printer itself), saved as the borne's printer; a test page reaches the printer; the queue
// removed under the borne while it is the selected one: the screen says so in French. axe-core on
// the screen.
//
// Run: tests/e2e/run.sh tests/e2e/printers.test.mjs
// Takes admin-printers.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  borneBinary,
  screenGrab,
  waitFor,
  waitPortal,
  isVisible,
  sleep,
  WORK,
  ARTIFACTS,
  CONFIG_DIR,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('printers');
const PIN = '482917';
const PORT = 8632;
const SPOOL = path.join(WORK, 'eve-spool');
let wd;
let bus = null;
let eve = null;
let queue = null; // the CUPS queue the screen made

const screenText = (id) => wd.executeScript(`return document.getElementById('${id}').textContent`);

before(async () => {
  fs.rmSync(SPOOL, { recursive: true, force: true });
  fs.mkdirSync(SPOOL, { recursive: true });
  // ippeveprinter wants a D-Bus for DNS-SD even when told not to announce itself: a private one.
  bus = spawn('dbus-daemon', ['--session', '--print-address=1', '--nofork'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const address = await new Promise((resolve, reject) => {
    bus.stdout.once('data', (d) => resolve(d.toString().trim()));
    bus.once('exit', (c) => reject(new Error(`dbus-daemon exited ${c}`)));
  });
  eve = spawn('ippeveprinter', ['-p', String(PORT), '-d', SPOOL, '-k', '-r', 'off', '-n', 'localhost', '-M', 'Borne',
    '-m', 'Test Everywhere', '-f', 'application/pdf,image/pwg-raster,image/urf', 'borne-e2e-eve'],
  { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address }, stdio: 'ignore' });
  const bornectl = path.join(path.dirname(borneBinary()), 'bornectl');
  execFileSync(bornectl, ['--config', CONFIG_DIR, '--state', stateDir, 'set-pin'], { input: `${PIN}\n${PIN}\n` });
  await startAll();
  wd = await startBorne({ stateDir });
  await waitPortal(wd);
  await wd.click({ css: '#admin-link' });
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(() => isVisible(wd, '#pin-screen'), 10000, { message: 'the PIN screen' });
  await wd.sendKeys({ css: '#pin' }, PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => isVisible(wd, '#admin-main'), 10000, { message: 'the admin screens' });
  await wd.click({ css: '.tab[data-tab="printers"]' });
});

after(async () => {
  if (queue) { try { execFileSync('lpadmin', ['-x', queue]); } catch { /* already gone */ } }
  // The e2e queue back as the default printer (the screen made the new one the default).
  try { execFileSync('lpadmin', ['-d', 'borne-e2e']); } catch { /* the suite's setup remakes it */ }
  if (eve) eve.kill('SIGTERM');
  if (bus) bus.kill('SIGTERM');
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('the borne\'s printer and its state in words; axe-core clean', async () => {
  await waitFor(async () => /borne-e2e/.test(await screenText('pr-current')), 15000, { message: 'the printer\'s state' });
  assert.match(await screenText('pr-current'), /^Imprimante de la borne : borne-e2e — (Prête|En train d'imprimer)$/);
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on « Imprimante »: ${JSON.stringify(v, null, 1)}`);
});

test('« Chercher les imprimantes » answers in words (nothing is announced on this machine)', async () => {
  await wd.click({ css: '#pr-discover' });
  await waitFor(async () => !/Recherche/.test(await screenText('pr-message')), 60000, { message: 'the search ended' });
  const msg = await screenText('pr-message');
  const found = await wd.executeScript('return document.querySelectorAll("#pr-found li").length');
  assert.ok(found > 0 || /^Aucune imprimante trouvée\./.test(msg), `${found} found, message: ${msg}`);
});

test('a wrong address is refused in French; the printer by its IPP address is added and becomes the borne\'s printer', async () => {
  await wd.executeScript('document.getElementById("pr-address").value = "file:///etc/passwd"');
  await wd.click({ css: '#pr-address-form button[type=submit]' });
  await waitFor(async () => /adresse n'est pas valable/.test(await screenText('pr-message')), 10000, { message: 'refused' });
  await wd.executeScript(`document.getElementById("pr-address").value = "ipp://127.0.0.1:${PORT}/ipp/print"`);
  await wd.click({ css: '#pr-address-form button[type=submit]' });
  await waitFor(async () => /Imprimante ajoutée et choisie/.test(await screenText('status')), 90000,
    { message: `added (message: ${await screenText('pr-message').catch(() => '')})` });
  const status = await screenText('status');
  queue = /choisie : (\S+)\./.exec(status)[1];
  assert.notEqual(queue, 'borne-e2e');
  const lpstat = execFileSync('lpstat', ['-v', queue], { env: { ...process.env, LANG: 'C' } }).toString();
  assert.match(lpstat, new RegExp(`ipp://127\\.0\\.0\\.1:${PORT}/ipp/print`), lpstat);
  const settings = fs.readFileSync(path.join(stateDir, 'settings.toml'), 'utf8');
  assert.match(settings, new RegExp(`printer = "${queue}"`), 'saved as the borne\'s printer through the settings');
  await waitFor(async () => new RegExp(`^Imprimante de la borne : ${queue} — `).test(await screenText('pr-current')), 15000,
    { message: 'the new printer shown' });
  await screenGrab(path.join(ARTIFACTS, 'admin-printers.png'));
});

test('« Imprimer une page de test » reaches the printer', async () => {
  const before = fs.readdirSync(SPOOL, { recursive: true }).length;
  await wd.click({ css: '#pr-test' });
  await waitFor(async () => /Page de test envoyée/.test(await screenText('status')), 30000, { message: 'sent' });
  await waitFor(() => fs.readdirSync(SPOOL, { recursive: true }).filter((f) => /\.(pdf|pwg|urf)$/.test(String(f))).length > 0
    && fs.readdirSync(SPOOL, { recursive: true }).length > before, 60000, { message: 'the page received by the printer' });
});

test('the queue removed under the borne while it is the selected one: the screen says so', async () => {
  execFileSync('lpadmin', ['-x', queue]);
  await wd.click({ css: '.tab[data-tab="maintenance"]' });
  await sleep(300);
  await wd.click({ css: '.tab[data-tab="printers"]' });
  await waitFor(async () => /n'existe plus sur la borne/.test(await screenText('pr-current')), 15000, { message: 'gone' });
  assert.equal(await screenText('pr-current'),
    `L'imprimante « ${queue} » n'existe plus sur la borne : elle a été retirée. Choisissez-en une autre ou ajoutez-la de nouveau.`);
  queue = null;
});
