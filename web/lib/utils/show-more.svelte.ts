/**
 * Renders a long list a page at a time: `limit` grows by `step` as the element after the list
 * scrolls near the view (or its button is pressed), so thousands of rows never render at once.
 */
export class ShowMore {
  readonly step: number;
  limit = $state(0);

  constructor(step = 50) {
    this.step = step;
    this.limit = step;
  }

  more(): void {
    this.limit += this.step;
  }

  reset(): void {
    this.limit = this.step;
  }

  /** An attachment for the element after the list. */
  readonly sentinel = (element: Element): (() => void) => {
    let frame = 0;
    const observer = new IntersectionObserver(
      (entries) => {
        if (!entries.some((entry) => entry.isIntersecting)) return;
        this.more();
        // Still in view after the new rows rendered (a tall screen): look again next frame.
        frame = requestAnimationFrame(() => {
          observer.unobserve(element);
          observer.observe(element);
        });
      },
      { rootMargin: '600px 0px' },
    );
    observer.observe(element);
    return () => {
      cancelAnimationFrame(frame);
      observer.disconnect();
    };
  };
}
