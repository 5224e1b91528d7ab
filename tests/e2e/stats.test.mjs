// Statistics counted by the real kiosk: a person's visit (tile, refused host, "Terminer") lands in
// the SQLite file as anonymous hour counts, read back with `bornectl stats --csv`; a kiosk killed
// during a session counts that session as ended by a crash at its next start. Then the team at a
// nomad borne (issue #16): the référent chooses the team's staff code in the admin screen (the PIN
// itself refused in French) and today's place; a médiateur marks a session « accompagnée » with that
// code in the toolbar, and the session prints its document at « Terminer ma session »; the référent's
// Statistiques screen shows accompanied and autonomous sessions, the session printed at the end and
// the sessions by place, equal to the CSV, and passes axe-core.
//
// Run: tests/e2e/run.sh tests/e2e/stats.test.mjs
// Takes admin-stats.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  clickToolbar,
  xkeys,
  waitFor,
  sleep,
  withToolbar,
  screenGrab,
  isVisible,
  textOf,
  configCopy,
  printedFiles,
  newPrintedPdf,
  INSTITUTION,
  ARTIFACTS,
  waitPortal as waitPortalOf,
  statsTotals,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('stats');
const downloads = path.join(stateDir, 'session', 'downloads');
const PIN = '482916';
const STAFF_CODE = '4821';
// A nomad borne (issue #18): the référent chooses the day's place, each session is counted there.
const configDir = configCopy('config-stats', { append: '\n[nomad]\nplaces = ["Médiathèque", "Marché couvert"]\n' });
let wd;

/** `bornectl stats --csv` of today for the test's state dir, as {column: number}. */
async function todayFigures() {
  const { header, totals } = await statsTotals(stateDir, configDir);
  assert.deepEqual(header.slice(0, 2), ['date', 'sessions']);
  return totals;
}

const waitPortal = (timeoutMs) => waitPortalOf(wd, timeoutMs);

function bornePids() {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() !== 'borne') continue;
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (cmd.includes(stateDir)) out.push(Number(d));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

before(async () => {
  await startAll();
  wd = await startBorne({ stateDir, configDir });
  await waitPortal();
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('a visit is counted: one session, the tile, the refused host, ended by the button', async () => {
  assert.equal((await todayFigures()).sessions, 0, 'nothing counted before anyone came');
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  await wd.executeScript('location.href = "https://www.evil.test/un/chemin?nom=dupont"; return 1;');
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 15000, { message: 'the blocked page' });
  await clickToolbar(wd, '#btn-end');
  await sleep(800);
  await clickToolbar(wd, '#confirm-yes');
  await waitPortal(15000);
  let f;
  await waitFor(async () => ((f = await todayFigures()).fin_bouton === 1), 10000, { message: 'the end counted' });
  assert.equal(f.sessions, 1);
  assert.equal(f.tuile_institution, 1);
  assert.equal(f.tuiles_ouvertes, 1);
  assert.equal(f.navigations_bloquees, 1);
  assert.equal(f.duree_moins_5_min, 1);
  // Only the host's registrable domain is kept; nothing of the path or query.
  const db = fs.readFileSync(path.join(stateDir, 'stats.sqlite'));
  const wal = fs.existsSync(path.join(stateDir, 'stats.sqlite-wal')) ? fs.readFileSync(path.join(stateDir, 'stats.sqlite-wal')) : Buffer.alloc(0);
  for (const bytes of [db, wal]) {
    assert.ok(!bytes.includes('dupont'), 'the query is not in the statistics file');
    assert.ok(!bytes.includes('chemin'), 'the path is not in the statistics file');
  }
});

test('a kiosk killed during a session counts it as a crash at its next start', async () => {
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => (await todayFigures()).sessions === 2, 10000, { message: 'the second session counted' });
  const pids = bornePids();
  assert.equal(pids.length, 1, `one kiosk for the state dir: ${pids}`);
  process.kill(pids[0], 'SIGKILL');
  await sleep(1000);
  await wd.deleteSession().catch(() => {});
  wd = await startBorne({ stateDir, configDir });
  await waitPortal();
  const f = await todayFigures();
  assert.equal(f.sessions, 2);
  assert.equal(f.fin_incident, 1, 'the killed session ended by a crash');
  assert.equal(f.fin_bouton, 1);
  assert.equal(f.fin_bouton + f.fin_inactivite + f.fin_incident, f.sessions, 'every session ended once');
});

// ---- the team at a nomad borne: the staff code chosen in the admin screen, used in the toolbar ----

const visible = (css) => isVisible(wd, css);
const text = (css) => textOf(wd, css);

async function type(css, value) {
  await wd.clear({ css });
  if (value) await wd.sendKeys({ css }, value);
}

/** The admin page open, its PIN screen or its screens shown. */
async function openAdmin() {
  await waitPortal();
  await wd.click({ css: '#admin-link' });
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(async () => wd.executeScript('return !!window.BorneI18n && (!document.getElementById("pin-screen").hidden || !document.getElementById("admin-main").hidden);'),
    10000, { message: 'the admin page ready' });
}

async function tab(name) {
  await wd.click({ css: `.tab[data-tab="${name}"]` });
  await waitFor(() => visible(`#sec-${name}`), 5000, { message: `the ${name} screen` });
  await sleep(400);
}

async function leaveAdmin() {
  await wd.clickClosingView({ css: '#leave' });
  await waitPortal(20000);
}

const accompanyDialog = () => withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
  return { open: !$('accompany').hidden, status: $('accompany-status').textContent,
    error: $('accompany-status').classList.contains('dialog-error'), badge: !$('accompany-badge').hidden };`));

test('the référent chooses the team\'s code in the admin screen: the PIN itself is refused in French, another is kept like the PIN', async () => {
  await openAdmin();
  assert.ok(await visible('#confirm-field'), 'first entry: the PIN is chosen');
  await type('#pin', PIN);
  await type('#pin-confirm', PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => visible('#admin-main'), 10000, { message: 'the admin screens' });
  await tab('settings');
  assert.equal(await text('#staff-state'), "Aucun code d'équipe pour le moment : aucune session ne peut être marquée accompagnée.");
  const staffFile = path.join(stateDir, 'admin', 'staff.phc');
  // The référent's PIN as the team's code: refused, nothing written.
  await type('#staff-code', PIN);
  await type('#staff-confirm', PIN);
  await wd.click({ css: '#staff-form button[type="submit"]' });
  await waitFor(async () => (await text('#staff-problems')) !== '', 10000, { message: 'the refusal' });
  assert.equal(await text('#staff-problems'), "Ce code est celui de l'espace référent : choisissez un code différent pour l'équipe.");
  assert.match(await text('#status'), /Rien n'a été enregistré/);
  assert.ok(!fs.existsSync(staffFile), 'no staff code written');
  // Another code: saved as a hash, never the digits.
  await type('#staff-code', STAFF_CODE);
  await type('#staff-confirm', STAFF_CODE);
  await wd.click({ css: '#staff-form button[type="submit"]' });
  await waitFor(async () => /Code de l'équipe enregistré/.test(await text('#status')), 10000, { message: 'the code saved' });
  assert.equal(await text('#staff-problems'), '');
  assert.equal(await text('#staff-state'), "Un code d'équipe est choisi.");
  const phc = fs.readFileSync(staffFile, 'utf8');
  assert.match(phc, /^\$argon2id\$/);
  assert.ok(!phc.includes(STAFF_CODE));
  // Today's place of this nomad borne.
  assert.ok(await visible('#place-box'), 'the place of the day (a nomad borne)');
  await wd.executeScript('const s = document.getElementById("place-choice"); s.value = "mediatheque"; s.dispatchEvent(new Event("change")); return 1;');
  await wd.click({ css: '#place-choose' });
  await waitFor(async () => /Médiathèque/.test(await text('#place-state')), 10000, { message: 'the place chosen' });
  await leaveAdmin();
});

test('that code marks a session « accompagnée » in the toolbar; the session prints its document at « Terminer »', async () => {
  const before = await todayFigures();
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  await wd.navigateTo(`${INSTITUTION}/docs/`);
  await waitFor(async () => (await wd.getUrl()) === `${INSTITUTION}/docs/`, 15000, { message: 'the documents page' });
  await sleep(300);
  await wd.click({ css: '#doc-attachment' });
  await waitFor(() => fs.existsSync(downloads) && fs.readdirSync(downloads).length === 1, 15000, { message: 'the document downloaded' });
  // The médiateur: the discreet control, the code typed as a person types it.
  await clickToolbar(wd, '#btn-accompany');
  await waitFor(async () => (await accompanyDialog()).open, 10000, { message: 'the staff code dialog' });
  await sleep(500);
  await clickToolbar(wd, '#accompany-code');
  await sleep(200);
  await execFileP('xdotool', ['type', '--delay', '60', STAFF_CODE], { env: { ...process.env } });
  await xkeys(['Return']);
  let d;
  await waitFor(async () => (d = await accompanyDialog()).badge, 15000, { message: 'the session marked' }).catch(async (e) => {
    throw new Error(`${e.message}: ${JSON.stringify(d)}`);
  });
  assert.equal(d.error, false, d.status);
  await waitFor(async () => !(await accompanyDialog()).open, 5000, { message: 'the dialog closes by itself' });
  // « Terminer ma session »: the document offered, printed on the real queue, then the end.
  await clickToolbar(wd, '#btn-end');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return !document.getElementById("confirm-end").hidden && !document.getElementById("confirm-print-box").hidden;'),
    15000, { message: 'the end confirmation with its offer' }));
  await sleep(300);
  const printed = printedFiles();
  await clickToolbar(wd, '#confirm-print');
  await newPrintedPdf(printed, 60000);
  await waitPortal(30000);
  let f;
  await waitFor(async () => (f = await todayFigures()).sessions_accompagnees === (before.sessions_accompagnees || 0) + 1, 10000,
    { message: 'the accompanied session counted' });
  assert.equal(f.sessions_impression_en_fin, (before.sessions_impression_en_fin || 0) + 1, JSON.stringify(f));
  assert.equal(f.lieu_mediatheque, 1, JSON.stringify(f));
});

test('the Statistiques screen shows accompanied and autonomous sessions, those printed at the end and the sessions by place, as the CSV counts them; axe-core', async () => {
  const f = await todayFigures();
  await openAdmin();
  await type('#pin', PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => visible('#admin-main'), 10000, { message: 'the admin screens after the PIN' });
  await tab('stats');
  await wd.click({ css: '.period[data-days="7"]' });
  await waitFor(async () => (await text('#stats-body')).includes('Sessions par lieu'), 10000, { message: 'the figures' });
  // Every table of the screen, as the référent reads it: caption, then each row's label and figure.
  const tables = await wd.executeScript(`const out = {};
    document.querySelectorAll('#stats-body table').forEach((t) => {
      const rows = {};
      t.querySelectorAll('tbody tr').forEach((r) => { rows[r.querySelector('th').textContent] = r.querySelector('td').textContent; });
      out[t.querySelector('caption').textContent] = rows;
    });
    return out;`);
  assert.deepEqual(tables['Sessions accompagnées et autonomes'], {
    'Accompagnées par un médiateur': '1',
    Autonomes: String(f.sessions_autonomes),
  }, JSON.stringify(tables));
  assert.ok(f.sessions_autonomes >= 1, JSON.stringify(f));
  assert.equal(tables['Impressions, documents, aide']['Documents imprimés en fin de session'], '1', JSON.stringify(tables));
  assert.deepEqual(tables['Sessions par lieu'], { Médiathèque: '1' }, JSON.stringify(tables));
  assert.match(await text('#stats-body h3'), new RegExp(`^${f.sessions} session\\(s\\) du `));
  // The picture shows the new figures: the tables from « Sessions accompagnées et autonomes » on.
  await wd.executeScript(`const t = [...document.querySelectorAll('#stats-body caption')].find((c) => /accompagnées/.test(c.textContent));
    t.closest('table').scrollIntoView({ block: 'start' }); window.scrollBy(0, -16); return 1;`);
  await sleep(300);
  await screenGrab(path.join(ARTIFACTS, 'admin-stats.png'));
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on the statistics screen: ${JSON.stringify(v, null, 1)}`);
  await leaveAdmin();
});
