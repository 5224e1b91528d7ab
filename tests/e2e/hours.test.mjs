// Opening hours that act (issue #18, item 1): a test clock (BORNE_CLOCK_FILE, an RFC 3339 instant the
// kiosk's hours read as "now") walks the borne through a day. Open: the portal. Closing time: the
// calm closed screen with the next opening and where to get help, input on it opens no session;
// « Utiliser la borne quand même » opens one; a session running at closing time is never cut and the
// closed screen comes after it; an exceptional closure closes a weekday; after the idle minutes the
// screen goes dark (a black page) and a key wakes it to the closed screen, the portal clean behind.
// axe-core on the closed screen, French and Arabic.
//
// Run: tests/e2e/run.sh tests/e2e/hours.test.mjs
// Takes hours-closed.png and hours-dark.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  clickToolbar,
  xkeys,
  xclick,
  screenGrab,
  waitFor,
  waitPortal,
  sleep,
  withToolbar,
  endSessionWithButton,
  WORK,
  ARTIFACTS,
  configCopy,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('hours');
const CLOCK = path.join(WORK, 'hours-clock');
let wd;

/** Sets the kiosk's hours clock to a Paris civil time (winter: UTC+1). */
function clock(civil) {
  const utc = new Date(`${civil}+01:00`).toISOString();
  fs.writeFileSync(CLOCK, `${utc}\n`);
}

// Monday to Friday 9:00-12:00 and 14:00-17:00; 2026-12-24 closed; dark after 1 idle minute.
const config = () => configCopy('config-hours', { append: `
[hours]
lundi = "9:00-12:00, 14:00-17:00"
mardi = "9:00-12:00, 14:00-17:00"
mercredi = "9:00-12:00, 14:00-17:00"
jeudi = "9:00-12:00, 14:00-17:00"
vendredi = "9:00-12:00, 14:00-17:00"
samedi = ""
dimanche = ""
closures = ["2026-12-24"]
use_when_closed = true
dark_after_minutes = 1
` });

const screen = () => withToolbar(wd, () => wd.executeScript(`const $ = (id) => document.getElementById(id);
  return { closed: !$('closed').hidden, dark: !$('dark').hidden, next: $('closed-next').textContent,
    help: $('closed-help').textContent, use: !$('closed-use').hidden, title: $('closed-title').textContent,
    height: window.innerHeight };`));

before(async () => {
  clock('2026-12-07T10:00:00'); // a Monday, open
  assert.equal(process.env.BORNE_CLOCK_FILE, CLOCK, 'run.sh exports BORNE_CLOCK_FILE (inherited by the kiosk through tauri-driver)');
  await startAll();
  wd = await startBorne({ stateDir, configDir: config() });
  await waitPortal(wd);
});

after(async () => {
  fs.rmSync(CLOCK, { force: true });
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('within the hours: the portal, no closed screen', async () => {
  await sleep(2000);
  const s = await screen();
  assert.equal(s.closed, false, JSON.stringify(s));
  assert.equal(s.dark, false);
});

test('closing time with nobody at the borne: the closed screen, the next opening and where to get help; input opens no session', async () => {
  clock('2026-12-07T12:00:30');
  let s;
  await waitFor(async () => (s = await screen()).closed, 10000, { message: 'the closed screen' });
  assert.equal(s.title, 'La borne est fermée pour le moment');
  assert.equal(s.next, 'Prochaine ouverture : aujourd\'hui à 14 h');
  assert.match(s.help, /^Pour de l'aide : .+\.$/);
  assert.ok(s.use, '« Utiliser la borne quand même » offered');
  assert.ok(s.height > 300, 'the whole window');
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on the closed screen: ${JSON.stringify(v, null, 1)}`);
  await screenGrab(path.join(ARTIFACTS, 'hours-closed.png'));
  // Keys and moves on it open no session: no countdown ever comes, the screen stays.
  await xkeys(['a', 'Tab']);
  await xclick(400, 400);
  await sleep(1500);
  assert.ok((await screen()).closed, 'still closed');
});

test('« Utiliser la borne quand même » opens a session on the closed borne; its end brings the closed screen back', async () => {
  await clickToolbar(wd, '#closed-use');
  await waitFor(async () => !(await screen()).closed, 10000, { message: 'the portal' });
  await wd.click({ css: 'a.tile' });
  await sleep(2000);
  assert.equal((await screen()).closed, false, 'the session goes on');
  await clickToolbar(wd, '#btn-end');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return !document.getElementById("confirm-end").hidden'), 10000,
    { message: 'the confirmation' }));
  await sleep(300);
  await clickToolbar(wd, '#confirm-yes');
  await waitFor(async () => (await screen()).closed, 15000, { message: 'the closed screen after the session' });
});

test('a session running at closing time is never cut; the closed screen comes when it ends', async () => {
  clock('2026-12-07T16:58:00');
  await waitFor(async () => !(await screen()).closed, 10000, { message: 'open again at 14 h' });
  await waitPortal(wd);
  await wd.click({ css: 'a.tile' });
  await sleep(1500);
  clock('2026-12-07T17:05:00');
  await sleep(4000);
  assert.equal((await screen()).closed, false, 'the person\'s session is not cut at 17 h');
  await endSessionWithButton(wd).catch(() => {});
  let s;
  await waitFor(async () => (s = await screen()).closed, 15000, { message: 'closed after the session' });
  assert.equal(s.next, 'Prochaine ouverture : demain à 9 h');
});

test('an exceptional closure closes a weekday; after the idle minute the screen goes dark, a key wakes it to the closed screen; « Espace référent » still opens', async () => {
  clock('2026-12-24T10:00:00'); // a Thursday, closed by the référent
  let s;
  await waitFor(async () => (s = await screen()).closed || s.dark, 10000, { message: 'closed on 24 December' });
  assert.equal(s.next, 'Prochaine ouverture : demain à 9 h');
  await waitFor(async () => (s = await screen()).dark, 80000, { message: 'the dark screen after a minute' });
  await screenGrab(path.join(ARTIFACTS, 'hours-dark.png'));
  await xkeys(['space']);
  await waitFor(async () => (s = await screen()).closed && !s.dark, 10000, { message: 'woken to the closed screen' });
  // The référent reaches the admin screens from the closed screen (« Espace référent »); leaving them
  // ends that session and the closed screen comes back.
  await clickToolbar(wd, '#closed-admin');
  await waitFor(async () => new URL(await wd.getUrl()).pathname === '/admin.html', 15000, { message: 'the admin page' });
  await waitFor(async () => !(await screen()).closed, 10000, { message: 'the closed screen gone for the référent' });
  await wd.clickClosingView({ css: '#leave' });
  await waitFor(async () => (s = await screen()).closed, 20000, { message: 'the closed screen after the admin session' });
  // Back within the hours: the portal, clean.
  clock('2026-12-28T09:30:00');
  await waitFor(async () => { const x = await screen(); return !x.closed && !x.dark; }, 10000, { message: 'open on Monday' });
  await waitPortal(wd);
});
