import { Level } from 'level';

export class DatabaseUnavailable extends Error {
  override readonly name = 'DatabaseUnavailable';
}

/**
 * Opens a LevelDB database, turning LevelDB's terse failures into messages an operator can act
 * on: most often another Exhibit process holding the same DATA_DIR.
 */
export async function openLevel<V>(
  location: string,
  what: string,
  options: { valueEncoding: 'json' | 'view' | 'utf8' },
): Promise<Level<string, V>> {
  const db = new Level<string, V>(location, options);
  try {
    await db.open();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new DatabaseUnavailable(
        `the ${what} database at ${location} is in use by another process (is another Exhibit server running on this DATA_DIR?)`,
        { cause: err },
      );
    }
    throw new DatabaseUnavailable(
      `cannot open the ${what} database at ${location}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return db;
}
