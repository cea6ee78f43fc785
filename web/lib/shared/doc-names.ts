// Browser-safe: imported by the PWA and by both servers. No Node built-ins.

/**
 * Names of the Yjs documents that sync through `/sync/<name>`. A name is `<kind>` for a
 * singleton document or `<kind>.<id>` for one of many; the kind decides who may write it.
 */
export type DocName = { kind: 'cases' } | { kind: 'case'; id: string };

/** Documents only the server writes; client updates to them are dropped. */
export const SERVER_OWNED_KINDS: ReadonlySet<DocName['kind']> = new Set(['cases']);

const ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

export class InvalidDocName extends Error {
  override readonly name = 'InvalidDocName';
}

export function encodeDocName(doc: DocName): string {
  if (doc.kind === 'cases') return 'cases';
  if (!ID_PATTERN.test(doc.id)) {
    throw new InvalidDocName(`case id must be 8-64 characters of A-Z a-z 0-9 _ -, got "${doc.id}"`);
  }
  return `case.${doc.id}`;
}

export function decodeDocName(name: string): DocName {
  if (name === 'cases') return { kind: 'cases' };
  const dot = name.indexOf('.');
  const kind = dot === -1 ? name : name.slice(0, dot);
  if (kind === 'case' && dot !== -1) {
    const id = name.slice(dot + 1);
    if (ID_PATTERN.test(id)) return { kind: 'case', id };
    throw new InvalidDocName(`"${truncate(name)}" has a malformed case id`);
  }
  throw new InvalidDocName(
    `"${truncate(name)}" is not a document name (expected "cases" or "case.<id>")`,
  );
}

export function isServerOwned(doc: DocName): boolean {
  return SERVER_OWNED_KINDS.has(doc.kind);
}

/** A fresh random id for a case or an evidence item, usable offline. */
export function newId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function truncate(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
