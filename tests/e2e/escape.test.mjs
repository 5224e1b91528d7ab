// Escape suite: the kiosk must keep a person inside the allowed hosts, whatever a page does.
// One kiosk session for the whole file (fresh state dir); each vector is its own test, driven from an
// institution page (tests/e2e/sites/vectors.mjs), and checked by tests/e2e/lib/escape-vectors.mjs:
//   (a) the evil hosts (and odd ports, IP literals, insecure http) received no request, no connection;
//   (b) the content view is on an allowed page or on tauri://localhost/blocked.html, in one window;
//   (c) for top-level navigations, the blocked page names the refused host.
// Positive controls come first, so the suite fails if the shell simply blocks everything.
// Every vector was checked to escape plain WebKit (node tests/e2e/calibrate.mjs); see the README.
//
// Run: tests/e2e/run.sh   (or, with the services up: node --test tests/e2e/escape.test.mjs)

import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  evilLog,
  resetLog,
  hostLog,
  canaryRequest,
  classifyUrl,
  screenshot,
  sleep,
  waitFor,
  INSTITUTION,
} from './lib/harness.mjs';
import { VECTORS, runVector, assertContained } from './lib/escape-vectors.mjs';

let wd;
let stateDir;
let mainHandle;
let baseHandles;

before(async () => {
  await startAll();
  stateDir = freshStateDir('escape');
  wd = await startBorne({ stateDir });
  mainHandle = await wd.getWindowHandle();
  // WebDriver lists the toolbar webview too: the kiosk's own handles, once the portal is up.
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'portal', 20000, { message: 'the portal' });
  await sleep(500);
  baseHandles = await wd.getWindowHandles();
});

after(async () => {
  if (wd) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

/** Runs `fn`; on failure saves screenshots (content view and whole screen) before rethrowing. */
async function withShots(name, fn) {
  try {
    await fn();
  } catch (e) {
    const shots = await screenshot(wd, name).catch(() => []);
    if (shots.length) e.message += `\n  screenshots: ${shots.join(', ')}`;
    throw e;
  }
}

describe('positive controls', () => {
  test('control: the session starts on the portal, with a tile per test service', () =>
    withShots('control-portal', async () => {
      await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'portal', 20000, { message: 'the portal' });
      const hrefs = await wd.waitFor(async () => {
        const h = await wd.executeScript('return Array.from(document.querySelectorAll("a.tile")).map(a => a.href)');
        return h.length >= 3 ? h : null;
      }, 10000, { message: 'the tiles' });
      for (const want of ['https://www.institution.test/', 'https://redirect.test/', 'https://plain.test/']) {
        assert.ok(hrefs.includes(want), `no tile for ${want}: ${hrefs.join(', ')}`);
      }
    }));

  test('control: clicking the institution tile opens it', () =>
    withShots('control-tile', async () => {
      await resetLog();
      if (classifyUrl(await wd.getUrl()).kind !== 'portal') await wd.navigateTo('tauri://localhost/index.html');
      await wd.click({ css: 'a.tile[href="https://www.institution.test/"]' });
      await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/`), 10000, { message: 'the institution' });
      assert.equal(await wd.getText({ css: '#title' }), 'Institution de test');
      const log = await hostLog('www.institution.test');
      assert.ok(log.some((e) => e.path === '/' && e.method === 'GET'), 'the institution did not receive GET /');
    }));

  test('control: the evil log records what reaches evil (canary from Node)', async () => {
    await resetLog();
    await canaryRequest('/canary');
    const log = await evilLog();
    assert.ok(log.some((e) => e.host === 'evil.test' && e.path === '/canary'), 'the canary request is not in the evil log');
    await resetLog();
    assert.deepEqual(await evilLog(), []);
  });

  test('control: a link to docs.institution.test (allowed by *.institution.test) works', () =>
    withShots('control-docs-link', async () => {
      await wd.navigateTo(`${INSTITUTION}/v/control-docs-link`);
      await wd.click({ css: '#go' });
      await waitFor(async () => (await wd.getUrl()).startsWith('https://docs.institution.test/blank'), 8000, { message: 'docs' });
      assert.equal(await wd.getText({ css: '#from' }), 'control-docs-link');
    }));

  test('control: an https image from www.institution.test loads', () =>
    withShots('control-img', async () => {
      await resetLog();
      await wd.navigateTo(`${INSTITUTION}/v/control-img`);
      const w = await wd.waitFor(() => wd.executeScript('const i = document.getElementById("img"); return i.complete ? i.naturalWidth : 0'), 5000, {
        message: 'the image',
      });
      assert.ok(w > 0);
      const log = await hostLog('www.institution.test');
      assert.ok(log.some((e) => e.path.startsWith('/pixel.png?from=control-img')), 'the server did not serve the image');
    }));

  test('control: a fetch to another allowed host (docs.institution.test) works', () =>
    withShots('control-fetch', async () => {
      await wd.navigateTo(`${INSTITUTION}/v/control-fetch`);
      const out = await wd.waitFor(async () => {
        const t = await wd.getText({ css: '#out' });
        return t !== '…' ? t : null;
      }, 5000, { message: 'the fetch' });
      assert.equal(out, '{"ok":true,"host":"docs.institution.test"}');
    }));

  test('control: plain http to plain.test (marked http-ok) works', () =>
    withShots('control-plain-http', async () => {
      await resetLog();
      await wd.navigateTo(`${INSTITUTION}/v/control-plain-http`);
      await wd.click({ css: '#go' });
      await waitFor(async () => (await wd.getUrl()).startsWith('http://plain.test/page'), 8000, { message: 'plain.test over http' });
      assert.equal(await wd.getText({ css: '#scheme' }), 'http');
      assert.ok((await hostLog('plain.test')).some((e) => e.scheme === 'http' && e.port === 80));
      assert.deepEqual(await evilLog(), []);
    }));

  test('control: a sign-in round trip through the identity provider comes back', () =>
    withShots('control-idp', async () => {
      await wd.navigateTo(`${INSTITUTION}/v/control-idp`);
      await wd.click({ css: '#go' });
      await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/callback`), 8000, { message: 'the callback' });
      assert.equal(await wd.getText({ css: '#code' }), 'code-de-test');
      assert.ok((await hostLog('idp.test')).some((e) => e.path.startsWith('/authorize')));
    }));

  test('control: target=_blank to an allowed page opens in the same view', () =>
    withShots('control-blank-allowed', async () => {
      await wd.navigateTo(`${INSTITUTION}/v/control-blank-allowed`);
      await wd.click({ css: '#go' });
      await waitFor(async () => (await wd.getUrl()).startsWith(`${INSTITUTION}/blank?from=control-blank-allowed`), 8000, {
        message: 'the allowed new-window link in the same view',
      });
      assert.deepEqual(await wd.getWindowHandles(), baseHandles, 'a window appeared or disappeared');
    }));

  test('control: a download from the institution lands in <state>/session/downloads/', () =>
    withShots('control-download', async () => {
      const dir = path.join(stateDir, 'session', 'downloads');
      await wd.navigateTo(`${INSTITUTION}/v/control-download`);
      await wd.click({ css: '#go' });
      const file = path.join(dir, 'controle.pdf');
      await waitFor(() => fs.existsSync(file) && fs.statSync(file).size > 100, 10000, { message: `${file}` });
      assert.equal(fs.readFileSync(file).subarray(0, 5).toString('latin1'), '%PDF-');
      // The finished download shows in the kiosk's viewer (documents.test.mjs tests it in depth).
      let url;
      await waitFor(async () => classifyUrl(url = await wd.getUrl()).kind === 'document', 10000,
        { message: 'the download in the viewer' }).catch(() => {});
      assert.ok(['document', 'allowed'].includes(classifyUrl(url).kind), `after the download the view shows ${url}`);
    }));
});

describe('escape vectors', () => {
  for (const v of VECTORS) {
    test(`${v.family}: ${v.name}`, (t) =>
      withShots(`escape-${v.name}`, async () => {
        const obs = await runVector({ wd, stateDir, mainHandle, baseHandles }, v);
        for (const n of obs.notes) t.diagnostic(n);
        t.diagnostic(`final url: ${obs.url}`);
        for (const d of assertContained(v, obs)) t.diagnostic(d);
      }));
  }

  test('the whole file: nothing reached evil in the end either', async () => {
    await sleep(500);
    assert.deepEqual(await evilLog(), []);
  });
});
