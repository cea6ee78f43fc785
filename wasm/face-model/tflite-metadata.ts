// Adds a TFLITE_METADATA buffer to a TFLite model, the way MediaPipe Tasks expects it.
//
// MediaPipe's FaceDetector refuses a float model unless the model carries TFLite metadata with
// NormalizationOptions for its input (how pixel values become the floats the model was trained on).
// The BlazeFace models on npm (@mediapipe/face_detection) come without any metadata, so the build
// makes a copy that has it. No library writes TFLite metadata from JavaScript (the official writer is
// Python, tflite-support); this is the small part of it we need.
//
// How the model is changed: FlatBuffers offsets are unsigned and point forward, so a table can only
// reference data stored after it. The new tables (a root Model that lists the added Metadata entry,
// the longer buffers vector, the new Buffer and its bytes) therefore go into a block inserted right
// after the file header, in front of everything they reference. Every offset inside the original
// data is relative to its own position, so moving that data by the block's length (a multiple of 16,
// keeping the 16-byte alignment of tensor buffers) leaves it valid; only the root offset at byte 0
// is rewritten. The old root table stays in the file, unreferenced.
//
// Browser-safe: no Node built-ins.
import { Builder } from 'flatbuffers';

export class InvalidModel extends Error {
  override name = 'InvalidModel';
}

export const METADATA_NAME = 'TFLITE_METADATA';
const MODEL_IDENTIFIER = 'TFL3';
const METADATA_IDENTIFIER = 'M001';

/** Slots of tflite.Model (tensorflow/lite/schema/schema.fbs). */
const MODEL_FIELDS = 8;
const MODEL_VERSION = 0;
const MODEL_BUFFERS = 4;
const MODEL_METADATA = 6;
/** tflite.Buffer slots: data, then offset and size (data kept outside the FlatBuffer, > 2 GB models). */
const BUFFER_OFFSET = 1;
/** tflite.Model fields that are vectors of tables: operator codes, subgraphs, buffers, metadata, signatures. */
const MODEL_TABLE_VECTORS = [1, 2, 4, 6, 7];
const MODEL_SUBGRAPHS = 2;
const MODEL_DESCRIPTION = 3;
/** tflite.SubGraph fields that are vectors of tables: tensors and operators. */
const SUBGRAPH_TABLE_VECTORS = [0, 3];

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A read-only view of FlatBuffer tables, enough to walk a TFLite model. */
class FlatView {
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  check(position: number, length: number, what: string): void {
    if (position < 0 || position + length > this.bytes.byteLength) {
      throw new InvalidModel(`the model is damaged: ${what} points outside the file`);
    }
  }

  u32(position: number): number {
    this.check(position, 4, 'a field');
    return this.view.getUint32(position, true);
  }

  /** The vtable of the table at `table`, both checked to lie inside the file. */
  vtable(table: number): { vtable: number; vtableLength: number } {
    this.check(table, 4, 'a table');
    const vtable = table - this.view.getInt32(table, true);
    this.check(vtable, 4, 'a vtable');
    const vtableLength = this.view.getUint16(vtable, true);
    this.check(vtable, vtableLength, 'a vtable');
    this.check(table, this.view.getUint16(vtable + 2, true), 'a table');
    return { vtable, vtableLength };
  }

  /** Position of the value of `slot` in the table at `table`, or null when the field is absent. */
  field(table: number, slot: number): number | null {
    const { vtable, vtableLength } = this.vtable(table);
    if (4 + slot * 2 + 2 > vtableLength) return null;
    const offset = this.view.getUint16(vtable + 4 + slot * 2, true);
    return offset === 0 ? null : table + offset;
  }

  /** Target of the uoffset stored at `position`. */
  deref(position: number): number {
    return position + this.u32(position);
  }

  vector(position: number): { length: number; start: number } {
    const start = this.deref(position);
    const length = this.u32(start);
    this.check(start + 4, length * 4, 'a vector');
    return { length, start: start + 4 };
  }

  string(position: number): string {
    const start = this.deref(position);
    const length = this.u32(start);
    this.check(start + 4, length, 'a string');
    return decoder.decode(this.bytes.subarray(start + 4, start + 4 + length));
  }
}

function modelRoot(model: FlatView): number {
  if (model.bytes.byteLength < 16)
    throw new InvalidModel('the file is too short to be a TFLite model');
  const identifier = decoder.decode(model.bytes.subarray(4, 8));
  if (identifier !== MODEL_IDENTIFIER) {
    throw new InvalidModel(
      `not a TFLite model (file identifier ${JSON.stringify(identifier)}, expected TFL3)`,
    );
  }
  return model.deref(0);
}

export interface MetadataEntry {
  name: string;
  buffer: number;
}

/** The model's metadata entries and a way to read the bytes of any of its buffers. */
export function readModel(bytes: Uint8Array): {
  metadata: MetadataEntry[];
  bufferCount: number;
  bufferData(index: number): Uint8Array;
} {
  const model = new FlatView(bytes);
  const root = modelRoot(model);
  const metadata: MetadataEntry[] = [];
  const metadataField = model.field(root, MODEL_METADATA);
  if (metadataField !== null) {
    const { length, start } = model.vector(metadataField);
    for (let i = 0; i < length; i++) {
      const entry = model.deref(start + i * 4);
      const name = model.field(entry, 0);
      const buffer = model.field(entry, 1);
      metadata.push({
        name: name === null ? '' : model.string(name),
        buffer: buffer === null ? 0 : model.u32(buffer),
      });
    }
  }
  const buffersField = model.field(root, MODEL_BUFFERS);
  const buffers = buffersField === null ? { length: 0, start: 0 } : model.vector(buffersField);
  return {
    metadata,
    bufferCount: buffers.length,
    bufferData(index) {
      if (index < 0 || index >= buffers.length)
        throw new InvalidModel(`the model has no buffer ${index}`);
      const buffer = model.deref(buffers.start + index * 4);
      const data = model.field(buffer, 0);
      if (data === null) return new Uint8Array(0);
      const start = model.deref(data);
      const length = model.u32(start);
      model.check(start + 4, length, 'a buffer');
      return bytes.subarray(start + 4, start + 4 + length);
    },
  };
}

/**
 * Refuses a damaged model (most often a truncated download) rather than copying offsets that point
 * past its end: the tables the root reaches, down to each subgraph's tensors and operators, and
 * every buffer's bytes must lie inside the file.
 */
function checkModel(model: FlatView, root: number, contents: ReturnType<typeof readModel>): void {
  const tables = (table: number, slot: number): number[] => {
    const field = model.field(table, slot);
    if (field === null) return [];
    const { length, start } = model.vector(field);
    return Array.from({ length }, (_, i) => {
      const element = model.deref(start + i * 4);
      model.vtable(element);
      return element;
    });
  };
  for (const slot of MODEL_TABLE_VECTORS) {
    const list = tables(root, slot);
    if (slot !== MODEL_SUBGRAPHS) continue;
    for (const subgraph of list) {
      for (const inner of SUBGRAPH_TABLE_VECTORS) tables(subgraph, inner);
    }
  }
  const description = model.field(root, MODEL_DESCRIPTION);
  if (description !== null) model.string(description);
  for (let i = 0; i < contents.bufferCount; i++) contents.bufferData(i);
}

/** Appends little-endian values to a growing block whose first byte sits at `base` in the file. */
class BlockWriter {
  #bytes = new Uint8Array(1024);
  #view = new DataView(this.#bytes.buffer);
  length = 0;
  constructor(readonly base: number) {}

  get position(): number {
    return this.base + this.length;
  }

  #grow(by: number): number {
    while (this.length + by > this.#bytes.byteLength) {
      const bigger = new Uint8Array(this.#bytes.byteLength * 2);
      bigger.set(this.#bytes);
      this.#bytes = bigger;
      this.#view = new DataView(bigger.buffer);
    }
    const at = this.length;
    this.length += by;
    return at;
  }

  /** Pads with zeros until the file position `+ extra` is a multiple of `alignment`. */
  align(alignment: number, extra = 0): void {
    while ((this.position + extra) % alignment !== 0) this.#grow(1);
  }
  u16(value: number): void {
    const at = this.#grow(2);
    this.#view.setUint16(at, value, true);
  }
  u32(value: number): void {
    const at = this.#grow(4);
    this.#view.setUint32(at, value, true);
  }
  i32(value: number): void {
    const at = this.#grow(4);
    this.#view.setInt32(at, value, true);
  }
  /** A uoffset to an absolute file position after this one. */
  offsetTo(target: number): void {
    const here = this.position;
    if (target <= here) throw new Error('FlatBuffers offsets must point forward');
    this.u32(target - here);
  }
  /** Reserves a uoffset to be filled once its target is written. */
  reserveOffset(): (target: number) => void {
    const at = this.#grow(4);
    return (target) => {
      const from = this.base + at;
      if (target <= from) throw new Error('FlatBuffers offsets must point forward');
      this.#view.setUint32(at, target - from, true);
    };
  }
  raw(bytes: Uint8Array): void {
    const at = this.#grow(bytes.byteLength);
    this.#bytes.set(bytes, at);
  }
  result(): Uint8Array {
    return this.#bytes.slice(0, this.length);
  }
}

/**
 * A copy of `modelBytes` whose metadata lists `metadata` (a ModelMetadata FlatBuffer) under
 * TFLITE_METADATA, stored as a new buffer. The original's tensors, operators and buffers are
 * unchanged byte for byte.
 */
export function addTfliteMetadata(modelBytes: Uint8Array, metadata: Uint8Array): Uint8Array {
  const model = new FlatView(modelBytes);
  const root = modelRoot(model);
  const existing = readModel(modelBytes);
  checkModel(model, root, existing);
  if (existing.metadata.some((entry) => entry.name === METADATA_NAME)) {
    throw new InvalidModel('the model already has TFLite metadata');
  }
  if (decoder.decode(metadata.subarray(4, 8)) !== METADATA_IDENTIFIER) {
    throw new InvalidModel('the metadata is not a ModelMetadata FlatBuffer (identifier M001)');
  }
  const buffersField = model.field(root, MODEL_BUFFERS);
  if (buffersField === null) throw new InvalidModel('the model has no buffers vector');
  const buffers = model.vector(buffersField);
  for (let i = 0; i < buffers.length; i++) {
    const offset = model.field(model.deref(buffers.start + i * 4), BUFFER_OFFSET);
    if (offset !== null && model.view.getBigUint64(offset, true) > 1n) {
      throw new InvalidModel(
        'models that keep buffers outside the FlatBuffer (over 2 GB) are not supported',
      );
    }
  }

  // Two passes: the block's length decides where the original data lands, and the block's offsets
  // to that data depend on it. The first pass assumes a generous length (any will do: the block's
  // layout does not depend on it), the second uses the measured one.
  let shift = Math.ceil((metadata.byteLength + 4096) / 16) * 16;
  for (;;) {
    const block = writeBlock(model, root, buffers, metadata, shift);
    const padded = Math.ceil(block.length / 16) * 16;
    if (padded !== shift) {
      shift = padded;
      continue;
    }
    const out = new Uint8Array(modelBytes.byteLength + shift);
    out.set(modelBytes.subarray(0, 8), 0);
    out.set(block, 8);
    out.set(modelBytes.subarray(8), 8 + shift);
    new DataView(out.buffer).setUint32(0, block.root, true);
    return out;
  }
}

function writeBlock(
  model: FlatView,
  root: number,
  buffers: { length: number; start: number },
  metadata: Uint8Array,
  shift: number,
): Uint8Array & { root: number } {
  const moved = (position: number) => position + shift;
  const w = new BlockWriter(8);

  // The new root's vtable, then the table: soffset + 8 four-byte fields.
  const vtable = w.position;
  w.u16(4 + MODEL_FIELDS * 2);
  w.u16(4 + MODEL_FIELDS * 4);
  for (let slot = 0; slot < MODEL_FIELDS; slot++) w.u16(4 + slot * 4);
  w.align(4);
  const table = w.position;
  w.i32(table - vtable);
  const later = new Map<number, (target: number) => void>();
  for (let slot = 0; slot < MODEL_FIELDS; slot++) {
    const old = model.field(root, slot);
    if (slot === MODEL_VERSION) w.u32(old === null ? 3 : model.u32(old));
    else if (slot === MODEL_BUFFERS || slot === MODEL_METADATA) later.set(slot, w.reserveOffset());
    else if (old === null) w.u32(0);
    else w.offsetTo(moved(model.deref(old)));
  }
  // Absent offset fields were written as 0 above; a zero uoffset would point at itself, so mark
  // them absent in the vtable instead.
  const rootBytes = { vtable, table };

  // metadata: the original entries, then ours.
  w.align(4);
  later.get(MODEL_METADATA)!(w.position);
  const oldMetadata = model.field(root, MODEL_METADATA);
  const oldEntries = oldMetadata === null ? { length: 0, start: 0 } : model.vector(oldMetadata);
  w.u32(oldEntries.length + 1);
  for (let i = 0; i < oldEntries.length; i++)
    w.offsetTo(moved(model.deref(oldEntries.start + i * 4)));
  const entryOffset = w.reserveOffset();
  // Metadata { name: string; buffer: uint } with its vtable in front.
  const entryVtable = w.position;
  w.u16(8);
  w.u16(12);
  w.u16(4);
  w.u16(8);
  const entry = w.position;
  entryOffset(entry);
  w.i32(entry - entryVtable);
  const nameOffset = w.reserveOffset();
  w.u32(buffers.length);
  nameOffset(w.position);
  const name = encoder.encode(METADATA_NAME);
  w.u32(name.byteLength);
  w.raw(name);
  w.raw(new Uint8Array([0]));

  // buffers: the original ones, then the metadata's.
  w.align(4);
  later.get(MODEL_BUFFERS)!(w.position);
  w.u32(buffers.length + 1);
  for (let i = 0; i < buffers.length; i++) w.offsetTo(moved(model.deref(buffers.start + i * 4)));
  const bufferOffset = w.reserveOffset();
  const bufferVtable = w.position;
  w.u16(6);
  w.u16(8);
  w.u16(4);
  w.align(4);
  const buffer = w.position;
  bufferOffset(buffer);
  w.i32(buffer - bufferVtable);
  const dataOffset = w.reserveOffset();
  // Buffer data is force_align 16: the bytes (after the 4-byte length) start on a 16-byte boundary.
  w.align(16, 4);
  dataOffset(w.position);
  w.u32(metadata.byteLength);
  w.raw(metadata);
  w.align(16);

  const bytes = w.result();
  // Fields the original root lacked must be absent, not zero offsets.
  const view = new DataView(bytes.buffer);
  for (let slot = 0; slot < MODEL_FIELDS; slot++) {
    if (slot === MODEL_VERSION || slot === MODEL_BUFFERS || slot === MODEL_METADATA) continue;
    if (model.field(root, slot) === null)
      view.setUint16(rootBytes.vtable - 8 + 4 + slot * 2, 0, true);
  }
  return Object.assign(bytes, { root: rootBytes.table });
}

/** ProcessUnitOptions.NormalizationOptions in the metadata schema's union. */
const NORMALIZATION_OPTIONS = 1;
/** ContentProperties.ImageProperties, ColorSpaceType.RGB. */
const IMAGE_PROPERTIES = 2;
const RGB = 1;

export interface ImageInputMetadata {
  name: string;
  description: string;
  version: string;
  author: string;
  license: string;
  width: number;
  height: number;
  mean: number;
  std: number;
  outputs: { name: string; description: string }[];
}

/**
 * A ModelMetadata FlatBuffer (tflite-support metadata_schema.fbs, identifier M001) for a model whose
 * one input is an RGB image normalised as (value - mean) / std.
 */
export function imageModelMetadata(info: ImageInputMetadata): Uint8Array {
  const b = new Builder(1024);
  const offsets = (list: number[]) => {
    b.startVector(4, list.length, 4);
    for (let i = list.length - 1; i >= 0; i--) b.addOffset(list[i]!);
    return b.endVector();
  };
  const floats = (value: number) => {
    b.startVector(4, 1, 4);
    b.addFloat32(value);
    return b.endVector();
  };

  const mean = floats(info.mean);
  const std = floats(info.std);
  b.startObject(2); // NormalizationOptions
  b.addFieldOffset(0, mean, 0);
  b.addFieldOffset(1, std, 0);
  const normalization = b.endObject();
  b.startObject(2); // ProcessUnit { options: ProcessUnitOptions }
  b.addFieldInt8(0, NORMALIZATION_OPTIONS, 0);
  b.addFieldOffset(1, normalization, 0);
  const processUnit = b.endObject();
  const processUnitsVector = offsets([processUnit]);

  b.startObject(2); // ImageSize
  b.addFieldInt32(0, info.width, 0);
  b.addFieldInt32(1, info.height, 0);
  const size = b.endObject();
  b.startObject(2); // ImageProperties
  b.addFieldInt8(0, RGB, 0);
  b.addFieldOffset(1, size, 0);
  const imageProperties = b.endObject();
  b.startObject(3); // Content
  b.addFieldInt8(0, IMAGE_PROPERTIES, 0);
  b.addFieldOffset(1, imageProperties, 0);
  const content = b.endObject();

  const inputName = b.createString('image');
  const inputDescription = b.createString('Input image to be detected, RGB.');
  b.startObject(7); // TensorMetadata
  b.addFieldOffset(0, inputName, 0);
  b.addFieldOffset(1, inputDescription, 0);
  b.addFieldOffset(3, content, 0);
  b.addFieldOffset(4, processUnitsVector, 0);
  const input = b.endObject();

  const outputs = info.outputs.map((output) => {
    const name = b.createString(output.name);
    const description = b.createString(output.description);
    b.startObject(7);
    b.addFieldOffset(0, name, 0);
    b.addFieldOffset(1, description, 0);
    return b.endObject();
  });

  const inputs = offsets([input]);
  const outputList = offsets(outputs);
  b.startObject(9); // SubGraphMetadata
  b.addFieldOffset(2, inputs, 0);
  b.addFieldOffset(3, outputList, 0);
  const subgraph = b.endObject();
  const subgraphs = offsets([subgraph]);

  const name = b.createString(info.name);
  const description = b.createString(info.description);
  const version = b.createString(info.version);
  const author = b.createString(info.author);
  const license = b.createString(info.license);
  // 1.0.0: nothing here needs a newer metadata parser.
  const minParser = b.createString('1.0.0');
  b.startObject(8); // ModelMetadata
  b.addFieldOffset(0, name, 0);
  b.addFieldOffset(1, description, 0);
  b.addFieldOffset(2, version, 0);
  b.addFieldOffset(3, subgraphs, 0);
  b.addFieldOffset(4, author, 0);
  b.addFieldOffset(5, license, 0);
  b.addFieldOffset(7, minParser, 0);
  b.finish(b.endObject(), METADATA_IDENTIFIER);
  return b.asUint8Array().slice();
}
