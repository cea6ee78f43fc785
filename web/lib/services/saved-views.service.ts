import { liveQuery } from 'dexie';
import { localDb } from '$lib/db/local-db';
import { newId } from '$lib/shared/doc-names';
import { asCaseQuery, type CaseQuery } from '$lib/search/case-query';
import { InvalidInput } from '$lib/services/case.service';

export interface SavedView {
  id: string;
  name: string;
  query: CaseQuery;
}

/**
 * Case list views saved by the signed-in person on this device (their own database, so the next
 * person on a shared device does not see them). They are not synced to other devices.
 */
export function watchSavedViews(
  onChange: (views: SavedView[]) => void,
  onError: (err: unknown) => void,
): { unsubscribe(): void } {
  return liveQuery(() => localDb().savedViews.orderBy('name').toArray()).subscribe({
    next: (rows) =>
      onChange(rows.map((row) => ({ id: row.id, name: row.name, query: asCaseQuery(row.query) }))),
    error: onError,
  });
}

/** Saves the list's query under a name; the same name again replaces that view. */
export async function saveView(name: string, query: CaseQuery): Promise<string> {
  const trimmed = name.trim();
  if (!trimmed) throw new InvalidInput('Give the view a name.');
  if (trimmed.length > 80) throw new InvalidInput('A view name can be at most 80 characters.');
  const db = localDb();
  return db.transaction('rw', db.savedViews, async () => {
    const same = await db.savedViews.where('name').equals(trimmed).first();
    const id = same?.id ?? newId();
    await db.savedViews.put({
      id,
      name: trimmed,
      query: { ...query },
      createdAt: new Date().toISOString(),
    });
    return id;
  });
}

export async function deleteView(id: string): Promise<void> {
  await localDb().savedViews.delete(id);
}
