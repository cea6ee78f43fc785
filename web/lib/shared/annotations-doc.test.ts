import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import {
  CASE_TARGET,
  InvalidAnnotation,
  addAnnotation,
  annotationTexts,
  annotatedTargets,
  editAnnotationText,
  getAnnotations,
  observeAnnotations,
  readAnnotations,
  removeAnnotation,
  updateAnnotation,
  type Annotation,
} from './annotations-doc.ts';

const IVY = { id: 'u-ivy', name: 'Ivy Investigator' };
const ANA = { id: 'u-ana', name: 'Ana Analyst' };
const CLIP = 'evidence-clip-0001';
const PHOTO = 'evidence-photo-0002';
const NOW = '2026-03-01T10:00:00.000Z';
const LATER = '2026-03-01T11:00:00.000Z';

/** Exchanges whatever each document lacks, as two devices do when they reconnect. */
function sync(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)));
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)));
}

let counter = 0;
function meta(author = IVY, now = NOW) {
  return { id: `a${++counter}`, author, now };
}

const add = suite('addAnnotation');

add('writes each kind, which reads back whole with its author and times', () => {
  const doc = new Y.Doc();
  const note = addAnnotation(
    doc,
    CLIP,
    { kind: 'note', time: 12.5, end: 14, text: ' Van ' },
    meta(),
  );
  const mark = addAnnotation(doc, CLIP, { kind: 'bookmark', time: 3, text: 'Door' }, meta());
  const region = addAnnotation(
    doc,
    CLIP,
    {
      kind: 'region',
      time: 12.5,
      shape: { type: 'rectangle', x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
      text: 'Plate',
    },
    meta(),
  );
  const comment = addAnnotation(
    doc,
    CASE_TARGET,
    { kind: 'comment', text: '@Ana Analyst look', mentions: [ANA.id, ANA.id] },
    meta(),
  );
  const all = readAnnotations(doc);
  assert.equal(
    all.map((a) => a.id),
    [comment, mark, note, region],
  );
  const [c, , n, r] = all as [Annotation, Annotation, Annotation, Annotation];
  assert.equal(n, {
    id: note,
    evidenceId: CLIP,
    author: IVY,
    createdAt: NOW,
    editedAt: undefined,
    text: 'Van',
    kind: 'note',
    time: 12.5,
    end: 14,
  });
  assert.is(r.kind === 'region' && r.shape.type, 'rectangle');
  assert.is(c.kind === 'comment' && c.evidenceId, undefined);
  assert.equal(c.kind === 'comment' && c.mentions, [ANA.id]);
});

add('refuses what cannot be shown, saying why', () => {
  const doc = new Y.Doc();
  const refused = (input: Parameters<typeof addAnnotation>[2], message: string) => {
    try {
      addAnnotation(doc, CLIP, input, meta());
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, InvalidAnnotation);
      assert.match((err as Error).message, message);
    }
  };
  refused({ kind: 'note', time: -1, text: 'x' }, 'a time must be');
  refused({ kind: 'note', time: 5, end: 4, text: 'x' }, 'cannot end before');
  refused({ kind: 'note', time: 1, text: '   ' }, 'needs some text');
  refused({ kind: 'bookmark', time: Number.NaN, text: 'x' }, 'a time must be');
  refused(
    { kind: 'region', shape: { type: 'rectangle', x: 0.8, y: 0, width: 0.5, height: 0.1 } },
    'within the picture',
  );
  const polygon = (...points: Array<[number, number]>) => ({
    kind: 'region' as const,
    shape: { type: 'polygon' as const, points },
  });
  refused(polygon([0, 0], [1.5, 0], [0, 1]), 'fractions of the picture');
  refused(polygon([0, 0], [1, 0]), 'at least 3 points');
  assert.equal(readAnnotations(doc), []);
});

const read = suite('readAnnotations');

read('reads one target, or all of them including targets only received', () => {
  const a = new Y.Doc();
  addAnnotation(a, CLIP, { kind: 'bookmark', time: 1, text: 'one' }, meta());
  addAnnotation(a, PHOTO, { kind: 'bookmark', time: 0, text: 'two' }, meta());
  const b = new Y.Doc();
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a));
  assert.equal(annotatedTargets(b).sort(), [CLIP, PHOTO]);
  assert.equal(
    readAnnotations(b, PHOTO).map((x) => x.text),
    ['two'],
  );
  assert.is(readAnnotations(b).length, 2);
  assert.equal(readAnnotations(b, 'no-such-item'), []);
});

read('skips annotations another device wrote in a shape it cannot read', () => {
  const doc = new Y.Doc();
  const bad = new Y.Map<unknown>();
  bad.set('kind', 'note');
  bad.set('author', IVY);
  getAnnotations(doc, CLIP).set('broken', bad);
  addAnnotation(doc, CLIP, { kind: 'note', time: 1, text: 'ok' }, meta());
  assert.equal(
    readAnnotations(doc, CLIP).map((a) => a.text),
    ['ok'],
  );
});

const texts = suite('annotationTexts');

texts('gives search the words, the author and the item of every annotation', () => {
  const doc = new Y.Doc();
  addAnnotation(doc, CLIP, { kind: 'note', time: 1, text: 'Blue van' }, meta(ANA));
  addAnnotation(doc, CASE_TARGET, { kind: 'comment', text: 'Warrant signed' }, meta());
  const found = annotationTexts(doc);
  assert.equal(
    found.map((t) => [t.text, t.author, t.evidenceId]),
    [
      ['Warrant signed', IVY.name, undefined],
      ['Blue van', ANA.name, CLIP],
    ],
  );
});

const edit = suite('editAnnotationText and updateAnnotation');

edit('changes text, time and shape, and records when', () => {
  const doc = new Y.Doc();
  const id = addAnnotation(doc, CLIP, { kind: 'note', time: 1, text: 'Blue van' }, meta());
  editAnnotationText(doc, CLIP, id, 'Dark blue van', LATER);
  updateAnnotation(doc, CLIP, id, { time: 2, end: 3 }, LATER);
  const [note] = readAnnotations(doc, CLIP);
  assert.is(note?.text, 'Dark blue van');
  assert.is(note?.editedAt, LATER);
  assert.is(note?.kind === 'note' && note.end, 3);
  updateAnnotation(doc, CLIP, id, { end: null }, LATER);
  const [open] = readAnnotations(doc, CLIP);
  assert.is(open?.kind === 'note' ? open.end : 'not a note', undefined);
  removeAnnotation(doc, CLIP, id);
  assert.equal(readAnnotations(doc, CLIP), []);
});

const merge = suite('offline edits merged');

merge('two devices adding, editing and removing offline both keep their work', () => {
  const ivy = new Y.Doc();
  const ana = new Y.Doc();
  const shared = addAnnotation(
    ivy,
    CLIP,
    { kind: 'note', time: 5, text: 'Man in a red coat' },
    meta(),
  );
  const gone = addAnnotation(ivy, CLIP, { kind: 'bookmark', time: 9, text: 'Exit' }, meta());
  sync(ivy, ana);

  // Offline: both add to the same item (whose map neither had before), edit the same note in
  // different places, and one removes a bookmark.
  addAnnotation(ivy, PHOTO, { kind: 'bookmark', time: 0, text: 'ivy photo' }, meta());
  addAnnotation(ana, PHOTO, { kind: 'bookmark', time: 0, text: 'ana photo' }, meta(ANA));
  addAnnotation(ana, CASE_TARGET, { kind: 'comment', text: 'ana comment' }, meta(ANA));
  editAnnotationText(ivy, CLIP, shared, 'Tall man in a red coat', LATER);
  editAnnotationText(ana, CLIP, shared, 'Man in a red coat and hat', LATER);
  removeAnnotation(ana, CLIP, gone);
  sync(ivy, ana);

  for (const doc of [ivy, ana]) {
    assert.equal(
      readAnnotations(doc, PHOTO)
        .map((a) => a.text)
        .sort(),
      ['ana photo', 'ivy photo'],
    );
    assert.is(
      readAnnotations(doc, CLIP).find((a) => a.id === shared)?.text,
      'Tall man in a red coat and hat',
    );
    assert.not.ok(readAnnotations(doc, CLIP).some((a) => a.id === gone));
    assert.is(readAnnotations(doc, CASE_TARGET).length, 1);
  }
});

const observe = suite('observeAnnotations');

observe('tells of changes to its own item only, re-reading what changed', () => {
  const doc = new Y.Doc();
  const seen: Annotation[][] = [];
  const stop = observeAnnotations(doc, CLIP, (list) => seen.push(list));
  assert.equal(seen, [[]]);
  const id = addAnnotation(doc, CLIP, { kind: 'note', time: 1, text: 'first' }, meta());
  addAnnotation(doc, PHOTO, { kind: 'note', time: 1, text: 'elsewhere' }, meta());
  assert.is(seen.length, 2);
  editAnnotationText(doc, CLIP, id, 'first, corrected', LATER);
  assert.is(seen.at(-1)?.[0]?.text, 'first, corrected');
  const other = new Y.Doc();
  Y.applyUpdate(other, Y.encodeStateAsUpdate(doc));
  addAnnotation(other, CLIP, { kind: 'bookmark', time: 0, text: 'remote' }, meta(ANA));
  sync(other, doc);
  assert.equal(
    seen.at(-1)?.map((a) => a.text),
    ['remote', 'first, corrected'],
  );
  stop();
  removeAnnotation(doc, CLIP, id);
  assert.is(seen.at(-1)?.length, 2);
});

observe('keeps a list of 20,000 annotations current as more arrive', () => {
  const doc = new Y.Doc();
  doc.transact(() => {
    for (let i = 0; i < 20_000; i++) {
      addAnnotation(doc, CLIP, { kind: 'bookmark', time: i, text: `b${i}` }, meta());
    }
  });
  let last: Annotation[] = [];
  const stop = observeAnnotations(doc, CLIP, (list) => (last = list));
  for (let i = 0; i < 20; i++) {
    addAnnotation(doc, CLIP, { kind: 'note', time: 0.5, text: `n${i}` }, meta());
  }
  assert.is(last.length, 20_020);
  assert.is(last[1]?.text, 'n0');
  stop();
});

add.run();
read.run();
texts.run();
edit.run();
merge.run();
observe.run();
