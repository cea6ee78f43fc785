import { getContext, setContext } from 'svelte';
import * as Y from 'yjs';
import type { CaseView } from '$lib/managers/case-view.svelte';
import { listMembers } from '$lib/services/members.service';
import type { CaseMember } from '$lib/shared/auth-schemas';
import { newId } from '$lib/shared/doc-names';
import {
  CASE_TARGET,
  addAnnotation,
  editAnnotationText,
  getAnnotations,
  observeAnnotations,
  removeAnnotation,
  updateAnnotation,
  type Annotation,
  type Author,
  type NewAnnotation,
  type RegionShape,
} from '$lib/shared/annotations-doc';
import { Presence } from './presence.svelte';

/**
 * One person working on one case's annotations: every write goes through here under this
 * person's own origin, so undo and redo take back only what they did, never a colleague's
 * change that arrived meanwhile.
 */
export class Collaboration {
  readonly caseId: string;
  readonly author: Author;
  readonly presence: Presence;
  readonly #doc: Y.Doc;
  readonly #origin = { collaboration: true };
  readonly #undo: Y.UndoManager;
  #canUndo = $state(false);
  #canRedo = $state(false);
  #members = $state.raw<CaseMember[]>([]);
  readonly #refreshStacks = () => {
    this.#canUndo = this.#undo.canUndo();
    this.#canRedo = this.#undo.canRedo();
  };

  constructor(view: CaseView, author: Author) {
    this.caseId = view.id;
    this.author = author;
    this.#doc = view.handle.doc;
    this.presence = new Presence(view.handle.awareness, author);
    this.#undo = new Y.UndoManager(getAnnotations(this.#doc, CASE_TARGET), {
      trackedOrigins: new Set([this.#origin]), // eslint-disable-line svelte/prefer-svelte-reactivity -- Yjs reads it, not the UI
      // Each write is one thing the person did (text is committed whole), so one undo each.
      captureTimeout: 0,
    });
    for (const event of ['stack-item-added', 'stack-item-popped', 'stack-cleared'] as const) {
      this.#undo.on(event, this.#refreshStacks);
    }
  }

  get canUndo(): boolean {
    return this.#canUndo;
  }

  get canRedo(): boolean {
    return this.#canRedo;
  }

  /** The case's members, for mentions; empty until loaded (and offline). */
  get members(): CaseMember[] {
    return this.#members;
  }

  /**
   * True when this person may only view the case: the server would drop their writes, so the
   * page offers none. Unknown (offline, not loaded) counts as allowed; the server decides.
   */
  get readOnly(): boolean {
    return this.#members.find((m) => m.userId === this.author.id)?.level === 'view';
  }

  async loadMembers(signal?: AbortSignal): Promise<void> {
    this.#members = await listMembers(this.caseId, signal);
  }

  /** A reactive, sorted list of one target's annotations; call `stop` when done with it. */
  watch(target: string): { readonly list: Annotation[]; stop(): void } {
    this.#undo.addToScope(getAnnotations(this.#doc, target));
    let list = $state.raw<Annotation[]>([]);
    const stop = observeAnnotations(this.#doc, target, (next) => (list = next));
    return {
      get list() {
        return list;
      },
      stop,
    };
  }

  add(target: string, input: NewAnnotation): string {
    return addAnnotation(
      this.#doc,
      target,
      input,
      { id: newId(), author: this.author, now: now() },
      this.#origin,
    );
  }

  editText(target: string, id: string, text: string): void {
    editAnnotationText(this.#doc, target, id, text, now(), this.#origin);
  }

  move(target: string, id: string, change: { time?: number; shape?: RegionShape }): void {
    updateAnnotation(this.#doc, target, id, change, now(), this.#origin);
  }

  remove(target: string, id: string): void {
    removeAnnotation(this.#doc, target, id, this.#origin);
  }

  undo(): void {
    this.#undo.undo();
  }

  redo(): void {
    this.#undo.redo();
  }

  destroy(): void {
    this.#undo.destroy();
    this.presence.destroy();
  }
}

function now(): string {
  return new Date().toISOString();
}

const KEY = Symbol('collaboration');

export function setCollaboration(collaboration: Collaboration): Collaboration {
  return setContext(KEY, collaboration);
}

export function useCollaboration(): Collaboration {
  const collaboration = getContext<Collaboration | undefined>(KEY);
  if (!collaboration) throw new Error('useCollaboration() needs a Collaboration set around it');
  return collaboration;
}
