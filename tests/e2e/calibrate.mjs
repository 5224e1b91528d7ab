// Calibration of the escape vectors against plain WebKit (WebKitGTK's MiniBrowser driven by
// WebKitWebDriver directly, no kiosk, no policy): every vector that "escapes" here is one the kiosk
// really has to stop, so a green escape suite means something. Vectors that stay inert here can only
// fail on their URL checks; they are marked inertInWebKit in lib/escape-vectors.mjs, and this script
// exits 1 when any other vector stays inert (it would test nothing).
//
//   node tests/e2e/calibrate.mjs [name-filter]      (setup.sh first; starts Xvfb and the sites if needed)
//   env: E2E_MINIBROWSER (default /usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser), E2E_MB_PORT (4446)

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { WebDriver, sleep, waitFor } from './lib/webdriver.mjs';
import { ensureDisplay, startSites, stopAll, ARTIFACTS, NATIVE_DRIVER, screenshot } from './lib/harness.mjs';
import { VECTORS, runVector, escaped } from './lib/escape-vectors.mjs';

const MINIBROWSER = process.env.E2E_MINIBROWSER || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const PORT = Number(process.env.E2E_MB_PORT || 4446);
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;

await ensureDisplay();
await startSites();
fs.mkdirSync(ARTIFACTS, { recursive: true });
const drvLog = fs.openSync(path.join(ARTIFACTS, 'calibrate-webkitwebdriver.log'), 'a');
const driver = spawn(NATIVE_DRIVER, [`--port=${PORT}`], { stdio: ['ignore', drvLog, drvLog] });
const wd = new WebDriver(`http://127.0.0.1:${PORT}`);
const rows = [];
try {
  await waitFor(() => wd.status().then(() => true), 10000, { message: 'WebKitWebDriver' });
  await wd.newSession({
    capabilities: { alwaysMatch: { 'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] } } },
  });
  const mainHandle = await wd.getWindowHandle();
  for (const v of VECTORS) {
    if (filter && !filter.test(v.name)) continue;
    let obs;
    try {
      obs = await runVector({ wd, mainHandle }, v);
    } catch (e) {
      rows.push({ name: v.name, family: v.family, result: 'ERROR', detail: e.message.split('\n')[0] });
      console.log(`${v.name.padEnd(28)} ERROR ${e.message.split('\n')[0]}`);
      try {
        await wd.switchToWindow(mainHandle);
      } catch {
        /* keep going */
      }
      continue;
    }
    const r = escaped(obs);
    const detail = `${r.join(', ') || '-'} | ${obs.kind.kind} ${obs.url.slice(0, 80)}${obs.notes.length ? ` | ${obs.notes.join(' | ')}` : ''}`;
    rows.push({ name: v.name, family: v.family, result: r.length ? 'ESCAPES' : 'inert', detail, paths: obs.violations.map((e) => `${e.host}${e.path}`) });
    console.log(`${v.name.padEnd(28)} ${(r.length ? 'ESCAPES' : 'inert').padEnd(8)} ${detail}`);
    if (process.env.E2E_CALIBRATE_SHOTS) await screenshot(wd, `calibrate-${v.name}`);
  }
} finally {
  await wd.deleteSession().catch(() => {});
  driver.kill('SIGTERM');
  await sleep(300);
  await stopAll();
}
// A vector that should get out of plain WebKit but stays inert tests nothing: fail the calibration.
const byName = Object.fromEntries(VECTORS.map((v) => [v.name, v]));
const dead = rows.filter((r) => r.result === 'inert' && !byName[r.name].inertInWebKit).map((r) => r.name);
const changed = rows.filter((r) => r.result === 'ESCAPES' && byName[r.name].inertInWebKit).map((r) => r.name);
const esc = rows.filter((r) => r.result === 'ESCAPES').length;
const inert = rows.filter((r) => r.result === 'inert').map((r) => r.name);
const errors = rows.filter((r) => r.result === 'ERROR').map((r) => r.name);
fs.writeFileSync(path.join(ARTIFACTS, 'calibration.json'), JSON.stringify(rows, null, 1));
console.log(`\n${esc}/${rows.length} vectors escape plain WebKit; inert: ${inert.join(', ') || 'none'}; errors: ${errors.join(', ') || 'none'}`);
console.log(`details: ${path.join(ARTIFACTS, 'calibration.json')}`);
if (changed.length) console.log(`now escape plain WebKit (update inertInWebKit): ${changed.join(', ')}`);
if (dead.length || errors.length) {
  console.log(`CALIBRATION FAILED: vectors that no longer reach evil without a policy: ${dead.join(', ') || '-'}; errors: ${errors.join(', ') || '-'}`);
  process.exitCode = 1;
}
