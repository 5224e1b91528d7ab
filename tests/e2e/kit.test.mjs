// The communication kit from the référent's corner (issue 17, item 4): « Imprimer l'affiche » in
// « Centre et réglages » makes the poster from the borne's own settings and portal, in French and the
// second language chosen, and prints it on the borne's CUPS queue (cups-pdf here): the PDF that lands
// is A4 and pdftotext reads the centre's name, « Demandez à l'accueil », the hours and Arabic beside them. The
// command is refused before the PIN; a stopped queue gives the French message.
//
// Run: tests/e2e/run.sh tests/e2e/kit.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  waitFor,
  sleep,
  screenGrab,
  ARTIFACTS,
  WORK,
  waitPortal as waitPortalOf,
  isVisible,
  textOf,
  printedFiles,
  newPrintedPdf,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const PRINTER = 'borne-e2e';
const stateDir = freshStateDir('kit');
const PIN = '593017';
let wd;

async function sh(cmd, args) {
  const { stdout } = await execFileP(cmd, args, { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return stdout;
}

const visible = (css) => isVisible(wd, css);
const text = (css) => textOf(wd, css);

async function invokeFromPage(cmd, args) {
  return wd.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
      .then((v) => done('answered ' + JSON.stringify(v)), (e) => done('refused ' + String(e && (e.code || e))));
  `, [cmd, args]);
}

async function settingsScreen() {
  await wd.click({ css: '.tab[data-tab="settings"]' });
  await waitFor(() => visible('#sec-settings'), 5000, { message: 'the settings screen' });
  await wd.executeScript('document.getElementById("h-kit").scrollIntoView({ block: "start" }); return 1;');
  await sleep(300);
}

async function pressKit(piece) {
  await wd.executeScript('document.getElementById("kit-message").textContent = ""; return 1;');
  await wd.click({ css: `.kit-print[data-piece="${piece}"]` });
  let message = '';
  await waitFor(async () => {
    message = await text('#kit-message');
    return message && !/Préparation/.test(message);
  }, 30000, { message: 'the answer under the kit buttons' });
  return message;
}

before(async () => {
  await startAll();
  const states = await sh('lpstat', ['-p', PRINTER]).catch(() => '');
  assert.match(states, /enabled/, `the ${PRINTER} queue (setup.sh makes it): ${states}`);
  wd = await startBorne({ stateDir });
  await waitPortalOf(wd);
});

after(async () => {
  await sh('cupsenable', [PRINTER]).catch(() => {});
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('the kit cannot be printed before the PIN', async () => {
  await wd.click({ css: '#admin-link' });
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(() => visible('#pin-screen'), 10000, { message: 'the PIN screen' });
  const before = printedFiles();
  const answer = await invokeFromPage('admin_print_kit', { piece: 'poster', lang: 'ar' });
  assert.equal(answer, 'refused locked');
  await sleep(1500);
  assert.deepEqual([...printedFiles()].filter((f) => !before.has(f)), [], 'nothing printed');
  // First entry: the référent chooses the PIN.
  await wd.clear({ css: '#pin' });
  await wd.sendKeys({ css: '#pin' }, PIN);
  await wd.clear({ css: '#pin-confirm' });
  await wd.sendKeys({ css: '#pin-confirm' }, PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => visible('#admin-main'), 10000, { message: 'the admin screens' });
});

test('« Imprimer l\'affiche » prints the poster with the centre\'s name, in French and Arabic, on the borne\'s printer', async () => {
  await settingsScreen();
  const options = await wd.executeScript('return [...document.querySelectorAll("#kit-lang option")].map((o) => [o.value, o.textContent]);');
  // The offered languages of the settings (fr, ar, en): Arabic first (the default), French alone last.
  assert.deepEqual(options.map((o) => o[0]), ['ar', 'en', 'fr'], JSON.stringify(options));
  assert.equal(options[2][1], 'Français seulement');
  assert.equal(await wd.executeScript('return document.getElementById("kit-lang").value;'), 'ar');
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on the kit's controls: ${JSON.stringify(v, null, 1)}`);
  await screenGrab(path.join(ARTIFACTS, 'admin-kit.png'));

  const before = printedFiles();
  const message = await pressKit('poster');
  assert.equal(message, "C'est envoyé à l'imprimante : 1 page(s).");
  const pdf = await newPrintedPdf(before, 30000);
  await sleep(500);
  const info = await sh('pdfinfo', [pdf]);
  assert.match(info, /^Pages:\s+1$/m, info);
  assert.match(info, /^Page size:\s+595(\.\d+)? x 842(\.\d+)? pts|^Page size:\s+595\.\d+ x 841\.\d+ pts/m, info);
  const words = await sh('pdftotext', [pdf, '-']);
  assert.match(words, /Centre de test/, words);
  assert.match(words, /Demandez à l'accueil/, words);
  assert.match(words, /Horaires de l'accueil : Tous les jours/, words);
  // Arabic is on it: cups-pdf's Ghostscript re-encodes the fonts, so only part of the Arabic maps back
  // to text here; the exact Arabic text and its right-to-left layout are checked on bornectl's own
  // PDF (tests/kit.rs).
  assert.ok(/[\u0600-\u06ff]/.test(words), words);
});

test('a stopped queue gives the French message and nothing is printed', async () => {
  await sh('cupsdisable', [PRINTER]);
  try {
    const before = printedFiles();
    const message = await pressKit('flyer');
    assert.equal(message, "L'imprimante n'est pas prête (éteinte, sans papier ou bloquée) : vérifiez-la, puis réessayez.");
    await sleep(1500);
    assert.deepEqual([...printedFiles()].filter((f) => !before.has(f)), []);
  } finally {
    await sh('cupsenable', [PRINTER]);
  }
  // Once the printer is back, the booklet prints (a cover and the sheets, in French alone).
  await wd.executeScript('document.getElementById("kit-lang").value = "fr"; return 1;');
  const before = printedFiles();
  const message = await pressKit('booklet');
  const m = message.match(/^C'est envoyé à l'imprimante : (\d+) page\(s\)\.$/);
  assert.ok(m, message);
  // A cover, then each sheet of the tiles shown (the test catalogue has one) on its own page.
  assert.ok(Number(m[1]) >= 2, message);
  const booklet = await newPrintedPdf(before, 30000);
  await sleep(500);
  const words = await sh('pdftotext', [booklet, '-']);
  assert.match(words, /Avant de commencer/);
  assert.ok(!/[\u0600-\u06ff]/.test(words), 'French alone');
});
