// The catalogue watch, engine half: the real `borne --audit-catalogue OUT` (a GTK window with
// WebKit, no WebDriver) opens each tile of a catalogue written here, with nothing blocked, and its
// French report says what became of each entry: a tile whose page now also loads a script from a
// host its rules do not list (www.mairie.test; the script also opens a window there, recorded and
// never opened), one whose entry moved for good (301) to another host,
// one that answers 404, one with a certificate that does not name it, and one fully ok whose unused
// rules (a host no page loads, a shared group) are candidates to drop. A second run reads the
// history the first one wrote beside the report.
//
// Run: tests/e2e/run.sh tests/e2e/audit.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import {
  ensureDisplay,
  startSites,
  stopAll,
  borneBinary,
  freshStateDir,
  hostLog,
  ARTIFACTS,
  CONFIG_DIR,
} from './lib/harness.mjs';

const execFileP = promisify(execFile);
const stateDir = freshStateDir('audit');
const configDir = `${stateDir}-config`;
const out = `${stateDir}-veille`;
const report = path.join(out, 'veille-catalogue.md');
const historyFile = path.join(out, 'veille-catalogue.history.json');

const MOVED_ENTRY = 'https://redirect.test/go?code=301&to=https://idp.test/nouvelle-adresse';

const CATALOGUE = `
[[themes]]
id = "test"
name = "Services de test"
pictogram = "aide"

[groups.idp]
description = "Fournisseur d'identité de test"
hosts = ["idp.test"]

# Its entry page now also loads https://www.mairie.test/audit/widget.js, which opens a window there.
[[services]]
id = "actualites"
name = "Actualités de test"
description = "Une page qui charge un nouvel hôte"
theme = "test"
pictogram = "guichet"
url = "https://www.institution.test/audit/news"
hosts = ["institution.test", "*.institution.test"]

# Moved for good to idp.test, which only the group idp allows (to another tile).
[[services]]
id = "demenage"
name = "Service déménagé"
description = "Une adresse qui redirige ailleurs"
theme = "test"
pictogram = "guichet"
url = "${MOVED_ENTRY}"
hosts = ["redirect.test"]

[[services]]
id = "disparue"
name = "Page disparue"
description = "Une adresse qui répond 404"
theme = "test"
pictogram = "guichet"
url = "https://www.institution.test/audit/disparue"
hosts = ["www.institution.test"]

[[services]]
id = "certificat"
name = "Certificat refusé"
description = "Un certificat qui ne nomme pas le site"
theme = "test"
pictogram = "guichet"
url = "https://badcert.test/"
hosts = ["badcert.test"]

# Fully ok; ancien-cdn.test and the group idp are never loaded by its page.
[[services]]
id = "en-ligne"
name = "Site en ligne"
description = "Un site qui répond"
theme = "test"
pictogram = "guichet"
url = "https://plain.test/"
hosts = ["plain.test", "ancien-cdn.test"]
groups = ["idp"]
`;

const UNUSED_HINT = "(à retirer si la démarche n'en a pas besoin après la connexion) :";

before(async () => {
  await ensureDisplay();
  await startSites();
  fs.mkdirSync(configDir, { recursive: true });
  fs.copyFileSync(path.join(CONFIG_DIR, 'borne.toml'), path.join(configDir, 'borne.toml'));
  fs.writeFileSync(path.join(configDir, 'catalogue.toml'), CATALOGUE);
  fs.writeFileSync(path.join(configDir, 'demarches.toml'), '');
});

after(async () => {
  await stopAll();
});

/** Runs the watch once; its log goes to the artifacts. */
async function audit(run) {
  const started = Date.now();
  const { stdout, stderr } = await execFileP(
    borneBinary(),
    ['--audit-catalogue', out, '--config', configDir, '--state', stateDir],
    { timeout: 90_000, env: { ...process.env, BORNE_LOG: 'info', NO_COLOR: '1' } },
  ).catch((e) => {
    fs.writeFileSync(path.join(ARTIFACTS, `audit-run${run}.log`), `${e.stdout}\n${e.stderr}`);
    throw e;
  });
  fs.writeFileSync(path.join(ARTIFACTS, `audit-run${run}.log`), `${stdout}\n${stderr}`);
  fs.copyFileSync(report, path.join(ARTIFACTS, `audit-run${run}.md`));
  return { stdout: stdout.trim(), secs: (Date.now() - started) / 1000, text: fs.readFileSync(report, 'utf8') };
}

/** The lines of a tile's section of the report (without its title and blank lines). */
function section(text, id) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith('### ') && l.endsWith(`(\`${id}\`)`));
  assert.ok(start >= 0, `no section for ${id} in:\n${text}`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => l.startsWith('### ') || l.startsWith('Seule la page'));
  return rest.slice(0, end).filter((l) => l !== '');
}

/** The expected sections, for the run that has looked back over `runs` answering runs. */
function expected(runs) {
  const unusedHead = runs === 1 ? 'lors du dernier passage' : `lors des ${runs} derniers passages`;
  const looked = runs === 1 ? '1 passage regardé' : `${runs} passages regardés`;
  return {
    actualites: [
      "- Adresse d'entrée : `https://www.institution.test/audit/news`",
      '- État : en ligne',
      "- Hôtes chargés ou tentés que ses règles refusent (ce dont la tuile a besoin) :",
      '  - `www.mairie.test` — 2 requêtes',
      `- Règles jamais vues ${unusedHead} ${UNUSED_HINT}`,
      '  - `institution.test`',
      '- Hôtes vus : `www.institution.test`, `www.mairie.test`',
    ],
    demenage: [
      `- Adresse d'entrée : \`${MOVED_ENTRY}\``,
      "- État : déplacée vers `https://idp.test/nouvelle-adresse` (redirection permanente), un hôte que les " +
        "règles de la tuile refusent : mettre à jour l'adresse d'entrée et les hôtes",
      "- Hôtes chargés ou tentés que ses règles refusent (ce dont la tuile a besoin) :",
      '  - `idp.test` — la page elle-même y est allée ; déjà permis pour : tuile `en-ligne`, groupe `idp`',
      `- Règles jamais vues : aucune (${looked})`,
      '- Hôtes vus : `idp.test`, `redirect.test`',
    ],
    disparue: [
      "- Adresse d'entrée : `https://www.institution.test/audit/disparue`",
      '- État : introuvable : le site répond 404 (page inexistante)',
      '- Hôtes refusés par ses règles : aucun',
      "- Règles jamais vues : pas d'avis, la page n'a pas répondu lors des derniers passages",
      '- Hôtes vus : `www.institution.test`',
    ],
    certificat: [
      "- Adresse d'entrée : `https://badcert.test/`",
      '- État : erreur TLS : certificat refusé ou connexion sécurisée impossible',
      '- Hôtes refusés par ses règles : aucun',
      "- Règles jamais vues : pas d'avis, la page n'a pas répondu lors des derniers passages",
      '- Hôtes vus : `badcert.test`',
    ],
    'en-ligne': [
      "- Adresse d'entrée : `https://plain.test/`",
      '- État : en ligne',
      '- Hôtes refusés par ses règles : aucun',
      `- Règles jamais vues ${unusedHead} ${UNUSED_HINT}`,
      '  - `ancien-cdn.test`',
      '  - `idp.test` (groupe `idp`, partagé)',
      '- Hôtes vus : `plain.test`',
    ],
  };
}

const SUMMARY =
  'Veille du catalogue : 5 tuiles ; en ligne 2, déplacées 1, introuvables 1, en erreur 0, injoignables 1 ; ' +
  `hôtes nouveaux pour 2, règles jamais vues pour 2. Rapport : ${report}`;

test('first run: the new host, the moved entry, the 404, the TLS error and the ok tile', async () => {
  const { stdout, secs, text } = await audit(1);
  console.log(`audit of 5 tiles: ${secs.toFixed(1)} s`);
  assert.equal(stdout, SUMMARY);
  for (const want of [
    '# Veille du catalogue',
    '- 5 tuiles ouvertes sans rien bloquer, 20 s au plus par page.',
    "- Adresse d'entrée à revoir : `demenage`, `disparue`, `certificat`.",
    '- Hôtes nouveaux, que les règles de la tuile refusent : `actualites`, `demenage`.',
    '- Règles jamais vues lors des derniers passages (à retirer ?) : `actualites`, `en-ligne`.',
  ]) {
    assert.ok(text.includes(want), `missing ${JSON.stringify(want)} in:\n${text}`);
  }
  for (const [id, lines] of Object.entries(expected(1))) {
    assert.deepEqual(section(text, id), lines, `section ${id}`);
  }
  // The page really fetched the new host's script; the window it opened was recorded, never loaded.
  const mairie = (await hostLog('www.mairie.test')).map((e) => e.path);
  assert.ok(mairie.includes('/audit/widget.js'), `the widget script was requested: ${mairie}`);
  assert.ok(!mairie.includes('/audit/fenetre'), 'the new window was not opened');
  // Only tiles whose page answered count in the history.
  const history = JSON.parse(fs.readFileSync(historyFile, 'utf8'));
  assert.equal(history.version, 1);
  assert.equal(history.runs.length, 1);
  assert.deepEqual(history.runs[0].tiles, {
    actualites: ['www.institution.test', 'www.mairie.test'],
    demenage: ['idp.test', 'redirect.test'],
    'en-ligne': ['plain.test'],
  });
});

test('second run: the history grows and the rules stay unseen over two runs', async () => {
  const { stdout, text } = await audit(2);
  assert.equal(stdout, SUMMARY);
  for (const [id, lines] of Object.entries(expected(2))) {
    assert.deepEqual(section(text, id), lines, `section ${id}`);
  }
  const history = JSON.parse(fs.readFileSync(historyFile, 'utf8'));
  assert.equal(history.runs.length, 2);
  assert.notEqual(history.runs[0].at, history.runs[1].at);
});

test('an output folder that cannot be written stops the watch with a French message', async () => {
  const blocker = `${stateDir}-file`;
  fs.writeFileSync(blocker, 'not a folder');
  const e = await execFileP(borneBinary(), ['--audit-catalogue', path.join(blocker, 'veille'), '--config', configDir, '--state', stateDir], {
    timeout: 30_000,
  }).then(
    () => null,
    (err) => err,
  );
  assert.ok(e, 'the watch must fail');
  assert.equal(e.code, 1);
  assert.match(e.stderr, /Veille impossible : le dossier .* ne peut pas être créé ou écrit/);
  assert.match(e.stderr, /output folder is not writable/);
});
