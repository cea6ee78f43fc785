import type { Role } from '$lib/shared/roles';

/**
 * What an administrator is in the middle of doing to one user. Kept outside the entry
 * component so that switching between the table and the cards (a tablet turned on its side)
 * does not close an open form or lose a refusal message.
 */
export class UserEntryState {
  /** A role picked but not saved yet; undefined while the user's own role is shown. */
  chosenRole = $state<Role | undefined>(undefined);
  busy = $state(false);
  /** The server's reason when it refused a change. */
  problem = $state<string | undefined>(undefined);
  notice = $state<string | undefined>(undefined);
  resetting = $state(false);
  temporaryPassword = $state('');
}

/** One `UserEntryState` per user, for as long as the list is shown. */
export class UserEntryStates {
  // Not a SvelteMap: entries are created while rendering, where changing reactive state is an
  // error. Nothing needs to react to the map itself; each entry's fields are reactive.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly #byId = new Map<string, UserEntryState>();

  of(userId: string): UserEntryState {
    let entry = this.#byId.get(userId);
    if (!entry) this.#byId.set(userId, (entry = new UserEntryState()));
    return entry;
  }
}
