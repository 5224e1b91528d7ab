// « Imprimer mes documents avant de partir » (issue #16, item 2): « Terminer ma session » offers to
// print the session's documents not printed yet (PDFs, and pictures: a scan's JPEG), once each, on the
// real cups-pdf queue (setup.sh), within the session's page quota (2 pages here), with the usual
// printer messages; then the session ends. Over the quota nothing is printed and the person reads
// why; a document already printed is not offered again, also when printed with the toolbar's
// « Imprimer » from the viewer (the PDF itself is printed then); a session without documents is not
// offered anything; a scanned JPEG prints whole on one page. Counted (SQLite).
//
// Run: tests/e2e/run.sh tests/e2e/endprint.test.mjs
// Takes end-print.png.

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
  screenGrab,
  waitFor,
  waitPortal,
  sleep,
  withToolbar,
  INSTITUTION,
  ARTIFACTS,
  WORK,
  CONTROL_URL,
  configCopy,
  printedFiles,
  newPrintedPdf,
  PRINTED,
  statsTotals,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('endprint');
const downloads = path.join(stateDir, 'session', 'downloads');
const files = () => (fs.existsSync(downloads) ? fs.readdirSync(downloads).sort() : []);
let wd;

const configWithQuota = (quota) => configCopy('config-endprint', { edits: [[/^page_quota = 20$/m, `page_quota = ${quota}`]] });

const confirmState = () => withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
  return { open: !$('confirm-end').hidden, offer: !$('confirm-print-box').hidden, text: $('confirm-print-text').textContent,
    status: $('confirm-status').textContent, error: $('confirm-status').classList.contains('dialog-error') };`));

async function openConfirm() {
  await clickToolbar(wd, '#btn-end');
  await withToolbar(wd, () => waitFor(
    () => wd.executeScript('return !document.getElementById("confirm-end").hidden && window.innerHeight > 300;'),
    10000, { message: 'the end confirmation' }));
  // The offer comes after the session's documents are read and counted.
  await sleep(1500);
  return confirmState();
}

/** Downloads the institution's documents `ids` (#doc-attachment, #doc-post…) into the session. */
async function download(ids) {
  for (const id of ids) {
    await wd.navigateTo(`${INSTITUTION}/docs/`);
    await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/`, 15000, { message: 'the documents page' });
    await sleep(300);
    const before = files().length;
    await wd.click({ css: id });
    await waitFor(() => files().length > before, 15000, { message: `${id} downloaded` });
    await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'document', 15000, { message: 'the viewer' });
  }
}

/** Sessions counted as printed at the end, from the statistics' SQLite through `bornectl stats --csv`. */
async function printAtEndCount() {
  const { header, totals } = await statsTotals(stateDir);
  assert.ok(header.includes('sessions_impression_en_fin'), header.join(';'));
  return totals.sessions_impression_en_fin || 0;
}

/** Once the print dialog shows: « Imprimer » in it; returns the PDF cups-pdf wrote. */
async function printInDialog() {
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return !document.getElementById("print-form").hidden'), 20000,
    { message: 'the print dialog' }));
  const before = printedFiles();
  await clickToolbar(wd, '#print-go');
  return newPrintedPdf(before, 30000);
}

/** The dialog closed, « Terminer ma session » offers nothing; then the session ends. */
async function nothingOfferedAtTheEnd() {
  await clickToolbar(wd, '#print-cancel');
  await sleep(500);
  const c = await openConfirm();
  assert.equal(c.offer, false, `nothing left to offer: ${JSON.stringify(c)}`);
  await clickToolbar(wd, '#confirm-yes');
  await waitPortal(wd);
}

before(async () => {
  await startAll();
  wd = await startBorne({ stateDir, configDir: configWithQuota(2) });
  await waitPortal(wd);
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

/** After the prints at the end: the session ended by itself (the portal, the session's files erased),
 * exactly `prints` new PDFs from cups-pdf since `before`, and the session counted once as printed at
 * the end (`counted` before it). */
async function endedAfterPrinting(before, prints, counted, erased) {
  await waitPortal(wd, 30000);
  await waitFor(() => files().length === 0, 10000, { message: erased });
  await sleep(2000);
  assert.equal([...printedFiles()].filter((f) => !before.has(f)).length, prints, `exactly ${prints} print(s) in ${PRINTED}`);
  await waitFor(async () => (await printAtEndCount()) === counted + 1, 10000,
    { message: 'the session counted as printed at the end' });
}

test('a session without documents is offered nothing at « Terminer »', async () => {
  const c = await openConfirm();
  assert.ok(c.open);
  assert.equal(c.offer, false, JSON.stringify(c));
  await clickToolbar(wd, '#confirm-no');
});

test('over the quota (3 pages, 2 allowed): the offer says so, nothing is printed, the session goes on', async () => {
  await download(['#doc-attachment', '#doc-post', '#doc-blob']);
  assert.equal(files().length, 3, JSON.stringify(files()));
  const c = await openConfirm();
  assert.ok(c.offer, 'the offer shown');
  assert.equal(c.text, 'Documents de cette session pas encore imprimés : 3 (3 pages).');
  // axe-core on the confirmation with its offer, in French then in Arabic (right to left).
  for (const lang of ['fr', 'ar']) {
    if (lang !== 'fr') {
      await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
        window.__TAURI__.core.invoke('set_language', { code: '${lang}' }).then(() => done(true), (e) => done(String(e)));`));
      await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.dir'))) === 'rtl',
        10000, { message: 'the toolbar in Arabic' });
      await sleep(300);
    }
    const v = await withToolbar(wd, () => axeViolations(wd));
    assert.deepEqual(v, [], `axe-core on the end confirmation with its offer (${lang}): ${JSON.stringify(v, null, 1)}`);
  }
  assert.equal(await withToolbar(wd, () => wd.executeScript('return document.querySelector("#confirm-print span[data-i18n]").textContent')),
    'طباعة مستنداتي قبل المغادرة');
  await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('set_language', { code: 'fr' }).then(() => done(true), (e) => done(String(e)));`));
  await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.dir'))) === 'ltr',
    10000, { message: 'the toolbar in French again' });
  const before = printedFiles();
  await clickToolbar(wd, '#confirm-print');
  let s;
  await waitFor(async () => (s = await confirmState()).error, 15000, { message: 'the quota message' });
  assert.equal(s.status, 'Vos documents font 3 pages, et il vous en reste 2 à imprimer pendant cette session. ' +
    'Demandez à l\'accueil, ou imprimez-en un depuis « Mes documents ».');
  await sleep(3000);
  assert.deepEqual([...printedFiles()].filter((f) => !before.has(f)), [], 'nothing printed');
  assert.ok(s.open, 'the confirmation stays: the person may still end or go back');
  await clickToolbar(wd, '#confirm-yes');
  await waitPortal(wd);
  await waitFor(() => files().length === 0, 10000, { message: 'the documents erased' });
});

test('within the quota: both documents printed once each on the real queue, then the session ends', async () => {
  const counted = await printAtEndCount();
  await download(['#doc-attachment', '#doc-post']);
  const c = await openConfirm();
  assert.equal(c.text, 'Documents de cette session pas encore imprimés : 2 (2 pages).');
  const before = printedFiles();
  await clickToolbar(wd, '#confirm-print');
  await waitFor(async () => /Impression en cours/.test((await confirmState()).status), 5000, { message: 'printing' });
  await screenGrab(path.join(ARTIFACTS, 'end-print.png'));
  const first = await newPrintedPdf(before, 60000);
  const second = await newPrintedPdf(new Set([...before, path.basename(first)]), 60000);
  const texts = await Promise.all([first, second].map(async (f) => (await execFileP('pdftotext', [f, '-'])).stdout));
  assert.ok(texts.some((t) => /Attestation de paiement par lien/.test(t)), texts.join('\n--\n'));
  assert.ok(texts.some((t) => /Releve de situation par formulaire/.test(t)), texts.join('\n--\n'));
  // Then the session ends by itself: the portal, the documents erased.
  await endedAfterPrinting(before, 2, counted, 'the documents erased');
});

test('a document printed during the session is not offered again', async () => {
  await download(['#doc-attachment']);
  // « Imprimer » while the viewer shows it.
  await clickToolbar(wd, '#btn-docs');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return document.querySelectorAll("#docs-list button[data-act=print]").length === 1'),
    10000, { message: 'Mes documents' }));
  await clickToolbar(wd, '#docs-list button[data-act="print"]');
  await printInDialog();
  await nothingOfferedAtTheEnd();
});

test('« Imprimer » in the toolbar while the viewer shows a PDF prints that PDF itself, and it is not offered again', async () => {
  await download(['#doc-post']);
  await clickToolbar(wd, '#btn-print');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return !document.getElementById("print-form").hidden'), 20000,
    { message: 'the print dialog' }));
  const dialog = await withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
    return { preview: !$('print-preview-box').hidden && ($('print-preview').getAttribute('src') || '').startsWith('data:image/png;base64,') };`));
  assert.ok(dialog.preview, 'the dialog shows the viewer\'s picture of the document');
  const printed = await printInDialog();
  // The document's own text, not a picture of the viewer around it.
  const text = (await execFileP('pdftotext', [printed, '-'])).stdout;
  assert.match(text, /Releve de situation par formulaire/, text);
  await nothingOfferedAtTheEnd();
});

test('a scanned picture (a JPEG) is offered at « Terminer » and prints whole on one page of the real queue', async () => {
  // The picture: an A4 page of SANE's test backend, grey at 150 dpi (scanimage, as the kiosk runs it
  // for a page), saved as a JPEG: what a scan for a site taking pictures only leaves in the session
  // (document-1.jpg). Under WebDriver no site's file chooser reaches the kiosk (WebKit's automation
  // answers it; scan.test.mjs makes such a JPEG without WebDriver), and the scan dialog alone makes a
  // PDF: the picture reaches the session's folder as a download from the site, where a scan's JPEG
  // lands too.
  const dir = fs.mkdtempSync(path.join(WORK, 'endprint-scan-'));
  const png = path.join(dir, 'page.png');
  const jpg = path.join(dir, 'document-1.jpg');
  await execFileP('scanimage', ['-d', 'test:0', '--mode', 'Gray', '--resolution', '150', '-x', '210', '-y', '297',
    '--format=png', '-o', png], { timeout: 120000 });
  await execFileP('convert', [png, '-quality', '75', jpg]);
  const jpeg = fs.readFileSync(jpg);
  fs.rmSync(dir, { recursive: true, force: true });
  assert.equal(jpeg.subarray(0, 3).toString('hex'), 'ffd8ff');
  const offer = await fetch(`${CONTROL_URL}/offer?name=document-1.jpg&type=image/jpeg`, { method: 'POST', body: jpeg });
  assert.equal(offer.status, 200);
  const counted = await printAtEndCount();
  await wd.navigateTo(`${INSTITUTION}/docs/`);
  await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/`, 15000, { message: 'the documents page' });
  await wd.executeScript('location.href = "/docs/offered/document-1.jpg"; return 1;');
  await waitFor(() => files().length === 1, 15000, { message: 'the picture in the session' });
  assert.deepEqual(files(), ['document-1.jpg']);
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'document', 15000, { message: 'the picture shown' });
  const c = await openConfirm();
  assert.ok(c.offer, `the picture offered: ${JSON.stringify(c)}`);
  assert.equal(c.text, 'Documents de cette session pas encore imprimés : 1 (1 pages).');
  const before = printedFiles();
  await clickToolbar(wd, '#confirm-print');
  const printed = await newPrintedPdf(before, 60000);
  // One page, holding the whole picture at its own size in pixels (fitted to the sheet, nothing cut).
  const info = (await execFileP('pdfinfo', [printed])).stdout;
  assert.match(info, /^Pages:\s+1$/m, info);
  const images = (await execFileP('pdfimages', ['-list', printed])).stdout.split('\n').slice(2).filter(Boolean)
    .map((l) => l.trim().split(/\s+/));
  assert.equal(images.length, 1, images.join('\n'));
  assert.deepEqual([images[0][0], images[0][3], images[0][4]], ['1', '1240', '1753'], `page, width, height: ${images[0]}`);
  await endedAfterPrinting(before, 1, counted, 'the picture erased');
});
