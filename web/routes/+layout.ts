// The PWA is a client-side app: no server rendering, nothing prerendered but the fallback shell.
export const ssr = false;
export const prerender = false;
