// The escape vectors: how to drive each one and what a contained outcome looks like.
// Pages live in sites/vectors.mjs (https://www.institution.test/v/<name>); escape.test.mjs runs
// these against the kiosk, calibrate.mjs against plain WebKit (MiniBrowser) to prove that each
// vector does reach evil when nothing stops it.
//
// expect:
//   'blocked'  the content view ends on tauri://localhost/blocked.html naming one of `hosts`
//   'stay'     the content view stays on the vector page (a blocked subresource or frame just fails)
//   'safe'     either of those, or another allowed page (new-window and scheme cases, whose exact
//              outcome the contract leaves to the shell)
//   'lands'    the content view ends on the allowed page `lands` (a prefix of the URL)
// Always, whatever `expect`: no request or connection (not even a TLS handshake) reached an evil
// host, an odd port, an IP literal or plain http to an https-only host; no window beyond the kiosk's
// own views; the URL is never forbidden (evil host, file:, data:, view-source:…) nor a kiosk page
// other than the blocked page.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import {
  INSTITUTION,
  classifyUrl,
  evilLog,
  evilConnections,
  resetLog,
  sleep,
  waitFor,
  contentOrigin,
  xclick,
} from './harness.mjs';

const EVIL = ['evil.test'];

/** Clicks `#go` in the page (or in the frames given by CSS selectors, outermost first). */
const clickGo = (...frames) => async ({ wd }) => {
  for (const f of frames) await wd.switchToFrame({ css: f });
  try {
    await wd.click({ css: '#go' });
  } finally {
    if (frames.length) await wd.switchToFrame(null);
  }
};

/** Waits for the page's completion marker (html[data-done]) so the log is read after the attempt. */
const waitDone = async ({ wd }) => {
  await wd.waitFor(() => wd.executeScript('return document.documentElement.dataset.done || null'), 6000, {
    message: 'the page to report that its request finished',
  });
};

/**
 * Vectors: name (page /v/<name>), family, expect, hosts, act, wait (ms), start (path), cleanup.
 * inertInWebKit: why plain WebKit already refuses this one (calibrate.mjs checks that every other
 * vector does get out of plain WebKit, and that these still do not).
 */
export const VECTORS = [
  // --- links ---
  { name: 'link-plain', family: 'links', expect: 'blocked' },
  { name: 'link-blank', family: 'links', expect: 'safe' },
  { name: 'link-noopener', family: 'links', expect: 'safe' },
  { name: 'window-open', family: 'links', expect: 'safe' },
  { name: 'window-open-noopener', family: 'links', expect: 'safe' },
  { name: 'window-open-then-location', family: 'links', expect: 'safe' },
  { name: 'link-download', family: 'links', expect: 'safe' },
  { name: 'link-ping', family: 'links', expect: 'lands', lands: `${INSTITUTION}/blank?from=link-ping` },
  { name: 'svg-link', family: 'links', expect: 'blocked' },
  { name: 'area-link', family: 'links', expect: 'blocked' },
  { name: 'base-href', family: 'links', expect: 'blocked' },

  // --- redirects ---
  { name: 'redirect-301', family: 'redirects', expect: 'blocked' },
  { name: 'redirect-302', family: 'redirects', expect: 'blocked' },
  { name: 'redirect-303', family: 'redirects', expect: 'blocked' },
  { name: 'redirect-307', family: 'redirects', expect: 'blocked' },
  { name: 'redirect-308', family: 'redirects', expect: 'blocked' },
  { name: 'redirect-307-post', family: 'redirects', expect: 'blocked' },
  { name: 'redirector-tile', family: 'redirects', expect: 'blocked' },
  { name: 'redirector-go', family: 'redirects', expect: 'blocked', hosts: ['www.evil.test'] },
  { name: 'idp-chain', family: 'redirects', expect: 'blocked' },
  { name: 'meta-refresh', family: 'redirects', expect: 'blocked', act: null },
  { name: 'meta-refresh-delayed', family: 'redirects', expect: 'blocked', act: null, wait: 2500 },
  { name: 'meta-refresh-redirect', family: 'redirects', expect: 'blocked', act: null },
  { name: 'js-assign', family: 'redirects', expect: 'blocked' },
  { name: 'js-replace', family: 'redirects', expect: 'blocked' },
  { name: 'js-settimeout', family: 'redirects', expect: 'blocked', wait: 1200 },
  { name: 'js-onload', family: 'redirects', expect: 'blocked', act: null },

  // --- frames ---
  { name: 'iframe-src', family: 'frames', expect: 'stay', act: null },
  { name: 'iframe-srcdoc-link', family: 'frames', expect: 'stay', act: clickGo('#f') },
  { name: 'iframe-srcdoc-img', family: 'frames', expect: 'stay', act: null },
  { name: 'iframe-nested', family: 'frames', expect: 'stay', act: null },
  { name: 'iframe-nested-link', family: 'frames', expect: 'stay', act: clickGo('#f', '#inner') },
  { name: 'frame-target-top', family: 'frames', expect: 'blocked', act: clickGo('#f') },
  { name: 'frame-script-top', family: 'frames', expect: 'blocked', act: null },
  { name: 'sandbox-top-navigation', family: 'frames', expect: 'safe', act: null },
  { name: 'sandbox-fetch', family: 'frames', expect: 'stay', act: null },
  { name: 'sandbox-popup', family: 'frames', expect: 'safe', act: clickGo('#f') },
  // A script of the page sending a named frame away leaves no trace the shell can read (no focus, no
  // target attribute): the shell may show the blocked page for the whole view. Either is contained.
  { name: 'parent-sets-frame', family: 'frames', expect: 'safe' },
  { name: 'link-target-frame', family: 'frames', expect: 'stay' },
  { name: 'iframe-redirect', family: 'frames', expect: 'stay', act: null },
  { name: 'iframe-redirect-late', family: 'frames', expect: 'stay', act: null, wait: 1500 },
  { name: 'iframe-form-redirect', family: 'frames', expect: 'stay', act: null },
  { name: 'iframe-form-script', family: 'frames', expect: 'stay', act: null },
  { name: 'object-data', family: 'frames', expect: 'stay', act: null },
  { name: 'embed-src', family: 'frames', expect: 'stay', act: null },

  // --- forms ---
  { name: 'form-get', family: 'forms', expect: 'blocked' },
  { name: 'form-post', family: 'forms', expect: 'blocked' },
  { name: 'form-blank', family: 'forms', expect: 'safe' },
  { name: 'formaction', family: 'forms', expect: 'blocked' },
  { name: 'form-js-submit', family: 'forms', expect: 'blocked' },
  { name: 'form-target-frame', family: 'forms', expect: 'stay' },

  // --- subresources and sockets ---
  { name: 'img', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'picture-source', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'script', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'stylesheet', family: 'subresources', expect: 'stay', act: null },
  { name: 'css-import', family: 'subresources', expect: 'stay', act: null },
  { name: 'css-background', family: 'subresources', expect: 'stay', act: null },
  { name: 'css-font', family: 'subresources', expect: 'stay', act: null },
  { name: 'fetch', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'fetch-cors-post', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'xhr', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'link-prefetch', family: 'subresources', expect: 'stay', act: null, wait: 1500, inertInWebKit: 'WebKitGTK 2.50 does not prefetch' },
  { name: 'link-preload', family: 'subresources', expect: 'stay', act: null },
  { name: 'link-preconnect', family: 'subresources', expect: 'stay', act: null, wait: 1500 },
  { name: 'send-beacon', family: 'subresources', expect: 'stay', act: waitDone, wait: 1500 },
  { name: 'event-source', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'websocket', family: 'subresources', expect: 'stay', act: waitDone },
  { name: 'websocket-plain', family: 'subresources', expect: 'stay', act: waitDone, inertInWebKit: 'mixed content: ws: from https is refused by WebKit' },
  { name: 'favicon', family: 'subresources', expect: 'stay', act: null, wait: 1500 },
  { name: 'video', family: 'subresources', expect: 'stay', act: null, wait: 1500 },
  { name: 'worker-fetch', family: 'subresources', expect: 'stay', act: waitDone },
  {
    name: 'service-worker-fetch',
    family: 'subresources',
    expect: 'stay',
    act: null,
    wait: 2500,
    cleanup: async ({ wd }) => {
      await wd.executeAsyncScript(`const cb = arguments[arguments.length - 1];
        if (!navigator.serviceWorker) return cb(0);
        navigator.serviceWorker.getRegistrations()
          .then(rs => Promise.all(rs.map(r => r.unregister()))).then(a => cb(a.length), () => cb(-1));`);
    },
  },
  { name: 'blob-page-fetch', family: 'subresources', expect: 'safe', wait: 1500 },

  // --- URL tricks ---
  { name: 'url-userinfo', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-userinfo-allowed', family: 'url-tricks', expect: 'blocked', hosts: ['www.institution.test'] },
  { name: 'url-lookalike', family: 'url-tricks', expect: 'blocked', hosts: ['evilinstitution.test'] },
  { name: 'url-suffix', family: 'url-tricks', expect: 'blocked', hosts: ['institution.test.evil.test'] },
  { name: 'url-ip-dotted', family: 'url-tricks', expect: 'blocked', hosts: ['127.0.2.1'] },
  { name: 'url-ip-decimal', family: 'url-tricks', expect: 'blocked', hosts: ['127.0.2.1'] },
  { name: 'url-ip-hex', family: 'url-tricks', expect: 'blocked', hosts: ['127.0.2.1'] },
  { name: 'url-ip-octal', family: 'url-tricks', expect: 'blocked', hosts: ['127.0.2.1'] },
  { name: 'url-ip-of-allowed', family: 'url-tricks', expect: 'blocked', hosts: ['127.0.1.1'] },
  { name: 'url-port-evil', family: 'url-tricks', expect: 'blocked', hosts: ['evil.test', 'evil.test:8443'] },
  {
    name: 'url-port-allowed',
    family: 'url-tricks',
    expect: 'blocked',
    hosts: ['www.institution.test', 'www.institution.test:8443'],
  },
  { name: 'url-percent-dot', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-trailing-dot', family: 'url-tricks', expect: 'blocked', hosts: ['evil.test', 'evil.test.'] },
  { name: 'url-uppercase', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-ideographic-dot', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-backslash', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-scheme-relative', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-tab-in-host', family: 'url-tricks', expect: 'blocked' },
  { name: 'url-http-allowed', family: 'url-tricks', expect: 'blocked', hosts: ['www.institution.test'] },

  // --- schemes ---
  { name: 'scheme-javascript', family: 'schemes', expect: 'safe' },
  { name: 'scheme-file', family: 'schemes', expect: 'safe', inertInWebKit: 'WebKit refuses file: from an https page' },
  { name: 'scheme-view-source', family: 'schemes', expect: 'safe' },
  { name: 'scheme-data', family: 'schemes', expect: 'safe', inertInWebKit: 'WebKit refuses top-level data: navigations' },
  { name: 'scheme-ftp', family: 'schemes', expect: 'safe' },
  { name: 'scheme-about-config', family: 'schemes', expect: 'safe' },
  { name: 'scheme-internal', family: 'schemes', expect: 'safe' },

  // --- history ---
  { name: 'history-pushstate', family: 'history', expect: 'stay', inertInWebKit: 'cross-origin pushState throws SecurityError' },
  { name: 'history-replacestate', family: 'history', expect: 'stay', inertInWebKit: 'cross-origin replaceState throws SecurityError' },
  {
    name: 'history-back-forward',
    family: 'history',
    expect: 'safe',
    act: async (ctx) => {
      const { wd } = ctx;
      await wd.click({ css: '#go' });
      await sleep(800);
      ctx.notes.push(`after click: ${await wd.getUrl()}`);
      await wd.back();
      await sleep(800);
      const back = await wd.getUrl();
      ctx.notes.push(`after back: ${back}`);
      ctx.midChecks.push(() => {
        const k = classifyUrl(back);
        assert.ok(k.kind === 'allowed' || k.kind === 'blocked', `back() landed on ${back}`);
      });
      await wd.forward();
    },
  },

  // --- PDF viewer and downloads ---
  {
    name: 'pdf-link',
    family: 'pdf',
    start: '/inline.pdf',
    expect: 'safe',
    wait: 1200,
    act: async (ctx) => {
      const { wd } = ctx;
      // WebKit's PDF viewer is PDF.js in an iframe; its link annotations are real <a> elements.
      let clicked = false;
      try {
        await wd.waitFor(async () => (await wd.findElements('iframe')).length > 0, 5000);
        await wd.switchToFrame(0);
        const link = await wd.waitFor(async () => (await wd.findElements('.annotationLayer a[href*="evil.test"]'))[0], 8000, {
          message: 'the PDF link annotation',
        });
        await wd.click(link);
        clicked = true;
        ctx.notes.push('clicked the PDF link with WebDriver');
      } catch (e) {
        ctx.notes.push(`WebDriver could not click inside the PDF viewer (${e.message}); using xdotool`);
      } finally {
        await wd.switchToFrame(null).catch(() => {});
      }
      if (!clicked) {
        // The annotation covers the whole page: a click in the middle of the content view hits it.
        const o = await contentOrigin(wd);
        await xclick(o.x + o.width / 2, o.y + Math.min(o.height / 2, 300));
        ctx.notes.push(`xdotool click at ${o.x + o.width / 2},${o.y + Math.min(o.height / 2, 300)}`);
      }
    },
  },
  { name: 'download-redirect', family: 'downloads', expect: 'safe', wait: 1500 },
  { name: 'download-evil-attachment', family: 'downloads', expect: 'blocked', wait: 1500 },
];

/**
 * Runs one vector: reset the logs, load its page, act, wait, then observe.
 * @param ctx {wd, mainHandle?, baseHandles?, stateDir?} — baseHandles: the kiosk's own window handles
 *   (content and toolbar); stateDir lets it look for evil files in the private downloads folder.
 * @returns observation {url, kind, violations, connections, handles, notes, blockedText, midChecks}
 */
export async function runVector(ctx, v) {
  const { wd } = ctx;
  const start = `${INSTITUTION}${v.start || `/v/${v.name}`}`;
  const obs = { name: v.name, start, notes: [], midChecks: [] };
  const actx = { ...ctx, notes: obs.notes, midChecks: obs.midChecks, start };
  const mainHandle = ctx.mainHandle || (await wd.getWindowHandle());
  // The kiosk's own views (content, and the toolbar, which WebDriver also lists) are the baseline:
  // any other handle is a window a page opened. Never close a baseline handle.
  const baseHandles = ctx.baseHandles || [mainHandle];

  await wd.navigateTo(`${INSTITUTION}/blank?from=reset`);
  await resetLog();
  await wd.navigateTo(start);
  obs.loaded = await wd.getUrl();
  const act = v.act === undefined ? clickGo() : v.act;
  if (act) {
    try {
      await act(actx);
    } catch (e) {
      obs.notes.push(`action failed: ${e.message}`);
      obs.actionError = e;
    }
  }
  await sleep(v.wait ?? 800);
  if (v.expect === 'blocked') {
    // A slow build may take a little longer to show the blocked page.
    await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'blocked', 2000).catch(() => {});
  }
  obs.handles = await wd.getWindowHandles();
  obs.newHandles = obs.handles.filter((h) => !baseHandles.includes(h));
  obs.lostHandles = baseHandles.filter((h) => !obs.handles.includes(h));
  if (obs.newHandles.length) {
    // Close strays (plain WebKit opens them) so the next vector starts clean; the check still fails.
    for (const h of obs.newHandles) {
      try {
        await wd.switchToWindow(h);
        obs.notes.push(`extra window: ${await wd.getUrl()}`);
        await wd.closeWindow();
      } catch {
        /* already gone */
      }
    }
    await wd.switchToWindow(mainHandle);
  }
  obs.url = await wd.getUrl();
  obs.kind = classifyUrl(obs.url);
  if (obs.kind.kind === 'blocked') {
    obs.blockedText = await wd.executeScript('return document.body ? document.body.innerText : ""').catch((e) => `(script failed: ${e.message})`);
  }
  obs.violations = await evilLog();
  obs.connections = await evilConnections();
  if (ctx.stateDir) {
    const dl = path.join(ctx.stateDir, 'session', 'downloads');
    obs.evilDownloads = fs.existsSync(dl) ? fs.readdirSync(dl).filter((f) => /evil/i.test(f)) : [];
  }
  if (v.cleanup) await v.cleanup(actx).catch((e) => obs.notes.push(`cleanup failed: ${e.message}`));
  return obs;
}

/**
 * Connection-only contact (a TCP connection, or a TLS handshake whose SNI names the host, with no
 * HTTP request) fails the vector by default. E2E_CONNECTIONS=report turns it into a diagnostic,
 * for a run that looks at everything else while that is being fixed.
 */
export const CONNECTIONS_FAIL = (process.env.E2E_CONNECTIONS || 'fail') !== 'report';

/**
 * Checks a contained outcome (see the header). Collects every problem of the vector and throws one
 * AssertionError listing them all, so one failure does not hide another. Returns the diagnostics.
 */
export function assertContained(v, obs) {
  const problems = [];
  const diagnostics = [];
  const fmtReq = (e) => `${e.method} ${e.scheme}://${e.host}:${e.port}${e.path}${e.dest ? ` (dest ${e.dest})` : ''}${e.upgrade ? ' (upgrade)' : ''}`;
  const fmtConn = (c) => `${c.kind} ${c.scheme} ${c.ip}:${c.port}${c.sni ? ` sni=${c.sni}` : ''}${c.error ? ` ${c.error}` : ''}`;

  // (a) the refused hosts received nothing: no request, no connection
  if (obs.violations.length) problems.push(`a refused host received requests: ${obs.violations.map(fmtReq).join('; ')}`);
  if (obs.connections.length) {
    const msg = `a refused address received connections (no request needed to leak the kiosk's address and, with TLS, the host name): ${obs.connections.map(fmtConn).join('; ')}`;
    if (CONNECTIONS_FAIL) problems.push(msg);
    else diagnostics.push(`(reported only) ${msg}`);
  }
  if (obs.evilDownloads?.length) problems.push(`a file from evil was downloaded: ${obs.evilDownloads.join(', ')}`);
  // one view, never a second window (the toolbar is part of the baseline)
  if (obs.newHandles.length) problems.push(`a page opened another window (${obs.notes.filter((n) => n.startsWith('extra window')).join('; ')})`);
  if (obs.lostHandles.length) problems.push("one of the kiosk's views disappeared");
  for (const c of obs.midChecks) {
    try {
      c();
    } catch (e) {
      problems.push(e.message);
    }
  }

  // (b) the content view is on an allowed page or the blocked page. about:blank is harmless (allowed
  // by the policy; an emptied window.open target), but only 'safe' vectors may end there.
  const k = obs.kind;
  const okKinds = v.expect === 'safe' ? ['allowed', 'blocked', 'blank'] : ['allowed', 'blocked'];
  if (!okKinds.includes(k.kind)) problems.push(`the content view shows a page it should not: ${k.kind}${k.why ? ` (${k.why})` : ''}`);
  if (k.kind === 'blank') diagnostics.push('the content view ended on about:blank');

  const hosts = v.hosts || EVIL;
  if (v.expect === 'blocked') {
    if (k.kind !== 'blocked') {
      problems.push('expected the blocked page (a top-level navigation was refused)');
    } else {
      // (c) the blocked page names the host, in its URL and in its text
      if (!hosts.includes(k.host)) problems.push(`the blocked page names "${k.host}", expected ${hosts.join(' or ')}`);
      if (!(typeof obs.blockedText === 'string' && hosts.some((h) => obs.blockedText.includes(h)))) {
        problems.push(`the blocked page's text does not show the host: ${JSON.stringify(String(obs.blockedText).slice(0, 200))}`);
      }
    }
  } else if (v.expect === 'stay') {
    if (obs.url !== obs.start) {
      problems.push(`expected to stay on the vector page (a refused frame or subresource just fails), got ${k.kind === 'blocked' ? 'the blocked page' : obs.url}`);
    }
  } else if (v.expect === 'lands') {
    if (!obs.url.startsWith(v.lands)) problems.push(`expected to land on ${v.lands}`);
  }
  if (obs.actionError && !problems.length && v.expect !== 'safe' && k.kind !== 'blocked') {
    // An action that could not even run proves nothing: report it rather than pass silently.
    problems.push(`the vector's action failed: ${obs.actionError.message}`);
  }
  if (problems.length) {
    throw new assert.AssertionError({
      message:
        `${v.name}: ${problems.length} problem(s)\n  - ${problems.join('\n  - ')}` +
        `\n  final url: ${obs.url}${obs.notes.length ? `\n  notes: ${obs.notes.join(' | ')}` : ''}`,
    });
  }
  return diagnostics;
}

/** For calibrate.mjs: did the vector get out when nothing stops it? */
export function escaped(obs) {
  const reasons = [];
  if (obs.violations.length) reasons.push(`${obs.violations.length} request(s) to refused hosts`);
  if (obs.connections.length) reasons.push(`${obs.connections.length} connection(s)`);
  if (obs.newHandles.length) reasons.push('second window');
  if (obs.kind.kind === 'forbidden') reasons.push(`view on ${obs.kind.why}`);
  if (obs.kind.kind === 'portal' || obs.kind.kind === 'internal') reasons.push(`view on a kiosk page (${obs.kind.kind})`);
  return reasons;
}
