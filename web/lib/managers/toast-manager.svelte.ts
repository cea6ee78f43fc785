export interface Toast {
  id: number;
  kind: 'error' | 'info';
  message: string;
}

/** Messages shown briefly at the bottom of the screen; errors stay until dismissed. */
class ToastManager {
  #toasts = $state<Toast[]>([]);
  #next = 1;

  get toasts(): readonly Toast[] {
    return this.#toasts;
  }

  show(kind: Toast['kind'], message: string): void {
    const id = this.#next++;
    this.#toasts = [...this.#toasts, { id, kind, message }];
    if (kind === 'info') setTimeout(() => this.dismiss(id), 4000);
  }

  dismiss(id: number): void {
    this.#toasts = this.#toasts.filter((t) => t.id !== id);
  }
}

export const toastManager = new ToastManager();
