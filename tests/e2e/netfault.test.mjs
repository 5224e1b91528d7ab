// Bad networks: a site that refuses connections, stalls 10 s, answers 503, shows a certificate
// without its name, or has no address at all shows the French page naming its service (never
// WebKit's raw error page, never white), with a retry; each outage is counted in the statistics.
//
// Run: tests/e2e/run.sh tests/e2e/netfault.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  screenGrab,
  ARTIFACTS,
  waitFor,
  INSTITUTION,
  statsTotals,
} from './lib/harness.mjs';
import { axeViolations } from './lib/axe.mjs';

const stateDir = freshStateDir('netfault');
let wd;

/** Today's `bornectl stats --csv` totals of the test's state dir, as {column: number}. */
const todayFigures = async () => (await statsTotals(stateDir)).totals;

async function waitPortal(timeoutMs = 20000) {
  await waitFor(async () => {
    if (classifyUrl(await wd.getUrl()).kind !== 'portal') return false;
    return (await wd.executeScript('return document.querySelectorAll("a.tile").length')) > 0;
  }, timeoutMs, { message: 'the portal with its tiles' });
}

/** Opens `url` from a page of the institution (as a person's click would) and waits for the error page. */
async function errorPageFor(url, timeoutMs = 20000) {
  await wd.navigateTo(`${INSTITUTION}/`);
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'allowed', 15000, { message: 'the institution' });
  const started = Date.now();
  await wd.executeScript(`location.href = ${JSON.stringify(url)}; return 1;`);
  let u;
  await waitFor(async () => {
    u = new URL(await wd.getUrl());
    return u.protocol === 'tauri:' && u.pathname === '/neterror.html';
  }, timeoutMs, { message: `the error page for ${url}` });
  await waitFor(async () => (await wd.executeScript('return document.getElementById("neterror-title").textContent')) !== '',
    5000, { message: 'the error page rendered' });
  const page = await wd.executeScript(`return {
    title: document.getElementById('neterror-title').textContent,
    kind: document.getElementById('neterror-kind').textContent,
    focus: document.activeElement && document.activeElement.id,
    body: document.body.innerText };`);
  return { ...page, params: Object.fromEntries(u.searchParams), ms: Date.now() - started };
}

before(async () => {
  await startAll();
  wd = await startBorne({ stateDir });
  await waitPortal();
  // A person opens the faulty service's tile: the session starts (outages are counted by service).
  await wd.click({ css: 'a.tile[href="https://down.test/"]' });
  // That first failure is counted too: wait for it, so each test below counts only its own.
  await waitFor(async () => (await wd.getUrl()).startsWith('tauri://localhost/neterror.html'), 20000, { message: 'the tile\'s error page' });
  await waitFor(async () => ((await todayFigures()).coupures_reseau || 0) === 1, 10000, { message: 'the tile\'s outage counted' });
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

const CASES = [
  { name: 'refused connection', url: 'https://down.test/', kind: 'refused', text: /refuse les connexions/ },
  { name: 'unknown name', url: 'https://nowhere.test/', kind: 'dns', text: /introuvable/ },
  { name: 'bad certificate', url: 'https://badcert.test/', kind: 'tls', text: /connexion sécurisée/ },
  { name: '503', url: `${INSTITUTION}/fault/503`, kind: 'server', text: /problème de son côté/, service: 'Institution de test' },
  { name: '10 s stall', url: `${INSTITUTION}/fault/stall`, kind: 'timeout', text: /trop de temps/, service: 'Institution de test' },
];

let counted = 0;
for (const c of CASES) {
  test(`${c.name}: the French page names the service and is counted`, async () => {
    const before = (await todayFigures()).coupures_reseau || 0;
    const p = await errorPageFor(c.url);
    if (c.name === 'refused connection') {
      await screenGrab(path.join(ARTIFACTS, 'neterror.png'));
      const v = await axeViolations(wd);
      assert.deepEqual(v, [], `axe-core on the network error page: ${JSON.stringify(v, null, 1)}`);
    }
    assert.equal(p.params.kind, c.kind, `kind in ${JSON.stringify(p.params)}`);
    const service = c.service || 'CAF de test';
    assert.equal(p.title, `Le site ${service} ne répond pas`);
    assert.match(p.kind, c.text);
    assert.match(p.body, /Réessayer/);
    assert.match(p.body, /demandez à l'accueil/);
    assert.equal(p.focus, 'neterror-retry', 'the retry button has the focus');
    assert.equal(p.params.retry, c.url, 'retry goes back to the failed address');
    if (c.kind === 'timeout') assert.ok(p.ms < 10000, `shown before the site answers (${p.ms} ms)`);
    counted += 1;
    await waitFor(async () => ((await todayFigures()).coupures_reseau || 0) === before + 1, 10000,
      { message: `the outage counted (${before} before)` });
  });
}

test('retry reloads the page once the site answers again', async () => {
  const p = await errorPageFor(`${INSTITUTION}/fault/503`);
  assert.equal(p.params.kind, 'server');
  // The same site, a working page: retry must reach it through the normal policy.
  await wd.executeScript(`history.replaceState(null, '', location.pathname + location.search.replace(/retry=[^&]*/, 'retry=' + encodeURIComponent(${JSON.stringify(`${INSTITUTION}/blank?from=retry`)}))); return 1;`);
  await wd.click({ css: '#neterror-retry' });
  await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/blank`), 15000, { message: 'the page again' });
  assert.equal(await wd.executeScript('return document.getElementById("from").textContent'), 'retry');
  assert.ok(counted >= CASES.length, 'every fault was counted');
});
