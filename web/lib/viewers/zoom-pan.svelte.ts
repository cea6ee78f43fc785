/** Zoom and pan of one picture: scale 1 fits the frame; the picture never leaves the frame. */
export class ZoomPan {
  static readonly MIN = 1;
  static readonly MAX = 8;
  scale = $state(1);
  x = $state(0);
  y = $state(0);

  get transform(): string {
    return `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
  }

  /** Zooms by `factor` keeping the point (`cx`, `cy`, px from the frame's centre) in place. */
  zoomBy(factor: number, cx = 0, cy = 0, size?: { width: number; height: number }): void {
    const next = Math.min(ZoomPan.MAX, Math.max(ZoomPan.MIN, this.scale * factor));
    const k = next / this.scale;
    this.x = cx - (cx - this.x) * k;
    this.y = cy - (cy - this.y) * k;
    this.scale = next;
    this.#clamp(size);
  }

  panBy(dx: number, dy: number, size?: { width: number; height: number }): void {
    this.x += dx;
    this.y += dy;
    this.#clamp(size);
  }

  reset(): void {
    this.scale = 1;
    this.x = 0;
    this.y = 0;
  }

  #clamp(size: { width: number; height: number } | undefined): void {
    if (this.scale === 1) {
      this.x = 0;
      this.y = 0;
      return;
    }
    if (!size) return;
    const mx = ((this.scale - 1) * size.width) / 2;
    const my = ((this.scale - 1) * size.height) / 2;
    this.x = Math.min(mx, Math.max(-mx, this.x));
    this.y = Math.min(my, Math.max(-my, this.y));
  }
}
