// Browser-safe: the players' keyboard shortcuts, one table for every player.

export type PlayerAction =
  | { do: 'toggle' }
  | { do: 'step'; frames: number }
  | { do: 'jump'; seconds: number }
  | { do: 'rate'; direction: 1 | -1 }
  | { do: 'zoom'; factor: number | 'reset' }
  | { do: 'pan'; dx: number; dy: number }
  | { do: 'fullscreen' }
  | { do: 'edge'; to: 'start' | 'end' };

/** What a key press asks of a player, or undefined for keys it leaves alone. */
export function playerAction(event: {
  key: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  altKey: boolean;
}): PlayerAction | undefined {
  if (event.ctrlKey || event.metaKey || event.altKey) return undefined;
  if (event.shiftKey) {
    const pan: Record<string, [number, number]> = {
      ArrowLeft: [1, 0],
      ArrowRight: [-1, 0],
      ArrowUp: [0, 1],
      ArrowDown: [0, -1],
    };
    const d = pan[event.key];
    if (d) return { do: 'pan', dx: d[0], dy: d[1] };
  }
  switch (event.key) {
    case ' ':
    case 'k':
    case 'K':
      return { do: 'toggle' };
    case 'ArrowRight':
    case '.':
      return { do: 'step', frames: 1 };
    case 'ArrowLeft':
    case ',':
      return { do: 'step', frames: -1 };
    case 'l':
    case 'L':
      return { do: 'jump', seconds: 1 };
    case 'j':
    case 'J':
      return { do: 'jump', seconds: -1 };
    case ']':
      return { do: 'rate', direction: 1 };
    case '[':
      return { do: 'rate', direction: -1 };
    case '+':
    case '=':
      return { do: 'zoom', factor: 1.5 };
    case '-':
      return { do: 'zoom', factor: 1 / 1.5 };
    case '0':
      return { do: 'zoom', factor: 'reset' };
    case 'f':
    case 'F':
      return { do: 'fullscreen' };
    case 'Home':
      return { do: 'edge', to: 'start' };
    case 'End':
      return { do: 'edge', to: 'end' };
    default:
      return undefined;
  }
}

/** Keys typed into a field are the field's, not the player's. */
export function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return ['INPUT', 'SELECT', 'TEXTAREA'].includes(target.tagName);
}

export const SHORTCUT_HELP: readonly [string, string][] = [
  ['Space / K', 'play or pause'],
  ['← / →', 'one frame back or forward'],
  ['J / L', 'one second back or forward'],
  ['[ / ]', 'slower or faster'],
  ['+ / − / 0', 'zoom in, out, fit'],
  ['Shift + arrows', 'move the zoomed picture'],
  ['F', 'full screen'],
];
