// Browser-safe: imported by the PWA and by the servers. No Node built-ins.
import * as Y from 'yjs';
import {
  AUDIO_MODES,
  DEFAULT_STYLE,
  MASK_SHAPES,
  MASK_STYLES,
  emptyRecipe,
  type AudioMode,
  type AudioRange,
  type Box,
  type ManualMask,
  type MaskKeyframe,
  type MaskShape,
  type MaskStyle,
  type RedactionRecipe,
} from '../../../wasm/redact/recipe.ts';

/**
 * The redaction recipe of each evidence item in a case document: the faces chosen, the manual
 * masks, the audio ranges, the style, and the redacted copies rendered from it. Nothing else names
 * these maps: read and write through this module.
 *
 * Shape: one top-level map per evidence item (`redaction.<evidenceId>`). Two devices offline
 * cannot both create a top-level map (they can a nested one, and one of the two would be lost), so
 * every collection is flat keys in that one map, each entry its own key:
 *
 * - `style`, `strength`, `color`, `padding`, `removeTrack`, `analysis`: one key each, so one
 *   reviewer changing the strength and another the colour both keep theirs;
 * - `track:<trackId>` → true: a face chosen for masking (the keys are a set);
 * - `merge:<trackId>` → the track it was merged into (a track joins at most one other);
 * - `mask:<id>` → a Y.Map per manual mask (shape, label, from, to) with its keyframes in a nested
 *   Y.Map keyed by time, made with the mask, so two people adding keyframes at different times
 *   both keep theirs;
 * - `audio:<id>` → a Y.Map per audio range (start, end, mode);
 * - `render:<resultEvidenceId>` → a redacted copy made from the recipe.
 */

const PREFIX = 'redaction.';
const TRACK = 'track:';
const MERGE = 'merge:';
const MASK = 'mask:';
const AUDIO = 'audio:';
const RENDER = 'render:';

const EVIDENCE_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Ids of masks and ranges (made here), and of tracks (made by the face tracker). */
const ITEM_ID = /^[A-Za-z0-9_.-]{1,64}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const HEX_COLOUR = /^#[0-9a-f]{6}$/;
const LONGEST_LABEL = 200;
const MOST_POINTS = 500;
/** Padding is a fraction of each mask's size: 0 (none) to 2 (three times as large). */
export const MAX_PADDING = 2;

export class InvalidRecipe extends Error {
  override readonly name = 'InvalidRecipe';
}

/** A redacted copy made from an item's recipe, as recorded on the original's recipe. */
export interface RenderRecord {
  resultEvidenceId: string;
  /** SHA-256 of the rendered file. */
  sha256: string;
  /** SHA-256 of the recipe's snapshot (`recipeSnapshot`) it was rendered from. */
  recipeHash: string;
  by: { id: string; name: string };
  at: string;
}

/** The map of one item's recipe, for undo scopes; read and write it through this module. */
export function getRecipeMap(doc: Y.Doc, evidenceId: string): Y.Map<unknown> {
  if (!EVIDENCE_ID.test(evidenceId)) {
    throw new InvalidRecipe(`"${evidenceId}" is not an evidence id`);
  }
  return doc.getMap(PREFIX + evidenceId);
}

/** Every evidence item with a redaction recipe in this document. */
export function redactedItems(doc: Y.Doc): string[] {
  const items: string[] = [];
  for (const name of doc.share.keys()) {
    if (name.startsWith(PREFIX)) items.push(name.slice(PREFIX.length));
  }
  return items;
}

// --- reading ---------------------------------------------------------------------------------

/**
 * The item's recipe as plain data, in a fixed order (tracks and merges by id, masks by start,
 * keyframes and ranges by time), so equal recipes snapshot and hash the same. Entries another
 * device wrote that do not make sense are left out.
 */
export function readRecipe(doc: Y.Doc, evidenceId: string, sourceSha256: string): RedactionRecipe {
  const map = getRecipeMap(doc, evidenceId);
  const recipe = emptyRecipe(sourceSha256);
  const kind = map.get('style');
  const strength = map.get('strength');
  const color = map.get('color');
  recipe.style = {
    kind: (MASK_STYLES as readonly unknown[]).includes(kind)
      ? (kind as MaskStyle['kind'])
      : DEFAULT_STYLE.kind,
    strength: isStrength(strength) ? strength : DEFAULT_STYLE.strength,
    color: typeof color === 'string' && HEX_COLOUR.test(color) ? color : DEFAULT_STYLE.color,
  };
  const padding = map.get('padding');
  if (isPadding(padding)) recipe.padding = padding;
  const analysis = map.get('analysis');
  if (typeof analysis === 'string' && SHA256_HEX.test(analysis)) recipe.faces.analysis = analysis;
  recipe.audio.removeTrack = map.get('removeTrack') === true;
  for (const [key, value] of map) {
    if (key.startsWith(TRACK) && value === true) {
      recipe.faces.selected.push(key.slice(TRACK.length));
    } else if (key.startsWith(MERGE) && typeof value === 'string') {
      recipe.faces.merges.push([value, key.slice(MERGE.length)]);
    } else if (key.startsWith(MASK) && value instanceof Y.Map) {
      const mask = readMask(key.slice(MASK.length), value as Y.Map<unknown>);
      if (mask) recipe.masks.push(mask);
    } else if (key.startsWith(AUDIO) && value instanceof Y.Map) {
      const range = readRange(key.slice(AUDIO.length), value as Y.Map<unknown>);
      if (range) recipe.audio.ranges.push(range);
    }
  }
  recipe.faces.selected.sort(byText);
  recipe.faces.merges.sort((a, b) => byText(a[1], b[1]));
  recipe.masks.sort((a, b) => a.from - b.from || byText(a.id, b.id));
  recipe.audio.ranges.sort((a, b) => a.start - b.start || byText(a.id, b.id));
  return recipe;
}

/** The redacted copies rendered from the item's recipe, oldest first. */
export function readRenders(doc: Y.Doc, evidenceId: string): RenderRecord[] {
  const out: RenderRecord[] = [];
  for (const [key, value] of getRecipeMap(doc, evidenceId)) {
    if (!key.startsWith(RENDER)) continue;
    const r = value as Partial<Record<keyof RenderRecord, unknown>> | undefined;
    const by = r?.by as { id?: unknown; name?: unknown } | undefined;
    if (
      typeof r?.sha256 === 'string' &&
      typeof r.recipeHash === 'string' &&
      typeof r.at === 'string' &&
      typeof by?.id === 'string' &&
      typeof by.name === 'string'
    ) {
      out.push({
        resultEvidenceId: key.slice(RENDER.length),
        sha256: r.sha256,
        recipeHash: r.recipeHash,
        by: { id: by.id, name: by.name },
        at: r.at,
      });
    }
  }
  return out.sort(
    (a, b) => a.at.localeCompare(b.at) || byText(a.resultEvidenceId, b.resultEvidenceId),
  );
}

/**
 * Keeps `onChange` told of the item's recipe and renders, whoever changes them. Returns the
 * function that stops observing.
 */
export function observeRecipe(
  doc: Y.Doc,
  evidenceId: string,
  sourceSha256: string,
  onChange: (recipe: RedactionRecipe, renders: RenderRecord[]) => void,
): () => void {
  const map = getRecipeMap(doc, evidenceId);
  const observer = () =>
    onChange(readRecipe(doc, evidenceId, sourceSha256), readRenders(doc, evidenceId));
  map.observeDeep(observer);
  observer();
  return () => map.unobserveDeep(observer);
}

/**
 * The recipe as one line of JSON with its keys in a fixed order: what a rendered copy records
 * as the recipe it was made from, and what `recipeHash` hashes.
 */
export function recipeSnapshot(recipe: RedactionRecipe): string {
  return JSON.stringify(sortKeys(recipe));
}

/** SHA-256 (hex) of the recipe's snapshot: equal for recipes that render the same. */
export async function recipeHash(recipe: RedactionRecipe): Promise<string> {
  const bytes = new TextEncoder().encode(recipeSnapshot(recipe));
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[key];
    if (v !== undefined) out[key] = sortKeys(v);
  }
  return out;
}

// --- style and faces -------------------------------------------------------------------------

export function setStyle(
  doc: Y.Doc,
  evidenceId: string,
  change: Partial<MaskStyle>,
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  if (change.kind !== undefined && !(MASK_STYLES as readonly string[]).includes(change.kind)) {
    throw new InvalidRecipe('a mask style is blur, pixelate or fill');
  }
  if (change.strength !== undefined && !isStrength(change.strength)) {
    throw new InvalidRecipe('the strength is a whole number from 1 to 100');
  }
  const color = change.color?.toLowerCase();
  if (color !== undefined && !HEX_COLOUR.test(color)) {
    throw new InvalidRecipe(
      `the fill colour is a hex colour such as #000000, not "${change.color}"`,
    );
  }
  doc.transact(() => {
    if (change.kind !== undefined) map.set('style', change.kind);
    if (change.strength !== undefined) map.set('strength', change.strength);
    if (color !== undefined) map.set('color', color);
  }, origin);
}

export function setPadding(
  doc: Y.Doc,
  evidenceId: string,
  padding: number,
  origin?: unknown,
): void {
  if (!isPadding(padding)) {
    throw new InvalidRecipe(
      `the padding is a fraction of the mask's size from 0 to ${MAX_PADDING}`,
    );
  }
  const map = getRecipeMap(doc, evidenceId);
  doc.transact(() => map.set('padding', padding), origin);
}

/**
 * Names the stored face analysis (by its SHA-256) that the recipe's tracks come from. A new
 * analysis has new tracks, so the faces chosen from the last one and their merges are cleared.
 */
export function setAnalysis(
  doc: Y.Doc,
  evidenceId: string,
  sha256: string,
  origin?: unknown,
): void {
  if (!SHA256_HEX.test(sha256)) {
    throw new InvalidRecipe('a face analysis is named by its SHA-256: 64 hexadecimal digits');
  }
  const map = getRecipeMap(doc, evidenceId);
  if (map.get('analysis') === sha256) return;
  doc.transact(() => {
    for (const key of [...map.keys()]) {
      if (key.startsWith(TRACK) || key.startsWith(MERGE)) map.delete(key);
    }
    map.set('analysis', sha256);
  }, origin);
}

export function selectTracks(
  doc: Y.Doc,
  evidenceId: string,
  trackIds: readonly string[],
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  const ids = trackIds.map(checkTrackId);
  doc.transact(() => {
    for (const id of ids) if (map.get(TRACK + id) !== true) map.set(TRACK + id, true);
  }, origin);
}

export function deselectTracks(
  doc: Y.Doc,
  evidenceId: string,
  trackIds: readonly string[],
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  const ids = trackIds.map(checkTrackId);
  doc.transact(() => {
    for (const id of ids) map.delete(TRACK + id);
  }, origin);
}

/**
 * Chooses exactly `allTrackIds` except `except` ("all", or "all but the officer"); anything
 * chosen before and not in that list is let go. With an empty list, chooses none.
 */
export function selectAllTracks(
  doc: Y.Doc,
  evidenceId: string,
  allTrackIds: readonly string[],
  except: readonly string[] = [],
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  const skip = new Set(except.map(checkTrackId));
  const wanted = new Set(allTrackIds.map(checkTrackId).filter((id) => !skip.has(id)));
  doc.transact(() => {
    for (const key of [...map.keys()]) {
      if (key.startsWith(TRACK) && !wanted.has(key.slice(TRACK.length))) map.delete(key);
    }
    for (const id of wanted) if (map.get(TRACK + id) !== true) map.set(TRACK + id, true);
  }, origin);
}

/** Records that `merged` is the same person as `kept`: their sightings become one face. */
export function mergeTracks(
  doc: Y.Doc,
  evidenceId: string,
  kept: string,
  merged: string,
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  checkTrackId(kept);
  checkTrackId(merged);
  if (kept === merged) throw new InvalidRecipe('a face cannot be merged with itself');
  // Follow `kept` to the face it is part of: reaching `merged` would make a loop.
  const seen = new Set<string>();
  for (let at: unknown = kept; typeof at === 'string' && !seen.has(at); at = map.get(MERGE + at)) {
    if (at === merged) {
      throw new InvalidRecipe(`face ${kept} is already merged into ${merged}`);
    }
    seen.add(at);
  }
  doc.transact(() => map.set(MERGE + merged, kept), origin);
}

/** Makes a merged track its own face again. */
export function separateTrack(
  doc: Y.Doc,
  evidenceId: string,
  merged: string,
  origin?: unknown,
): void {
  removeEntry(doc, evidenceId, MERGE + checkTrackId(merged), origin);
}

// --- manual masks ----------------------------------------------------------------------------

/** Adds a manual mask with its keyframes in one transaction and returns its id. */
export function addMask(
  doc: Y.Doc,
  evidenceId: string,
  input: ManualMask,
  origin?: unknown,
): string {
  const map = getRecipeMap(doc, evidenceId);
  const id = checkItemId(input.id, 'mask');
  const shape = checkShape(input.shape);
  const { from, to } = checkSpan(input.from, input.to);
  const label = checkLabel(input.label);
  if (input.keyframes.length === 0) throw new InvalidRecipe('a mask needs at least one keyframe');
  const keyframes = input.keyframes.map((k) => checkKeyframe(k, shape));
  checkSamePointCount(keyframes);
  if (map.has(MASK + id)) throw new InvalidRecipe(`there is already a mask ${id}`);
  doc.transact(() => {
    const mask = new Y.Map<unknown>();
    mask.set('shape', shape);
    mask.set('label', label);
    mask.set('from', from);
    mask.set('to', to);
    const frames = new Y.Map<unknown>();
    for (const k of keyframes) frames.set(timeKey(k.t), k);
    mask.set('keyframes', frames);
    map.set(MASK + id, mask);
  }, origin);
  return id;
}

/** Changes a mask's label, shape or the span it applies to. */
export function updateMask(
  doc: Y.Doc,
  evidenceId: string,
  id: string,
  change: Partial<Pick<ManualMask, 'label' | 'from' | 'to' | 'shape'>>,
  origin?: unknown,
): void {
  const mask = requireMask(doc, evidenceId, id);
  const from = change.from ?? (mask.get('from') as number);
  const to = change.to ?? (mask.get('to') as number);
  checkSpan(from, to);
  const label = change.label === undefined ? undefined : checkLabel(change.label);
  const shape = change.shape === undefined ? undefined : checkShape(change.shape);
  if (shape === 'polygon' && mask.get('shape') !== 'polygon') {
    throw new InvalidRecipe(
      'a rectangle or ellipse cannot become a freehand shape: draw a new mask',
    );
  }
  setFields(doc, mask, { from: change.from, to: change.to, label, shape }, origin);
}

/** Sets where the mask is at `keyframe.t` (replacing a keyframe at that very time). */
export function setMaskKeyframe(
  doc: Y.Doc,
  evidenceId: string,
  id: string,
  keyframe: MaskKeyframe,
  origin?: unknown,
): void {
  const mask = requireMask(doc, evidenceId, id);
  const shape = checkShape(mask.get('shape') as MaskShape);
  const checked = checkKeyframe(keyframe, shape);
  const frames = mask.get('keyframes');
  if (!(frames instanceof Y.Map)) throw new InvalidRecipe(`mask ${id} has no keyframes`);
  const others = [...(frames as Y.Map<MaskKeyframe>).values()];
  checkSamePointCount([...others, checked]);
  doc.transact(() => frames.set(timeKey(checked.t), checked), origin);
}

/** Removes the keyframe at `t`; the last keyframe of a mask stays (remove the mask instead). */
export function removeMaskKeyframe(
  doc: Y.Doc,
  evidenceId: string,
  id: string,
  t: number,
  origin?: unknown,
): void {
  const mask = requireMask(doc, evidenceId, id);
  const frames = mask.get('keyframes');
  const key = timeKey(checkTime(t, 'a keyframe time'));
  if (!(frames instanceof Y.Map) || !frames.has(key)) return;
  if (frames.size === 1) {
    throw new InvalidRecipe('a mask keeps at least one keyframe: remove the mask instead');
  }
  doc.transact(() => frames.delete(key), origin);
}

export function removeMask(doc: Y.Doc, evidenceId: string, id: string, origin?: unknown): void {
  removeEntry(doc, evidenceId, MASK + id, origin);
}

// --- audio -----------------------------------------------------------------------------------

export function addAudioRange(
  doc: Y.Doc,
  evidenceId: string,
  input: AudioRange,
  origin?: unknown,
): string {
  const map = getRecipeMap(doc, evidenceId);
  const id = checkItemId(input.id, 'audio range');
  const { start, end } = checkRange(input.start, input.end);
  const mode = checkMode(input.mode);
  if (map.has(AUDIO + id)) throw new InvalidRecipe(`there is already an audio range ${id}`);
  doc.transact(() => {
    const range = new Y.Map<unknown>();
    map.set(AUDIO + id, range);
    setFields(doc, range, { start, end, mode });
  }, origin);
  return id;
}

export function updateAudioRange(
  doc: Y.Doc,
  evidenceId: string,
  id: string,
  change: Partial<Pick<AudioRange, 'start' | 'end' | 'mode'>>,
  origin?: unknown,
): void {
  const range = getRecipeMap(doc, evidenceId).get(AUDIO + id);
  if (!(range instanceof Y.Map)) throw new InvalidRecipe(`there is no audio range ${id}`);
  const start = change.start ?? (range.get('start') as number);
  const end = change.end ?? (range.get('end') as number);
  checkRange(start, end);
  const mode = change.mode === undefined ? undefined : checkMode(change.mode);
  setFields(doc, range as Y.Map<unknown>, { start: change.start, end: change.end, mode }, origin);
}

export function removeAudioRange(
  doc: Y.Doc,
  evidenceId: string,
  id: string,
  origin?: unknown,
): void {
  removeEntry(doc, evidenceId, AUDIO + id, origin);
}

/** Leaves the sound out of the redacted copy altogether (or, with false, keeps it). */
export function setRemoveAudio(
  doc: Y.Doc,
  evidenceId: string,
  remove: boolean,
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  doc.transact(() => map.set('removeTrack', remove === true), origin);
}

// --- renders ---------------------------------------------------------------------------------

/** Records a redacted copy made from the recipe on the original's recipe. */
export function recordRender(
  doc: Y.Doc,
  evidenceId: string,
  render: RenderRecord,
  origin?: unknown,
): void {
  const map = getRecipeMap(doc, evidenceId);
  if (!EVIDENCE_ID.test(render.resultEvidenceId)) {
    throw new InvalidRecipe(`"${render.resultEvidenceId}" is not an evidence id`);
  }
  if (!SHA256_HEX.test(render.sha256) || !SHA256_HEX.test(render.recipeHash)) {
    throw new InvalidRecipe('a render names its file and its recipe by SHA-256');
  }
  if (!render.by.id || !render.at) throw new InvalidRecipe('a render says who made it and when');
  doc.transact(
    () =>
      map.set(RENDER + render.resultEvidenceId, {
        sha256: render.sha256,
        recipeHash: render.recipeHash,
        by: { id: render.by.id, name: render.by.name },
        at: render.at,
      }),
    origin,
  );
}

/** Sets the fields given (undefined ones are left as they are) in one transaction. */
function setFields(
  doc: Y.Doc,
  item: Y.Map<unknown>,
  fields: Record<string, unknown>,
  origin?: unknown,
): void {
  doc.transact(() => {
    for (const [key, value] of Object.entries(fields))
      if (value !== undefined) item.set(key, value);
  }, origin);
}

function removeEntry(doc: Y.Doc, evidenceId: string, key: string, origin?: unknown): void {
  const map = getRecipeMap(doc, evidenceId);
  if (!map.has(key)) return;
  doc.transact(() => map.delete(key), origin);
}

// --- reading entries -------------------------------------------------------------------------

function readMask(id: string, item: Y.Map<unknown>): ManualMask | undefined {
  try {
    const shape = checkShape(item.get('shape') as MaskShape);
    const { from, to } = checkSpan(item.get('from') as number, item.get('to') as number);
    const frames = item.get('keyframes');
    if (!(frames instanceof Y.Map)) return undefined;
    const keyframes: MaskKeyframe[] = [];
    for (const raw of (frames as Y.Map<MaskKeyframe>).values()) {
      try {
        keyframes.push(checkKeyframe(raw, shape));
      } catch {
        // One bad keyframe from another device does not lose the rest of the mask.
      }
    }
    if (keyframes.length === 0) return undefined;
    keyframes.sort((a, b) => a.t - b.t);
    const label = item.get('label');
    return {
      id,
      shape,
      label: typeof label === 'string' ? label : '',
      from,
      to,
      keyframes,
    };
  } catch {
    return undefined;
  }
}

function readRange(id: string, item: Y.Map<unknown>): AudioRange | undefined {
  try {
    const { start, end } = checkRange(item.get('start') as number, item.get('end') as number);
    return { id, start, end, mode: checkMode(item.get('mode') as AudioMode) };
  } catch {
    return undefined;
  }
}

function requireMask(doc: Y.Doc, evidenceId: string, id: string): Y.Map<unknown> {
  const mask = getRecipeMap(doc, evidenceId).get(MASK + id);
  if (!(mask instanceof Y.Map)) throw new InvalidRecipe(`there is no mask ${id}`);
  return mask as Y.Map<unknown>;
}

// --- checking --------------------------------------------------------------------------------

/** Keyframes are keyed by their time to the millisecond: one keyframe per moment. */
function timeKey(t: number): string {
  return t.toFixed(3);
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function isStrength(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 100;
}

function isPadding(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_PADDING;
}

function checkTrackId(id: string): string {
  if (typeof id !== 'string' || !ITEM_ID.test(id)) {
    throw new InvalidRecipe(`"${String(id)}" is not a face track id`);
  }
  return id;
}

function checkItemId(id: string, what: string): string {
  if (typeof id !== 'string' || !ITEM_ID.test(id)) {
    throw new InvalidRecipe(`"${String(id)}" is not a ${what} id`);
  }
  return id;
}

function checkTime(seconds: number, what: string): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new InvalidRecipe(`${what} must be a number of seconds, 0 or more`);
  }
  return seconds;
}

function checkSpan(from: number, to: number): { from: number; to: number } {
  checkTime(from, 'a mask’s start');
  checkTime(to, 'a mask’s end');
  if (to < from) throw new InvalidRecipe('a mask cannot end before it starts');
  return { from, to };
}

function checkRange(start: number, end: number): { start: number; end: number } {
  checkTime(start, 'an audio range’s start');
  checkTime(end, 'an audio range’s end');
  if (end <= start) throw new InvalidRecipe('an audio range must end after it starts');
  return { start, end };
}

function checkMode(mode: AudioMode): AudioMode {
  if (!(AUDIO_MODES as readonly string[]).includes(mode)) {
    throw new InvalidRecipe('an audio range is muted or replaced by a tone');
  }
  return mode;
}

function checkShape(shape: MaskShape): MaskShape {
  if (!(MASK_SHAPES as readonly string[]).includes(shape)) {
    throw new InvalidRecipe('a mask is a rectangle, an ellipse or a freehand polygon');
  }
  return shape;
}

function checkLabel(label: string): string {
  const trimmed = String(label ?? '').trim();
  if (trimmed.length > LONGEST_LABEL) {
    throw new InvalidRecipe(`a mask's label can be at most ${LONGEST_LABEL} characters`);
  }
  return trimmed;
}

function coordinate(value: unknown, low: number, high: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < low || value > high) {
    throw new InvalidRecipe('mask coordinates must be fractions of the picture');
  }
  return value;
}

/**
 * A box in fractions of the frame. A mask following someone may run partly off the picture, so
 * a box may start before the edge by up to its own size, but it must overlap the frame.
 */
function checkBox(box: Box): Box {
  if (typeof box !== 'object' || box === null) throw new InvalidRecipe('a keyframe needs a box');
  const w = coordinate(box.w, 0, 2);
  const h = coordinate(box.h, 0, 2);
  if (w === 0 || h === 0) throw new InvalidRecipe('a mask needs a width and a height');
  const x = coordinate(box.x, -w, 1);
  const y = coordinate(box.y, -h, 1);
  return { x, y, w, h };
}

function checkKeyframe(keyframe: MaskKeyframe, shape: MaskShape): MaskKeyframe {
  if (typeof keyframe !== 'object' || keyframe === null) {
    throw new InvalidRecipe('a keyframe has a time and a box');
  }
  const t = checkTime(keyframe.t, 'a keyframe time');
  const box = checkBox(keyframe.box);
  if (shape !== 'polygon') return { t, box };
  const points = keyframe.points;
  if (!Array.isArray(points) || points.length < 3) {
    throw new InvalidRecipe('a freehand mask needs at least 3 points');
  }
  if (points.length > MOST_POINTS) {
    throw new InvalidRecipe(`a freehand mask can have at most ${MOST_POINTS} points`);
  }
  return {
    t,
    box,
    points: points.map(
      ([x, y]) => [coordinate(x, -1, 2), coordinate(y, -1, 2)] as [number, number],
    ),
  };
}

function checkSamePointCount(keyframes: readonly MaskKeyframe[]): void {
  const counts = new Set(keyframes.map((k) => k.points?.length ?? 0));
  if (counts.size > 1) {
    throw new InvalidRecipe('every keyframe of a freehand mask needs the same number of points');
  }
}
