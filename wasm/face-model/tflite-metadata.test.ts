import { readFile } from 'node:fs/promises';
import { ByteBuffer } from 'flatbuffers';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { faceModelSourcePath, withFaceDetectorMetadata } from './face-model.ts';
import {
  addTfliteMetadata,
  imageModelMetadata,
  InvalidModel,
  METADATA_NAME,
  readModel,
} from './tflite-metadata.ts';

const source = new Uint8Array(await readFile(faceModelSourcePath()));
const produced = withFaceDetectorMetadata(source);

/** A FlatBuffer table read by vtable slot with the flatbuffers runtime, not the code under test. */
class Table {
  constructor(
    readonly bb: ByteBuffer,
    readonly position: number,
  ) {}

  static root(bytes: Uint8Array): Table {
    const bb = new ByteBuffer(bytes);
    return new Table(bb, bb.readInt32(0));
  }

  /** Absolute position of the field's value, or 0 when absent. */
  field(slot: number): number {
    const offset = this.bb.__offset(this.position, 4 + slot * 2);
    return offset === 0 ? 0 : this.position + offset;
  }

  has(slot: number): boolean {
    return this.field(slot) !== 0;
  }

  table(slot: number): Table {
    const at = this.field(slot);
    assert.ok(at, `table field ${slot} is present`);
    return new Table(this.bb, this.bb.__indirect(at));
  }

  tables(slot: number): Table[] {
    const at = this.field(slot);
    if (!at) return [];
    const start = this.bb.__vector(at);
    return Array.from(
      { length: this.bb.__vector_len(at) },
      (_, i) => new Table(this.bb, this.bb.__indirect(start + i * 4)),
    );
  }

  floats(slot: number): number[] {
    const at = this.field(slot);
    assert.ok(at, `vector field ${slot} is present`);
    const start = this.bb.__vector(at);
    return Array.from({ length: this.bb.__vector_len(at) }, (_, i) =>
      this.bb.readFloat32(start + i * 4),
    );
  }

  int8(slot: number): number {
    const at = this.field(slot);
    return at ? this.bb.readInt8(at) : 0;
  }

  int32(slot: number): number {
    const at = this.field(slot);
    return at ? this.bb.readInt32(at) : 0;
  }

  string(slot: number): string | null {
    const at = this.field(slot);
    return at ? (this.bb.__string(at) as string) : null;
  }
}

/** tflite.Model slots (tensorflow/lite/schema/schema.fbs). */
const MODEL = { operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 };

/** What the root says about the graph: operator codes, and each subgraph's tensors and operators. */
function graphOf(bytes: Uint8Array) {
  const root = Table.root(bytes);
  return {
    description: root.string(MODEL.description),
    operatorCodes: root
      .tables(MODEL.operatorCodes)
      .map((code) => [code.int8(0), code.string(1), code.int32(2), code.int32(3)]),
    subgraphs: root.tables(MODEL.subgraphs).map((subgraph) => ({
      name: subgraph.string(4),
      tensors: subgraph
        .tables(0)
        .map((tensor) => [tensor.string(3), tensor.int32(2), tensor.int8(1)]),
      operators: subgraph.tables(3).map((operator) => operator.int32(0)),
    })),
  };
}

/** Expects `run` to throw an InvalidModel whose message matches `reason`. */
function refuses(run: () => unknown, reason: RegExp): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, InvalidModel);
    assert.match((error as Error).message, reason);
    return;
  }
  assert.unreachable('the model was accepted');
}

const adding = suite('addTfliteMetadata');

adding('lists one TFLITE_METADATA entry, naming a new last buffer', () => {
  const before = readModel(source);
  const after = readModel(produced);
  assert.equal(before.metadata, []);
  assert.is(after.bufferCount, before.bufferCount + 1);
  assert.equal(after.metadata, [{ name: METADATA_NAME, buffer: before.bufferCount }]);
});

adding('stores a ModelMetadata whose input is normalised with mean 127.5 and std 127.5', () => {
  const after = readModel(produced);
  const metadata = after.bufferData(after.metadata[0]!.buffer);
  const bb = new ByteBuffer(metadata);
  assert.ok(bb.__has_identifier('M001'), 'identifier M001');
  const root = Table.root(metadata);
  assert.is(root.string(0), 'BlazeFace short range');
  const subgraphs = root.tables(3);
  assert.is(subgraphs.length, 1);
  const inputs = subgraphs[0]!.tables(2);
  assert.is(inputs.length, 1);
  const units = inputs[0]!.tables(4);
  assert.is(units.length, 1);
  assert.is(units[0]!.int8(0), 1, 'options_type is NormalizationOptions');
  const normalization = units[0]!.table(1);
  assert.equal(normalization.floats(0), [127.5]);
  assert.equal(normalization.floats(1), [127.5]);
  assert.is(subgraphs[0]!.tables(3).length, 2, 'both outputs described');
  const content = inputs[0]!.table(3);
  assert.is(content.int8(0), 2, 'content is ImageProperties');
  const image = content.table(1);
  assert.is(image.int8(0), 1, 'colour space RGB');
  assert.equal([image.table(1).int32(0), image.table(1).int32(1)], [128, 128]);
});

adding('leaves every original buffer byte for byte as it was, 16-byte alignment kept', () => {
  const before = readModel(source);
  const after = readModel(produced);
  let compared = 0;
  for (let i = 0; i < before.bufferCount; i++) {
    const was = before.bufferData(i);
    const is = after.bufferData(i);
    assert.equal(is, was, `buffer ${i}`);
    if (was.byteLength > 0) {
      assert.is(is.byteOffset % 16, was.byteOffset % 16, `buffer ${i} alignment`);
      compared += was.byteLength;
    }
  }
  assert.ok(compared > 100_000, `the weights were compared (${compared} bytes)`);
  const metadata = after.bufferData(after.metadata[0]!.buffer);
  assert.is(metadata.byteOffset % 16, 0, 'the metadata buffer starts on a 16-byte boundary');
});

adding('keeps the operator codes and subgraphs the root lists', () => {
  const before = graphOf(source);
  const after = graphOf(produced);
  assert.ok(before.operatorCodes.length > 0 && before.subgraphs[0]!.operators.length > 0);
  assert.equal(after, before);
});

adding('keeps the metadata entries a model already has', () => {
  // A model whose one entry is named otherwise: the produced one, its entry renamed in place.
  const renamed = produced.slice();
  const name = new TextEncoder().encode(METADATA_NAME);
  const at = renamed.findIndex((_, i) => name.every((byte, k) => renamed[i + k] === byte));
  renamed.set(new TextEncoder().encode('OTHER__METADATA'), at);
  const before = readModel(renamed);
  assert.equal(before.metadata, [{ name: 'OTHER__METADATA', buffer: before.bufferCount - 1 }]);
  const after = readModel(withFaceDetectorMetadata(renamed));
  assert.equal(after.metadata, [
    { name: 'OTHER__METADATA', buffer: before.bufferCount - 1 },
    { name: METADATA_NAME, buffer: before.bufferCount },
  ]);
  for (let i = 0; i < before.bufferCount; i++)
    assert.equal(after.bufferData(i), before.bufferData(i));
});

adding('keeps the schema version', () => {
  assert.is(Table.root(produced).int32(0), Table.root(source).int32(0));
  assert.is(Table.root(source).int32(0), 3);
});

adding('does not change the model it was given', () => {
  const copy = source.slice();
  withFaceDetectorMetadata(copy);
  assert.equal(copy, source);
});

adding('refuses a file that is not a TFLite model', () => {
  const text = new TextEncoder().encode('<!doctype html><title>Not found</title>');
  refuses(() => withFaceDetectorMetadata(text), /not a TFLite model/);
  refuses(() => withFaceDetectorMetadata(new Uint8Array(8)), /too short/);
});

adding('refuses a truncated model, wherever it was cut', () => {
  const cuts = [12, 64, 1024];
  for (let length = 2048; length < source.byteLength; length += 997) cuts.push(length);
  // The file ends with the operator codes: every cut through them too.
  for (let length = source.byteLength - 64; length < source.byteLength; length++) cuts.push(length);
  for (const length of cuts) {
    refuses(
      () => withFaceDetectorMetadata(source.subarray(0, length)),
      /too short|damaged|outside the file/,
    );
  }
});

adding('answers a model damaged anywhere in its tables with InvalidModel, if at all', () => {
  // The tables sit at the start and the end of the file; the weights between them.
  const spots = [
    ...Array.from({ length: 1024 }, (_, i) => i),
    ...Array.from({ length: 1024 }, (_, i) => source.byteLength - 1024 + i),
  ];
  let refused = 0;
  for (const at of spots) {
    const damaged = source.slice();
    damaged[at] = 0xff;
    try {
      withFaceDetectorMetadata(damaged);
    } catch (error) {
      assert.instance(error, InvalidModel, `byte ${at}: ${String(error)}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} refused`);
});

adding('refuses a model that already has the metadata', () => {
  refuses(() => withFaceDetectorMetadata(produced), /already has TFLite metadata/);
});

adding('refuses metadata without the M001 identifier', () => {
  const metadata = imageModelMetadata({
    name: 'x',
    description: 'x',
    version: '1',
    author: 'x',
    license: 'x',
    width: 128,
    height: 128,
    mean: 127.5,
    std: 127.5,
    outputs: [],
  });
  const wrong = metadata.slice();
  wrong.set(new TextEncoder().encode('TFL3'), 4);
  refuses(() => addTfliteMetadata(source, wrong), /M001/);
  refuses(() => addTfliteMetadata(source, new Uint8Array(0)), /M001/);
  assert.ok(addTfliteMetadata(source, metadata).byteLength > source.byteLength);
});

adding.run();

const reading = suite('readModel');

reading('names a missing buffer', () => {
  const model = readModel(source);
  refuses(() => model.bufferData(model.bufferCount), /no buffer/);
  refuses(() => model.bufferData(-1), /no buffer/);
});

reading.run();
