// The federation's signed catalogue, applied live between two people: the real kiosk checks a
// channel served over HTTPS by a static server of this test (www.institution.test on another port,
// the test CA in the system's store: the kiosk's rustls client with the system roots) (signed with a throwaway key made by `bornectl catalogue keygen`),
// stores the new version while a person's session is open without changing anything for them, and
// puts it in force when the session ends: the new tile shows and its host opens, the removed tile's
// host is blocked, the référent's layer stays on top (a hidden tile stays hidden, the order entry of
// the removed tile is set aside). Then a tampered version is refused at the next start, the borne
// stays on version 2, and the Maintenance screen shows the version, its source, the last check and
// why the last one was refused.
//
// Run: flock /tmp/borne-harness.lock tests/e2e/run.sh tests/e2e/catalogue.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  borneBinary,
  waitPortal,
  waitFor,
  endSessionWithButton,
  isVisible,
  screenGrab,
  ARTIFACTS,
  WORK,
  INSTITUTION,
  CONFIG_DIR,
} from './lib/harness.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('catalogue');
const work = path.join(path.dirname(stateDir), `${path.basename(stateDir)}-channel`);
const configDir = path.join(work, 'config');
const channelDir = path.join(work, 'www', 'borne');
const keysDir = path.join(work, 'keys');
const bornectl = path.join(path.dirname(borneBinary()), 'bornectl');
let wd;
let server;
const PIN = '482915';

const shipped = fs.readFileSync(path.join(CONFIG_DIR, 'catalogue.toml'), 'utf8');
const sheets = fs.readFileSync(path.join(CONFIG_DIR, 'demarches.toml'), 'utf8');

/** The shipped test catalogue without the service `id` (its block up to the next service or the end). */
function without(text, id) {
  const at = text.indexOf(`id = "${id}"`);
  const begin = text.lastIndexOf('[[services]]', at);
  const next = text.indexOf('[[services]]', at);
  // The comment lines just above the next block belong to it.
  const end = next < 0 ? text.length : Math.max(text.lastIndexOf('\n\n', next) + 1, at);
  return text.slice(0, begin) + text.slice(end);
}

/** A static HTTPS file server for the channel folder, as the federation's web server would be. */
function serveChannel() {
  const certs = path.join(WORK, 'certs');
  const tls = { key: fs.readFileSync(path.join(certs, 'leaf.key')), cert: fs.readFileSync(path.join(certs, 'leaf.pem')) };
  return new Promise((resolve) => {
    const s = https.createServer(tls, (req, res) => {
      const name = path.basename(new URL(req.url, 'http://x').pathname);
      const file = path.join(channelDir, name);
      if (!fs.existsSync(file)) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(fs.readFileSync(file));
    });
    // www.institution.test's address (hosts block), another port than the sites server's.
    s.listen(0, '127.0.1.1', () => resolve(s));
  });
}

async function run(args) {
  const { stdout } = await execFileP(bornectl, ['--config', configDir, '--state', stateDir, ...args]);
  return stdout;
}

/**
 * Where the content view ends up after a person's navigation to `url`: the blocked page, or the
 * allowed page whose address starts with `arrives` (read twice, 700 ms apart, so a provisional
 * address during the load is never taken for the outcome).
 */
async function landing(url, arrives) {
  await wd.navigateTo(`${INSTITUTION}/blank?from=start`);
  await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/blank?from=start`), 15000, { message: 'the institution' });
  await wd.executeScript(`location.href = ${JSON.stringify(url)}; return 1;`);
  const outcome = async () => {
    const u = await wd.getUrl();
    const c = classifyUrl(u);
    if (c.kind === 'blocked') return { kind: 'blocked', host: c.host };
    return u.startsWith(arrives) ? { kind: 'allowed', host: new URL(u).host } : null;
  };
  let first;
  await waitFor(async () => {
    first = await outcome();
    if (!first) return false;
    await new Promise((r) => setTimeout(r, 700));
    const again = await outcome();
    return again && again.kind === first.kind && again.host === first.host;
  }, 15000, { message: `where ${url} leads` });
  return first;
}

const REDIRECT = 'https://redirect.test/go?to=https://www.institution.test/blank%3Ffrom%3Dredirect';
const REDIRECTED = `${INSTITUTION}/blank?from=redirect`;

const status = () => {
  try {
    return JSON.parse(fs.readFileSync(path.join(stateDir, 'catalogue-channel', 'status.json'), 'utf8'));
  } catch {
    return {};
  }
};

const tiles = () => wd.executeScript('return [...document.querySelectorAll("a.tile")].map((a) => a.getAttribute("href"))');

before(async () => {
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(channelDir, { recursive: true });
  server = await serveChannel();
  await run(['catalogue', 'keygen', '--dir', keysDir, '--unencrypted']);
  const pub = fs.readFileSync(path.join(keysDir, 'federation.pub'), 'utf8').split('\n')[1].trim();
  const settings = fs.readFileSync(path.join(CONFIG_DIR, 'borne.toml'), 'utf8');
  const url = `https://www.institution.test:${server.address().port}/borne/`;
  fs.writeFileSync(path.join(configDir, 'borne.toml'),
    `${settings}\n[catalogue]\nchannel_url = "${url}"\npublic_keys = ["${pub}"]\n`);
  // Version 1, shipped with the borne: no plain.test tile.
  fs.writeFileSync(path.join(configDir, 'catalogue.toml'), `version = 1\n${without(shipped, 'plain')}`);
  fs.writeFileSync(path.join(configDir, 'demarches.toml'), `version = 1\n${sheets}`);
  // The référent hid the faulty service and put the redirector first.
  fs.writeFileSync(path.join(stateDir, 'local.toml'), 'hidden = ["caf-test"]\norder = ["redirecteur", "institution"]\n');
  // The référent's PIN, as `bornectl set-pin` sets it (two lines on standard input).
  execFileSync(bornectl, ['--config', configDir, '--state', stateDir, 'set-pin'], { input: `${PIN}\n${PIN}\n` });
  await startAll();
  wd = await startBorne({ stateDir, configDir });
  await waitPortal(wd);
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  server?.close();
  await stopAll();
});

test('a signed catalogue waits for the end of the session, then the new tile shows and the removed host is blocked', async () => {
  assert.deepEqual(await tiles(), ['https://redirect.test/', 'https://www.institution.test/'], 'version 1 and the référent\'s order');
  // Nothing published yet: the borne keeps its catalogue and tries again (backoff, 15 to 30 s).
  await waitFor(() => status().last_result === 'unreachable' || status().last_result === 'http-status', 20000,
    { message: 'the first check' });

  // A person's session: the redirector still leads on, plain.test is refused.
  let c = await landing(REDIRECT, REDIRECTED);
  assert.equal(c.kind, 'allowed', JSON.stringify(c));
  c = await landing('https://plain.test/', 'https://plain.test/');
  assert.deepEqual([c.kind, c.host], ['blocked', 'plain.test']);

  // The federation publishes version 2: plain.test's tile added, the redirector removed.
  fs.writeFileSync(path.join(channelDir, 'catalogue.toml'), `version = 2\n${without(shipped, 'redirecteur')}`);
  fs.writeFileSync(path.join(channelDir, 'demarches.toml'), `version = 2\n${sheets}`);
  const signed = await run(['catalogue', 'sign', '--key', path.join(keysDir, 'federation.key'), channelDir]);
  assert.match(signed, /Version 2 signée/);
  await waitFor(() => status().last_result === 'applied', 45000, { message: 'version 2 stored by the kiosk' });

  // Stored, not in force: the person's session goes on with version 1.
  c = await landing('https://plain.test/', 'https://plain.test/');
  assert.deepEqual([c.kind, c.host], ['blocked', 'plain.test'], 'never during a session');
  c = await landing(REDIRECT, REDIRECTED);
  assert.equal(c.kind, 'allowed', 'the removed host still opens until the session ends');

  // Between two people, version 2 is in force.
  await endSessionWithButton(wd);
  await waitFor(async () => (await tiles()).includes('https://plain.test/'), 10000, { message: 'the new tile' });
  assert.deepEqual(await tiles(), ['https://www.institution.test/', 'https://plain.test/'],
    'the new tile, the removed one gone, the hidden one still hidden');
  c = await landing('https://plain.test/', 'https://plain.test/');
  assert.equal(c.kind, 'allowed', `the new tile's host opens: ${JSON.stringify(c)}`);
  assert.match(await wd.executeScript('return document.getElementById("title").textContent'), /plain\.test/);
  c = await landing(REDIRECT, REDIRECTED);
  assert.deepEqual([c.kind, c.host], ['blocked', 'redirect.test'], 'the removed host is blocked');

  const s = status();
  assert.equal(s.applied[0], 2);
  assert.equal(s.set_aside.length, 1, JSON.stringify(s.set_aside));
  assert.match(s.set_aside[0], /« redirecteur » n'est plus dans le catalogue national/);
  const check = await run(['catalogue', 'check']);
  assert.match(check, /à jour \(version 2\)/);
});

test('a tampered version is refused at the next start; Maintenance shows the version in force, its source and why', async () => {
  fs.writeFileSync(path.join(channelDir, 'catalogue.toml'), `version = 3\n${without(shipped, 'redirecteur')}`);
  fs.writeFileSync(path.join(channelDir, 'demarches.toml'), `version = 3\n${sheets}`);
  await run(['catalogue', 'sign', '--key', path.join(keysDir, 'federation.key'), channelDir]);
  const signed = fs.readFileSync(path.join(channelDir, 'catalogue.toml'), 'utf8');
  fs.writeFileSync(path.join(channelDir, 'catalogue.toml'), signed.replace('name = "Site en clair"', 'name = "Site piégé"'));

  await wd.deleteSession();
  wd = await startBorne({ stateDir, configDir });
  await waitPortal(wd);
  await waitFor(() => status().last_result === 'tampered', 20000, { message: 'the start check refusing version 3' });
  assert.deepEqual(await tiles(), ['https://www.institution.test/', 'https://plain.test/'], 'version 2 stays in force');
  assert.equal(await wd.executeScript('return document.querySelector(\'a.tile[href="https://plain.test/"]\').textContent.includes("Site en clair")'), true);

  await wd.click({ css: '#admin-link' });
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(() => isVisible(wd, '#pin-screen'), 10000, { message: 'the PIN screen' });
  await wd.sendKeys({ css: '#pin' }, PIN);
  await wd.click({ css: '#pin-submit' });
  await waitFor(() => isVisible(wd, '#admin-main'), 10000, { message: 'the admin screens' });
  await wd.click({ css: '.tab[data-tab="maintenance"]' });
  await waitFor(() => isVisible(wd, '#catalogue-status'), 5000, { message: 'the maintenance screen' });
  const shown = await wd.executeScript('return document.getElementById("catalogue-status").innerText');
  await wd.executeScript('document.getElementById("h-catalogue").scrollIntoView(); return 1;');
  await screenGrab(path.join(ARTIFACTS, 'admin-catalogue.png'));
  for (const line of [
    /Version du catalogue en place : 2/,
    /Source : mise à jour signée de la fédération/,
    /Adresse de la fédération : https:\/\/www\.institution\.test:\d+\/borne\//,
    /Clés de la fédération acceptées : [0-9A-F]{16}/,
    /Dernière vérification : \d{4}-\d\d-\d\d \d\d:\d\d/,
    /Résultat : voir le dernier refus ci-dessous/,
    /Dernier refus \(.+\) : Mise à jour du catalogue refusée : le fichier catalogue\.toml a été modifié après sa signature/,
    /« redirecteur » n'est plus dans le catalogue national/,
  ]) assert.match(shown, line);
});
