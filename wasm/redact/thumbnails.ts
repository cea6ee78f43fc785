// One picture per face track (its surest, largest sighting), so people choose faces by looking at
// them. Frames are decoded with mediabunny from the keyframe before each sighting.
import { openInput } from './input.ts';
import { VideoSampleSink } from 'mediabunny';
import { growBox } from './geometry.ts';
import type { FaceAnalysis, FaceTrack, TrackPoint } from './recipe.ts';
import { decodableSource } from './source.ts';

export interface ThumbnailOptions {
  source: Blob | string;
  analysis: FaceAnalysis;
  /** Width and height of each picture, in pixels (default 96). */
  size?: number;
  signal?: AbortSignal;
}

/** The sighting to show: high score first, then size (a larger face shows more). */
export function bestSighting(track: FaceTrack): TrackPoint | undefined {
  let best: TrackPoint | undefined;
  let bestValue = -Infinity;
  for (const point of track.points) {
    if (point.score === 0) continue;
    const value = Math.min(point.score, 0.9) * 10 + Math.sqrt(point.box.w * point.box.h);
    if (value > bestValue) {
      best = point;
      bestValue = value;
    }
  }
  return best ?? track.points[0];
}

export async function trackThumbnails(options: ThumbnailOptions): Promise<Map<string, Blob>> {
  const size = options.size ?? 96;
  const source = await decodableSource(options.source, { signal: options.signal });
  const input = openInput(source);
  const pictures = new Map<string, Blob>();
  try {
    const video = await input.getPrimaryVideoTrack();
    if (!video) throw new Error('the file has no video track');
    const sink = new VideoSampleSink(video);
    const canvas = new OffscreenCanvas(size, size);
    const context = canvas.getContext('2d');
    if (!context) throw new Error('no 2D canvas here');
    const wanted = options.analysis.tracks
      .map((track) => ({ track, point: bestSighting(track) }))
      .filter(
        (entry): entry is { track: FaceTrack; point: TrackPoint } => entry.point !== undefined,
      )
      .sort((a, b) => a.point.t - b.point.t);
    for (const { track, point } of wanted) {
      options.signal?.throwIfAborted();
      const sample = await sink.getSample(point.t);
      if (!sample) continue;
      try {
        const width = sample.codedWidth;
        const height = sample.codedHeight;
        // A square around the face with some of the head and shoulders.
        const box = growBox(point.box, 1.6);
        const side = Math.max(box.w * width, box.h * height);
        const cx = (box.x + box.w / 2) * width;
        const cy = (box.y + box.h / 2) * height;
        context.fillStyle = '#000';
        context.fillRect(0, 0, size, size);
        sample.draw(context, cx - side / 2, cy - side / 2, side, side, 0, 0, size, size);
      } finally {
        sample.close();
      }
      pictures.set(track.id, await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.85 }));
    }
    return pictures;
  } finally {
    input.dispose();
  }
}
