import { getContext, setContext } from 'svelte';
import * as Y from 'yjs';
import type { CaseView } from '$lib/managers/case-view.svelte';
import { newId } from '$lib/shared/doc-names';
import * as recipeDoc from '$lib/shared/redaction-doc';
import type { RenderRecord } from '$lib/shared/redaction-doc';
import * as redaction from '$lib/services/redaction.service';
import { handleError } from '$lib/utils/handle-error';
import type { RedactionProgress } from '../../../wasm/redact/progress.ts';
import {
  emptyRecipe,
  type AudioRange,
  type FaceAnalysis,
  type FaceTrack,
  type ManualMask,
  type MaskKeyframe,
  type MaskStyle,
  type RedactionRecipe,
} from '../../../wasm/redact/recipe.ts';
import { selectedTracks } from '../../../wasm/redact/geometry.ts';
import { renderProblem } from './recipe-check';

/** Long work under way: finding faces or rendering, its progress, and whether it is storing. */
export interface StudioTask {
  kind: 'analysing' | 'rendering';
  progress: RedactionProgress | undefined;
  /** The engine is done; what it made is being stored with the case. */
  storing: boolean;
}

/** What a person reads beside the progress bar. */
export function taskLabel(task: StudioTask): string {
  if (task.storing) {
    return task.kind === 'analysing' ? 'Storing what was found' : 'Adding the copy to the case';
  }
  if (task.progress?.phase === 'converting') return 'Making a copy this browser can decode';
  return task.kind === 'analysing' ? 'Finding faces' : 'Rendering the redacted copy';
}

/**
 * One evidence item's redaction on screen: its recipe as the case document holds it (live, as
 * colleagues change it), the face analysis it names, and the long work (finding faces,
 * rendering) with its progress. Every change goes through the typed accessors of the case
 * document under this studio's origin.
 */
export class RedactionStudio {
  readonly view: CaseView;
  readonly evidenceId: string;
  #recipe = $state.raw<RedactionRecipe>(emptyRecipe(''));
  #renders = $state.raw<RenderRecord[]>([]);
  #analysis = $state.raw<FaceAnalysis | undefined>(undefined);
  #analysisError = $state<string | undefined>(undefined);
  #thumbnails = $state.raw<ReadonlyMap<string, string>>(new Map()); // eslint-disable-line svelte/prefer-svelte-reactivity -- replaced whole

  #task = $state.raw<StudioTask | undefined>(undefined);
  #mayEdit = $state<boolean | undefined>(undefined);
  #lastResult = $state.raw<redaction.RenderedCopy | undefined>(undefined);
  #problem = $state<string | undefined>(undefined);
  #sameAs = $state<string | undefined>(undefined);
  #control: AbortController | undefined;
  #stopRecipe: (() => void) | undefined;
  #source = '';
  #loading: string | undefined;
  #loadedSha: string | undefined;
  readonly #origin = { redaction: true };
  /** Takes back this person's own changes only, never a colleague's that arrived meanwhile. */
  readonly #undo: Y.UndoManager;
  #canUndo = $state(false);
  #canRedo = $state(false);

  constructor(view: CaseView, evidenceId: string) {
    this.view = view;
    this.evidenceId = evidenceId;
    this.#undo = new Y.UndoManager(recipeDoc.getRecipeMap(view.handle.doc, evidenceId), {
      trackedOrigins: new Set([this.#origin]), // eslint-disable-line svelte/prefer-svelte-reactivity -- Yjs reads it, not the UI
      // Each edit is one thing the person did (sliders commit when let go): one undo each.
      captureTimeout: 0,
    });
    const refresh = () => {
      this.#canUndo = this.#undo.canUndo();
      this.#canRedo = this.#undo.canRedo();
    };
    for (const event of ['stack-item-added', 'stack-item-popped', 'stack-cleared'] as const) {
      this.#undo.on(event, refresh);
    }
  }

  get canUndo(): boolean {
    return this.#canUndo;
  }

  get canRedo(): boolean {
    return this.#canRedo;
  }

  undo(): void {
    this.#undo.undo();
  }

  redo(): void {
    this.#undo.redo();
  }

  get record() {
    return this.view.evidence.find((item) => item.id === this.evidenceId);
  }

  /** Starts following the recipe once the original's digest is known. */
  follow(source: string): void {
    if (source === this.#source) return;
    this.#stopRecipe?.();
    this.#source = source;
    this.#stopRecipe = recipeDoc.observeRecipe(
      this.view.handle.doc,
      this.evidenceId,
      source,
      (recipe, renders) => {
        this.#recipe = recipe;
        this.#renders = renders;
        // A refusal was about the recipe as it was.
        this.#problem = undefined;
        void recipeDoc.recipeHash(recipe).then((hash) => {
          if (this.#recipe !== recipe) return;
          this.#sameAs = renders.find((r) => r.recipeHash === hash)?.resultEvidenceId;
        });
        void this.#loadAnalysis(recipe.faces.analysis);
      },
    );
  }

  get recipe(): RedactionRecipe {
    return this.#recipe;
  }

  get renders(): RenderRecord[] {
    return this.#renders;
  }

  get analysis(): FaceAnalysis | undefined {
    return this.#analysis;
  }

  /** The face tracks the recipe masks, merged ones folded in: what the preview draws. */
  get maskedTracks(): FaceTrack[] {
    return selectedTracks(this.#analysis, this.#recipe);
  }

  get analysisError(): string | undefined {
    return this.#analysisError;
  }

  get thumbnails(): ReadonlyMap<string, string> {
    return this.#thumbnails;
  }

  get task(): StudioTask | undefined {
    return this.#task;
  }

  /**
   * False for people who may only view the case: the page offers them no controls. Undefined
   * until asked (offline counts as allowed: the server decides in the end).
   */
  get mayEdit(): boolean | undefined {
    return this.#mayEdit;
  }

  /** The evidence id of the redacted copy this studio last rendered. */
  get lastResult(): redaction.RenderedCopy | undefined {
    return this.#lastResult;
  }

  /** The copy already rendered from this very recipe, if any: rendering again makes the same. */
  get sameAs(): string | undefined {
    return this.#sameAs;
  }

  /** Why the last render was refused, in words for a person. */
  get problem(): string | undefined {
    return this.#problem;
  }

  /** Why the recipe cannot be rendered as it stands, if it cannot. */
  get blocker(): string | undefined {
    return renderProblem(this.#recipe, this.#analysis);
  }

  async checkAccess(signal: AbortSignal): Promise<void> {
    this.#mayEdit = await redaction.mayRedact(this.view.id, signal);
  }

  // --- long work ----------------------------------------------------------------------------

  async findFaces(): Promise<void> {
    const record = this.record;
    if (!record || this.#task) return;
    const control = this.#start('analysing');
    try {
      // Stored, it becomes the recipe's analysis, which the recipe's observer then loads.
      await redaction.findFaces({
        caseId: this.view.id,
        doc: this.view.handle.doc,
        record,
        signal: control.signal,
        onProgress: (progress) => (this.#task = { kind: 'analysing', progress, storing: false }),
        onStoring: () => this.#storing(),
      });
    } catch (err) {
      // Stopped with Cancel: the engine's own cancellation error is no failure to report.
      if (!control.signal.aborted) handleError(err, 'Faces could not be found');
    } finally {
      this.#finish(control);
    }
  }

  async render(): Promise<void> {
    const record = this.record;
    if (!record || this.#task) return;
    this.#problem = this.blocker;
    if (this.#problem) return;
    this.#lastResult = undefined;
    const control = this.#start('rendering');
    try {
      this.#lastResult = await redaction.renderRedactedCopy({
        caseId: this.view.id,
        doc: this.view.handle.doc,
        record,
        recipe: this.#recipe,
        signal: control.signal,
        onProgress: (progress) => (this.#task = { kind: 'rendering', progress, storing: false }),
        onStoring: () => this.#storing(),
      });
    } catch (err) {
      // Stopped with Cancel: the engine's own cancellation error is no failure to report.
      if (!control.signal.aborted) handleError(err, 'The redacted copy could not be made');
    } finally {
      this.#finish(control);
    }
  }

  cancel(): void {
    this.#control?.abort(new DOMException('Cancelled', 'AbortError'));
  }

  destroy(): void {
    this.cancel();
    this.#stopRecipe?.();
    this.#undo.destroy();
    for (const url of this.#thumbnails.values()) URL.revokeObjectURL(url);
  }

  #start(kind: StudioTask['kind']): AbortController {
    this.#control = new AbortController();
    this.#task = { kind, progress: undefined, storing: false };
    return this.#control;
  }

  #storing(): void {
    if (this.#task) this.#task = { ...this.#task, storing: true };
  }

  #finish(control: AbortController): void {
    if (this.#control !== control) return;
    this.#control = undefined;
    this.#task = undefined;
  }

  async #loadAnalysis(sha256: string | undefined): Promise<void> {
    if (!sha256) {
      this.#analysis = undefined;
      this.#loadedSha = undefined;
      return;
    }
    if (sha256 === this.#loadedSha || sha256 === this.#loading) return;
    this.#loading = sha256;
    try {
      const analysis = await redaction.loadAnalysis(sha256, this.#source);
      if (this.#recipe.faces.analysis !== sha256) return;
      this.#analysis = analysis;
      this.#loadedSha = sha256;
      this.#analysisError = undefined;
      // The faces list shows at once; their pictures follow as they are decoded.
      void this.#makeThumbnails(analysis);
    } catch (err) {
      this.#analysisError = err instanceof Error ? err.message : String(err);
    } finally {
      if (this.#loading === sha256) this.#loading = undefined;
    }
  }

  async #makeThumbnails(analysis: FaceAnalysis): Promise<void> {
    const record = this.record;
    if (!record || analysis.tracks.length === 0) return;
    try {
      const next = await redaction.faceThumbnails(record, analysis);
      if (this.#analysis !== analysis) {
        for (const url of next.values()) URL.revokeObjectURL(url);
        return;
      }
      for (const url of this.#thumbnails.values()) URL.revokeObjectURL(url);
      this.#thumbnails = next;
    } catch (err) {
      handleError(err, 'The face pictures could not be made');
    }
  }

  // --- the recipe ---------------------------------------------------------------------------

  #edit(work: (doc: typeof this.view.handle.doc) => void, message: string): boolean {
    try {
      work(this.view.handle.doc);
      this.#problem = undefined;
      return true;
    } catch (err) {
      handleError(err, message);
      return false;
    }
  }

  setStyle(change: Partial<MaskStyle>): void {
    this.#edit(
      (doc) => recipeDoc.setStyle(doc, this.evidenceId, change, this.#origin),
      'The style was not changed',
    );
  }

  setPadding(padding: number): void {
    this.#edit(
      (doc) => recipeDoc.setPadding(doc, this.evidenceId, padding, this.#origin),
      'The padding was not changed',
    );
  }

  select(trackIds: string[], selected: boolean): void {
    this.#edit(
      (doc) =>
        (selected ? recipeDoc.selectTracks : recipeDoc.deselectTracks)(
          doc,
          this.evidenceId,
          trackIds,
          this.#origin,
        ),
      'The faces were not changed',
    );
  }

  /** Every face (none, with `none`), or every face but those in `except`. */
  selectAll(options: { none?: boolean; except?: string[] } = {}): void {
    const all = options.none ? [] : (this.#analysis?.tracks.map((track) => track.id) ?? []);
    this.#edit(
      (doc) =>
        recipeDoc.selectAllTracks(doc, this.evidenceId, all, options.except ?? [], this.#origin),
      'The faces were not changed',
    );
  }

  merge(kept: string, merged: string): boolean {
    return this.#edit(
      (doc) => recipeDoc.mergeTracks(doc, this.evidenceId, kept, merged, this.#origin),
      'The faces were not merged',
    );
  }

  separate(merged: string): void {
    this.#edit(
      (doc) => recipeDoc.separateTrack(doc, this.evidenceId, merged, this.#origin),
      'The face was not separated',
    );
  }

  /** Adds a mask under the id it was drawn with, or a new one. */
  addMask(mask: ManualMask | Omit<ManualMask, 'id'>): string | undefined {
    const id = 'id' in mask && mask.id ? mask.id : newId();
    const ok = this.#edit(
      (doc) => recipeDoc.addMask(doc, this.evidenceId, { ...mask, id }, this.#origin),
      'The mask was not added',
    );
    return ok ? id : undefined;
  }

  updateMask(
    id: string,
    change: Partial<Pick<ManualMask, 'label' | 'from' | 'to' | 'shape'>>,
  ): void {
    this.#edit(
      (doc) => recipeDoc.updateMask(doc, this.evidenceId, id, change, this.#origin),
      'The mask was not changed',
    );
  }

  setKeyframe(id: string, keyframe: MaskKeyframe): void {
    this.#edit(
      (doc) => recipeDoc.setMaskKeyframe(doc, this.evidenceId, id, keyframe, this.#origin),
      'The keyframe was not set',
    );
  }

  removeKeyframe(id: string, t: number): void {
    this.#edit(
      (doc) => recipeDoc.removeMaskKeyframe(doc, this.evidenceId, id, t, this.#origin),
      'The keyframe was not removed',
    );
  }

  removeMask(id: string): void {
    this.#edit(
      (doc) => recipeDoc.removeMask(doc, this.evidenceId, id, this.#origin),
      'The mask was not removed',
    );
  }

  /** Adds an audio range under the id it was chosen with, or a new one. */
  addAudioRange(range: AudioRange | Omit<AudioRange, 'id'>): string | undefined {
    const id = 'id' in range && range.id ? range.id : newId();
    const ok = this.#edit(
      (doc) => recipeDoc.addAudioRange(doc, this.evidenceId, { ...range, id }, this.#origin),
      'The audio range was not added',
    );
    return ok ? id : undefined;
  }

  updateAudioRange(id: string, change: Partial<Omit<AudioRange, 'id'>>): void {
    this.#edit(
      (doc) => recipeDoc.updateAudioRange(doc, this.evidenceId, id, change, this.#origin),
      'The audio range was not changed',
    );
  }

  removeAudioRange(id: string): void {
    this.#edit(
      (doc) => recipeDoc.removeAudioRange(doc, this.evidenceId, id, this.#origin),
      'The audio range was not removed',
    );
  }

  setRemoveAudio(remove: boolean): void {
    this.#edit(
      (doc) => recipeDoc.setRemoveAudio(doc, this.evidenceId, remove, this.#origin),
      'The sound was not changed',
    );
  }
}

const KEY = Symbol('redaction-studio');

export function setRedactionStudio(studio: RedactionStudio): RedactionStudio {
  return setContext(KEY, studio);
}

export function useRedactionStudio(): RedactionStudio {
  const studio = getContext<RedactionStudio | undefined>(KEY);
  if (!studio) throw new Error('useRedactionStudio() needs the redaction studio page around it');
  return studio;
}
