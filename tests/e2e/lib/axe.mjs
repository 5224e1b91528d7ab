// Accessibility check of the page WebDriver is on: axe-core (tests/e2e/node_modules, installed by
// run.sh from package-lock.json) injected through WebDriver, WCAG 2.0/2.1 A and AA rules.

import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let source = null;

function axeSource() {
  if (!source) source = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  return source;
}

/**
 * The violations on the current page, as [{id, impact, help, nodes: [target…]}] (empty when clean).
 * Hidden parts of the page are not checked (axe skips them), so call it once per screen shown.
 */
export async function axeViolations(wd) {
  const result = await wd.executeAsyncScript(`${axeSource()}
    const done = arguments[arguments.length - 1];
    axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] })
      .then((r) => done(r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) }))))
      .catch((e) => done([{ id: 'axe-error', help: String(e) }]));
  `);
  return result;
}
