// Printing on a real CUPS queue (cups-pdf, made by setup.sh): "Imprimer" and window.print() open
// the kiosk's French dialog (never GTK's); a page and an inline PDF come out as PDFs whose text
// matches; a stopped queue and a printer that does not answer say "L'imprimante ne répond pas";
// a PDF whose /Count lies is charged for the pages cups-pdf prints; the session's page quota holds;
// a job still queued at the end of the session is cancelled.
//
// Run: tests/e2e/run.sh tests/e2e/print.test.mjs

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
  xclick,
  toolbarHandle,
  screenGrab,
  waitFor,
  sleep,
  INSTITUTION,
  WORK,
  ARTIFACTS,
  statsTotals,
  withToolbar,
  printedFiles,
  newPrintedPdf,
} from './lib/harness.mjs';

const execFileP = promisify(execFile);
const PRINTER = 'borne-e2e';
const stateDir = freshStateDir('print');
let wd;

async function sh(cmd, args) {
  const { stdout } = await execFileP(cmd, args, { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return stdout;
}

const todayFigures = async () => (await statsTotals(stateDir)).totals;

/** Runs `fn()` with the toolbar webview as WebDriver's current window. */
const inToolbar = (fn) => withToolbar(wd, fn);

const dialog = () => inToolbar(() => wd.executeScript(`return {
  open: !document.getElementById('print').hidden,
  form: !document.getElementById('print-form').hidden,
  status: document.getElementById('print-status').textContent,
  all: document.getElementById('print-all-label').textContent,
  left: document.getElementById('print-left').textContent,
  preview: document.getElementById('print-preview').naturalWidth };`));


async function openDialog() {
  await clickToolbar(wd, '#btn-print');
  let d;
  await waitFor(async () => (d = await dialog()).open && (d.form || d.status.includes('imprimante')), 20000,
    { message: 'the print dialog ready' });
  return d;
}

async function closeDialog() {
  await clickToolbar(wd, '#print-cancel');
  await waitFor(async () => !(await dialog()).open, 5000, { message: 'the dialog closed' });
}

/** Prints with the dialog's choices as they are; returns the path of the PDF cups-pdf wrote. */
async function printAndFile() {
  const before = printedFiles();
  let file;
  try {
    await clickToolbar(wd, '#print-go');
    await waitFor(async () => /C'est parti/.test((await dialog()).status), 20000, { message: 'the job accepted' });
    file = await newPrintedPdf(before);
    await sleep(300);
  } catch (e) {
    // Closed even when this test fails: an open dialog covers the toolbar the next tests click.
    await closeDialog().catch(() => {});
    throw e;
  }
  await closeDialog();
  return file;
}

/** Prints with the dialog's choices as they are; returns the new PDF's text. */
async function printAndRead() {
  return sh('pdftotext', [await printAndFile(), '-']);
}

async function waitPortal() {
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'portal' &&
    (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0, 20000, { message: 'the portal' });
}

async function open(url, kind = 'allowed') {
  await wd.navigateTo(url);
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === kind, 15000, { message: url });
  await sleep(500);
}

before(async () => {
  await startAll();
  const states = await sh('lpstat', ['-p', PRINTER]).catch(() => '');
  assert.match(states, /enabled/, `the ${PRINTER} queue (setup.sh makes it): ${states}`);
  wd = await startBorne({ stateDir });
  await waitPortal();
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
});

after(async () => {
  await sh('lpadmin', ['-p', PRINTER, '-v', 'cups-pdf:/']).catch(() => {});
  await sh('cupsenable', [PRINTER]).catch(() => {});
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('"Imprimer" prints the page seen on the CUPS queue, through the French dialog', async () => {
  await open(`${INSTITUTION}/`);
  const d = await openDialog();
  await waitFor(async () => (await dialog()).preview > 100, 5000, { message: 'a preview of the page' });
  await sleep(300);
  await screenGrab(path.join(ARTIFACTS, 'print-dialog.png'));
  assert.equal(d.all, 'Tout le document (1 page)');
  assert.match(d.left, /encore imprimer 20 pages/);
  await waitFor(async () => (await dialog()).preview > 100, 5000, { message: 'a preview of the page' });
  const text = await printAndRead();
  // The PDF the kiosk made (in the session folder until the session ends) holds the page's text.
  const made = fs.readdirSync(path.join(stateDir, 'session', 'print')).filter((f) => f.endsWith('.pdf'));
  assert.equal(made.length, 1, `one PDF made: ${made}`);
  fs.copyFileSync(path.join(stateDir, 'session', 'print', made[0]), path.join(ARTIFACTS, 'print-page.pdf'));
  const own = await sh('pdftotext', [path.join(stateDir, 'session', 'print', made[0]), '-']);
  assert.match(own, /Institution de test/);
  assert.match(text, /Institution de test/);
  assert.match(text, /www\.institution\.test/);
  await waitFor(async () => (await todayFigures()).pages_imprimees === 1, 10000, { message: 'one page counted' });
});

test('an inline PDF prints as itself', async () => {
  await open(`${INSTITUTION}/inline.pdf`);
  await openDialog();
  const text = await printAndRead();
  assert.match(text, /Document de test avec un lien/);
});

// A PDF whose page tree holds 3 pages while its /Count says 1 (poppler's pdfinfo believes the /Count
// and says 1; CUPS's filters walk the tree and print 3). The kiosk counts the tree's leaves: the dialog
// offers 3 pages, 3 are charged, `lp` gets page-ranges=1-3, and cups-pdf's output has exactly 3.
test('a PDF whose /Count lies is charged for the pages it prints', async () => {
  const charged = (await todayFigures()).pages_imprimees || 0;
  await open(`${INSTITUTION}/lying-count.pdf`);
  const d = await openDialog();
  assert.equal(d.all, 'Tout le document (3 pages)');
  const file = await printAndFile();
  const info = await sh('pdfinfo', [file]);
  assert.match(info, /^Pages:\s+3$/m, `cups-pdf printed 3 pages: ${info}`);
  const text = await sh('pdftotext', [file, '-']);
  assert.match(text, /Page qui ment page 3/);
  await waitFor(async () => (await todayFigures()).pages_imprimees === charged + 3, 10000,
    { message: '3 pages charged' });
});

// WebKit ignores window.print() in a page controlled by WebDriver (LocalDOMWindow::print returns
// when page->isControlledByAutomation()), so WebKit's print signal, which input.rs turns into the
// kiosk's dialog, cannot fire under this harness. Kept to run by hand without the automation flag.
test('window.print() from a site opens the same dialog, not GTK\'s', { skip: 'WebKit ignores window.print() under WebDriver' }, async () => {
  await open(`${INSTITUTION}/imprimer`);
  // A real click on the site's own button (the content view sits under the toolbar's 76 px).
  const r = await wd.getRect({ css: '#print-me' });
  await xclick(r.x + r.width / 2, 76 + r.y + r.height / 2);
  await waitFor(async () => (await dialog()).form, 15000, { message: 'the kiosk dialog after window.print()' });
  await closeDialog();
});

test('a stopped queue says "L\'imprimante ne répond pas : demandez à l\'accueil"', async () => {
  await open(`${INSTITUTION}/`);
  await sh('cupsdisable', [PRINTER]);
  try {
    const failures = (await todayFigures()).echecs_impression || 0;
    await openDialog();
    await clickToolbar(wd, '#print-go');
    await waitFor(async () => (await dialog()).status === "L'imprimante ne répond pas : demandez à l'accueil.", 15000,
      { message: 'the French printer message' });
    await waitFor(async () => (await todayFigures()).echecs_impression === failures + 1, 10000, { message: 'the failure counted' });
    await closeDialog();
  } finally {
    await sh('cupsenable', [PRINTER]);
  }
});

test('the page quota holds (20 pages a session)', async () => {
  await open(`${INSTITUTION}/`);
  let refused = false;
  for (let i = 0; i < 6 && !refused; i += 1) {
    await openDialog();
    for (let c = 0; c < 4; c += 1) await clickToolbar(wd, '#print-more');
    await clickToolbar(wd, '#print-go');
    let d;
    await waitFor(async () => /C'est parti|atteint/.test((d = await dialog()).status), 20000, { message: 'an answer' });
    refused = /atteint le nombre de pages/.test(d.status);
    await closeDialog();
  }
  assert.ok(refused, 'the quota message showed');
  const f = await todayFigures();
  assert.ok(f.pages_imprimees <= 20, `at most 20 pages printed: ${f.pages_imprimees}`);
});

test('a job still queued when the session ends is cancelled: the queue is empty', async () => {
  // A printer that does not answer: the job waits in the queue, the person is told.
  await sh('lpadmin', ['-p', PRINTER, '-v', 'socket://127.0.1.5:9100']);
  try {
    // A fresh session (new quota): end the current one first.
    await clickToolbar(wd, '#btn-end');
    await sleep(800);
    await clickToolbar(wd, '#confirm-yes');
    await waitPortal();
    await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
    await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
    await sleep(500);
    await openDialog();
    await clickToolbar(wd, '#print-go');
    await waitFor(async () => /imprimante ne répond pas|C'est parti/.test((await dialog()).status), 20000, { message: 'an answer' });
    const queued = await sh('lpstat', ['-o', PRINTER]);
    assert.match(queued, new RegExp(`${PRINTER}-\\d+`), `the job waits in the queue: ${queued}`);
    await closeDialog();
    await clickToolbar(wd, '#btn-end');
    await sleep(800);
    await clickToolbar(wd, '#confirm-yes');
    await waitFor(async () => (await sh('lpstat', ['-o', PRINTER])).trim() === '', 10000, { message: 'the queue empty after the session' });
  } finally {
    await sh('lpadmin', ['-p', PRINTER, '-v', 'cups-pdf:/']);
    await sh('cupsenable', [PRINTER]);
  }
});
