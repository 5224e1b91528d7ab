// The national tiles and help sheets in every offered language (issue 17, items 2 and 3): the
// shipped catalogue and sheets (config/), all six languages offered, and a référent's own tile and
// sheet, which have no translation. In each language: the national texts are in that language's
// script, the référent's tile and sheet are French marked lang="fr" dir="ltr", in the same place and
// the same size as their neighbours; in Arabic the page is right to left and the French text still
// sits on the right. A national sheet is opened in each language (same number of documents and
// steps as French) and axe-core checks the portal and the open sheets. Takes help-sheet-ar.png and
// help-sheet-uk.png (tests/screenshots.sh copies them to docs/screenshots/).
//
// Run: tests/e2e/run.sh tests/e2e/translations.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  waitFor,
  screenGrab,
  ARTIFACTS,
  CONFIG_DIR,
  REPO,
  waitPortal as waitPortalOf,
  isVisible,
  endSessionWithButton,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('translations');
const configDir = `${stateDir}-config`;
let wd;

const LANGS = ['ar', 'en', 'uk', 'pt', 'ro'];
// Scripts French never uses; in the Latin-script languages a text is translated when it is not the French one.
const SCRIPT = { ar: /[\u0600-\u06FF]/, uk: /[\u0400-\u04FF]/ };
const translated = (lang, text, french) => text !== french && (!SCRIPT[lang] || SCRIPT[lang].test(text));

const OWN_TILE = `
[[services]]
id = "mairie-lilas"
name = "Mairie des Lilas"
description = "Prendre rendez-vous à la mairie"
theme = "quotidien"
pictogram = "guichet"
url = "https://www.institution.test/mairie"
hosts = ["www.institution.test"]
`;

const OWN_SHEET = `
[[demarches]]
id = "rdv-mairie"
service = "mairie-lilas"
title = "Prendre rendez-vous à la mairie"
documents = ["Votre adresse e-mail", "Un justificatif de domicile"]
steps = ["Ouvrez « Rendez-vous ».", "Choisissez un jour et une heure.", "Notez le numéro du rendez-vous."]
`;

/** In-page helper: [space right of the text, space left of it] inside an element's box. */
const RIGHT_LEFT_GAPS = `const gaps = (e) => { const r = document.createRange(); r.selectNodeContents(e);
  const t = r.getBoundingClientRect(); const b = e.getBoundingClientRect(); return [Math.round(b.right - t.right), Math.round(t.left - b.left)]; };`;

const langDir = () => wd.executeScript('return [document.documentElement.lang, document.documentElement.dir];');

async function axeClean(name) {
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on ${name}: ${JSON.stringify(v, null, 1)}`);
}

/** What the portal shows: tiles in order with their texts and French marks, and the sizes of the Vie quotidienne tiles. */
const portalTexts = () => wd.executeScript(`
  const mark = (e) => { const s = e && e.querySelector('span[lang]'); return s ? s.lang + '/' + s.dir : ''; };
  return [...document.querySelectorAll('a.tile')].map((a) => ({
    id: a.getAttribute('data-tile-id'),
    name: a.querySelector('.tile-name').textContent,
    desc: (a.querySelector('.tile-desc') || {}).textContent || '',
    nameMark: mark(a.querySelector('.tile-name')),
    descMark: mark(a.querySelector('.tile-desc')),
    height: Math.round(a.getBoundingClientRect().height),
    width: Math.round(a.getBoundingClientRect().width),
  }));`);

/** Opens the sheet `id`, returns its title, lines and French marks; the sheet stays open. */
async function openSheet(id) {
  await wd.click({ css: `button.sheet-button[data-sheet-id="${id}"]` });
  await waitFor(() => isVisible(wd, '#sheet'), 5000, { message: `the sheet ${id}` });
  return wd.executeScript(`
    const lines = (sel) => [...document.querySelectorAll(sel + ' li')].map((li) => li.textContent.replace(/\u00A0/g, ' '));
    const marks = (sel) => [...document.querySelectorAll(sel + ' li')].map((li) => { const s = li.querySelector('span[lang]'); return s ? s.lang + '/' + s.dir : ''; });
    const t = document.getElementById('sheet-title');
    const span = t.querySelector('span[lang]');
    return { title: t.textContent, titleMark: span ? span.lang + '/' + span.dir : '',
      documents: lines('#sheet-documents'), steps: lines('#sheet-steps'),
      documentMarks: marks('#sheet-documents'), stepMarks: marks('#sheet-steps') };`);
}

async function closeSheet() {
  await wd.click({ css: '#sheet-close' });
  await waitFor(async () => !(await isVisible(wd, '#sheet')), 5000, { message: 'the sheet closes' });
}

async function choose(lang) {
  await wd.click({ css: `#language-list button[lang="${lang}"]` });
  await waitFor(async () => (await langDir())[0] === lang, 5000, { message: `the portal in ${lang}` });
  await waitFor(async () => (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0, 5000, { message: 'the tiles' });
}

before(async () => {
  fs.mkdirSync(configDir, { recursive: true });
  const settings = fs.readFileSync(path.join(CONFIG_DIR, 'borne.toml'), 'utf8')
    .replace(/^offered = .*$/m, 'offered = ["fr", "ar", "en", "uk", "pt", "ro"]');
  fs.writeFileSync(path.join(configDir, 'borne.toml'), settings);
  for (const f of ['catalogue.toml', 'demarches.toml']) fs.copyFileSync(path.join(REPO, 'config', f), path.join(configDir, f));
  fs.writeFileSync(path.join(stateDir, 'local.toml'), OWN_TILE);
  fs.writeFileSync(path.join(stateDir, 'demarches.toml'), OWN_SHEET);
  await startAll();
  wd = await startBorne({ stateDir, configDir });
  await waitPortalOf(wd);
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('every national tile and sheet in each language, the référent\'s own in French in the same place, Arabic right to left', async () => {
  const fr = await portalTexts();
  const french = await openSheet('attestation-caf');
  await closeSheet();
  assert.ok(fr.length >= 30, `the shipped tiles (${fr.length})`);
  assert.ok(fr.every((t) => !t.nameMark && !t.descMark), 'nothing marked in the French portal');

  for (const lang of LANGS) {
    await choose(lang);
    const tiles = await portalTexts();
    assert.deepEqual(tiles.map((t) => t.id), fr.map((t) => t.id), `${lang}: the same tiles in the same order`);
    for (const [i, t] of tiles.entries()) {
      if (t.id === 'mairie-lilas') continue;
      assert.ok(translated(lang, t.desc, fr[i].desc), `${lang}: ${t.id}'s description translated: ${t.desc}`);
      assert.equal(t.descMark, '', `${lang}: ${t.id}'s description not marked French`);
    }
    const own = tiles.find((t) => t.id === 'mairie-lilas');
    assert.deepEqual([own.name, own.desc], ['Mairie des Lilas', 'Prendre rendez-vous à la mairie'], `${lang}: the référent's tile in French`);
    assert.deepEqual([own.nameMark, own.descMark], ['fr/ltr', 'fr/ltr'], `${lang}: the référent's tile marked French`);
    const neighbour = tiles.find((t) => t.id === 'laposte');
    assert.ok(Math.abs(own.width - neighbour.width) <= 1, `${lang}: the référent's tile as wide as its neighbours`);
    assert.ok(own.height > 0 && own.height <= neighbour.height * 1.5, `${lang}: no gap around the référent's tile (${own.height} / ${neighbour.height})`);

    const sheet = await openSheet('attestation-caf');
    assert.equal(sheet.documents.length, french.documents.length, `${lang}: as many documents as French`);
    assert.equal(sheet.steps.length, french.steps.length, `${lang}: as many steps as French`);
    assert.ok(translated(lang, sheet.title, french.title), `${lang}: the sheet's title translated: ${sheet.title}`);
    assert.ok(sheet.steps.every((s, i) => translated(lang, s, french.steps[i])), `${lang}: every step translated: ${sheet.steps}`);
    assert.equal(sheet.titleMark, '', `${lang}: the national sheet is not marked French`);
    assert.ok(sheet.steps[0].includes('« Mon Compte »'), `${lang}: the site's button keeps its French name: ${sheet.steps[0]}`);
    assert.ok(await wd.executeScript('return document.querySelector("#sheet-steps li").textContent.includes("«\u00A0Mon\u00A0Compte\u00A0»");'),
      `${lang}: the quoted name does not break across lines`);
    if (lang === 'ar' || lang === 'uk') {
      await wd.executeScript('document.getElementById("sheet-go").scrollIntoView({ block: "end" }); return 1;');
      await screenGrab(path.join(ARTIFACTS, `help-sheet-${lang}.png`));
    }
    if (lang === 'ar') {
      // Right to left: the sheet's title and steps sit against the right of their boxes.
      const gaps = await wd.executeScript(`${RIGHT_LEFT_GAPS}
        return [document.getElementById('sheet-title'), ...document.querySelectorAll('#sheet-steps li')].map(gaps);`);
      assert.ok(gaps.every(([right, left]) => right <= left), `the Arabic sheet's text sits on the right: ${JSON.stringify(gaps)}`);
    }
    await axeClean(`the national sheet in ${lang}`);
    await closeSheet();

    const mine = await openSheet('rdv-mairie');
    assert.deepEqual([mine.titleMark, ...mine.documentMarks, ...mine.stepMarks], Array(6).fill('fr/ltr'), `${lang}: the référent's sheet marked French`);
    assert.equal(mine.steps[0], 'Ouvrez « Rendez-vous ».');
    if (lang === 'ar') {
      assert.deepEqual(await langDir(), ['ar', 'rtl']);
      // The French lines stay in the right-to-left layout: on the right, like the Arabic ones.
      const gaps = await wd.executeScript(`${RIGHT_LEFT_GAPS}
        return [document.getElementById('sheet-title'), ...document.querySelectorAll('#sheet-steps li')].map(gaps);`);
      assert.ok(gaps.every(([right, left]) => right <= left), `the French lines sit on the right in Arabic: ${JSON.stringify(gaps)}`);
    }
    await axeClean(`the référent's sheet in ${lang}`);
    await closeSheet();
    await axeClean(`the portal in ${lang}`);
  }
  await endSessionWithButton(wd);
  assert.deepEqual(await langDir(), ['fr', 'ltr'], 'French again for the next person');
  assert.deepEqual((await portalTexts()).map((t) => t.desc), fr.map((t) => t.desc), 'the French texts again');
});
