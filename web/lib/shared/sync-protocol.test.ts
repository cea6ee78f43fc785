import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import * as Y from 'yjs';
import { stateVectorCovers } from './sync-protocol.ts';

const covers = suite('stateVectorCovers');

covers('is true when the remote state holds every local change', () => {
  const local = new Y.Doc();
  local.getText('t').insert(0, 'abc');
  const remote = new Y.Doc();
  Y.applyUpdate(remote, Y.encodeStateAsUpdate(local));
  remote.getText('t').insert(0, 'more from elsewhere');
  assert.ok(stateVectorCovers(Y.encodeStateVector(remote), Y.encodeStateVector(local)));
});

covers('is false while any local change is missing remotely', () => {
  const remote = new Y.Doc();
  const local = new Y.Doc();
  Y.applyUpdate(local, Y.encodeStateAsUpdate(remote));
  local.getText('t').insert(0, 'x');
  assert.not.ok(stateVectorCovers(Y.encodeStateVector(remote), Y.encodeStateVector(local)));
  const partial = Y.encodeStateVector(local);
  local.getText('t').insert(1, 'y');
  assert.not.ok(stateVectorCovers(partial, Y.encodeStateVector(local)));
});

covers('treats an empty document as covered by anything', () => {
  assert.ok(stateVectorCovers(Y.encodeStateVector(new Y.Doc()), Y.encodeStateVector(new Y.Doc())));
});

covers.run();
