// A person's documents (issue #8): the four ways a PDF reaches a person — a link answered as an
// attachment, a form POST answered as an attachment, a blob: built by the page's script (as CAF
// does) and a PDF shown inline — each lands in the session folder, shows in the kiosk's viewer, is
// listed in « Mes documents » (no path), prints on the cups-pdf queue with its own text (pdftotext),
// and is gone after « Terminer ma session ». A site's file chooser gets the kiosk's own list: the
// session's files and a (fake) USB stick's, nothing else of the disk; the chosen file's bytes reach
// the site (driven without WebDriver: under it WebKit answers file choosers itself). A remote page
// can neither open, frame nor fetch a session document.
//
// Run: tests/e2e/run.sh tests/e2e/documents.test.mjs
// Takes docs-viewer.png, docs-panel.png and docs-upload.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
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
  contentOrigin,
  toolbarHandle,
  screenGrab,
  waitFor,
  waitPortal,
  endSessionWithButton,
  sleep,
  INSTITUTION,
  WORK,
  ARTIFACTS,
  CONTROL_URL,
  CONFIG_DIR,
  borneBinary,
  xkeys,
  withToolbar,
  printedFiles,
  newPrintedPdf,
} from './lib/harness.mjs';
import { buildPdf } from './sites/pdf.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('documents');
const downloads = path.join(stateDir, 'session', 'downloads');
// run.sh exports BORNE_USB_ROOTS (inherited by the kiosk through tauri-driver): that folder is the stick.
const USB = process.env.BORNE_USB_ROOTS || path.join(WORK, 'usb');
const SCAN = buildPdf({ title: 'Piece de test', text: 'Piece justificative sur la cle' });
let wd;
let standalone = null; // the kiosk started without WebDriver (last test)
const seen = {}; // flow -> document id shown in the viewer
const layout = {}; // screen positions recorded under WebDriver for the run without it (tile, #piece, #send)

async function sh(cmd, args) {
  const { stdout } = await execFileP(cmd, args, { env: { ...process.env, LANG: 'C', LC_ALL: 'C' } });
  return stdout;
}

const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
const files = () => (fs.existsSync(downloads) ? fs.readdirSync(downloads).sort() : []);

/** Runs `fn()` with the toolbar webview as WebDriver's current window. */
const inToolbar = (fn) => withToolbar(wd, fn);

const panel = () => inToolbar(() => wd.executeScript(`const $ = (id) => document.getElementById(id);
  return {
    open: !$('docs').hidden,
    title: $('docs-title').textContent,
    status: $('docs-status').textContent,
    html: $('docs-list').innerHTML,
    items: Array.from(document.querySelectorAll('#docs-list .doc-item')).map((li) => ({
      name: li.querySelector('.doc-name').textContent,
      place: li.querySelector('.doc-place').textContent,
      acts: Array.from(li.querySelectorAll('button[data-act]')).map((b) => b.dataset.act),
    })),
  };`));

const printDialog = () => inToolbar(() => wd.executeScript(`return {
  open: !document.getElementById('print').hidden,
  form: !document.getElementById('print-form').hidden,
  status: document.getElementById('print-status').textContent };`));

async function openPanel() {
  await clickToolbar(wd, '#btn-docs');
  let p;
  await waitFor(async () => (p = await panel()).open && p.status !== 'Un instant…', 10000, { message: 'Mes documents' });
  return p;
}

async function closePanel() {
  await clickToolbar(wd, '#docs-close');
  await waitFor(async () => !(await panel()).open, 5000, { message: 'the panel closed' });
}

/** Clicks the button `act` of the panel's entry named `name` (real X click). */
async function panelAction(name, act) {
  const p = await panel();
  const i = p.items.findIndex((it) => it.name === name);
  assert.ok(i >= 0, `${name} listed: ${JSON.stringify(p.items)}`);
  await clickToolbar(wd, `#docs-list .doc-item:nth-child(${i + 1}) button[data-act="${act}"]`);
}

async function closeDialog() {
  await clickToolbar(wd, '#print-cancel');
  await waitFor(async () => !(await printDialog()).open, 5000, { message: 'the dialog closed' });
}

/** The print dialog is open (from « Imprimer » or the panel): prints 1 copy, returns the PDF's text. */
async function printAndRead() {
  await waitFor(async () => (await printDialog()).form, 20000, { message: 'the print dialog ready' });
  const before = printedFiles();
  let file;
  try {
    await clickToolbar(wd, '#print-go');
    await waitFor(async () => /C'est parti/.test((await printDialog()).status), 20000, { message: 'the job accepted' });
    file = await newPrintedPdf(before);
    await sleep(300);
  } catch (e) {
    // Closed even when this test fails: an open dialog covers the toolbar the next tests click.
    await closeDialog().catch(() => {});
    throw e;
  }
  await closeDialog();
  return sh('pdftotext', [file, '-']);
}

async function docsPage() {
  await wd.navigateTo(`${INSTITUTION}/docs/`);
  await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/`, 15000, { message: 'the documents page' });
  await sleep(300);
}

/** Waits for the viewer to show a document; returns its id. */
async function viewerShows() {
  let k;
  await waitFor(async () => (k = classifyUrl(await wd.getUrl())).kind === 'document', 15000, { message: 'the viewer' });
  await sleep(800);
  return k.id;
}

before(async () => {
  fs.mkdirSync(path.join(USB, 'Scans'), { recursive: true });
  fs.mkdirSync(path.join(USB, '.Trash-1000'), { recursive: true });
  fs.writeFileSync(path.join(USB, 'Scans', 'piece-identite.pdf'), SCAN);
  fs.writeFileSync(path.join(USB, '.Trash-1000', 'cache.pdf'), SCAN);
  fs.rmSync(path.join(USB, 'passwd'), { force: true });
  fs.symlinkSync('/etc/passwd', path.join(USB, 'passwd'));
  await startAll();
  wd = await startBorne({ stateDir });
  await waitPortal(wd);
  const o = await contentOrigin(wd);
  const tile = await wd.getRect({ css: `a.tile[href="${INSTITUTION}/"]` });
  layout.tile = { x: o.x + tile.x + tile.width / 2, y: o.y + tile.y + tile.height / 2 };
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
});

after(async () => {
  if (standalone && standalone.exitCode === null) standalone.kill('SIGTERM');
  fs.rmSync(path.join(USB, 'Scans'), { recursive: true, force: true });
  fs.rmSync(path.join(USB, '.Trash-1000'), { recursive: true, force: true });
  fs.rmSync(path.join(USB, 'passwd'), { force: true });
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('Mes documents is empty at the start of a session', async () => {
  const p = await openPanel();
  assert.equal(p.title, 'Mes documents');
  assert.equal(p.items.length, 0);
  assert.match(p.status, /Aucun document pour le moment/);
  await closePanel();
});

test('a link answered as an attachment lands in the session folder, opens in the viewer and prints', async () => {
  await docsPage();
  await wd.click({ css: '#doc-attachment' });
  seen.attachment = await viewerShows();
  assert.deepEqual(files(), ['attestation-paiement.pdf']);
  await sleep(1500); // PDF.js draws the page
  await screenGrab(path.join(ARTIFACTS, 'docs-viewer.png'));
  // « Imprimer » while the viewer shows the document prints the document itself.
  await clickToolbar(wd, '#btn-print');
  assert.match(await printAndRead(), /Attestation de paiement par lien/);
});

test('a form POST answered as an attachment lands in the session folder and opens in the viewer', async () => {
  await docsPage();
  await wd.click({ css: '#doc-post' });
  seen.post = await viewerShows();
  assert.notEqual(seen.post, seen.attachment);
  assert.ok(files().includes('releve-situation.pdf'), JSON.stringify(files()));
  // Printed from « Mes documents » this time.
  await openPanel();
  await panelAction('releve-situation.pdf', 'print');
  assert.match(await printAndRead(), /Releve de situation par formulaire/);
});

test('a blob: built by the page\'s script (fetch, Blob, a.download) lands in the session folder and opens', async () => {
  await docsPage();
  await wd.click({ css: '#doc-blob' });
  seen.blob = await viewerShows();
  assert.ok(files().includes('quittance-loyer.pdf'), JSON.stringify(files()));
  await clickToolbar(wd, '#btn-print');
  assert.match(await printAndRead(), /Quittance construite par script/);
});

test('a PDF shown inline opens in WebKit\'s viewer, prints as itself and is kept in Mes documents', async () => {
  await docsPage();
  await wd.click({ css: '#doc-inline' });
  await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/avis-impot.pdf`, 15000, { message: 'the inline PDF' });
  await waitFor(() => files().includes('avis-impot.pdf'), 10000, { message: `the inline PDF kept: ${files()}` });
  await sleep(800);
  await clickToolbar(wd, '#btn-print');
  assert.match(await printAndRead(), /Avis affiche dans la page/);
  // A reload keeps no second copy.
  await wd.refresh();
  await sleep(1500);
  assert.equal(files().filter((f) => f.includes('avis-impot')).length, 1, JSON.stringify(files()));
});

test('Mes documents lists the four documents by name, never a path, and opens one', async () => {
  const p = await openPanel();
  assert.deepEqual(p.items.map((i) => i.name).sort(),
    ['attestation-paiement.pdf', 'avis-impot.pdf', 'quittance-loyer.pdf', 'releve-situation.pdf']);
  for (const i of p.items) {
    assert.equal(i.place, 'Téléchargé pendant cette session');
    assert.deepEqual(i.acts, ['open', 'print']);
  }
  assert.ok(!p.html.includes(stateDir) && !p.html.includes('/session/'), 'no path in the panel');
  await screenGrab(path.join(ARTIFACTS, 'docs-panel.png'));
  await panelAction('attestation-paiement.pdf', 'open');
  const id = await viewerShows();
  assert.equal(id, seen.attachment, 'the same document, the same id');
  await waitFor(async () => !(await panel()).open, 5000, { message: 'the panel closed after Ouvrir' });
});

test('a remote page can neither open nor fetch a session document', async () => {
  await docsPage();
  const target = `borne-doc://localhost/${seen.attachment}`;
  const fetched = await wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    fetch(arguments[0]).then((r) => r.arrayBuffer()).then((b) => done('read ' + b.byteLength), (e) => done('refused ' + e));`,
  [target]);
  assert.match(fetched, /^refused/, fetched);
  await wd.executeScript('location.href = arguments[0]', [target]).catch(() => {});
  await sleep(1500);
  const k = classifyUrl(await wd.getUrl());
  assert.notEqual(k.kind, 'document', 'a page navigated to a session document');
  const framed = await wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    const f = document.createElement('iframe'); f.src = arguments[0]; document.body.append(f);
    setTimeout(() => { let t = 'opaque'; try { t = String(f.contentDocument && f.contentDocument.contentType); } catch (e) {} done(t); }, 1500);`,
  [target]);
  assert.notEqual(framed, 'application/pdf', 'a frame showed a session document');
});

test('a site\'s file chooser is offered the session\'s files and the USB stick\'s only (upload_list)', async () => {
  // Where the form's controls are, for the real chooser later (same config, same screen).
  await wd.navigateTo(`${INSTITUTION}/docs/upload`);
  await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/upload`, 15000, { message: 'the upload form' });
  const o = await contentOrigin(wd);
  const piece = await wd.getRect({ css: '#piece' });
  const send = await wd.getRect({ css: '#send' });
  layout.piece = { x: o.x + piece.x + 40, y: o.y + piece.y + piece.height / 2 };
  layout.send = { x: o.x + send.x + send.width / 2, y: o.y + send.y + send.height / 2 };
  // A remote page cannot ask for the list (no IPC for remote origins).
  const remote = await wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    try {
      window.__TAURI__.core.invoke('upload_list').then((l) => done('listed ' + JSON.stringify(l)), (e) => done('refused ' + String(e)));
    } catch (e) { done('refused ' + String(e)); }`);
  assert.match(remote, /^refused/, 'a remote page got the list');
  // Under WebDriver, WebKit answers a page's file chooser itself (WebAutomationSession) and never
  // asks the kiosk: the real chooser is driven without WebDriver in the last test. Here, the list
  // the toolbar would show, asked of the shell exactly as the toolbar asks it.
  const list = await inToolbar(() => wd.executeAsyncScript(`const done = arguments[arguments.length - 1];
    window.__TAURI__.core.invoke('upload_list').then(done, (e) => done({ error: String(e && e.code || e) }));`));
  assert.ok(Array.isArray(list), JSON.stringify(list));
  // What the stick holds that a person may see (other suites leave files there too: the admin's CSV).
  const visible = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.') || e.isSymbolicLink()) continue;
      if (e.isDirectory()) walk(path.join(dir, e.name));
      else if (e.isFile()) visible.push(e.name);
    }
  };
  walk(USB);
  assert.deepEqual(list.map((i) => i.name).sort(),
    [...files(), ...visible].sort(),
    'the session\'s files and the stick\'s: no hidden file, no link out of the stick');
  for (const hidden of ['cache.pdf', 'passwd']) assert.ok(!list.some((i) => i.name === hidden), `${hidden} listed`);
  const scan = list.find((i) => i.name === 'piece-identite.pdf');
  assert.equal(scan.place.kind, 'usb');
  assert.equal(scan.place.folder, 'Scans');
  assert.ok(!JSON.stringify(list).includes(USB) && !JSON.stringify(list).includes(stateDir), 'no path');
});

test('after « Terminer ma session » the documents are gone: the folder and Mes documents are empty', async () => {
  assert.ok(files().length >= 4);
  await endSessionWithButton(wd);
  await waitFor(() => files().length === 0, 10000, { message: `the downloads erased: ${files()}` });
  assert.ok(!fs.existsSync(path.join(stateDir, 'session', 'print')) ||
    fs.readdirSync(path.join(stateDir, 'session', 'print')).length === 0, 'the PDFs made for the printer erased');
  const p = await openPanel();
  assert.equal(p.items.length, 0);
  assert.match(p.status, /Aucun document pour le moment/);
  await closePanel();
  // The previous person's ids open nothing.
  await wd.executeScript('location.href = arguments[0]', [`borne-doc://localhost/${seen.attachment}`]).catch(() => {});
  await sleep(1000);
  assert.notEqual(classifyUrl(await wd.getUrl()).kind, 'document');
});

test('the real file chooser (no WebDriver): the kiosk\'s list, the stick\'s file chosen with the keyboard, its bytes reach the site', async () => {
  await wd.deleteSession();
  wd = null;
  // The same borne with its institution tile pointing at the upload form, and a stick of its own.
  const config = path.join(WORK, 'config-documents');
  fs.rmSync(config, { recursive: true, force: true });
  fs.mkdirSync(config, { recursive: true });
  for (const f of fs.readdirSync(CONFIG_DIR)) {
    if (fs.statSync(path.join(CONFIG_DIR, f)).isFile()) fs.copyFileSync(path.join(CONFIG_DIR, f), path.join(config, f));
  }
  const cat = path.join(config, 'catalogue.toml');
  const toml = fs.readFileSync(cat, 'utf8');
  assert.match(toml, /^url = "https:\/\/www\.institution\.test\/"$/m);
  fs.writeFileSync(cat, toml.replace(/^url = "https:\/\/www\.institution\.test\/"$/m, 'url = "https://www.institution.test/docs/upload"'));
  const stick = path.join(WORK, 'usb-documents', 'CLE');
  fs.rmSync(path.dirname(stick), { recursive: true, force: true });
  fs.mkdirSync(path.join(stick, 'Scans'), { recursive: true });
  fs.mkdirSync(path.join(stick, '.cache'), { recursive: true });
  fs.writeFileSync(path.join(stick, 'Scans', 'piece-identite.pdf'), SCAN);
  fs.writeFileSync(path.join(stick, '.cache', 'a-cacher.pdf'), buildPdf({ text: 'cache' }));
  fs.symlinkSync('/etc/passwd', path.join(stick, 'passwd'));
  await fetch(`${CONTROL_URL}/reset`, { method: 'POST' });

  let log = '';
  standalone = spawn(borneBinary(), ['--config', config, '--state', freshStateDir('documents-upload')], {
    env: { ...process.env, BORNE_USB_ROOTS: stick, BORNE_LOG: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // The kiosk's log, without its colours.
  standalone.stderr.on('data', (d) => { log += d.toString().replace(/\x1b\[[0-9;]*m/g, ''); });
  await waitFor(() => /internal page shown page="\/index.html"/.test(log), 30000, { message: 'the portal (kiosk log)' });
  await sleep(1500);
  await xclick(layout.tile.x, layout.tile.y);
  const served = async () => (await (await fetch(`${CONTROL_URL}/log?host=www.institution.test`)).json())
    .filter((e) => (e.path || e.url || '').includes('/docs/upload'));
  await waitFor(async () => (await served()).length > 0, 15000, { message: 'the upload form requested' });
  await sleep(1500);
  await xclick(layout.piece.x, layout.piece.y);
  await waitFor(() => /file chooser: the kiosk's own list/.test(log), 10000, { message: 'the kiosk\'s chooser (kiosk log)' });
  await sleep(1500);
  await screenGrab(path.join(ARTIFACTS, 'docs-upload.png'));
  assert.doesNotMatch(log, /GtkFileChooser/);
  // The first entry (the session has no file yet) is the stick's scan, focused: Return chooses it.
  await xkeys(['Return']);
  await waitFor(() => /file chooser answered with one file/.test(log), 10000, { message: 'the chooser answered (kiosk log)' });
  await sleep(800);
  await xclick(layout.send.x, layout.send.y);
  let got;
  await waitFor(async () => (got = await (await fetch(`${CONTROL_URL}/uploads`)).json()).length > 0, 10000,
    { message: 'the form posted' });
  assert.equal(got.length, 1, JSON.stringify(got));
  assert.equal(got[0].filename, 'piece-identite.pdf');
  assert.equal(got[0].sha256, sha256(SCAN), 'the stick\'s bytes reached the site');
  // Read-only: the stick is as it was.
  assert.deepEqual(fs.readdirSync(path.join(stick, 'Scans')), ['piece-identite.pdf']);
  assert.equal(sha256(fs.readFileSync(path.join(stick, 'Scans', 'piece-identite.pdf'))), sha256(SCAN));
  standalone.kill('SIGTERM');
  await waitFor(() => standalone.exitCode !== null || standalone.signalCode !== null, 10000, { message: 'the kiosk stopped' })
    .catch(() => standalone.kill('SIGKILL'));
});
