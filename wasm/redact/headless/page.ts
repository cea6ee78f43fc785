// The headless page: runs the same pipeline as the studio (face detection in its worker, the
// renderer on this thread) on a file the command line serves, and streams the output back to it.
import { startFaceAnalysis } from '../analyse.ts';
import { renderRedaction } from '../render.ts';
import { decodableSource } from '../source.ts';
import type { HeadlessJob, HeadlessReport } from './protocol.ts';

const status = document.getElementById('status')!;

async function report(message: HeadlessReport): Promise<void> {
  await fetch('/report', { method: 'POST', body: JSON.stringify(message) });
}

async function run(): Promise<void> {
  const job = (await (await fetch('/job')).json()) as HeadlessJob;
  const started = performance.now();
  // One decodable copy for both detection and rendering when WebCodecs cannot read the original.
  const source = await decodableSource('/input', { name: job.name });
  const live =
    job.faces === 'auto'
      ? startFaceAnalysis({ source, sourceSha256: job.recipe.source, detector: job.detector })
      : undefined;
  let lastSent = 0;
  const result = await renderRedaction({
    source,
    recipe: job.recipe,
    analysis: job.analysis,
    live,
    target: {
      async write(position, data) {
        const response = await fetch(`/output?position=${position}`, {
          method: 'PUT',
          body: new Uint8Array(data),
        });
        if (!response.ok) throw new Error(`writing the output failed: ${await response.text()}`);
      },
    },
    onProgress(progress) {
      status.textContent = `${progress.phase} ${progress.done}/${progress.total}`;
      const now = performance.now();
      if (now - lastSent > 500) {
        lastSent = now;
        void report({ type: 'progress', progress });
      }
    },
  });
  const analysis = live ? await live.result : undefined;
  await report({
    type: 'done',
    result: {
      ...result,
      seconds: (performance.now() - started) / 1000,
      analysis,
      detector: live?.stats,
    },
  });
  status.textContent = 'Done';
}

run().catch(async (error: unknown) => {
  status.textContent = 'Failed';
  await report({ type: 'error', message: error instanceof Error ? error.message : String(error) });
});
