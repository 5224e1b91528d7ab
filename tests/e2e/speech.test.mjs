// « Écouter » (issue 17, item 1): the kiosk's pages read aloud by the offline voice (espeak-ng), in
// the language shown, and « Lire la sélection » on an institution's site (the same toolbar button:
// « Écouter » on the kiosk's pages, « Lire la sélection » on a site). The kiosk runs through a
// wrapper that sets BORNE_SPEECH_OUT, so espeak-ng writes its audio to a WAV file instead of the
// sound card; `sox file -n stat` gives its length and energy. Each reading is compared with espeak-ng
// run by the test on the same text: the kiosk's audio must last about as long as the right voice
// reading that text (and not as the wrong voice would). Then: the volume buttons change the energy;
// a selection the page's own script tries to hide is read anyway (the kiosk reads it in its own script
// world); « Lire la sélection » with nothing selected says how to select; at « Terminer ma session »
// a voice still speaking (its output a FIFO read at the sound card's pace) is killed, the process is
// gone and the volume is back to its default. axe-core on the toolbar in French and Arabic and on a
// dialog with its « Écouter »; the bar's controls apart and whole at 1366 px in all six languages.
// Last, a kiosk with a 30 s idle limit (10 s of countdown): the countdown is read to a person who used the voice, and the
// idle end stops that voice and resets the volume.
//
// Run: tests/e2e/run.sh tests/e2e/speech.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

import {
  startAll,
  stopAll,
  freshStateDir,
  waitFor,
  sleep,
  borneBinary,
  kioskPids,
  pgrep,
  clickToolbar,
  withToolbar,
  endSessionWithButton,
  waitPortal,
  screenGrab,
  ARTIFACTS,
  CONFIG_DIR,
  DRIVER_PORT,
  INSTITUTION,
  WORK,
} from './lib/harness.mjs';
import { WebDriver } from './lib/webdriver.mjs';
import { axeViolations } from './lib/axe.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('speech');
const configDir = `${stateDir}-config`;
const LANGS = ['fr', 'ar', 'en', 'uk', 'pt', 'ro'];
const HERE = path.join(WORK, 'speech');
const WAV = path.join(HERE, 'speech.wav');
let wd;
let kioskPid;

/** sox's statistics of a WAV file: {length, rms, max} (seconds, amplitude 0..1). */
async function soxStat(file) {
  const { stderr } = await execFileP('sox', [file, '-n', 'stat']);
  const num = (label) => Number(new RegExp(`${label}:\\s+(-?[0-9.]+)`).exec(stderr)?.[1]);
  return { length: num('Length \\(seconds\\)'), rms: num('RMS\\s+amplitude'), max: num('Maximum amplitude') };
}

/** The same text through espeak-ng, run by the test (the reference a reading is compared with). */
async function reference(text, voice, name) {
  const out = path.join(HERE, `ref-${name}.wav`);
  execFileSync('espeak-ng', ['-v', voice, '-s', '150', '-b', '1', '-w', out, '--stdin'], { input: text });
  return soxStat(out);
}

/** The kiosk's espeak-ng processes (its children). */
const voices = () => pgrep(['-x', 'espeak-ng', '-P', String(kioskPid)]);

/** Presses a toolbar control (a real click) and waits for the WAV espeak-ng writes, complete. */
async function readAloud(css, name) {
  fs.rmSync(WAV, { force: true });
  await clickToolbar(wd, css);
  await waitFor(async () => fs.existsSync(WAV) && fs.statSync(WAV).size > 44 && (await voices()).length === 0,
    30000, { message: `the audio of ${name}` });
  const kept = path.join(ARTIFACTS, `speech-${name}.wav`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.copyFileSync(WAV, kept);
  return soxStat(kept);
}

/** The portal's text as « Écouter » reads it (what the kiosk's script reads: the data-speak parts). */
const portalText = () => wd.executeScript(`return [...document.querySelectorAll('[data-speak]')]
  .filter((e) => !e.hidden && e.getClientRects().length > 0).map((e) => e.innerText).join('\\n');`);

const toolbar = (script) => withToolbar(wd, () => wd.executeScript(script));

async function axeClean(name) {
  const v = await withToolbar(wd, () => axeViolations(wd));
  assert.deepEqual(v, [], `axe-core on ${name}: ${JSON.stringify(v, null, 1)}`);
}

/** The reading lasts about as long as the right voice reading the text (the kiosk adds pauses at line ends). */
function plausible(got, ref, what) {
  assert.ok(got.length > 1, `${what}: ${got.length} s of audio`);
  assert.ok(got.length > ref.length * 0.75 && got.length < ref.length * 1.4,
    `${what}: ${got.length.toFixed(2)} s, espeak-ng alone reads the same text in ${ref.length.toFixed(2)} s`);
  assert.ok(got.rms > 0.02 && got.max > 0.2, `${what}: speech energy (RMS ${got.rms}, max ${got.max})`);
}

before(async () => {
  fs.rmSync(HERE, { recursive: true, force: true });
  fs.mkdirSync(HERE, { recursive: true });
  const wrapper = path.join(HERE, 'borne');
  fs.writeFileSync(wrapper, `#!/bin/sh
export BORNE_SPEECH_OUT="${WAV}" BORNE_LOG="\${BORNE_LOG:-info,borne=debug}"
exec "${borneBinary()}" "$@" 2>>"${path.join(HERE, 'kiosk.log')}"
`, { mode: 0o755 });
  // The test borne's settings with every language the portal offers (the toolbar must fit in each).
  fs.mkdirSync(configDir, { recursive: true });
  for (const f of fs.readdirSync(CONFIG_DIR)) fs.copyFileSync(path.join(CONFIG_DIR, f), path.join(configDir, f));
  fs.writeFileSync(path.join(configDir, 'borne.toml'), fs.readFileSync(path.join(CONFIG_DIR, 'borne.toml'), 'utf8')
    .replace(/^offered = .*$/m, `offered = ${JSON.stringify(LANGS)}`));
  await startAll();
  wd = new WebDriver(`http://127.0.0.1:${DRIVER_PORT}`);
  await wd.newSession({ capabilities: { alwaysMatch: { 'tauri:options': {
    application: wrapper, args: ['--config', configDir, '--state', stateDir] } } } });
  await waitPortal(wd);
  [kioskPid] = await kioskPids(stateDir);
  assert.ok(kioskPid, 'the kiosk process');
});

after(async () => {
  if (wd?.sessionId) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

test('the toolbar offers « Écouter », « Lire la sélection » and the volume, in French first, axe-core clean', async () => {
  const bar = await toolbar(`return {
    listen: document.getElementById('btn-listen').textContent.trim(),
    less: document.getElementById('btn-volume-down').getAttribute('aria-label'),
    more: document.getElementById('btn-volume-up').getAttribute('aria-label'),
    level: document.querySelector('.volume').getAttribute('data-level'),
    volumeText: document.getElementById('volume-text').textContent,
    tabbable: ['btn-listen', 'btn-volume-down', 'btn-volume-up'].every((id) => {
      const b = document.getElementById(id); return b.tagName === 'BUTTON' && b.tabIndex === 0 && !b.disabled; }),
    height: document.getElementById('btn-listen').getBoundingClientRect().height,
  };`);
  assert.deepEqual([bar.listen, bar.less, bar.more], ['Écouter', 'Moins fort', 'Plus fort']);
  assert.equal(bar.level, '3');
  assert.equal(bar.volumeText, 'Volume de la voix : 3 sur 5');
  assert.ok(bar.tabbable, 'native buttons in the tab order');
  assert.ok(bar.height >= 48, `big targets (${bar.height} px high)`);
  await axeClean('the toolbar in French');
  await screenGrab(path.join(ARTIFACTS, 'speech-toolbar.png'));
});

/** The bar's controls that overlap or leave the window, and the labels cut or squeezed ([] when all fit). */
const barProblems = () => toolbar(`
  const controls = [...document.querySelectorAll('#bar .bar-button, #bar .volume-bars')].filter((e) => e.getClientRects().length);
  const rects = controls.map((e) => [e.id || e.className, e.getBoundingClientRect()]);
  const out = [];
  rects.forEach(([n, r], i) => {
    if (r.left < 0 || r.right > window.innerWidth + 0.5) out.push(n + ' outside the window');
    rects.slice(i + 1).forEach(([m, q]) => {
      if (r.left < q.right - 0.5 && q.left < r.right - 0.5 && r.top < q.bottom && q.top < r.bottom) out.push(n + ' overlaps ' + m);
    });
  });
  controls.filter((e) => e.classList.contains('bar-button')).forEach((e) => {
    if (e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1) out.push((e.id || e.className) + ' label cut');
  });
  return out;`);

test('the bar fits at 1366 px in every offered language, its controls apart and whole', async () => {
  const problems = {};
  for (const lang of LANGS) {
    await wd.click({ css: `#language-list button[lang="${lang}"]` });
    await waitFor(async () => (await toolbar('return document.documentElement.lang;')) === lang, 5000, { message: `the toolbar in ${lang}` });
    await sleep(300);
    const p = await barProblems();
    const room = await toolbar(`const b = document.getElementById('btn-end').getBoundingClientRect();
      const v = document.getElementById('btn-volume-up').getBoundingClientRect();
      return Math.round(document.dir === 'rtl' ? v.left - b.right : b.left - v.right);`);
    console.log(`${lang}: ${room} px between the volume and « Terminer »`);
    if (p.length) problems[lang] = p;
    await screenGrab(path.join(ARTIFACTS, `speech-toolbar-${lang}.png`));
  }
  assert.deepEqual(problems, {}, 'the bar in every language');
  await wd.click({ css: '#language-list button[lang="fr"]' });
  await waitFor(async () => (await toolbar('return document.documentElement.lang;')) === 'fr', 5000);
});

test('« Écouter » reads the portal in French', async () => {
  const text = await portalText();
  assert.ok(text.length > 200, `the portal has text to read (${text.length} characters)`);
  const got = await readAloud('#btn-listen', 'portal-fr');
  const ref = await reference(text, 'fr', 'portal-fr');
  plausible(got, ref, 'the portal in French');
  console.log(`portal (French): ${text.length} characters, ${got.length.toFixed(1)} s (espeak-ng alone ${ref.length.toFixed(1)} s), RMS ${got.rms}`);
});

test('a toolbar dialog reads itself: « J\'ai besoin d\'aide » and its « Écouter »', async () => {
  await clickToolbar(wd, '#btn-help');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return !document.getElementById("help").hidden && window.innerHeight > 300;'),
    10000, { message: 'the help dialog' }));
  await sleep(300);
  const text = await toolbar(`const d = document.querySelector('#help .dialog');
    const own = d.querySelector('.dialog-listen'); own.hidden = true;
    const t = [...d.children].filter((c) => !c.hidden && c.getClientRects().length).map((c) => c.innerText).join('\\n');
    own.hidden = false; return t;`);
  assert.match(text, /Besoin d'aide/);
  assert.doesNotMatch(text, /Écouter/, 'the dialog\'s own button is not read');
  await axeClean('the help dialog with its « Écouter »');
  const got = await readAloud('#help .dialog-listen', 'help-dialog');
  plausible(got, await reference(text, 'fr', 'help-dialog'), 'the help dialog');
  await clickToolbar(wd, '#help-close');
  await withToolbar(wd, () => waitFor(() => wd.executeScript('return document.getElementById("help").hidden;'), 5000));
});

test('« Écouter » reads the portal in Arabic with the Arabic voice', async () => {
  await wd.click({ css: '#language-list button[lang="ar"]' });
  await waitFor(async () => (await wd.executeScript('return document.documentElement.lang;')) === 'ar', 5000, { message: 'the portal in Arabic' });
  await waitFor(async () => (await toolbar('return document.documentElement.lang;')) === 'ar', 5000, { message: 'the toolbar in Arabic' });
  await sleep(500);
  const text = await portalText();
  assert.match(text, /[\u0600-\u06FF]/, 'the portal shows Arabic');
  const got = await readAloud('#btn-listen', 'portal-ar');
  const ref = await reference(text, 'ar', 'portal-ar');
  const wrongVoice = await reference(text, 'fr', 'portal-ar-read-in-french');
  plausible(got, ref, 'the portal in Arabic');
  assert.ok(Math.abs(got.length - ref.length) < Math.abs(got.length - wrongVoice.length),
    `read with the Arabic voice (${got.length.toFixed(1)} s; Arabic voice ${ref.length.toFixed(1)} s, French voice ${wrongVoice.length.toFixed(1)} s)`);
  console.log(`portal (Arabic): ${text.length} characters, ${got.length.toFixed(1)} s (espeak-ng alone ${ref.length.toFixed(1)} s), RMS ${got.rms}`);
  const labels = await toolbar(`return [document.getElementById('btn-listen').textContent.trim(), document.getElementById('volume-text').textContent];`);
  assert.deepEqual(labels, ['استمع', 'مستوى الصوت: 3 من 5']);
  await axeClean('the toolbar in Arabic');
});

test('on a site « Écouter » becomes « Lire la sélection » and reads the selected text, even when the page hides it from its own scripts', async () => {
  await wd.navigateTo(`${INSTITUTION}/lecture`);
  await waitFor(async () => (await wd.executeScript('return !!document.getElementById("para");')), 10000, { message: 'the test page' });
  const para = await wd.executeScript(`const r = document.createRange(); r.selectNodeContents(document.getElementById('para'));
    const s = document.getSelection(); s.removeAllRanges(); s.addRange(r);
    return [window.getSelection().toString(), s.rangeCount, document.getElementById('para').innerText];`);
  assert.equal(para[0], '', 'the page\'s own getSelection() says nothing is selected');
  assert.equal(para[1], 1, 'the paragraph is selected');
  await waitFor(async () => (await toolbar(`const b = document.getElementById('btn-listen');
    return b.getAttribute('data-source') + '|' + b.textContent.trim();`)) === 'selection|اقرأ النص المحدد', 5000,
  { message: 'on a site the button is « Lire la sélection » (in Arabic)' });
  assert.deepEqual(await barProblems(), [], 'the bar with « Lire la sélection » in Arabic');
  const got = await readAloud('#btn-listen', 'selection');
  // The page is French (lang="fr") although the person chose Arabic: the French voice reads it.
  plausible(got, await reference(para[2], 'fr', 'selection'), 'the selected paragraph');
  console.log(`selection: ${para[2].length} characters, ${got.length.toFixed(1)} s, RMS ${got.rms}`);
});

test('louder: « Plus fort » twice, the same selection has more energy', async () => {
  const before = await soxStat(path.join(ARTIFACTS, 'speech-selection.wav'));
  await clickToolbar(wd, '#btn-volume-up');
  await sleep(200);
  await clickToolbar(wd, '#btn-volume-up');
  await waitFor(async () => (await toolbar('return document.querySelector(".volume").getAttribute("data-level");')) === '5', 5000,
    { message: 'volume 5' });
  await clickToolbar(wd, '#btn-volume-up');   // already the loudest: stays at 5
  await sleep(300);
  assert.equal(await toolbar('return document.querySelector(".volume").getAttribute("data-level");'), '5');
  const got = await readAloud('#btn-listen', 'selection-loud');
  assert.ok(Math.abs(got.length - before.length) < 0.5, `same text, same length (${got.length} s, ${before.length} s)`);
  assert.ok(got.rms > before.rms * 1.4, `louder: RMS ${got.rms} against ${before.rms} at the default volume`);
});

test('« Lire la sélection » with nothing selected says (and shows) how to select', async () => {
  await wd.executeScript('document.getSelection().removeAllRanges();');
  const got = await readAloud('#btn-listen', 'no-selection');
  const status = await toolbar('return document.getElementById("speech-status").textContent;');
  // The person's language is Arabic: the hint is in Arabic, shown and said.
  assert.match(status, /حدّد أولاً نصاً/);
  plausible(got, await reference(status, 'ar', 'no-selection'), 'the spoken hint');
});

test('at « Terminer ma session » the voice is stopped, its process gone, the volume back to default', async () => {
  // The voice's output becomes a FIFO read at the sound card's pace (22 050 Hz, 16 bits): espeak-ng
  // speaks for as long as the text lasts, as it would through the speakers.
  fs.rmSync(WAV, { force: true });
  execFileSync('mkfifo', [WAV]);
  let received = 0;
  let ended = null;
  const reader = fs.createReadStream(WAV, { highWaterMark: 4410 });
  const pace = setInterval(() => reader.resume(), 100);
  reader.on('data', (chunk) => { received += chunk.length; reader.pause(); });
  reader.on('end', () => { ended = Date.now(); });
  reader.on('error', () => { ended = Date.now(); });
  try {
    await wd.navigateTo(`${INSTITUTION}/lecture`);
    await waitFor(async () => (await wd.executeScript('return !!document.getElementById("para");')), 10000);
    const all = await wd.executeScript(`const r = document.createRange(); r.selectNodeContents(document.body);
      const s = document.getSelection(); s.removeAllRanges(); s.addRange(r); return document.body.innerText;`);
    const whole = await reference(all, 'fr', 'whole-page');
    await clickToolbar(wd, '#btn-listen');
    await waitFor(async () => (await voices()).length === 1 && received > 44100, 15000, { message: 'the voice speaking' });
    assert.equal(await toolbar('return document.getElementById("btn-listen").getAttribute("aria-pressed");'), 'true',
      '« Écouter » shows the voice speaking');
    const pid = (await voices())[0];
    const atEnd = received;
    await endSessionWithButton(wd);
    await waitFor(async () => (await voices()).length === 0 && ended !== null, 5000, { message: 'the voice gone after the session' });
    assert.equal(fs.existsSync(`/proc/${pid}`), false, `espeak-ng ${pid} is gone (reaped)`);
    // The stream stopped at the end of the session, well before the text's end.
    const seconds = received / 44100;
    assert.ok(whole.length > 15, `a long text was asked for (${whole.length.toFixed(1)} s)`);
    assert.ok(seconds < whole.length - 5, `the audio stopped with the session: ${seconds.toFixed(1)} s of the text's ${whole.length.toFixed(1)} s were produced (${(atEnd / 44100).toFixed(1)} s before « Terminer »)`);
    const state = await toolbar(`return { level: document.querySelector('.volume').getAttribute('data-level'),
      pressed: document.getElementById('btn-listen').getAttribute('aria-pressed'),
      source: document.getElementById('btn-listen').getAttribute('data-source'),
      lang: document.documentElement.lang,
      volumeText: document.getElementById('volume-text').textContent };`);
    assert.deepEqual(state, { level: '3', pressed: 'false', source: 'page', lang: 'fr', volumeText: 'Volume de la voix : 3 sur 5' });
    await sleep(1500);
    assert.deepEqual(await voices(), [], 'no voice starts again after the wipe');
  } finally {
    clearInterval(pace);
    // A reader still waiting in open() (no voice ever wrote) would keep node alive: a writer lets it go.
    try { fs.closeSync(fs.openSync(WAV, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch { /* nobody waits */ }
    reader.destroy();
    fs.rmSync(WAV, { force: true });
  }
});

test('idle: the countdown is read to a person who used the voice, and the idle end stops the voice', async () => {
  // A second kiosk whose countdown shows after 30 s without input, and ends the session 10 s later.
  await wd.deleteSession();
  const idleConfig = `${stateDir}-idle-config`;
  const idleState = freshStateDir('speech-idle');
  fs.mkdirSync(idleConfig, { recursive: true });
  for (const f of fs.readdirSync(configDir)) fs.copyFileSync(path.join(configDir, f), path.join(idleConfig, f));
  const toml = fs.readFileSync(path.join(idleConfig, 'borne.toml'), 'utf8')
    .replace(/^idle_timeout_secs\s*=\s*\d+/m, 'idle_timeout_secs = 30').replace(/^warning_secs\s*=\s*\d+/m, 'warning_secs = 10');
  assert.match(toml, /^idle_timeout_secs = 30$/m);
  fs.writeFileSync(path.join(idleConfig, 'borne.toml'), toml);
  // The voice's output is a FIFO read at half the sound card's pace, so a voice lasts twice as long as
  // its speech and is still there when the session ends. A new voice may open the FIFO while the
  // reader still drains the previous one (the pipe stays open): voices are told apart by their
  // processes (first and last seen, every 200 ms) and by the WAV headers in the stream.
  fs.rmSync(WAV, { force: true });
  execFileSync('mkfifo', [WAV]);
  let stopped = false;
  let reader = null;
  let headers = 0;
  let tail = Buffer.alloc(0);
  const pace = setInterval(() => reader?.resume(), 100);
  const openReader = () => {
    if (stopped) return;
    reader = fs.createReadStream(WAV, { highWaterMark: 2205 });
    reader.on('data', (c) => {
      const both = Buffer.concat([tail, c]);
      for (let i = both.indexOf('RIFF'); i >= 0; i = both.indexOf('RIFF', i + 4)) if (i >= tail.length - 3) headers++;
      tail = both.subarray(Math.max(0, both.length - 3));
      reader.pause();
    });
    reader.on('end', openReader);
    reader.on('error', () => {});
  };
  openReader();
  const seen = new Map();   // pid -> {start, end}
  const watch = setInterval(async () => {
    const now = Date.now();
    const pids = await voices();
    for (const p of pids) if (!seen.has(p)) seen.set(p, { start: now, end: null });
    for (const [p, v] of seen) if (v.end === null && !pids.includes(p)) v.end = now;
  }, 200);
  const utterances = () => [...seen.values()].sort((a, b) => a.start - b.start);
  try {
    wd = new WebDriver(`http://127.0.0.1:${DRIVER_PORT}`);
    await wd.newSession({ capabilities: { alwaysMatch: { 'tauri:options': {
      application: path.join(HERE, 'borne'), args: ['--config', idleConfig, '--state', idleState] } } } });
    await waitPortal(wd);
    [kioskPid] = await kioskPids(idleState);
    await clickToolbar(wd, '#btn-volume-up');
    await waitFor(async () => (await toolbar('return document.querySelector(".volume").getAttribute("data-level");')) === '4', 5000);
    await clickToolbar(wd, '#btn-listen');
    const pressed = Date.now();
    await waitFor(() => utterances().length >= 1, 10000, { message: 'the portal being read' });
    await waitFor(() => utterances().length >= 2, 45000, { message: 'the countdown read aloud' })
      .catch(async (e) => { await screenGrab(path.join(HERE, 'idle-failed.png')); throw e; });
    const [portal, countdown] = utterances();
    const countdownAt = (countdown.start - pressed) / 1000;
    assert.ok(countdownAt > 28 && countdownAt < 35, `the countdown is read when it shows (${countdownAt.toFixed(1)} s after the last touch)`);
    assert.ok(portal.end !== null && portal.end <= countdown.start + 400, 'the portal\'s reading stopped for the countdown');
    await waitFor(() => countdown.end !== null, 20000, { message: 'the voice stopped by the idle end' });
    const endedAt = (countdown.end - pressed) / 1000;
    await waitFor(() => headers >= 2, 15000, { message: 'the countdown\'s audio in the stream' });
    assert.ok(endedAt > 38 && endedAt < 46, `the countdown's voice ends with the session (${endedAt.toFixed(1)} s after the last touch)`);
    await waitPortal(wd);
    await waitFor(async () => (await voices()).length === 0, 5000, { message: 'no voice after the idle end' });
    await waitFor(async () => (await toolbar('return document.querySelector(".volume").getAttribute("data-level");')) === '3', 5000,
      { message: 'the volume back to 3' });
    console.log(`idle: countdown read at ${countdownAt.toFixed(1)} s, its voice stopped at ${endedAt.toFixed(1)} s (countdown at 30 s, session end at 40 s)`);
    assert.equal(utterances().length, 2, 'no other voice');
  } finally {
    stopped = true;
    clearInterval(pace);
    clearInterval(watch);
    try { fs.closeSync(fs.openSync(WAV, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK)); } catch { /* nobody waits */ }
    reader?.destroy();
    fs.rmSync(WAV, { force: true });
  }
});
