// No network at all, for real: this suite runs in a network namespace of its own (.ci/test starts it
// with `unshare -n`), where only the loopback exists, so the system's network monitor (GIO's netlink
// monitor, as on the borne) has no default route and says "no network". The portal still shows, each
// tile says "Pas de connexion internet pour le moment", the toolbar shows its calm indicator; when a
// default route comes back, both go away and a tile opens.
//
// Run: unshare -n sh -c 'ip link set lo up && tests/e2e/run.sh tests/e2e/netns/offline.test.mjs'

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  toolbarHandle,
  waitFor,
  screenGrab,
  ARTIFACTS,
  INSTITUTION,
  waitPortal as waitPortalOf,
} from '../lib/harness.mjs';

const execFileP = promisify(execFile);
let wd;

const ip = (...args) => execFileP('ip', args);

async function defaultRoutes() {
  const { stdout } = await ip('route', 'show', 'default');
  return stdout.trim();
}

async function toolbarOffline() {
  const tb = await toolbarHandle(wd);
  const main = await wd.getWindowHandle();
  try {
    await wd.switchToWindow(tb);
    return await wd.executeScript('return document.getElementById("offline").textContent;');
  } finally {
    await wd.switchToWindow(main);
  }
}

const tileNotes = () => wd.executeScript('return [document.querySelectorAll("a.tile").length, [...document.querySelectorAll("a.tile .tile-offline")].map((n) => n.textContent)];');

before(async () => {
  // Refuse to run where it would cut the machine off: only inside a namespace with no other link.
  const { stdout } = await ip('-o', 'link', 'show');
  const links = stdout.trim().split('\n').map((l) => l.split(':')[1].trim());
  assert.deepEqual(links, ['lo'], `run this suite in its own network namespace (unshare -n): links ${links}`);
  await ip('route', 'del', 'default').catch(() => {});
  assert.equal(await defaultRoutes(), '', 'no default route at the start');
  await startAll();
  wd = await startBorne({ stateDir: freshStateDir('offline') });
  await waitPortalOf(wd);
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('no network: the portal shows, every tile and the toolbar say so calmly', async () => {
  let notes;
  await waitFor(async () => {
    notes = await tileNotes();
    return notes[0] > 0 && notes[1].length === notes[0];
  }, 10000, { message: 'a note on every tile' });
  assert.ok(notes[1].every((t) => t === 'Pas de connexion internet pour le moment'), JSON.stringify(notes));
  assert.equal(await toolbarOffline(), 'Pas de connexion internet');
  await screenGrab(path.join(ARTIFACTS, 'portal-offline.png'));
});

test('the network comes back: the notes and the indicator go away, a tile opens', async () => {
  await ip('route', 'add', 'default', 'dev', 'lo');
  await waitFor(async () => (await tileNotes())[1].length === 0, 15000, { message: 'the tiles without their note' });
  await waitFor(async () => (await toolbarOffline()) === '', 5000, { message: 'the toolbar indicator gone' });
  await wd.click({ css: `a.tile[href="${INSTITUTION}/"]` });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  // And it goes the other way too: the route removed, the indicator is back.
  await ip('route', 'del', 'default');
  await waitFor(async () => (await toolbarOffline()) === 'Pas de connexion internet', 15000, { message: 'the indicator back' });
});
