// Help and inclusion around the toolbar: "J'ai besoin d'aide" (where and when the accueil helps, the
// référent's help directory, printable on the real cups-pdf queue, counted), the text size (100 /
// 150 / 200 %) and high-contrast mode (both back to normal for the next person), the optional
// end-of-session question (one tap, counted), and axe-core on the portal, every toolbar dialog and
// the blocked page.
//
// Run: tests/e2e/run.sh tests/e2e/inclusion.test.mjs

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
  classifyUrl,
  clickToolbar,
  toolbarHandle,
  waitFor,
  sleep,
  screenGrab,
  ARTIFACTS,
  WORK,
  INSTITUTION,
  waitPortal as waitPortalOf,
  statsTotals,
  withToolbar,
  printedFiles,
  newPrintedPdf,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('inclusion');
let wd;
let normalWidth = 0;

// The référent's settings as the admin screens write them: the question on, two places of help.
const SETTINGS = `[languages]
offered = ["fr", "ar", "en", "uk", "pt", "ro"]

[help]
ask_outcome = true
contacts = [
  { name = "France Services de la mairie", what = "Aide pour toutes les démarches en ligne", place = "Place de la mairie", hours = "Mardi et jeudi, de 9 h à 12 h", phone = "01 23 45 67 89" },
  { name = "Écrivain public", what = "Aide pour écrire un courrier", place = "", hours = "Le mercredi après-midi", phone = "" },
]
`;

const waitPortal = () => waitPortalOf(wd);

/** Runs `fn()` with the toolbar webview as WebDriver's current window. */
const inToolbar = (fn) => withToolbar(wd, fn);

const toolbar = (script) => inToolbar(() => wd.executeScript(script));
const shown = (id) => toolbar(`const e = document.getElementById(${JSON.stringify(id)}); return !!e && !e.hidden;`);

async function axeClean(name, where = 'content') {
  const v = where === 'toolbar' ? await inToolbar(() => axeViolations(wd)) : await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on ${name}: ${JSON.stringify(v, null, 1)}`);
}

const figures = async () => (await statsTotals(stateDir)).totals;
const contentState = () => wd.executeScript(`return {
  width: window.innerWidth,
  text: document.documentElement.getAttribute('data-text'),
  contrast: document.documentElement.getAttribute('data-contrast'),
  bg: getComputedStyle(document.documentElement).backgroundColor };`);

before(async () => {
  await startAll();
  fs.writeFileSync(path.join(stateDir, 'settings.toml'), SETTINGS);
  wd = await startBorne({ stateDir });
  await waitPortal();
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('the portal and the toolbar pass axe-core', async () => {
  await axeClean('the portal');
  await axeClean('the toolbar', 'toolbar');
  // What each button shows, or (an icon alone) its name for assistive technologies.
  const labels = await toolbar('return [...document.querySelectorAll("#bar button")].filter((b) => !b.closest("[hidden]")).map((b) => b.innerText.trim() || b.getAttribute("aria-label"));');
  // « Écouter » and the voice's volume (« Moins fort », « Plus fort » to assistive technologies): speech.test.mjs.
  // « Session accompagnée », the team's discrete control: accompany.test.mjs.
  assert.deepEqual(labels, ['Accueil', 'Retour', 'Imprimer', 'Mes documents', "J'ai besoin d'aide", 'Taille du texte', 'Écouter', '−', '+',
    'Session accompagnée', 'Terminer ma session']);
});

test('"J\'ai besoin d\'aide": the accueil and the référent\'s places, printable, counted', async () => {
  const before = (await figures()).demandes_aide || 0;
  await clickToolbar(wd, '#btn-help');
  await waitFor(() => shown('help'), 5000, { message: 'the help dialog' });
  const h = await toolbar(`return {
    focus: document.activeElement.id,
    place: document.getElementById('help-place').textContent,
    hours: document.getElementById('help-hours').textContent,
    contacts: [...document.querySelectorAll('#help-contacts li')].map((li) => li.textContent),
    directory: !document.getElementById('help-directory').hidden };`);
  assert.equal(h.focus, 'help-title', 'the focus moves into the dialog');
  assert.equal(h.place, "Où : À l'accueil");
  assert.equal(h.hours, 'Quand : Tous les jours');
  assert.ok(h.directory);
  assert.equal(h.contacts.length, 2);
  assert.match(h.contacts[0], /France Services de la mairie.*Place de la mairie.*Mardi et jeudi.*01 23 45 67 89/);
  assert.doesNotMatch(h.contacts[1], /Adresse|Téléphone/, 'empty fields are left out');
  await sleep(300);
  await screenGrab(path.join(ARTIFACTS, 'help-directory.png'));
  await axeClean('the help dialog', 'toolbar');
  await waitFor(async () => ((await figures()).demandes_aide || 0) === before + 1, 10000, { message: 'the help request counted' });

  const printedBefore = printedFiles();
  await clickToolbar(wd, '#help-print');
  await waitFor(async () => /imprimée/.test(await toolbar('return document.getElementById("help-status").textContent;')), 30000,
    { message: 'the list printed' });
  const file = await newPrintedPdf(printedBefore);
  await sleep(300);
  const { stdout } = await execFileP('pdftotext', [file, '-']);
  assert.match(stdout, /Besoin d'aide/);
  assert.match(stdout, /France Services de la mairie/);
  assert.match(stdout, /Écrivain public/);
  assert.doesNotMatch(stdout, /Imprimer cette liste|Terminer ma session|Accueil\s+Retour/, 'the sheet alone, no buttons');

  await inToolbar(() => wd.executeScript('document.dispatchEvent(new KeyboardEvent("keydown", { key: "Escape", bubbles: true })); return 1;'));
  await waitFor(async () => !(await shown('help')), 5000, { message: 'Escape closes the dialog' });
});

test('text size 200 % and high contrast apply to the portal, the sites and the toolbar, then reset', async () => {
  const normal = await contentState();
  normalWidth = normal.width;
  assert.equal(normal.text, '100');
  assert.equal(normal.contrast, null);
  await clickToolbar(wd, '#btn-display');
  await waitFor(() => shown('display'), 5000, { message: 'the display dialog' });
  await axeClean('the text size dialog', 'toolbar');
  await clickToolbar(wd, '.display-size[data-size="200"]');
  await clickToolbar(wd, '#display-contrast');
  await waitFor(async () => (await contentState()).contrast === 'high', 5000, { message: 'high contrast on the portal' });
  const big = await contentState();
  assert.equal(big.text, '200');
  assert.ok(Math.abs(big.width * 2 - normal.width) <= 2, `the page is zoomed twice: ${big.width} px wide, was ${normal.width}`);
  assert.equal(big.bg, 'rgb(255, 255, 255)');
  const pressed = await toolbar('return [...document.querySelectorAll(".display-size, #display-contrast")].map((b) => b.getAttribute("aria-pressed"));');
  assert.deepEqual(pressed, ['false', 'false', 'true', 'true']);
  assert.equal(await toolbar('return document.documentElement.getAttribute("data-contrast");'), 'high');
  await clickToolbar(wd, '#display-close');
  await waitFor(async () => !(await shown('display')), 5000, { message: 'the dialog closed' });
  await sleep(300);
  await screenGrab(path.join(ARTIFACTS, 'portal-200-contrast.png'));
  await axeClean('the portal at 200 % in high contrast');

  // A site is zoomed the same way. (WebDriver's own click misses its target on a zoomed page: the
  // tile is clicked by script here, as a keyboard Enter would.)
  await wd.executeScript(`document.querySelector('a.tile[href="${INSTITUTION}/"]').click(); return 1;`);
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  const siteWidth = await wd.executeScript('return window.innerWidth;');
  assert.ok(Math.abs(siteWidth * 2 - normal.width) <= 2, `the site is zoomed too: ${siteWidth} px`);
  // The blocked page, in high contrast, passes axe-core.
  await wd.executeScript('location.href = "https://www.evil.test/"; return 1;');
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 15000, { message: 'the blocked page' });
  await waitFor(async () => (await contentState()).contrast === 'high', 5000, { message: 'the blocked page in high contrast' });
  await axeClean('the blocked page in high contrast');
});

test('the end-of-session question: one tap, counted; the next person gets normal text and contrast', async () => {
  const before = await figures();
  await clickToolbar(wd, '#btn-end');
  await waitFor(() => shown('confirm-end'), 5000, { message: 'the confirmation' });
  await axeClean('the end confirmation', 'toolbar');
  await clickToolbar(wd, '#confirm-yes');
  await waitFor(() => shown('outcome'), 5000, { message: 'the question' });
  const q = await toolbar(`return { focus: document.activeElement.id,
    title: document.getElementById('outcome-title').textContent,
    answers: [...document.querySelectorAll('.outcome-answer')].map((b) => b.textContent) };`);
  assert.equal(q.title, 'Avez-vous pu faire votre démarche ?');
  assert.deepEqual(q.answers, ['Oui', 'En partie', 'Non', 'Passer']);
  assert.equal(q.focus, 'outcome-title');
  await sleep(300);
  await screenGrab(path.join(ARTIFACTS, 'outcome.png'));
  await axeClean('the end-of-session question', 'toolbar');
  await clickToolbar(wd, '.outcome-answer[data-outcome="partly"]');
  await waitPortal();
  await waitFor(async () => ((await figures()).reponse_en_partie || 0) === (before.reponse_en_partie || 0) + 1, 10000,
    { message: 'the answer counted' });
  const after = await contentState();
  assert.equal(after.text, '100');
  assert.equal(after.contrast, null);
  assert.equal(after.width, normalWidth, 'the portal is back to its normal size');
  assert.equal(await toolbar('return document.documentElement.getAttribute("data-contrast");'), null);
  const pressed = await toolbar('return [...document.querySelectorAll(".display-size, #display-contrast")].map((b) => b.getAttribute("aria-pressed"));');
  assert.deepEqual(pressed, ['true', 'false', 'false', 'false']);

  // "Passer" is counted as skipped, nothing else.
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  await clickToolbar(wd, '#btn-end');
  await waitFor(() => shown('confirm-end'), 5000, { message: 'the confirmation' });
  await clickToolbar(wd, '#confirm-yes');
  await waitFor(() => shown('outcome'), 5000, { message: 'the question' });
  await clickToolbar(wd, '.outcome-answer[data-outcome="skipped"]');
  await waitPortal();
  await waitFor(async () => ((await figures()).reponse_passee || 0) === (before.reponse_passee || 0) + 1, 10000,
    { message: 'the skip counted' });
  const t = await figures();
  assert.equal(t.reponse_oui || 0, before.reponse_oui || 0);
  assert.equal(t.reponse_non || 0, before.reponse_non || 0);
});

test('the portal in each of the six languages, each passing axe-core (portal-<lang>.png)', async () => {
  const langs = await wd.executeScript('return [...document.querySelectorAll("#language-list button")].map((b) => b.lang);');
  assert.deepEqual(langs, ['fr', 'ar', 'en', 'uk', 'pt', 'ro']);
  const welcome = {};
  for (const lang of [...langs.slice(1), 'fr']) {
    await wd.click({ css: `#language-list button[lang="${lang}"]` });
    await waitFor(async () => (await wd.executeScript('return document.documentElement.lang;')) === lang, 5000,
      { message: `the portal in ${lang}` });
    await waitFor(async () => (await toolbar('return document.documentElement.lang;')) === lang, 5000,
      { message: `the toolbar in ${lang}` });
    await sleep(300);
    welcome[lang] = await wd.executeScript('return document.getElementById("welcome").textContent;');
    assert.equal(await wd.executeScript('return document.documentElement.dir;'), lang === 'ar' ? 'rtl' : 'ltr');
    await screenGrab(path.join(ARTIFACTS, `portal-${lang}.png`));
    await axeClean(`the portal in ${lang}`);
    await axeClean(`the toolbar in ${lang}`, 'toolbar');
  }
  assert.equal(new Set(Object.values(welcome)).size, 6, `six different welcomes: ${JSON.stringify(welcome)}`);
});
