import type * as Y from 'yjs';
import { sessionManager } from '$lib/managers/session-manager.svelte';
import { uploadManager } from '$lib/managers/upload-manager.svelte';
import { atLeast } from '$lib/shared/access-policy';
import type { EvidenceRecord } from '$lib/shared/case-doc';
import { recipeHash, recipeSnapshot, recordRender, setAnalysis } from '$lib/shared/redaction-doc';
import { browserTransport } from '$lib/upload/browser-transport';
import { evidencePreviewUrl, storeDerivedFile } from '$lib/services/evidence.service';
import { getCaseRetention } from '$lib/services/retention.service';
import { sha256OfFile } from '$lib/utils/sha256';
import { checkRenderable, parseAnalysis } from '$lib/redaction/recipe-check';
import type { RedactionProgress } from '../../../wasm/redact/progress.ts';
import type { FaceAnalysis, RedactionRecipe } from '../../../wasm/redact/recipe.ts';

/**
 * Redacting a video: finding its faces, keeping what was found with the case, and rendering a
 * redacted copy that joins the case as new evidence. The original is only ever read.
 */

/** The file the redaction is made from: the verified original, by its server digest. */
function originalOf(record: EvidenceRecord): { url: string; sha256: string } {
  const sha256 = record.serverSha256 ?? record.sha256;
  if (record.state !== 'verified' || !sha256) {
    throw new Error('This file is not on the server yet: it can be redacted once it is verified.');
  }
  // Read in ranges as the engine needs them, so a 2 GB original is never fetched whole.
  return { url: new URL(evidencePreviewUrl(record), location.href).href, sha256 };
}

const token = async (renew: boolean) => {
  if (renew && (await sessionManager.renew()) !== 'ok') return undefined;
  return sessionManager.token();
};

function signedInUser(): { id: string; name: string } {
  const user = sessionManager.user;
  if (!user) throw new Error('Sign in to redact.');
  return { id: user.id, name: user.name };
}

/**
 * Whether the signed-in person may change the case (contribute or manage): the studio offers
 * viewers no controls. Unknown (offline) counts as allowed; the server decides in the end.
 */
export async function mayRedact(caseId: string, signal?: AbortSignal): Promise<boolean> {
  try {
    return atLeast((await getCaseRetention(caseId, signal)).level, 'contribute');
  } catch (err) {
    if (signal?.aborted) throw err;
    return true;
  }
}

/** Analyses read this session, by digest: an analysis never changes under its digest. */
const analyses = new Map<string, FaceAnalysis>();

/**
 * Finds and tracks every face in the video (in a worker), stores what was found beside the
 * evidence as JSON named by its SHA-256, and makes it the recipe's analysis.
 */
export async function findFaces(input: {
  caseId: string;
  doc: Y.Doc;
  record: EvidenceRecord;
  signal: AbortSignal;
  onProgress: (progress: RedactionProgress) => void;
  /** Detection is done; what it found is being stored. */
  onStoring?: () => void;
}): Promise<FaceAnalysis> {
  const { caseId, doc, record, signal, onProgress } = input;
  const original = originalOf(record);
  const { analyseFaces } = await import('../../../wasm/redact/analyse.ts');
  const analysis = await analyseFaces({
    source: original.url,
    sourceName: record.name,
    sourceSha256: original.sha256,
    signal,
    onProgress,
  });
  input.onStoring?.();
  const sha256 = await storeDerivedFile({
    caseId,
    file: new Blob([JSON.stringify(analysis)], { type: 'application/json' }),
    type: 'application/json',
    transport: browserTransport(),
    token,
    signal,
  });
  analyses.set(sha256, analysis);
  setAnalysis(doc, record.id, sha256);
  return analysis;
}

/** The stored face analysis named `sha256`, checked to be of the file `source`. */
export async function loadAnalysis(
  sha256: string,
  source: string,
  signal?: AbortSignal,
): Promise<FaceAnalysis> {
  const known = analyses.get(sha256);
  if (known) return known;
  const response = await fetch(`/api/blobs/${sha256}`, {
    credentials: 'same-origin',
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) {
    throw new Error(
      `The face analysis could not be loaded (the server answered ${response.status}).`,
    );
  }
  const blob = await response.blob();
  if ((await sha256OfFile(blob)) !== sha256) {
    throw new Error('The face analysis the server sent is not the one the recipe names.');
  }
  const analysis = parseAnalysis(await blob.text(), source);
  analyses.set(sha256, analysis);
  return analysis;
}

/** One small picture per track, from its best sighting, as object URLs (revoke them after). */
export async function faceThumbnails(
  record: EvidenceRecord,
  analysis: FaceAnalysis,
): Promise<Map<string, string>> {
  const { trackThumbnails } = await import('../../../wasm/redact/thumbnails.ts');
  const pictures = await trackThumbnails({ source: originalOf(record).url, analysis, size: 96 });
  return new Map([...pictures].map(([id, jpeg]) => [id, URL.createObjectURL(jpeg)]));
}

/**
 * Renders are written here, on this device's disk, then copied into the upload queue. Each is
 * held under a Web Lock while it is written, so a later render (in any tab) clears only what
 * interrupted renders left behind.
 */
const RENDER_FOLDER = 'redactions';
const RENDER_LOCK = 'exhibit-redaction-file:';

/** A redacted copy added to the case: its evidence id, and how many frames have masks. */
export interface RenderedCopy {
  evidenceId: string;
  frames: number;
  maskedFrames: number;
}

/**
 * Renders a redacted copy of the video from the recipe, streaming it into a file in this
 * browser's private storage (never whole in memory), and adds it to the case as new evidence
 * through the upload queue (sealed and sent like any file), linked to its original.
 */
export async function renderRedactedCopy(input: {
  caseId: string;
  doc: Y.Doc;
  record: EvidenceRecord;
  recipe: RedactionRecipe;
  signal: AbortSignal;
  onProgress: (progress: RedactionProgress) => void;
  /** The video is rendered; it is being added to the case. */
  onStoring?: () => void;
}): Promise<RenderedCopy> {
  const { caseId, doc, record, recipe, signal, onProgress } = input;
  const user = signedInUser();
  const original = originalOf(record);
  if (recipe.source !== original.sha256) {
    throw new Error('The recipe is for another version of this file.');
  }
  // The stored analysis, not one held in memory: the recipe is all a re-render needs.
  const analysis = recipe.faces.analysis
    ? await loadAnalysis(recipe.faces.analysis, original.sha256, signal)
    : undefined;
  checkRenderable(recipe, analysis);
  const snapshot = recipeSnapshot(recipe);
  const hash = await recipeHash(recipe);

  const folder = await (
    await navigator.storage.getDirectory()
  ).getDirectoryHandle(RENDER_FOLDER, { create: true });
  await clearUnusedRenders(folder);
  const name = `${crypto.randomUUID()}.mp4`;
  const release = await holdLock(RENDER_LOCK + name);
  const handle = await folder.getFileHandle(name, { create: true });
  const writable = await handle.createWritable();
  try {
    const { renderRedaction } = await import('../../../wasm/redact/render.ts');
    const rendered = await renderRedaction({
      source: original.url,
      sourceName: record.name,
      // The copy keeps the original's recording time rather than the time it was rendered.
      ...(record.metadata?.capturedAt ? { recordedAt: record.metadata.capturedAt } : {}),
      recipe,
      ...(analysis ? { analysis } : {}),
      target: {
        write: (position, data) =>
          writable.write({ type: 'write', position, data: data as Uint8Array<ArrayBuffer> }),
      },
      signal,
      onProgress,
    });
    await writable.close();
    signal.throwIfAborted();
    input.onStoring?.();
    // IndexedDB keeps a file from private storage by reference, not by copy, so the queue would
    // lose it with the render file. A blob built from a stream is copied, and Chromium pages a
    // large one to disk as it is built.
    const copy = await new Response((await handle.getFile()).stream()).blob();
    const file = new File([copy], copyName(record.name), { type: rendered.type });
    const sha256 = await sha256OfFile(file, undefined, signal);
    const renderedAt = new Date().toISOString();
    const [evidenceId] = await uploadManager.add(caseId, [file], {
      redactionOf: {
        evidenceId: record.id,
        sha256: original.sha256,
        recipe: snapshot,
        renderedBy: user,
        renderedAt,
      },
    });
    if (!evidenceId) throw new Error('The redacted copy could not be added to the case.');
    recordRender(doc, record.id, {
      resultEvidenceId: evidenceId,
      sha256,
      recipeHash: hash,
      by: user,
      at: renderedAt,
    });
    return { evidenceId, frames: rendered.frames, maskedFrames: rendered.maskedFrames };
  } catch (err) {
    await writable.abort().catch(() => undefined);
    throw err;
  } finally {
    await folder.removeEntry(name).catch(() => undefined);
    release();
  }
}

/** Takes the Web Lock `name` and resolves with the function that lets it go. */
function holdLock(name: string): Promise<() => void> {
  return new Promise((taken, failed) => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    navigator.locks
      .request(name, () => {
        taken(release);
        return held;
      })
      .catch(failed);
  });
}

/** Removes the files earlier renders left behind (a closed tab, a crash) that nothing holds. */
async function clearUnusedRenders(folder: FileSystemDirectoryHandle): Promise<void> {
  const names: string[] = [];
  const entries = (folder as unknown as { keys(): AsyncIterable<string> }).keys();
  for await (const name of entries) names.push(name);
  for (const name of names) {
    await navigator.locks.request(RENDER_LOCK + name, { ifAvailable: true }, async (lock) => {
      if (lock) await folder.removeEntry(name).catch(() => undefined);
    });
  }
}

/** "cam 3.mp4" → "cam 3 (redacted).mp4": a redacted copy is an MP4 whatever the original was. */
export function copyName(original: string): string {
  const dot = original.lastIndexOf('.');
  const base = dot > 0 ? original.slice(0, dot) : original;
  return `${base} (redacted).mp4`;
}
