// Browser-safe: imported by the PWA and by the servers. No Node built-ins.
import * as Y from 'yjs';

/**
 * Annotations in a case document: timecoded notes, bookmarks, regions drawn on a picture and
 * threaded comments. Nothing else names these maps: read and write through this module.
 *
 * Shape: one top-level map per evidence item (`annotations.<evidenceId>`) and one for the case's
 * own comments (`annotations.case`), each holding one Y.Map per annotation keyed by its id.
 * Top-level maps cannot be created twice by two devices offline (a nested map made by each would
 * leave only one of them), and each item's annotations are observed on their own, so a case with
 * tens of thousands of them never re-reads everything on a change. The text of every annotation
 * is a Y.Text, so two people correcting the same note offline both keep their edits.
 */

export const ANNOTATION_KINDS = ['note', 'bookmark', 'region', 'comment'] as const;
export type AnnotationKind = (typeof ANNOTATION_KINDS)[number];

/** Where case-level comments live: evidence ids are 8 characters or more, so never this. */
export const CASE_TARGET = 'case';

const PREFIX = 'annotations.';
const LONGEST_TEXT = 20_000;
const MOST_POINTS = 500;

export interface Author {
  id: string;
  name: string;
}

/** Coordinates are fractions (0..1) of the picture's natural width and height. */
export type RegionShape =
  | { type: 'rectangle' | 'ellipse'; x: number; y: number; width: number; height: number }
  | { type: 'polygon'; points: Array<[number, number]> };

interface Common {
  id: string;
  /** The evidence item; undefined for a comment on the case itself. */
  evidenceId: string | undefined;
  author: Author;
  createdAt: string;
  editedAt: string | undefined;
  text: string;
}

export interface Note extends Common {
  kind: 'note';
  /** Seconds into the media; with `end`, a range. */
  time: number;
  end: number | undefined;
}

export interface Bookmark extends Common {
  kind: 'bookmark';
  time: number;
}

export interface Region extends Common {
  kind: 'region';
  /** The frame it was drawn on; undefined for a still picture. */
  time: number | undefined;
  shape: RegionShape;
}

export interface Comment extends Common {
  kind: 'comment';
  /** The comment this one answers; threads are one level deep. */
  parentId: string | undefined;
  /** Ids of the people it mentions. */
  mentions: string[];
}

export type Annotation = Note | Bookmark | Region | Comment;

export type NewAnnotation =
  | { kind: 'note'; time: number; end?: number; text: string }
  | { kind: 'bookmark'; time: number; text: string }
  | { kind: 'region'; time?: number; shape: RegionShape; text?: string }
  | { kind: 'comment'; parentId?: string; mentions?: string[]; text: string };

export class InvalidAnnotation extends Error {
  override readonly name = 'InvalidAnnotation';
}

/** The map of one target's annotations: an evidence id, or `CASE_TARGET` for the case. */
export function getAnnotations(doc: Y.Doc, target: string): Y.Map<Y.Map<unknown>> {
  return doc.getMap(PREFIX + target);
}

/** Every target that has annotations in this document, including ones only received so far. */
export function annotatedTargets(doc: Y.Doc): string[] {
  const targets: string[] = [];
  for (const name of doc.share.keys()) {
    if (name.startsWith(PREFIX)) targets.push(name.slice(PREFIX.length));
  }
  return targets;
}

/**
 * Adds an annotation in one transaction under `origin` (the writer's undo origin) and returns
 * its id.
 */
export function addAnnotation(
  doc: Y.Doc,
  target: string,
  input: NewAnnotation,
  meta: { id: string; author: Author; now: string },
  origin?: unknown,
): string {
  const { text, ...fields } = validate(input);
  doc.transact(() => {
    const item = new Y.Map<unknown>();
    item.set('kind', input.kind);
    item.set('author', { id: meta.author.id, name: meta.author.name });
    item.set('createdAt', meta.now);
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined) item.set(key, value);
    }
    item.set('text', new Y.Text(String(text ?? '')));
    getAnnotations(doc, target).set(meta.id, item);
  }, origin);
  return meta.id;
}

/**
 * Replaces an annotation's text by changing only what differs, so someone else's concurrent edit
 * elsewhere in the same text survives the merge.
 */
export function editAnnotationText(
  doc: Y.Doc,
  target: string,
  id: string,
  text: string,
  now: string,
  origin?: unknown,
): void {
  const item = getAnnotations(doc, target).get(id);
  const ytext = item?.get('text');
  if (!item || !(ytext instanceof Y.Text)) return;
  const next = checkText(text.trim());
  const current = ytext.toString();
  if (next === current) return;
  let start = 0;
  while (start < current.length && start < next.length && current[start] === next[start]) start++;
  let end = 0;
  while (
    end < current.length - start &&
    end < next.length - start &&
    current[current.length - 1 - end] === next[next.length - 1 - end]
  ) {
    end++;
  }
  doc.transact(() => {
    ytext.delete(start, current.length - start - end);
    ytext.insert(start, next.slice(start, next.length - end));
    item.set('editedAt', now);
  }, origin);
}

/** Moves a note, bookmark or region in time, or redraws a region. */
export function updateAnnotation(
  doc: Y.Doc,
  target: string,
  id: string,
  change: { time?: number; end?: number | null; shape?: RegionShape; mentions?: string[] },
  now: string,
  origin?: unknown,
): void {
  const item = getAnnotations(doc, target).get(id);
  if (!item) return;
  doc.transact(() => {
    if (change.time !== undefined) item.set('time', checkTime(change.time));
    if (change.end === null) item.delete('end');
    else if (change.end !== undefined) item.set('end', checkTime(change.end));
    if (change.shape !== undefined) item.set('shape', checkShape(change.shape));
    if (change.mentions !== undefined) item.set('mentions', checkMentions(change.mentions));
    item.set('editedAt', now);
  }, origin);
}

export function removeAnnotation(doc: Y.Doc, target: string, id: string, origin?: unknown): void {
  const map = getAnnotations(doc, target);
  if (!map.has(id)) return;
  doc.transact(() => map.delete(id), origin);
}

/**
 * Annotations of one target (an evidence id or `CASE_TARGET`), or of every target when none is
 * given, sorted for display (see `compareAnnotations`).
 */
export function readAnnotations(doc: Y.Doc, target?: string): Annotation[] {
  const out: Annotation[] = [];
  for (const t of target === undefined ? annotatedTargets(doc) : [target]) {
    for (const [id, item] of getAnnotations(doc, t)) {
      const annotation = readAnnotation(t, id, item);
      if (annotation) out.push(annotation);
    }
  }
  return out.sort(compareAnnotations);
}

/** Time order (comments, which have none, by when they were written), then creation. */
export function compareAnnotations(a: Annotation, b: Annotation): number {
  const ta = timeOf(a);
  const tb = timeOf(b);
  if (ta !== tb) return ta - tb;
  return a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id);
}

function timeOf(a: Annotation): number {
  return a.kind === 'comment' || a.time === undefined ? 0 : a.time;
}

/** What search indexes for one annotation: its words and who wrote it. */
export interface AnnotationText {
  id: string;
  evidenceId: string | undefined;
  kind: AnnotationKind;
  text: string;
  author: string;
  createdAt: string;
}

/** The searchable text of the case's annotations (all of them, or one target's). */
export function annotationTexts(doc: Y.Doc, target?: string): AnnotationText[] {
  return readAnnotations(doc, target).map((a) => ({
    id: a.id,
    evidenceId: a.evidenceId,
    kind: a.kind,
    text: a.text,
    author: a.author.name,
    createdAt: a.createdAt,
  }));
}

/**
 * Keeps `onChange` told of one target's annotations, reading again only those a change touched.
 * Returns the function that stops observing.
 */
export function observeAnnotations(
  doc: Y.Doc,
  target: string,
  onChange: (annotations: Annotation[]) => void,
): () => void {
  const map = getAnnotations(doc, target);
  const cache = new Map<string, Annotation>();
  const reread = (id: string) => {
    const item = map.get(id);
    const annotation = item ? readAnnotation(target, id, item) : undefined;
    if (annotation) cache.set(id, annotation);
    else cache.delete(id);
  };
  for (const id of map.keys()) reread(id);
  const observer = (events: Array<Y.YEvent<Y.AbstractType<unknown>>>) => {
    const touched = new Set<string>();
    for (const event of events) {
      if (event.target === map) {
        for (const key of event.changes.keys.keys()) touched.add(key);
      } else {
        const id = event.path[0];
        if (typeof id === 'string') touched.add(id);
      }
    }
    for (const id of touched) reread(id);
    onChange([...cache.values()].sort(compareAnnotations));
  };
  map.observeDeep(observer);
  onChange([...cache.values()].sort(compareAnnotations));
  return () => map.unobserveDeep(observer);
}

// --- reading and checking ----------------------------------------------------------------

function readAnnotation(target: string, id: string, item: Y.Map<unknown>): Annotation | undefined {
  const kind = item.get('kind');
  const author = item.get('author') as { id?: unknown; name?: unknown } | undefined;
  const ytext = item.get('text');
  if (typeof author?.id !== 'string' || typeof author.name !== 'string') return undefined;
  const common: Common = {
    id,
    evidenceId: target === CASE_TARGET ? undefined : target,
    author: { id: author.id, name: author.name },
    createdAt: String(item.get('createdAt') ?? ''),
    editedAt: optionalString(item.get('editedAt')),
    text: ytext instanceof Y.Text ? ytext.toString() : '',
  };
  const time = finite(item.get('time'));
  switch (kind) {
    case 'note':
      return time === undefined
        ? undefined
        : { ...common, kind, time, end: finite(item.get('end')) };
    case 'bookmark':
      return time === undefined ? undefined : { ...common, kind, time };
    case 'region': {
      const shape = readShape(item.get('shape'));
      return shape ? { ...common, kind, time, shape } : undefined;
    }
    case 'comment': {
      const mentions = item.get('mentions');
      return {
        ...common,
        kind,
        parentId: optionalString(item.get('parentId')),
        mentions: Array.isArray(mentions)
          ? mentions.filter((m): m is string => typeof m === 'string')
          : [],
      };
    }
    default:
      return undefined;
  }
}

function readShape(raw: unknown): RegionShape | undefined {
  try {
    return raw ? checkShape(raw as RegionShape) : undefined;
  } catch {
    return undefined;
  }
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function validate(input: NewAnnotation): Record<string, unknown> {
  switch (input.kind) {
    case 'note': {
      const time = checkTime(input.time);
      const end = input.end === undefined ? undefined : checkTime(input.end);
      if (end !== undefined && end < time) {
        throw new InvalidAnnotation('a note cannot end before it starts');
      }
      return { time, end, text: needText(input.text, 'a note') };
    }
    case 'bookmark':
      return { time: checkTime(input.time), text: needText(input.text, 'a bookmark') };
    case 'region':
      return {
        time: input.time === undefined ? undefined : checkTime(input.time),
        shape: checkShape(input.shape),
        text: checkText(input.text?.trim() ?? ''),
      };
    case 'comment':
      return {
        parentId: input.parentId,
        mentions: checkMentions(input.mentions ?? []),
        text: needText(input.text, 'a comment'),
      };
  }
}

function needText(text: string, what: string): string {
  const trimmed = checkText(text.trim());
  if (!trimmed) throw new InvalidAnnotation(`${what} needs some text`);
  return trimmed;
}

function checkText(text: string): string {
  if (text.length > LONGEST_TEXT) {
    throw new InvalidAnnotation(`the text can be at most ${LONGEST_TEXT} characters`);
  }
  return text;
}

function checkTime(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidAnnotation('a time must be a number of seconds, 0 or more');
  }
  return seconds;
}

function checkMentions(ids: string[]): string[] {
  return [...new Set(ids.filter((id) => typeof id === 'string' && id.length > 0))];
}

function fraction(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
    throw new InvalidAnnotation('region coordinates must be fractions of the picture (0 to 1)');
  }
  return value;
}

function checkShape(shape: RegionShape): RegionShape {
  if (shape.type === 'polygon') {
    if (!Array.isArray(shape.points) || shape.points.length < 3) {
      throw new InvalidAnnotation('a freehand region needs at least 3 points');
    }
    if (shape.points.length > MOST_POINTS) {
      throw new InvalidAnnotation(`a freehand region can have at most ${MOST_POINTS} points`);
    }
    return {
      type: 'polygon',
      points: shape.points.map(([x, y]) => [fraction(x), fraction(y)] as [number, number]),
    };
  }
  if (shape.type !== 'rectangle' && shape.type !== 'ellipse') {
    throw new InvalidAnnotation('a region is a rectangle, an ellipse or a polygon');
  }
  const out = {
    type: shape.type,
    x: fraction(shape.x),
    y: fraction(shape.y),
    width: fraction(shape.width),
    height: fraction(shape.height),
  };
  if (out.x + out.width > 1.000001 || out.y + out.height > 1.000001) {
    throw new InvalidAnnotation('a region must lie within the picture');
  }
  if (out.width === 0 || out.height === 0) {
    throw new InvalidAnnotation('a region needs a width and a height');
  }
  return out;
}
