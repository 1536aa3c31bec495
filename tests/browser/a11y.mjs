// axe-core for the browser tests: one check, shared by every test file.

import fs from 'node:fs';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';

let AXE_SOURCE;
try {
  AXE_SOURCE = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
} catch (e) {
  throw new Error(`axe-core is not installed (${e.message}): run \`bash scripts/browser-deps.sh\``);
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Runs axe-core's WCAG 2.0/2.1 A and AA rules on the page; fails listing every violation. */
export async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) {
    // Evaluated through the DevTools protocol, not as a <script> tag: the
    // Content-Security-Policy refuses inline script, as it should.
    await page.evaluate(AXE_SOURCE);
  }
  const result = await page.evaluate(
    tags => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }),
    AXE_TAGS,
  );
  const violations = result.violations.map(v => ({
    rule: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map(n => ({ target: n.target.join(' '), html: n.html.slice(0, 200), summary: n.failureSummary })),
  }));
  assert.deepEqual(violations, [], `axe-core found accessibility violations on ${what} (${page.url()}):\n${JSON.stringify(violations, null, 2)}`);
}
