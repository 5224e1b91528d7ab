// Help around a démarche and the portal in a person's language: the "Avant de commencer" sheet
// (documents, steps, "C'est parti"), the language menu (Arabic right to left on the portal, the
// toolbar and the blocked page; counted; French again for the next person), with axe-core.
//
// Run: tests/e2e/run.sh tests/e2e/help.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  toolbarHandle,
  waitFor,
  sleep,
  screenGrab,
  ARTIFACTS,
  INSTITUTION,
  waitPortal as waitPortalOf,
  isVisible,
  textOf,
  endSessionWithButton,
  statsTotals,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('help');
let wd;

const waitPortal = (timeoutMs) => waitPortalOf(wd, timeoutMs);
const visible = (css) => isVisible(wd, css);
const text = (css) => textOf(wd, css);
const langDir = () => wd.executeScript('return [document.documentElement.lang, document.documentElement.dir];');

async function toolbarLang() {
  const main = await wd.getWindowHandle();
  const tb = await toolbarHandle(wd);
  try {
    await wd.switchToWindow(tb);
    return await wd.executeScript('return [document.documentElement.lang, document.documentElement.dir, document.getElementById("btn-end").textContent.trim()];');
  } finally {
    await wd.switchToWindow(main);
  }
}

const endSession = () => endSessionWithButton(wd);

async function axeClean(name) {
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on ${name}: ${JSON.stringify(v, null, 1)}`);
}

before(async () => {
  await startAll();
  wd = await startBorne({ stateDir });
  await waitPortal();
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('"Avant de commencer": the documents and steps, then "C\'est parti" opens the service', async () => {
  const button = 'button.sheet-button[data-sheet-id="dossier-test"]';
  assert.ok(await visible(button), 'the sheet button is on the institution tile');
  assert.match(await text(button), /Avant de commencer/);
  await wd.click({ css: button });
  await waitFor(() => visible('#sheet'), 5000, { message: 'the sheet' });
  assert.equal(await wd.executeScript('return document.activeElement.id;'), 'sheet-title', 'the focus moves into the sheet');
  assert.equal(await wd.executeScript('return document.querySelectorAll("#sheet-documents li").length;'), 2);
  assert.equal(await wd.executeScript('return document.querySelectorAll("#sheet-steps li").length;'), 3);
  await screenGrab(path.join(ARTIFACTS, 'help-sheet.png'));
  await axeClean('the help sheet');
  await wd.executeScript('document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape" })); return 1;');
  await waitFor(async () => !(await visible('#sheet')), 5000, { message: 'Escape closes the sheet' });
  assert.equal(await wd.executeScript('return document.activeElement.getAttribute("data-sheet-id");'), 'dossier-test', 'the focus goes back to its button');
  await wd.click({ css: button });
  await wd.click({ css: '#sheet-go' });
  await waitFor(async () => (await wd.getUrl()).startsWith(INSTITUTION), 15000, { message: 'the institution opened from the sheet' });
  await endSession();
});

test('the portal, the toolbar and the blocked page in Arabic, right to left; French again after the session', async () => {
  assert.ok(await visible('#languages'), 'the language menu');
  const labels = await wd.executeScript('return [...document.querySelectorAll("#language-list button")].map((b) => [b.lang, b.textContent]);');
  assert.deepEqual(labels, [['fr', 'Français'], ['ar', 'العربية'], ['en', 'English']], 'each language in itself');
  await wd.click({ css: '#language-list button[lang="ar"]' });
  await waitFor(async () => (await langDir()).join() === 'ar,rtl', 5000, { message: 'the portal in Arabic' });
  assert.match(await text('#welcome'), /[\u0600-\u06FF]/, 'Arabic text');
  await waitFor(async () => (await toolbarLang())[0] === 'ar', 5000, { message: 'the toolbar follows' });
  const [, tbDir, endLabel] = await toolbarLang();
  assert.equal(tbDir, 'rtl');
  assert.match(endLabel, /[\u0600-\u06FF]/);
  await screenGrab(path.join(ARTIFACTS, 'portal-ar.png'));
  await axeClean('the portal in Arabic');
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  await wd.executeScript('location.href = "https://www.evil.test/"; return 1;');
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 15000, { message: 'the blocked page' });
  await waitFor(async () => (await langDir()).join() === 'ar,rtl', 5000, { message: 'the blocked page in Arabic' });
  await axeClean('the blocked page in Arabic');
  await endSession();
  assert.deepEqual(await langDir(), ['fr', 'ltr'], 'the next person gets French');
  await waitFor(async () => (await toolbarLang())[0] === 'fr', 5000, { message: 'the toolbar in French again' });
  const { header, totals } = await statsTotals(stateDir);
  assert.ok(header.includes('langue_ar'), header.join(';'));
  assert.equal(totals.langue_ar, 1, 'the choice of Arabic is counted once');
});
