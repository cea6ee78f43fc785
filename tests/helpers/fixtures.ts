import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Test fixtures live in `../shared/fixtures` beside the checkout (CI lays them out the same way);
 * FIXTURES_DIR overrides that.
 */
export function fixturePath(name: string): string {
  const dir = resolve(
    process.env.FIXTURES_DIR ?? join(import.meta.dirname, '../../../shared/fixtures'),
  );
  const path = join(dir, name);
  if (!existsSync(path)) {
    throw new Error(
      `test fixture ${name} not found in ${dir}; put shared/ beside the checkout or set FIXTURES_DIR`,
    );
  }
  return path;
}
