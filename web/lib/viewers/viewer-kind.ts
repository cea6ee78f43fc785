// Browser-safe: which viewer shows an evidence file.
import type { EvidenceRecord } from '$lib/shared/case-doc';
import { extensionOf } from './playability';

export type ViewerKind = 'video' | 'audio' | 'image' | 'pdf' | 'text' | 'other';

const TEXT_EXTENSIONS = new Set(['txt', 'log', 'csv', 'json', 'xml', 'md', 'eml', 'srt', 'vtt']);
/** Video containers often uploaded as application/octet-stream (CCTV exports). */
const VIDEO_EXTENSIONS = new Set([
  'avi',
  'mkv',
  'ts',
  'mts',
  'm2ts',
  'wmv',
  'asf',
  'flv',
  'h264',
  '264',
  'h265',
  '265',
  'dav',
  'mpg',
  'mpeg',
  'vob',
  'mov',
  'mp4',
  'm4v',
  'webm',
  '3gp',
]);

export function viewerKind(record: Pick<EvidenceRecord, 'type' | 'name'>): ViewerKind {
  const type = record.type.split(';')[0]!.trim().toLowerCase();
  const ext = extensionOf(record.name);
  const family = type.split('/')[0];
  if (family === 'video' || (type === 'application/octet-stream' && VIDEO_EXTENSIONS.has(ext))) {
    return 'video';
  }
  if (family === 'audio') return 'audio';
  if (family === 'image') return 'image';
  if (type === 'application/pdf' || ext === 'pdf') return 'pdf';
  if (family === 'text' || TEXT_EXTENSIONS.has(ext)) return 'text';
  return 'other';
}
