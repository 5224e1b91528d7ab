// Statistics counted by the real kiosk: a person's visit (tile, refused host, "Terminer") lands in
// the SQLite file as anonymous hour counts, read back with `bornectl stats --csv`; a kiosk killed
// during a session counts that session as ended by a crash at its next start.
//
// Run: tests/e2e/run.sh tests/e2e/stats.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  clickToolbar,
  waitFor,
  sleep,
  INSTITUTION,
  waitPortal as waitPortalOf,
  statsTotals,
} from './lib/harness.mjs';

const stateDir = freshStateDir('stats');
let wd;

/** `bornectl stats --csv` of today for the test's state dir, as {column: number}. */
async function todayFigures() {
  const { header, totals } = await statsTotals(stateDir);
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
  wd = await startBorne({ stateDir });
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
  wd = await startBorne({ stateDir });
  await waitPortal();
  const f = await todayFigures();
  assert.equal(f.sessions, 2);
  assert.equal(f.fin_incident, 1, 'the killed session ended by a crash');
  assert.equal(f.fin_bouton, 1);
  assert.equal(f.fin_bouton + f.fin_inactivite + f.fin_incident, f.sessions, 'every session ended once');
});
