// Keyboard first: a person reaches the toolbar and the portal with the keyboard alone (real X key
// presses, checked through WebDriver on each view's document).
//
// Run: tests/e2e/run.sh tests/e2e/keyboard.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import {
  startAll,
  stopAll,
  startBorne,
  freshStateDir,
  classifyUrl,
  waitFor,
  sleep,
  xkeys,
  toolbarHandle,
} from './lib/harness.mjs';

let wd;
let main;
let toolbar;

before(async () => {
  await startAll();
  wd = await startBorne({ stateDir: freshStateDir('keyboard') });
  await waitFor(async () => classifyUrl(await wd.getUrl()).kind === 'portal', 20000, { message: 'the portal' });
  await sleep(500);
  main = await wd.getWindowHandle();
  toolbar = await toolbarHandle(wd);
  assert.ok(toolbar, 'the toolbar webview is listed');
});

after(async () => {
  if (wd) await wd.deleteSession().catch((e) => console.error(`deleteSession: ${e.message}`));
  await stopAll();
});

// WebDriver's switch to a window gives that view the focus too, so the tests read the toolbar while
// WebDriver stays on it, and read the portal only at the end.
async function activeElement() {
  return wd.executeScript('var a = document.activeElement; return a ? (a.id || a.className || a.tagName) : null;');
}

test('the first F6 goes to the toolbar, and Tab reaches "Accueil" there', async () => {
  // WebKitGTK may first give the focus to the toolbar's document (then one Tab enters it) or directly
  // into it, depending on what held GTK's focus before: at most two Tabs reach the first button.
  await xkeys(['F6', 'Tab']);
  await sleep(300);
  await wd.switchToWindow(toolbar);
  let active = await activeElement();
  if (active !== 'btn-home') {
    await xkeys(['Tab']);
    await sleep(300);
    active = await activeElement();
  }
  assert.equal(active, 'btn-home');
});

test('Tab walks the visible toolbar buttons in order, ending on "Terminer ma session"', async () => {
  const seen = [];
  for (let i = 0; i < 14 && seen[seen.length - 1] !== 'btn-end'; i++) {
    await xkeys(['Tab']);
    await sleep(200);
    seen.push(await activeElement());
  }
  const buttons = seen.filter((id) => String(id).startsWith('btn-'));
  assert.deepEqual(buttons, ['btn-back', 'btn-print', 'btn-docs', 'btn-help', 'btn-display', 'btn-listen',
    'btn-volume-down', 'btn-volume-up', 'btn-accompany', 'btn-end'], `focus went: ${seen.join(' → ')}`);
});

test('"J\'ai besoin d\'aide" by keyboard: Enter opens it, Tab stays inside, Escape closes it back on its button', async () => {
  // Back from "Terminer ma session": Session accompagnée, Plus fort, Moins fort, Écouter, Affichage,
  // then the help.
  await xkeys(['shift+Tab', 'shift+Tab', 'shift+Tab', 'shift+Tab', 'shift+Tab', 'shift+Tab']);
  await sleep(200);
  assert.equal(await activeElement(), 'btn-help');
  await xkeys(['Return']);
  await waitFor(() => wd.executeScript('return !document.getElementById("help").hidden;'), 5000, { message: 'the help dialog' });
  await sleep(300);
  assert.equal(await activeElement(), 'help-title', 'the focus moves into the dialog');
  const seen = [];
  for (let i = 0; i < 5; i++) {
    await xkeys(['Tab']);
    await sleep(150);
    seen.push(await activeElement());
  }
  // Imprimer, Fermer, then the dialog's own « Écouter » (no id: its class), and round again.
  const listen = 'btn btn-secondary dialog-listen';
  assert.deepEqual(seen, ['help-print', 'help-close', listen, 'help-print', 'help-close'], 'Tab cycles inside the dialog');
  await xkeys(['Escape']);
  await waitFor(() => wd.executeScript('return document.getElementById("help").hidden;'), 5000, { message: 'Escape closes it' });
  await sleep(300);
  assert.equal(await activeElement(), 'btn-help', 'the focus is back on the button');
});

test('F6 again brings the focus back to the portal, where Tab reaches the languages, then a tile', async () => {
  await xkeys(['F6', 'Tab']);
  await sleep(300);
  await wd.switchToWindow(main);
  const seen = [String(await activeElement())];
  // The language menu comes first (a person who does not read French finds it at once), then tiles.
  for (let i = 0; i < 5 && !/tile/.test(seen[seen.length - 1]); i++) {
    await xkeys(['Tab']);
    await sleep(200);
    seen.push(String(await activeElement()));
  }
  assert.match(seen[seen.length - 1], /tile/, `focus went: ${seen.join(' → ')}`);
  assert.ok(seen.slice(0, -1).every((c) => /language-button/.test(c)), `only languages before the tiles: ${seen.join(' → ')}`);
});
