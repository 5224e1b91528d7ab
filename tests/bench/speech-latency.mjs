// Benchmark: the time from « Écouter » to the first sound (issue 17, item 1). Not a test: it prints
// the numbers and writes tests/bench/results/speech.md.
//
// The kiosk runs with BORNE_SPEECH_OUT set to a FIFO that this script reads as fast as espeak-ng
// writes it (instead of the sound card). For each press:
//   t0      a real click (xdotool, the pointer already on the button) on the toolbar's « Écouter »;
//   chunk   espeak-ng opens its output (it does so when its first block of audio is ready) and the
//           first bytes arrive;
//   sound   the first sample louder than SOUND_THRESHOLD (of 32768) arrives: the first audible sound.
// The portal is read in French, then in Arabic (RUNS presses each, WARMUP presses first, not counted).
// The sound card's own buffer (ALSA: about 20-50 ms) comes on top in a real borne.
//
// Run it alone, under the e2e lock (it uses the e2e harness: its own Xvfb on :99 unless DISPLAY works,
// and tauri-driver on 4444; no test sites or CA), as root or as anyone who can run the kiosk:
//   flock /tmp/borne-run.lock node tests/bench/speech-latency.mjs
// Environment: RUNS (20), WARMUP (2), E2E_BORNE (kiosk binary; default target/debug/borne),
// SPEECH_OUT (results file; default tests/bench/results/speech.md).

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

import {
  ensureDisplay,
  startTauriDriver,
  stopAll,
  freshStateDir,
  waitFor,
  sleep,
  borneBinary,
  withToolbar,
  waitPortal,
  kioskWindow,
  CONFIG_DIR,
  DRIVER_PORT,
  REPO,
  WORK,
} from '../e2e/lib/harness.mjs';
import { WebDriver } from '../e2e/lib/webdriver.mjs';

const RUNS = Number(process.env.RUNS || 20);
const WARMUP = Number(process.env.WARMUP || 2);
const OUT = process.env.SPEECH_OUT || path.join(REPO, 'tests/bench/results/speech.md');
const SOUND_THRESHOLD = 1000;   // about -30 dBFS: well above espeak-ng's silence (0)
const HERE = path.join(WORK, 'speech-bench');
const FIFO = path.join(HERE, 'voice.wav');

const xdo = (args) => execFileSync('xdotool', args, { env: { ...process.env } });

/** Where « Écouter » is on the screen. */
async function buttonCentre(wd) {
  const r = await withToolbar(wd, () => wd.getRect({ css: '#btn-listen' }));
  const id = await kioskWindow();
  let X = 0;
  let Y = 0;
  if (id) {
    const geo = String(xdo(['getwindowgeometry', '--shell', id]));
    X = Number(/X=(-?\d+)/.exec(geo)?.[1] || 0);
    Y = Number(/Y=(-?\d+)/.exec(geo)?.[1] || 0);
  }
  return [Math.round(X + r.x + r.width / 2), Math.round(Y + r.y + r.height / 2)];
}

/** One press: resolves to {chunk, sound, seconds} in ms from the click (sound null if silent). */
function press(at) {
  return new Promise((resolve, reject) => {
    let t0 = 0;
    let chunk = null;
    let sound = null;
    let bytes = 0;
    let header = Buffer.alloc(0);
    // Opening the FIFO blocks (in libuv's thread pool) until espeak-ng opens it for writing.
    const reader = fs.createReadStream(FIFO, { highWaterMark: 65536 });
    reader.on('data', (buf) => {
      const now = performance.now() - t0;
      if (chunk === null) chunk = now;
      let data = buf;
      if (header.length < 44) {
        const need = 44 - header.length;
        header = Buffer.concat([header, buf.subarray(0, need)]);
        data = buf.subarray(need);
      }
      if (sound === null) {
        // 16-bit little-endian mono samples; an odd byte at a chunk's end is skipped (rare, harmless).
        for (let i = 0; i + 1 < data.length; i += 2) {
          if (Math.abs(data.readInt16LE(i)) > SOUND_THRESHOLD) { sound = now; break; }
        }
      }
      bytes += data.length;
    });
    reader.on('end', () => resolve({ chunk, sound, seconds: bytes / 2 / 22050 }));
    reader.on('error', reject);
    t0 = performance.now();
    xdo(['click', '1']);
  });
}

function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { n: s.length, min: s[0], median: q(0.5), p90: q(0.9), max: s[s.length - 1] };
}

const fmt = (x) => (x === undefined || x === null ? '—' : x.toFixed(0));

async function main() {
  fs.rmSync(HERE, { recursive: true, force: true });
  fs.mkdirSync(HERE, { recursive: true });
  execFileSync('mkfifo', [FIFO]);
  const binary = borneBinary();
  const wrapper = path.join(HERE, 'borne');
  fs.writeFileSync(wrapper, `#!/bin/sh\nexport BORNE_SPEECH_OUT="${FIFO}"\nexec "${binary}" "$@"\n`, { mode: 0o755 });
  const stateDir = freshStateDir('speech-bench');
  // The portal only: no test sites, no test CA (the e2e setup is not needed).
  await ensureDisplay();
  await startTauriDriver();
  const wd = new WebDriver(`http://127.0.0.1:${DRIVER_PORT}`);
  await wd.newSession({ capabilities: { alwaysMatch: { 'tauri:options': {
    application: wrapper, args: ['--config', CONFIG_DIR, '--state', stateDir] } } } });
  const results = {};
  try {
    await waitPortal(wd);
    for (const lang of ['fr', 'ar']) {
      if (lang !== 'fr') {
        await wd.click({ css: `#language-list button[lang="${lang}"]` });
        await waitFor(async () => (await withToolbar(wd, () => wd.executeScript('return document.documentElement.lang;'))) === lang, 5000);
        await sleep(500);
      }
      const [x, y] = await buttonCentre(wd);
      xdo(['mousemove', String(x), String(y)]);
      await sleep(300);
      const runs = [];
      for (let i = 0; i < WARMUP + RUNS; i++) {
        const r = await press([x, y]);
        if (i >= WARMUP) runs.push(r);
        console.log(`${lang} ${i < WARMUP ? 'warm-up' : `run ${i - WARMUP + 1}`}: first audio ${fmt(r.chunk)} ms, first sound ${fmt(r.sound)} ms, ${r.seconds.toFixed(1)} s of speech`);
        await sleep(700);
      }
      results[lang] = runs;
    }
  } finally {
    if (wd.sessionId) await wd.deleteSession().catch(() => {});
    await stopAll();
  }
  let commit = '';
  try { commit = String(execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])).trim(); } catch { /* not a checkout */ }
  const lines = [
    '# « Écouter »: time from the press to the first sound',
    '',
    `Measured by \`tests/bench/speech-latency.mjs\` on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ` +
      `${os.cpus().length} cores (${os.cpus()[0]?.model.trim()}), load average before the run ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ` +
      `kiosk \`${path.relative(REPO, binary)}\` (HEAD ${commit}), espeak-ng ${String(execFileSync('espeak-ng', ['--version'])).split(' ')[3] || ''}.`,
    '',
    'From a real click on « Écouter » (xdotool; the pointer already on the button) on the portal of the e2e',
    'test borne (about 400 characters in each language) to: **first audio**, espeak-ng\'s first block of',
    'samples reaching its output (a FIFO read at once, given as BORNE_SPEECH_OUT), and **first sound**, the',
    `first sample above ${SOUND_THRESHOLD}/32768 (about -30 dBFS). The two are equal when espeak-ng's first block (its`,
    'stdio buffer: 4 KB, 93 ms of audio) already holds sound. A sound card adds its own buffer (ALSA: tens of ms).',
    `${RUNS} presses per language after ${WARMUP} not counted. Milliseconds.`,
    '',
    '| language | measure | n | min | median | p90 | max |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [lang, runs] of Object.entries(results)) {
    for (const [label, key] of [['first audio', 'chunk'], ['first sound', 'sound']]) {
      const s = stats(runs.map((r) => r[key]).filter((v) => v !== null));
      lines.push(`| ${lang} | ${label} | ${s.n} | ${fmt(s.min)} | **${fmt(s.median)}** | ${fmt(s.p90)} | ${fmt(s.max)} |`);
    }
  }
  lines.push('', `Speech produced per press: ${Object.entries(results).map(([l, r]) => `${l} ${stats(r.map((x) => x.seconds)).median.toFixed(1)} s`).join(', ')} (median).`, '');
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, lines.join('\n'));
  console.log(lines.join('\n'));
}

main().catch(async (e) => {
  console.error(e);
  await stopAll();
  process.exit(1);
});
