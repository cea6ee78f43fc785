// Runs uvu test files given on the command line, or every *.test.ts under the given folders.
import { existsSync } from 'node:fs';
import { run } from 'uvu/run';
import { parse } from 'uvu/parse';

const targets = process.argv.slice(2);
const suites: { name: string; file: string }[] = [];
for (const target of targets.length ? targets : ['.']) {
  if (!existsSync(target)) continue;
  if (target.endsWith('.ts')) {
    suites.push({ name: target, file: new URL(target, `file://${process.cwd()}/`).pathname });
    continue;
  }
  const ctx = await parse(target, /\.test\.ts$/, {
    ignore: [/node_modules/, /\.svelte-kit/, /build\//],
  });
  suites.push(...ctx.suites);
}
await run(suites, { bail: false });
