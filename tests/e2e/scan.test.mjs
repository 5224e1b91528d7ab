// « Numériser un document » (issue #16, item 1) with SANE's own `test` backend: real libsane and
// real scanimage, no hardware (run.sh points SANE_CONFIG_DIR at tests/e2e/sane/). Through the
// toolbar, with real clicks: the scanner found, two pages scanned, one turned, one retaken; the
// document made is one two-page PDF in the session's documents, at most a megabyte a page; a scan
// that fails says so in French and keeps the pages; the dialog passes axe-core in French and Arabic;
// « Terminer ma session » erases the pages and the document. « Mes documents » with its « Numériser un
// document » row, and the list a site's file chooser gets with that row at its top, pass axe-core in
// French and Arabic. Then without WebDriver (under it WebKit answers file choosers itself): a site's
// input that accepts only images gets « Numériser un document » at the top of the kiosk's list, and
// the JPEG made reaches the site byte for byte; with no size declared a document keeps to about a
// megabyte a page; a form declaring PHP's MAX_FILE_SIZE, then an input in a same-origin frame
// declaring data-max-size, receive documents within those sizes (sites/upload-forms.mjs).
//
// Run: tests/e2e/run.sh tests/e2e/scan.test.mjs
// Takes scan-dialog.png, scan-dialog-ar.png and scan-upload.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
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
  xkeys,
  contentOrigin,
  screenGrab,
  waitFor,
  waitPortal,
  endSessionWithButton,
  sleep,
  withToolbar,
  INSTITUTION,
  WORK,
  ARTIFACTS,
  CONTROL_URL,
  configCopy,
  borneBinary,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';
import { PHP_MAX_FILE_SIZE, DATA_MAX_SIZE } from './sites/upload-forms.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('scan');
const downloads = path.join(stateDir, 'session', 'downloads');
const scans = path.join(stateDir, 'session', 'scans');
const SANE = process.env.SANE_CONFIG_DIR;
const TEST_CONF = SANE ? path.join(SANE, 'test.conf') : null;
let wd;
let standalone = null;
const layout = {};

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const list = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

/** A copy of the e2e config with the scanner turned on and, if given, the institution tile at `tileUrl`. */
function configWithScanner(name, tileUrl) {
  const dir = configCopy(name, { edits: [[/^page_quota = 20$/m, 'page_quota = 20\nscanner = true']] });
  if (tileUrl) {
    const cat = path.join(dir, 'catalogue.toml');
    const toml = fs.readFileSync(cat, 'utf8');
    assert.match(toml, /^url = "https:\/\/www\.institution\.test\/"$/m);
    fs.writeFileSync(cat, toml.replace(/^url = "https:\/\/www\.institution\.test\/"$/m, `url = "${tileUrl}"`));
  }
  return dir;
}

const dialog = () => withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
  return {
    open: !$('scan').hidden,
    status: $('scan-status').textContent,
    error: $('scan-status').classList.contains('dialog-error'),
    pages: Array.from(document.querySelectorAll('#scan-pages .scan-page img')).map((i) => ({
      alt: i.alt, jpeg: i.src.startsWith('data:image/jpeg;base64,'), w: i.naturalWidth, h: i.naturalHeight })),
    go: !$('scan-go').hidden && !$('scan-go').disabled,
    goText: $('scan-go').textContent,
    finish: !$('scan-finish').hidden,
    docsOpen: !$('docs').hidden,
    docsStatus: $('docs-status').textContent,
    docs: Array.from(document.querySelectorAll('#docs-list .doc-name')).map((n) => n.textContent),
    bar: !$('btn-scan').hidden,
  };`));

/** The toolbar in the language `code` (its direction `dir`), as the person's choice makes it. */
async function setLanguage(code, dir) {
  await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('set_language', { code: '${code}' }).then(() => done(true), (e) => done(String(e)));`));
  await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.dir'))) === dir,
    10000, { message: `the toolbar in ${code}` });
  await sleep(300);
}

/** What the documents dialog shows: its title, the « Numériser un document » row (shown, and
    before the list), the files listed and their buttons. */
const docsDialog = () => withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
  const row = $('docs-scan-row');
  return { open: !$('docs').hidden, title: $('docs-title').textContent, scanRow: !row.hidden && !row.closest('[hidden]'),
    scanFirst: !!(row.compareDocumentPosition($('docs-list')) & Node.DOCUMENT_POSITION_FOLLOWING),
    scanText: $('docs-scan').textContent.trim(),
    docs: Array.from(document.querySelectorAll('#docs-list .doc-name')).map((n) => n.textContent),
    buttons: Array.from(document.querySelectorAll('#docs-list button')).map((b) => b.textContent) };`));

async function axeOnToolbar(what) {
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on ${what}: ${JSON.stringify(v, null, 1)}`);
}

async function pageCount(file) {
  const { stdout } = await execFileP('pdfinfo', [file]);
  return Number(/^Pages:\s+(\d+)/m.exec(stdout)[1]);
}

/** Scans one page with « Numériser une page » (or « Refaire » of page `retake`, 0 first). */
async function scanOne(retake = null) {
  const before = await dialog();
  await clickToolbar(wd, retake === null ? '#scan-go' : `#scan-pages button[data-act="retake"][data-index="${retake}"]`);
  let d;
  await waitFor(async () => (d = await dialog()).go && /numérisée/.test(d.status), 60000,
    { message: `a page scanned (was ${JSON.stringify(before)})` });
  return d;
}

before(async () => {
  assert.ok(SANE && fs.existsSync(TEST_CONF), 'run.sh sets SANE_CONFIG_DIR to a copy of tests/e2e/sane/');
  await startAll();
  wd = await startBorne({ stateDir, configDir: configWithScanner('config-scan') });
  await waitPortal(wd);
  const o = await contentOrigin(wd);
  const tile = await wd.getRect({ css: `a.tile[href="${INSTITUTION}/"]` });
  layout.tile = { x: o.x + tile.x + tile.width / 2, y: o.y + tile.y + tile.height / 2 };
  // Where the upload form's input and button are on the screen, for the run without WebDriver.
  await wd.navigateTo(`${INSTITUTION}/docs/upload?accept=image`);
  await waitFor(async () => (await wd.getUrl()).includes('/docs/upload'), 15000, { message: 'the upload form' });
  await sleep(500);
  for (const [k, css] of [['piece', '#piece'], ['send', '#send']]) {
    const r = await wd.getRect({ css });
    layout[k] = { x: o.x + r.x + Math.min(r.width / 2, 60), y: o.y + r.y + r.height / 2 };
  }
  assert.equal(await wd.executeScript('return document.getElementById("piece").accept'), 'image/*');
  // The form declaring PHP's MAX_FILE_SIZE lays out as the one above (the field is hidden).
  await wd.navigateTo(`${INSTITUTION}/docs/upload?max=${PHP_MAX_FILE_SIZE}`);
  await waitFor(async () => (await wd.getUrl()).includes('max='), 15000, { message: 'the MAX_FILE_SIZE form' });
  await sleep(500);
  for (const [k, css] of [['piece', '#piece'], ['send', '#send']]) {
    const r = await wd.getRect({ css });
    const at = { x: o.x + r.x + Math.min(r.width / 2, 60), y: o.y + r.y + r.height / 2 };
    assert.deepEqual(at, layout[k], `${css} where it is in the form taking images only`);
  }
  // The form in a same-origin frame: its input and button on the screen.
  await wd.navigateTo(`${INSTITUTION}/docs/upload-frame?accept=image&maxattr=${DATA_MAX_SIZE}`);
  await waitFor(() => wd.executeScript('const d = document.getElementById("frame").contentDocument; return !!d && !!d.getElementById("send");'),
    15000, { message: 'the framed form' });
  await sleep(500);
  const framed = await wd.executeScript(`const f = document.getElementById('frame');
    const fr = f.getBoundingClientRect(); const d = f.contentDocument;
    const at = (id) => { const r = d.getElementById(id).getBoundingClientRect(); return { x: fr.x + r.x, y: fr.y + r.y, width: r.width, height: r.height }; };
    return { piece: at('piece'), send: at('send'), declared: d.getElementById('piece').dataset.maxSize, accept: d.getElementById('piece').accept };`);
  assert.deepEqual([framed.declared, framed.accept], [String(DATA_MAX_SIZE), 'image/*']);
  for (const k of ['piece', 'send']) {
    const r = framed[k];
    layout[`frame-${k}`] = { x: o.x + r.x + Math.min(r.width / 2, 60), y: o.y + r.y + r.height / 2 };
  }
});

after(async () => {
  if (TEST_CONF) fs.copyFileSync(path.join(path.dirname(new URL(import.meta.url).pathname), 'sane', 'test.conf'), TEST_CONF);
  if (standalone && standalone.exitCode === null) standalone.kill('SIGTERM');
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('« Numériser » is in the toolbar when the référent says a scanner is connected; the dialog finds SANE\'s scanner', async () => {
  assert.equal((await dialog()).bar, true, 'the toolbar button');
  await clickToolbar(wd, '#btn-scan');
  let d;
  await waitFor(async () => (d = await dialog()).open && d.go, 40000, { message: 'the scanner found' });
  assert.match(d.status, /^Scanner prêt : Noname frontend-tester\.$/);
  assert.equal(d.goText, 'Numériser une page');
  assert.equal(d.finish, false, 'nothing to finish before a page');
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on the scan dialog: ${JSON.stringify(v, null, 1)}`);
});

test('two pages scanned, the second turned, the first retaken: each shown, their files in the session\'s scans', async () => {
  let d = await scanOne();
  assert.equal(d.pages.length, 1);
  assert.match(d.status, /^Page 1 numérisée/);
  assert.equal(d.goText, 'Numériser une autre page');
  assert.ok(d.finish, '« Terminer le document » once a page is there');
  d = await scanOne();
  assert.equal(d.pages.length, 2);
  assert.deepEqual(d.pages.map((p) => p.alt), ['Page 1', 'Page 2']);
  assert.ok(d.pages.every((p) => p.jpeg), 'pictures are JPEG data: URLs');
  const [w, h] = [d.pages[1].w, d.pages[1].h];
  assert.ok(h > w, `an A4 page is taller than wide: ${w}x${h}`);
  await clickToolbar(wd, '#scan-pages button[data-act="rotate"][data-index="1"]');
  await waitFor(async () => /Page 2 tournée/.test((d = await dialog()).status), 15000, { message: 'page 2 turned' });
  assert.ok(d.pages[1].w > d.pages[1].h, `the picture of page 2 is turned: ${d.pages[1].w}x${d.pages[1].h}`);
  d = await scanOne(0);
  assert.equal(d.pages.length, 2, 'a retake replaces the page');
  assert.equal(list(scans).filter((f) => f.endsWith('.png')).length, 2, `two pages in scans/: ${list(scans)}`);
  await screenGrab(path.join(ARTIFACTS, 'scan-dialog.png'));
});

test('a scan that fails (the scanner gone mid-scan) says so in French and keeps the pages', async () => {
  const good = fs.readFileSync(TEST_CONF, 'utf8');
  fs.writeFileSync(TEST_CONF, good.replace('read-status-code "Default"', 'read-status-code "SANE_STATUS_IO_ERROR"'));
  try {
    await clickToolbar(wd, '#scan-go');
    let d;
    // SANE's test backend sometimes hangs after a failed read (core tests/scan.rs): the kiosk's time
    // limit then says the scanner does not answer. Either way: French, the pages kept.
    await waitFor(async () => (d = await dialog()).error, 150000, { message: 'the error shown' });
    assert.match(d.status, /^Le scanner s'est arrêté pendant la numérisation\. Vos pages déjà numérisées sont gardées ; demandez à l'accueil\.$|^Le scanner ne répond plus\. Vos pages déjà numérisées sont gardées ; demandez à l'accueil\.$/);
    assert.equal(d.pages.length, 2, 'the pages kept');
    assert.ok(d.go, 'the person can try again');
    assert.equal(list(scans).filter((f) => f.endsWith('.png')).length, 2, `no file of the failed page: ${list(scans)}`);
  } finally {
    fs.writeFileSync(TEST_CONF, good);
  }
});

test('the dialog in Arabic passes axe-core, right to left', async () => {
  await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('set_language', { code: 'ar' }).then(() => done(true), (e) => done(String(e)));`));
  await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.dir'))) === 'rtl',
    10000, { message: 'the toolbar in Arabic' });
  await sleep(300);
  const d = await withToolbar(wd, () => wd.executeScript(`return [document.getElementById('scan-title').textContent,
    document.getElementById('scan-finish').textContent]`));
  assert.deepEqual(d, ['مسح مستند ضوئيًا', 'إنهاء المستند']);
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on the scan dialog in Arabic: ${JSON.stringify(v, null, 1)}`);
  await screenGrab(path.join(ARTIFACTS, 'scan-dialog-ar.png'));
  await withToolbar(wd, () => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('set_language', { code: 'fr' }).then(() => done(true), (e) => done(String(e)));`));
  await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.dir'))) === 'ltr',
    10000, { message: 'the toolbar in French again' });
});

test('« Terminer le document »: one two-page PDF, a megabyte a page at most, listed in « Mes documents »', async () => {
  await clickToolbar(wd, '#scan-finish');
  let d;
  await waitFor(async () => (d = await dialog()).docsOpen && d.docs.length > 0, 30000, { message: 'Mes documents' });
  assert.deepEqual(d.docs, ['document-1.pdf']);
  assert.match(d.docsStatus, /^Votre document « document-1\.pdf » est prêt\./);
  assert.deepEqual(list(downloads), ['document-1.pdf']);
  const file = path.join(downloads, 'document-1.pdf');
  assert.equal(await pageCount(file), 2);
  const size = fs.statSync(file).size;
  assert.ok(size <= 2 * 1000 * 1000, `${size} bytes for two pages`);
  assert.deepEqual(list(scans).filter((f) => f.endsWith('.png')), [], 'the pages\' scans removed once the PDF is made');
  console.log(`# document-1.pdf: 2 pages, ${size} bytes`);
  await clickToolbar(wd, '#docs-close');
});

test('« Mes documents » with its « Numériser un document » row passes axe-core in French and Arabic', async () => {
  for (const [lang, dir, title, scan] of [['fr', 'ltr', 'Mes documents', 'Numériser un document'], ['ar', 'rtl', null, null]]) {
    await setLanguage(lang, dir);
    await clickToolbar(wd, '#btn-docs');
    let d;
    await waitFor(async () => (d = await docsDialog()).open && d.docs.length === 1, 15000, { message: `Mes documents (${lang})` });
    assert.ok(d.scanRow, `the « Numériser un document » row shows (${lang})`);
    if (title) assert.deepEqual([d.title, d.scanText], [title, scan]);
    assert.deepEqual(d.docs, ['document-1.pdf']);
    await axeOnToolbar(`« Mes documents » with the scan row (${lang})`);
    await clickToolbar(wd, '#docs-close');
    await waitFor(async () => !(await docsDialog()).open, 5000, { message: 'Mes documents closed' });
  }
  await setLanguage('fr', 'ltr');
});

test('the list a site\'s file chooser gets, « Numériser un document » at its top, passes axe-core in French and Arabic', async () => {
  // Under WebDriver, WebKit answers a site's file chooser itself (its automation takes the file input),
  // so no chooser reaches the kiosk here: the run without WebDriver below clicks a real one and goes
  // through this list with the keyboard. Here the toolbar opens the list on the very event the shell
  // sends it when a site's chooser opens ('kiosk', {kind: 'upload-request'}), delivered through
  // Tauri's own event function in the toolbar view, as the shell's emit does.
  const openAsForASite = () => withToolbar(wd, () => wd.executeScript(`
    const listeners = window.__internal_unstable_listeners_object_id__;
    const deliver = window.__internal_unstable_listeners_function_id__;
    const ids = listeners && listeners.kiosk ? Object.getOwnPropertyNames(listeners.kiosk).map(Number) : [];
    if (typeof deliver !== 'function' || !ids.length) return 'no kiosk listener in the toolbar (Tauri changed its event delivery?)';
    deliver({ event: 'kiosk', payload: { kind: 'upload-request' } }, ids);
    return ids.length;`));
  for (const [lang, dir, title] of [['fr', 'ltr', 'Choisir un fichier à envoyer'], ['ar', 'rtl', null]]) {
    await setLanguage(lang, dir);
    const delivered = await openAsForASite();
    assert.ok(typeof delivered === 'number' && delivered >= 1, String(delivered));
    let d;
    // The list also holds the files of the suites' shared USB stick (run.sh's BORNE_USB_ROOTS: in a
    // full run, the admin suite's CSV export is there): the session's document must be among them.
    await waitFor(async () => (d = await docsDialog()).open && d.docs.includes('document-1.pdf'), 15000,
      { message: `the chooser's list (${lang})` });
    assert.ok(d.scanRow && d.scanFirst, `« Numériser un document » shows at the top of the list (${lang}): ${JSON.stringify(d)}`);
    if (title) {
      assert.equal(d.title, title);
      assert.deepEqual(d.buttons, d.docs.map(() => 'Choisir'), 'each file offered to the site, the session\'s document among them');
    }
    await axeOnToolbar(`the list a site's file chooser gets (${lang})`);
    await clickToolbar(wd, '#docs-close');
    await waitFor(async () => !(await docsDialog()).open, 5000, { message: 'the list closed' });
  }
  await setLanguage('fr', 'ltr');
});

test('« Terminer ma session » erases the document and a page scanned since; the next person starts with no page', async () => {
  await clickToolbar(wd, '#btn-scan');
  await waitFor(async () => (await dialog()).go, 40000, { message: 'the scanner found again' });
  const d = await scanOne();
  assert.equal(d.pages.length, 1, 'a new document starts empty');
  await clickToolbar(wd, '#scan-close');
  await endSessionWithButton(wd);
  await waitFor(() => list(downloads).length === 0 && list(scans).length === 0, 10000,
    { message: `erased: ${list(downloads)} ${list(scans)}` });
  await clickToolbar(wd, '#btn-scan');
  let after;
  await waitFor(async () => (after = await dialog()).go, 40000, { message: 'the dialog for the next person' });
  assert.equal(after.pages.length, 0, 'no page of the person before');
  assert.equal(after.finish, false);
  await clickToolbar(wd, '#scan-close');
});

test('without WebDriver: from a site\'s file chooser, two pages become one PDF the site receives byte for byte; a site taking images only gets a JPEG; the sizes forms declare (MAX_FILE_SIZE, data-max-size in a frame) hold', async () => {
  await wd.deleteSession();
  wd = null;
  const config = configWithScanner('config-scan-upload', 'https://www.institution.test/docs/upload');
  await fetch(`${CONTROL_URL}/reset`, { method: 'POST' });
  const state = freshStateDir('scan-upload');
  const docs = path.join(state, 'session', 'downloads');
  fs.rmSync(path.join(WORK, 'usb-scan'), { recursive: true, force: true });
  fs.mkdirSync(path.join(WORK, 'usb-scan'), { recursive: true });
  let log = '';
  standalone = spawn(borneBinary(), ['--config', config, '--state', state], {
    // A stick of its own, empty: the chooser's list holds no file, « Numériser un document » leads.
    env: { ...process.env, BORNE_LOG: 'info', BORNE_USB_ROOTS: path.join(WORK, 'usb-scan') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  standalone.stderr.on('data', (d) => { log += d.toString().replace(/\x1b\[[0-9;]*m/g, ''); });
  const count = (re) => (log.match(new RegExp(re, 'g')) || []).length;
  await waitFor(() => /internal page shown page="\/index.html"/.test(log), 30000, { message: 'the portal (kiosk log)' });
  await sleep(1500);
  await xclick(layout.tile.x, layout.tile.y);
  const served = async () => (await (await fetch(`${CONTROL_URL}/log?host=www.institution.test`)).json())
    .filter((e) => (e.path || e.url || '').includes('/docs/upload'));
  await waitFor(async () => (await served()).length > 0, 15000, { message: 'the upload form requested' });
  await sleep(1500);

  /** The site's input clicked, then keyboard only as a person without a mouse: « Numériser un
      document » (focused: the list is empty), `pages` × « Numériser une page », « Terminer le document ». */
  async function scanForTheSite(pages, shot, toScan = ['Return'], at = { piece: layout.piece, send: layout.send }) {
    const chosen = count('file chooser answered with one file');
    const scanned = count('page scanned');
    await xclick(at.piece.x, at.piece.y);
    await waitFor(() => count('file chooser: the kiosk\'s own list') > chosen, 10000, { message: 'the kiosk\'s chooser (kiosk log)' });
    await sleep(1200);
    if (shot) await screenGrab(path.join(ARTIFACTS, shot));
    await xkeys(toScan);
    await sleep(1500);
    await waitFor(() => /scanner found for the session/.test(log), 40000, { message: 'the scanner found (kiosk log)' });
    for (let i = 1; i <= pages; i++) {
      await xkeys(['Return']);
      await waitFor(() => count('page scanned') >= scanned + i, 60000, { message: `page ${i} scanned (kiosk log)` });
      // Its picture drawn and the focus back on « Numériser une autre page ».
      await sleep(2500);
    }
    await xkeys(['Tab', 'Return']);
    await waitFor(() => count('file chooser answered with one file') > chosen, 30000,
      { message: `the chooser answered (kiosk log)\n${log.slice(-2000)}` });
    await sleep(800);
    await xclick(at.send.x, at.send.y);
  }
  const declaring = 'the document is made within the size the site declares';
  /** The session's document whose bytes the site received as `upload`. */
  const receivedFile = (upload) => list(docs).find((f) => sha256(fs.readFileSync(path.join(docs, f))) === upload.sha256);

  await scanForTheSite(2, 'scan-upload.png');
  let got;
  await waitFor(async () => (got = await (await fetch(`${CONTROL_URL}/uploads`)).json()).length > 0, 10000,
    { message: 'the form posted' });
  assert.equal(got.length, 1, JSON.stringify(got));
  assert.deepEqual(list(docs), ['document-1.pdf']);
  const pdf = fs.readFileSync(path.join(docs, 'document-1.pdf'));
  assert.equal(got[0].filename, 'document-1.pdf');
  assert.equal(got[0].sha256, sha256(pdf), 'the scanned PDF\'s bytes reached the site');
  assert.equal(await pageCount(path.join(docs, 'document-1.pdf')), 2);
  assert.ok(pdf.length <= 2 * 1000 * 1000, `${pdf.length} bytes for two pages`);

  // « Envoyer aussi une photo »: the received page's first link, to a form taking images only.
  await sleep(1000);
  await xkeys(['Tab', 'Return']);
  await waitFor(async () => (await served()).some((e) => (e.path || e.url || '').includes('accept=image')), 15000,
    { message: 'the image-only form' });
  await sleep(1500);
  // The session's PDF is listed now, its « Choisir » focused: « Numériser un document » is just before.
  await scanForTheSite(1, null, ['shift+Tab', 'Return']);
  await waitFor(async () => (got = await (await fetch(`${CONTROL_URL}/uploads`)).json()).length > 1, 10000,
    { message: 'the second form posted' });
  const jpegName = list(docs).find((f) => f.endsWith('.jpg'));
  assert.ok(jpegName, `one JPEG for a site that takes images only: ${list(docs)}`);
  const jpeg = fs.readFileSync(path.join(docs, jpegName));
  assert.equal(jpeg.subarray(0, 3).toString('hex'), 'ffd8ff', 'a JPEG');
  assert.equal(got[1].filename, jpegName);
  assert.equal(got[1].sha256, sha256(jpeg), 'the scanned JPEG\'s bytes reached the site');
  // No size declared by these two forms: the default held, about a megabyte a page at most.
  assert.ok(jpeg.length <= 1000 * 1000, `${jpeg.length} bytes for one page`);
  assert.equal(count(declaring), 0, 'no declared size taken for forms that declare none');
  // The sizes the next forms declare are below what a page weighs undeclared: they must bite.
  assert.ok(pdf.length / 2 > PHP_MAX_FILE_SIZE && jpeg.length > DATA_MAX_SIZE,
    `a page undeclared: ${pdf.length / 2} bytes (PDF), ${jpeg.length} (JPEG)`);

  // A form with PHP's <input type="hidden" name="MAX_FILE_SIZE"> before its file input (any file: a PDF).
  await sleep(1000);
  await xkeys(['Tab', 'Return']);
  await waitFor(async () => (await served()).some((e) => (e.path || e.url || '').includes(`max=${PHP_MAX_FILE_SIZE}`)), 15000,
    { message: 'the MAX_FILE_SIZE form' });
  await sleep(1500);
  await scanForTheSite(1, null, ['shift+Tab', 'Return']);
  await waitFor(async () => (got = await (await fetch(`${CONTROL_URL}/uploads`)).json()).length > 2, 10000,
    { message: 'the MAX_FILE_SIZE form posted' });
  const php = receivedFile(got[2]);
  assert.ok(php && php.endsWith('.pdf'), `the site received a PDF of the session: ${list(docs)} ${JSON.stringify(got[2])}`);
  assert.equal(await pageCount(path.join(docs, php)), 1);
  assert.ok(got[2].size <= PHP_MAX_FILE_SIZE, `${got[2].size} bytes received, ${PHP_MAX_FILE_SIZE} declared`);
  assert.match(log, new RegExp(`${declaring} max_bytes=${PHP_MAX_FILE_SIZE}`));

  // An input declaring data-max-size, in a same-origin frame (pictures only: a JPEG).
  await sleep(1000);
  await xkeys(['Tab', 'Return']);
  await waitFor(async () => (await served()).some((e) => (e.path || e.url || '').includes(`maxattr=${DATA_MAX_SIZE}`)), 15000,
    { message: 'the framed form' });
  await sleep(2000);
  await scanForTheSite(1, null, ['shift+Tab', 'Return'], { piece: layout['frame-piece'], send: layout['frame-send'] });
  await waitFor(async () => (got = await (await fetch(`${CONTROL_URL}/uploads`)).json()).length > 3, 10000,
    { message: 'the framed form posted' });
  const framed = receivedFile(got[3]);
  assert.ok(framed && framed.endsWith('.jpg'), `the site received a JPEG of the session: ${list(docs)} ${JSON.stringify(got[3])}`);
  assert.ok(got[3].size <= DATA_MAX_SIZE, `${got[3].size} bytes received, ${DATA_MAX_SIZE} declared`);
  assert.match(log, new RegExp(`${declaring} max_bytes=${DATA_MAX_SIZE}`));
  console.log(`# declared sizes: ${got[2].size} <= ${PHP_MAX_FILE_SIZE} (MAX_FILE_SIZE, PDF), ${got[3].size} <= ${DATA_MAX_SIZE} (data-max-size in a frame, JPEG)`);
  standalone.kill('SIGTERM');
  await waitFor(() => standalone.exitCode !== null || standalone.signalCode !== null, 10000, { message: 'the kiosk stopped' })
    .catch(() => standalone.kill('SIGKILL'));
});
