import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Makes sure the data directory exists and can be written, before anything is stored in it, so
 * that a bad DATA_DIR fails at startup with its name instead of at the first write.
 */
export async function ensureWritableDir(dir: string, variable: string): Promise<string> {
  const absolute = resolve(dir);
  try {
    await mkdir(absolute, { recursive: true });
    const probe = join(absolute, `.write-test-${process.pid}`);
    await writeFile(probe, 'ok');
    await rm(probe);
  } catch (err) {
    throw new ConfigError(
      `${variable}=${dir} is not a writable directory: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return absolute;
}
