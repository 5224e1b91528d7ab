// The référent's corner, as a référent uses it: the PIN chosen on first entry, a tile added (it shows
// on the portal and its host becomes reachable while others stay blocked), a bad host refused in
// French with nothing saved, a version restored, the CSV export equal to `bornectl stats --csv`,
// five wrong PINs locking the entry, a remote page refused on every admin command, and axe-core on
// every admin screen.
//
// Run: tests/e2e/run.sh tests/e2e/admin.test.mjs

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
  xkeys,
  waitFor,
  sleep,
  borneBinary,
  screenGrab,
  ARTIFACTS,
  CONFIG_DIR,
  REPO,
  INSTITUTION,
  waitPortal as waitPortalOf,
  isVisible,
  textOf,
  endSessionWithButton,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('admin');
const PIN = '482916';
const USB = process.env.BORNE_USB_ROOTS;
let wd;

const ADMIN_COMMANDS = [
  ['admin_status', {}], ['admin_set_pin', { pinCode: '000000', confirm: '000000' }], ['admin_unlock', { pinCode: PIN }],
  ['admin_leave', {}], ['admin_data', {}], ['admin_check_portal', { form: {} }], ['admin_check_settings', { form: {} }],
  ['admin_save_portal', { form: { extra_hosts: ['evil.test'] }, summary: 'x' }],
  ['admin_save_settings', { form: {}, summary: 'x' }], ['admin_save_demarches', { form: { sheets: [] }, summary: 'x' }],
  ['admin_restore', { id: 1 }], ['admin_test_url', { url: 'https://evil.test/' }],
  ['admin_stats', { days: 7 }], ['admin_export_csv', { days: 7 }],
  ['admin_save_matomo', { url: 'https://evil.test/', siteId: 1, token: 'x' }], ['admin_test_matomo', {}],
  ['admin_logs', {}], ['admin_logos', {}], ['admin_set_logo', { path: '/etc/passwd' }], ['admin_power', { action: 'poweroff' }],
  ['admin_update_now', {}],
  ['admin_print_kit', { piece: 'poster', lang: 'fr' }],
  ['admin_save_update_url', { url: 'https://evil.test/borne.raucb', summary: 'x' }],
  ['admin_open', {}],
];

async function waitAdmin() {
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(async () => wd.executeScript('return !!window.BorneI18n && document.documentElement.lang === "fr" && (!document.getElementById("pin-screen").hidden || !document.getElementById("admin-main").hidden);'), 10000, { message: 'the admin page ready' });
}

const waitPortal = (timeoutMs) => waitPortalOf(wd, timeoutMs);
const visible = (css) => isVisible(wd, css);
const text = (css) => textOf(wd, css);

async function type(css, value) {
  await wd.clear({ css });
  if (value) await wd.sendKeys({ css }, value);
}

async function shot(name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await screenGrab(file);
  return file;
}

async function axeClean(name) {
  const v = await axeViolations(wd);
  assert.deepEqual(v, [], `axe-core on ${name}: ${JSON.stringify(v, null, 1)}`);
}

async function enterAdmin(pin = PIN) {
  await waitPortal();
  await wd.click({ css: '#admin-link' });
  await waitAdmin();
  if (await visible('#pin-screen')) {
    await type('#pin', pin);
    await wd.click({ css: '#pin-submit' });
    await waitFor(() => visible('#admin-main'), 10000, { message: 'the admin screens after the PIN' });
  }
}

async function tab(name) {
  await wd.click({ css: `.tab[data-tab="${name}"]` });
  await waitFor(() => visible(`#sec-${name}`), 5000, { message: `the ${name} screen` });
  await sleep(400);
  await wd.executeScript('window.scrollTo(0, 0); return 1;');
}

async function leave() {
  // Leaving the référent's space ends the session: the admin page's view is closed for a new one.
  await wd.clickClosingView({ css: '#leave' });
  await waitPortal(20000);
}

async function bornectl(args) {
  const bin = path.join(path.dirname(borneBinary()), 'bornectl');
  const { stdout } = await execFileP(bin, ['--config', CONFIG_DIR, '--state', stateDir, ...args]);
  return stdout;
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

test('a remote page is refused on every admin command', async () => {
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  const results = await wd.executeAsyncScript(`
    const done = arguments[arguments.length - 1];
    const cmds = arguments[0];
    const internals = window.__TAURI_INTERNALS__;
    const out = [];
    (async () => {
      for (const [cmd, args] of cmds) {
        if (!internals || typeof internals.invoke !== 'function') { out.push([cmd, 'no-ipc']); continue; }
        try { const v = await Promise.race([internals.invoke(cmd, args), new Promise((_, r) => setTimeout(() => r('timeout'), 3000))]); out.push([cmd, 'ANSWERED ' + JSON.stringify(v)]); }
        catch (e) { out.push([cmd, 'refused ' + String(e && (e.code || e.message || e)).slice(0, 80)]); }
      }
      for (const u of ['ipc://localhost/admin_data', 'http://ipc.localhost/admin_data', 'tauri://localhost/admin.html']) {
        try { const r = await fetch(u, { method: 'POST', body: '{}' }); out.push([u, 'ANSWERED ' + r.status]); }
        catch (e) { out.push([u, 'refused']); }
      }
      done(out);
    })();
  `, [ADMIN_COMMANDS]);
  const answered = results.filter(([, r]) => r.startsWith('ANSWERED'));
  assert.deepEqual(answered, [], JSON.stringify(results));
  assert.equal(results.length, ADMIN_COMMANDS.length + 3);
  // Nothing reached the state directory.
  assert.ok(!fs.existsSync(path.join(stateDir, 'admin', 'pin.phc')), 'no PIN was set by the page');
  assert.ok(!fs.existsSync(path.join(stateDir, 'local.toml')), 'no tile was saved by the page');
  // The admin corner cannot open while this person's session is open.
  await clickToolbar(wd, '#btn-home');
  await waitPortal();
  await wd.click({ css: '#admin-link' });
  await waitFor(() => visible('#admin-busy'), 5000, { message: 'the "end the session first" notice' });
  assert.equal(classifyUrl(await wd.getUrl()).kind, 'portal');
  await endSessionWithButton(wd);
});

test('first entry: the référent chooses a PIN (at least 6 digits, typed twice)', async () => {
  await wd.click({ css: '#admin-link' });
  await waitAdmin();
  assert.ok(await visible('#confirm-field'), 'first start asks to choose a PIN');
  await shot('admin-pin-choose');
  await axeClean('the PIN screen');
  await type('#pin', '12345');
  await type('#pin-confirm', '12345');
  await wd.click({ css: '#pin-submit' });
  await waitFor(async () => /au moins 6 chiffres/.test(await text('#pin-message')), 5000, { message: 'the too-short message' });
  await type('#pin', PIN);
  await type('#pin-confirm', PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => visible('#admin-main'), 10000, { message: 'the admin screens' });
  const phc = fs.readFileSync(path.join(stateDir, 'admin', 'pin.phc'), 'utf8');
  assert.match(phc, /^\$argon2id\$/);
  assert.ok(!phc.includes(PIN));
});

test('a tile with a bad host is refused in French and nothing is saved', async () => {
  await tab('tiles');
  await type('#t-name', 'Mairie de test');
  await type('#t-desc', 'Les démarches de la mairie');
  await type('#t-url', 'https://www.mairie.test/');
  await type('#t-hosts', 'https://mairie.test/page');
  await wd.click({ css: '#tile-save' });
  await waitFor(async () => ((await text('#tile-problems')) || '').length > 10, 5000, { message: 'the French problem' });
  const problem = await text('#tile-problems');
  assert.match(problem, /[àéèêç]|adresse|site|hôte|nom/i, problem);
  assert.ok(!fs.existsSync(path.join(stateDir, 'local.toml')), 'nothing written');
  assert.match(await text('#status'), /Rien n'a été enregistré/);
  await wd.executeScript('document.getElementById("tile-problems").scrollIntoView({ block: "center" }); return 1;');
  await shot('admin-tiles-error');
});

test('a tile added shows on the portal and its host becomes reachable, others stay blocked', async () => {
  await type('#t-hosts', 'mairie.test, *.mairie.test');
  await wd.click({ css: '#tile-save' });
  await waitFor(async () => /Enregistré/.test(await text('#status')), 5000, { message: 'saved' }).catch(async (e) => {
    throw new Error(`${e.message}: status «${await text('#status')}», problems «${await text('#tile-problems')}»`);
  });
  assert.match(fs.readFileSync(path.join(stateDir, 'local.toml'), 'utf8'), /mairie-de-test/);
  await type('#th-name', 'Vie du quartier');
  await wd.click({ css: '#theme-form button[type="submit"]' });
  await waitFor(async () => /Enregistré/.test(await text('#status')) && (await text('#themes-list')).includes('vie-du-quartier'), 5000, { message: 'the theme added' });
  await type('#test-url', 'https://www.mairie.test/demarches');
  await wd.click({ css: '#test-form button' });
  await waitFor(async () => /Permise/.test(await text('#test-result')), 5000, { message: 'the test of the address' });
  await type('#test-url', 'https://www.evil.test/');
  await wd.click({ css: '#test-form button' });
  await waitFor(async () => /Refusée/.test(await text('#test-result')), 5000, { message: 'the refusal' });
  await shot('admin-tiles');
  await axeClean('the tiles screen');
  await leave();
  assert.ok(await visible('a.tile[data-tile-id="mairie-de-test"]'), 'the new tile is on the portal');
  await wd.click({ css: 'a.tile[data-tile-id="mairie-de-test"]' });
  await waitFor(async () => new URL(await wd.getUrl()).hostname === 'www.mairie.test', 15000, { message: 'the new site' });
  assert.equal(await text('#title'), 'Mairie de test');
  await wd.executeScript('location.href = "https://www.evil.test/"; return 1;');
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 15000, { message: 'evil still blocked' });
  await endSessionWithButton(wd);
});

test('settings: a wrong idle time is refused in French, a new centre name and a hidden tile apply at once', async () => {
  await enterAdmin();
  await tab('settings');
  await type('#s-idle', '5');
  await wd.click({ css: '#settings-form button[type="submit"]' });
  await waitFor(async () => /entre/.test(await text('#settings-problems')), 5000, { message: 'the range message' });
  assert.ok(!fs.existsSync(path.join(stateDir, 'settings.toml')), 'nothing written');
  await type('#s-idle', '300');
  await type('#s-name', 'Centre social des Tilleuls');
  // The opening hours, day by day (every day all day: this suite's borne must stay open), and a
  // closure far ahead; a wrong range is refused in French first.
  await type('#s-day-0', '9h-midi');
  await wd.click({ css: '#settings-form button[type="submit"]' });
  await waitFor(async () => /lundi/.test(await text('#settings-problems')), 5000, { message: 'the bad range refused' });
  for (let i = 0; i < 7; i++) await type(`#s-day-${i}`, '0:00-24:00');
  await type('#s-closures', '2099-12-24');
  await wd.click({ css: '#settings-form button[type="submit"]' });
  await waitFor(async () => /Enregistré/.test(await text('#status')), 5000, { message: 'settings saved' });
  const saved = fs.readFileSync(path.join(stateDir, 'settings.toml'), 'utf8');
  assert.match(saved, /^lundi = "0:00-24:00"$/m, saved);
  assert.match(saved, /^closures = \["2099-12-24"\]$/m, saved);
  await tab('tiles');
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#national-tiles li')].find((x) => /Redirecteur/.test(x.textContent));
    li.querySelector('input[type=checkbox]').click(); return 1;`);
  await waitFor(async () => /Enregistré/.test(await text('#status')), 5000, { message: 'tile hidden' });
  await leave();
  assert.equal(await text('#centre-name'), 'Centre social des Tilleuls');
  assert.ok(!(await visible('a.tile[data-tile-id="redirecteur"]')), 'the hidden tile is gone from the portal');
});

test('Maintenance: the system updates in plain words, and « Mettre à jour maintenant » answers in French', async () => {
  // The image's A/B updater record, as its scripts write it (kiosk-image/mkosi.extra/usr/libexec/borne/).
  const record = process.env.BORNE_UPDATER_RECORD;
  assert.ok(record, 'run.sh gives the kiosk an updater record path');
  fs.rmSync(record, { force: true });
  await enterAdmin();
  await tab('maintenance');
  assert.match(await text('#updates-status'), /n'a pas le système de mise à jour/, 'no record: no updater here');
  assert.ok(!(await visible('#update-now')), 'no « Mettre à jour maintenant » without an updater');
  fs.writeFileSync(record, [
    'last_check=2026-12-06T02:14:09+01:00', 'outcome=installed', 'install_seconds=412',
    'pending=2027.01.15 slot B', 'pending_since=2026-12-06T02:21:01+01:00',
    'running=2026.12.01', 'slot=A', 'good_since=2026-12-01T08:01:00+01:00',
    "last_refusal=2026-12-05T10:00:00+01:00 version 2026.11.01: not newer than the running system's 2026.12.01",
    'last_rollback=2026-11-20T03:02:01+01:00 version 2026.11.20 on slot B, back to 2026.12.01', '',
  ].join('\n'));
  await wd.click({ css: '#updates-refresh' });
  await waitFor(async () => /2026\.12\.01/.test(await text('#updates-status')), 5000, { message: 'the record on the screen' });
  const lines = await wd.executeScript('return [...document.querySelectorAll("#updates-status li")].map((l) => l.textContent);');
  assert.deepEqual(lines, [
    'Version du système : 2026.12.01 (emplacement A)',
    'Dernière recherche de mise à jour : 2026-12-06 02:14',
    'Résultat : nouvelle version installée, elle démarrera au prochain redémarrage.',
    "En attente : la version 2027.01.15 démarrera au prochain redémarrage. La borne redémarre d'elle-même si personne ne l'utilise entre 02:00 et 05:00.",
    "Dernier refus (2026-12-05 10:00) : version 2026.11.01. Elle n'est pas plus récente que celle de la borne.",
    "Retour en arrière (2026-11-20 03:02) : la version 2026.11.20 n'a pas démarré correctement, la borne est revenue seule à la version 2026.12.01.",
  ]);
  // No systemd unit borne-update.service on the test machine: systemd (or its absence) refuses, and the
  // référent reads why in French rather than nothing.
  assert.ok(await visible('#update-now'));
  await wd.click({ css: '#update-now' });
  await waitFor(async () => (await text('#update-message')) !== '', 15000, { message: 'the answer to « Mettre à jour maintenant »' });
  assert.equal(await text('#update-message'),
    "La recherche de mise à jour n'a pas pu être lancée. Réessayez plus tard ; si cela continue, prévenez la fédération.");
  // A refused signature and an unreachable server, as the updater writes them.
  fs.writeFileSync(record, 'running=2026.12.01\nslot=B\nlast_check=2026-12-07T02:00:00+01:00\n'
    + 'outcome=error: curl: (6) Could not resolve host: maj.example.org\n'
    + 'last_refusal=2026-12-07T02:05:00+01:00 version 2027.02.01: signature verification failed\n');
  await wd.click({ css: '#updates-refresh' });
  await waitFor(async () => /emplacement B/.test(await text('#updates-status')), 5000, { message: 'the new record' });
  const after = await text('#updates-status');
  assert.match(after, /le serveur de mises à jour est injoignable pour le moment, la borne réessaiera toute seule/);
  assert.match(after, /version 2027\.02\.01\. Elle n'est pas signée par la fédération ou a été modifiée\./);
  assert.match(after, /Aucune nouvelle version en attente/);
  // Back to a borne with an update waiting, for the Maintenance screen's picture (next test).
  fs.writeFileSync(record, 'running=2026.12.01\nslot=A\nlast_check=2026-12-06T02:14:09+01:00\noutcome=installed\n'
    + 'pending=2027.01.15 slot B\n');
  await leave();
});

test('every admin screen passes axe-core and has its picture', async () => {
  await enterAdmin();
  // The checker itself finds a planted fault (an image without a text alternative).
  await wd.executeScript('const i = document.createElement("img"); i.id = "planted"; i.src = "data:image/gif;base64,R0lGODlhAQABAAAAACw="; document.body.appendChild(i); return 1;');
  const planted = await axeViolations(wd);
  assert.ok(planted.some((v) => v.id === 'image-alt'), JSON.stringify(planted));
  await wd.executeScript('document.getElementById("planted").remove(); return 1;');
  for (const name of ['settings', 'help', 'stats', 'matomo', 'versions', 'maintenance', 'network', 'printers']) {
    await tab(name);
    // The statistics' picture is the stats suite's: there the borne has accompanied sessions and places.
    if (name !== 'stats') await shot(`admin-${name}`);
    await axeClean(`the ${name} screen`);
  }
});

test('help screen: a place of help and an edited sheet reach the person; a one-step sheet is refused', async () => {
  await tab('help');
  await wd.click({ css: '#contact-add' });
  await type('#c-0-name', 'Permanence CAF');
  await type('#c-0-hours', 'Le lundi matin');
  // The end-of-session question stays off (the default): the suites end sessions with two clicks.
  assert.equal(await wd.executeScript('return document.getElementById("h-outcome").checked;'), false);
  await wd.click({ css: '#help-form button[type="submit"]' });
  await waitFor(async () => /Enregistré/.test(await text('#status')), 5000, { message: 'help saved' });
  const saved = fs.readFileSync(path.join(stateDir, 'settings.toml'), 'utf8');
  assert.match(saved, /ask_outcome = false/);
  assert.match(saved, /Permanence CAF/);

  // Edit the institution's sheet: one step only is refused in French, nothing written.
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#sheets-list li')].find((x) => /institution de test/.test(x.textContent));
    li.querySelector('button').click(); return 1;`);
  await waitFor(async () => (await wd.executeScript('return document.getElementById("d-title").value;')) !== '', 5000, { message: 'the sheet in the form' });
  await type('#d-title', 'Votre dossier, avec l\'accueil');
  await type('#d-steps', 'Ouvrez le site.');
  await wd.click({ css: '#sheet-save' });
  await waitFor(async () => /de 2 à 8 lignes/.test(await text('#sheet-problems')), 5000, { message: 'the French refusal' });
  assert.ok(!fs.existsSync(path.join(stateDir, 'demarches.toml')), 'nothing written');
  // Two lines (WebKitWebDriver's key input drops a typed newline: the value is set by script).
  await wd.executeScript('document.getElementById("d-steps").value = "Ouvrez le site.\\nConnectez-vous avec l\'accueil."; return 1;');
  await wd.click({ css: '#sheet-save' });
  await waitFor(async () => /Enregistré/.test(await text('#status')), 5000, { message: 'sheet saved' }).catch(async (e) => {
    const st = await wd.executeScript('return [document.getElementById("status").textContent, document.getElementById("sheet-problems").textContent, document.getElementById("d-steps").value];');
    throw new Error(`${e.message}: ${JSON.stringify(st)}`);
  });
  assert.match(await text('#sheets-list'), /Votre dossier, avec l'accueil.*écrite par le centre/);
  await wd.executeScript('window.scrollTo(0, 0); return 1;');
  await sleep(200);
  await shot('admin-help');
  await axeClean('the help screen after saving');
  await leave();

  // The person sees the new sheet on the tile, and the place in "J'ai besoin d'aide".
  await wd.click({ css: 'button.sheet-button[data-sheet-id="dossier-test"]' });
  await waitFor(() => visible('#sheet'), 5000, { message: 'the sheet' });
  assert.equal(await text('#sheet-title'), "Votre dossier, avec l'accueil");
  assert.equal(await wd.executeScript('return document.querySelectorAll("#sheet-steps li").length;'), 2);
  await wd.click({ css: '#sheet-close' });
  await clickToolbar(wd, '#btn-help');
  const tb = await toolbarHandle(wd);
  const main = await wd.getWindowHandle();
  await wd.switchToWindow(tb);
  let contacts;
  try {
    await waitFor(async () => wd.executeScript('return !document.getElementById("help").hidden;'), 5000, { message: 'the help dialog' });
    contacts = await wd.executeScript('return document.getElementById("help-contacts").textContent;');
    await wd.executeScript('document.getElementById("help-close").click(); return 1;');
  } finally {
    await wd.switchToWindow(main);
  }
  assert.match(contacts, /Permanence CAF.*Le lundi matin/);

  // "Retirer" puts the national sheet back.
  await enterAdmin();
  await tab('help');
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#sheets-list li')].find((x) => /écrite par le centre/.test(x.textContent));
    li.querySelectorAll('button')[1].click(); return 1;`);
  await waitFor(async () => /institution de test/.test(await text('#sheets-list')) && !/écrite par le centre/.test(await text('#sheets-list')), 5000,
    { message: 'the national sheet back' });
  // The admin screens stay open for the next test, as the previous one left them.
});

test('a logo from the USB stick shows on the portal', async () => {
  // A 1x1 PNG on the "stick" (BORNE_USB_ROOTS), beside a file that only claims to be one.
  fs.writeFileSync(path.join(USB, 'logo-centre.png'), Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64'));
  fs.writeFileSync(path.join(USB, 'faux.png'), 'MZ not an image');
  await tab('settings');
  await wd.click({ css: '#logo-find' });
  await waitFor(async () => (await text('#logo-list')).includes('logo-centre.png'), 5000, { message: 'the images of the stick' });
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#logo-list li')].find((x) => x.textContent.includes('faux.png'));
    li.querySelector('button').click(); return 1;`);
  await waitFor(async () => /pas une image/.test(await text('#status')), 5000, { message: 'the fake image refused' });
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#logo-list li')].find((x) => x.textContent.includes('logo-centre.png'));
    li.querySelector('button').click(); return 1;`);
  await waitFor(async () => /logo est enregistré/.test(await text('#status')), 5000, { message: 'the logo saved' });
  await leave();
  assert.ok(await visible('#centre-logo'), 'the logo is on the portal');
  assert.match(await wd.executeScript('return document.getElementById("centre-logo").src.slice(0, 22);'), /^data:image\/png;base64/);
  fs.rmSync(path.join(USB, 'logo-centre.png'));
  fs.rmSync(path.join(USB, 'faux.png'));
  await enterAdmin();
});

test('the CSV export on the USB stick equals bornectl stats --csv', async () => {
  await tab('stats');
  await wd.click({ css: '.period[data-days="7"]' });
  await sleep(300);
  await wd.click({ css: '#export' });
  await waitFor(async () => /clé USB/.test(await text('#status')), 5000, { message: 'the export message' });
  const files = fs.readdirSync(USB).filter((f) => f.endsWith('.csv'));
  assert.equal(files.length, 1, JSON.stringify(files));
  const [, from, to] = /statistiques-borne-(\d{4}-\d\d-\d\d)-(\d{4}-\d\d-\d\d)\.csv/.exec(files[0]);
  const exported = fs.readFileSync(path.join(USB, files[0]), 'utf8');
  const cli = await bornectl(['stats', '--csv', '--from', from, '--to', to]);
  assert.equal(exported, cli);
  assert.match(exported.split('\r\n')[0], /^date;sessions;/);
});

test('restoring the previous version takes the tile away again, at once', async () => {
  await tab('versions');
  const before = await wd.executeScript('return [...document.querySelectorAll("#versions-list li")].map((li) => li.textContent);');
  assert.ok(before.some((t) => /Avant les modifications/.test(t)), JSON.stringify(before));
  await wd.executeScript(`
    const li = [...document.querySelectorAll('#versions-list li')].find((x) => /Avant les modifications/.test(x.textContent) && /Tuiles/.test(x.textContent));
    li.querySelector('button').click(); return 1;`);
  await waitFor(async () => /rétablie/.test(await text('#status')), 5000, { message: 'restored' });
  await leave();
  assert.ok(!(await visible('a.tile[data-tile-id="mairie-de-test"]')), 'the tile is gone');
  await wd.executeScript('location.href = "https://www.mairie.test/"; return 1;');
  await sleep(1500);
  assert.notEqual(new URL(await wd.getUrl()).hostname, 'www.mairie.test', 'the host is refused again');
  await endSessionWithButton(wd);
});

// After the restore test: its saves would push the version that test restores out of the 10 kept.
test('Maintenance: the update address, a bad one refused in French with the saved one kept, a good one where the updater reads it', async () => {
  const record = process.env.BORNE_UPDATER_RECORD;
  const settings = path.join(stateDir, 'settings.toml');
  // The updater's record after two failed checks, on the setup's address.
  fs.writeFileSync(record, 'running=2026.12.01\nslot=A\nlast_check=2026-12-07T02:14:09+01:00\n'
    + 'outcome=error: web page instead of a bundle (Content-Type text/html): a captive portal (a Wi-Fi to accept) or a wrong address\n'
    + 'failures=2\nnext_check=2026-12-07T02:31:40+01:00\nlast_check_boot=x\n'
    + 'url=https://maj.federation.example/borne/borne.raucb\nurl_from=setup\n');
  await enterAdmin();
  await tab('maintenance');
  const status = await text('#updates-status');
  assert.match(status, /le réseau a répondu par une page web au lieu de la mise à jour/);
  assert.match(status, /Adresse utilisée : https:\/\/maj\.federation\.example\/borne\/borne\.raucb \(donnée par le fichier d'installation\)/);
  assert.match(status, /Recherches échouées d'affilée : 2\. Prochain essai vers 2026-12-07 02:31/);
  assert.equal(await wd.executeScript('return document.getElementById("u-url").value;'), '', 'no address of the référent yet');
  const save = async (value) => {
    await wd.executeScript('document.getElementById("update-url-message").textContent = ""; return 1;');
    await type('#u-url', value);
    await wd.click({ css: '#update-url-form button[type="submit"]' });
    await waitFor(async () => (await text('#update-url-message')) !== '', 10000, { message: `the answer to ${value}` });
  };
  // A good one: saved in the kiosk's settings.toml, [updates] url.
  const first = 'https://maj.centre-lilas.example/borne/borne.raucb';
  await save(first);
  assert.match(await text('#update-url-message'), /Adresse enregistrée/);
  assert.equal(await text('#update-url-problems'), '');
  const saved = fs.readFileSync(settings, 'utf8');
  assert.match(saved, /\[updates\]\nurl = "https:\/\/maj\.centre-lilas\.example\/borne\/borne\.raucb"\n/);
  // Bad ones: the French reason, nothing written, the saved one kept.
  for (const [bad, why] of [
    ['http://maj.centre-lilas.example/borne/borne.raucb', /doit commencer par « https:\/\/ »/],
    ['https://maj.centre-lilas.example/borne/', /doit finir par le nom d'un fichier « \.raucb »/],
    ['https://maj.centre-lilas.example/$(reboot).raucb', /contient un caractère qui n'est pas accepté \(« \$ »\)/],
  ]) {
    await save(bad);
    assert.equal(await text('#update-url-message'), "Rien n'a été enregistré : corrigez les erreurs indiquées.", bad);
    assert.match(await text('#update-url-problems'), why, bad);
    assert.equal(fs.readFileSync(settings, 'utf8'), saved, `${bad}: the file is unchanged`);
  }
  await wd.click({ css: '#updates-refresh' });
  await waitFor(async () => (await wd.executeScript('return document.getElementById("u-url").value;')) === first, 5000,
    { message: 'the saved address shown again' });
  // Another good one, and the image's updater (update-lib.sh, as root runs it) takes it, the référent's first.
  const second = 'https://maj.federation.example/centre-lilas/borne.raucb';
  await save(second);
  assert.match(await text('#update-url-message'), /Adresse enregistrée/);
  const lib = path.join(REPO, 'kiosk-image/mkosi.extra/usr/libexec/borne/update-lib.sh');
  const empty = fs.mkdtempSync(path.join(path.dirname(record), 'updater-'));
  fs.writeFileSync(path.join(empty, 'update.conf'), 'url=https://image.example/borne.raucb\n');
  const { stdout } = await execFileP('sh', ['-c', `. '${lib}' && update_url`], {
    env: { ...process.env, BORNE_KIOSK_STATE: stateDir, BORNE_STATE_PARTITION: empty, BORNE_ETC: empty },
  });
  assert.equal(stdout, `${second} admin\n`, 'what the updater reads');
  // Emptied: the référent's address is taken out, the updater goes back to the next one (the image's here).
  await save('');
  assert.match(await text('#update-url-message'), /Adresse retirée/);
  assert.doesNotMatch(fs.readFileSync(settings, 'utf8'), /\[updates\]/);
  const after = await execFileP('sh', ['-c', `. '${lib}' && update_url`], {
    env: { ...process.env, BORNE_KIOSK_STATE: stateDir, BORNE_STATE_PARTITION: empty, BORNE_ETC: empty },
  });
  assert.equal(after.stdout, 'https://image.example/borne.raucb image\n');
  fs.rmSync(empty, { recursive: true, force: true });
  fs.writeFileSync(record, 'running=2026.12.01\nslot=A\nlast_check=2026-12-06T02:14:09+01:00\noutcome=installed\n'
    + 'pending=2027.01.15 slot B\n');
  await leave();
});

test('with the keyboard: the PIN typed, then a screen chosen with Tab and Enter', async () => {
  await wd.click({ css: '#admin-link' });
  await waitAdmin();
  assert.equal(await wd.executeScript('return document.activeElement && document.activeElement.id;'), 'pin', 'the PIN field has the focus');
  // The last real click was on the toolbar (its own view): F6 gives the keyboard back to the page,
  // as for a person (keyboard.test.mjs covers F6 itself).
  if (!(await wd.executeScript('return document.hasFocus();'))) await xkeys(['F6']);
  await waitFor(() => wd.executeScript('return document.hasFocus();'), 5000, { message: 'the page has the keyboard' });
  await xkeys([...PIN.split(''), 'Return']);
  await waitFor(() => visible('#admin-main'), 10000, { message: 'unlocked with the keyboard' }).catch(async (e) => {
    const st = await wd.executeScript('return [document.getElementById("pin").value.length, document.getElementById("pin-message").textContent, document.activeElement && document.activeElement.id, document.hasFocus()];');
    throw new Error(`${e.message}: ${JSON.stringify(st)}`);
  });
  const active = () => wd.executeScript('const a = document.activeElement; return a ? a.dataset.tab || a.id : null;');
  assert.equal(await active(), 'tiles', 'after the PIN the keyboard is on the first screen button');
  await xkeys(['Tab', 'Tab', 'Tab']);
  // WebKit takes the keys after xdotool has sent them: on a busy machine the last may still be on its way.
  await waitFor(async () => (await active()) === 'stats', 3000, { message: 'Tab walks the screens in order' }).catch(() => {});
  assert.equal(await active(), 'stats', 'Tab walks the screens in order');
  const ring = await wd.executeScript('return getComputedStyle(document.activeElement).outlineStyle;');
  assert.notEqual(ring, 'none', 'the focus is visible');
  await xkeys(['Return']);
  await waitFor(() => visible('#sec-stats'), 5000, { message: 'the statistics screen opened with Enter' });
  await leave();
});

test('a settings file broken by hand keeps the borne on its last good version and the admin shows why', async () => {
  const name = await text('#centre-name');
  fs.writeFileSync(path.join(stateDir, 'settings.toml'), '[centre]\nname = "Cassé"\n[session]\nidle_timout_secs = 60\n');
  await wd.deleteSession().catch(() => {});
  wd = await startBorne({ stateDir });
  await waitPortal();
  assert.equal(await text('#centre-name'), name, 'the portal still runs on the last good settings');
  await enterAdmin();
  await waitFor(() => visible('#problems'), 5000, { message: 'the problems banner' });
  const problems = await text('#problems-list');
  assert.match(problems, /settings\.toml, ligne 4/, problems);
  assert.match(problems, /idle_timeout_secs/, problems);
  await shot('admin-problems');
  fs.rmSync(path.join(stateDir, 'settings.toml'));
  await leave();
});

test('five wrong PINs lock the entry for 15 minutes, even for the right PIN', async () => {
  await wd.click({ css: '#admin-link' });
  await waitAdmin();
  for (let i = 1; i <= 5; i += 1) {
    await type('#pin', '000000');
    await wd.click({ css: '#pin-submit' });
    await waitFor(async () => /incorrect|bloqué/.test(await text('#pin-message')), 5000, { message: `answer to attempt ${i}` });
    const m = await text('#pin-message');
    if (i < 5) {
      assert.match(m, new RegExp(`Il reste ${5 - i} essai`), m);
      await sleep(1000 * 2 ** (i - 1) + 300);
    } else {
      assert.match(m, /bloqué pendant 15 minute/, m);
    }
  }
  await shot('admin-pin-locked');
  await type('#pin', PIN);
  await wd.click({ css: '#pin-submit' });
  await sleep(500);
  assert.match(await text('#pin-message'), /bloqué/);
  assert.ok(!(await visible('#admin-main')));
  const attempts = JSON.parse(fs.readFileSync(path.join(stateDir, 'admin', 'attempts.json'), 'utf8'));
  assert.equal(attempts.total_failures, 5);
});
