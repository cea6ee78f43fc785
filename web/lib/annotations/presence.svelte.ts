import type { Awareness } from 'y-protocols/awareness';

/** What one person has open in a case: the case page, or an evidence item and where in it. */
export interface PresenceView {
  evidenceId?: string;
  evidenceName?: string;
  /** Seconds into the media, for video and audio. */
  time?: number;
  playing?: boolean;
}

export interface Viewer {
  userId: string;
  name: string;
  view: PresenceView;
}

interface State {
  user?: { id?: unknown; name?: unknown };
  view?: PresenceView;
  key?: unknown;
}

/**
 * Presence on one case through its document's awareness: what this device shows, and who else
 * has the case open (one entry per person, however many tabs they have).
 */
export class Presence {
  readonly #awareness: Awareness;
  readonly #userId: string;
  /** Tells this page's state from a later page's on the same shared document. */
  readonly #key = Math.random();
  #others = $state.raw<Viewer[]>([]);
  readonly #onChange = () => {
    this.#others = readOthers(this.#awareness, this.#userId);
  };

  constructor(awareness: Awareness, user: { id: string; name: string }) {
    this.#awareness = awareness;
    this.#userId = user.id;
    awareness.setLocalStateField('user', { id: user.id, name: user.name });
    awareness.setLocalStateField('key', this.#key);
    awareness.on('change', this.#onChange);
    this.#onChange();
  }

  get others(): Viewer[] {
    return this.#others;
  }

  show(view: PresenceView): void {
    this.#awareness.setLocalStateField('key', this.#key);
    this.#awareness.setLocalStateField('view', view);
  }

  destroy(): void {
    this.#awareness.off('change', this.#onChange);
    const mine = this.#awareness.getLocalState() as State | null;
    if (mine?.key === this.#key) this.#awareness.setLocalState(null);
  }
}

function readOthers(awareness: Awareness, self: string): Viewer[] {
  const byUser = new Map<string, Viewer>(); // eslint-disable-line svelte/prefer-svelte-reactivity -- a local, not state
  for (const [clientId, raw] of awareness.getStates()) {
    if (clientId === awareness.clientID) continue;
    const state = raw as State;
    const id = state.user?.id;
    const name = state.user?.name;
    if (typeof id !== 'string' || typeof name !== 'string' || id === self) continue;
    const view = state.view ?? {};
    // Someone with the case open twice: the tab looking at evidence says more.
    const known = byUser.get(id);
    if (!known || (!known.view.evidenceId && view.evidenceId)) {
      byUser.set(id, { userId: id, name, view: readView(view) });
    }
  }
  return [...byUser.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function readView(view: PresenceView): PresenceView {
  return {
    ...(typeof view.evidenceId === 'string' ? { evidenceId: view.evidenceId } : {}),
    ...(typeof view.evidenceName === 'string' ? { evidenceName: view.evidenceName } : {}),
    ...(typeof view.time === 'number' && Number.isFinite(view.time) ? { time: view.time } : {}),
    ...(typeof view.playing === 'boolean' ? { playing: view.playing } : {}),
  };
}
