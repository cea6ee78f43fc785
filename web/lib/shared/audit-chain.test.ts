import { createHash } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  ChainVerifier,
  GENESIS_HASH,
  canonicalJson,
  chainPayload,
  type ChainedEntry,
} from './audit-chain.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const canonical = suite('canonicalJson');

canonical('sorts keys at every level and leaves out undefined members', () => {
  assert.is(
    canonicalJson({ b: 1, a: { d: [3, { z: true, y: null }], c: 'x' }, e: undefined }),
    '{"a":{"c":"x","d":[3,{"y":null,"z":true}]},"b":1}',
  );
  assert.is(canonicalJson({ b: 1, a: 2 }), canonicalJson({ a: 2, b: 1 }));
  assert.is(canonicalJson('ünïcode "quoted"'), JSON.stringify('ünïcode "quoted"'));
});

canonical('refuses what JSON cannot carry exactly', () => {
  assert.throws(() => canonicalJson(Number.NaN), /cannot chain the number NaN/);
  assert.throws(() => canonicalJson({ n: Infinity }), /cannot chain/);
  assert.throws(() => canonicalJson({ f: () => 1 }), /cannot chain a value of type function/);
  assert.throws(() => canonicalJson(10n), /cannot chain a value of type bigint/);
});

const chain = suite('ChainVerifier');

function entries(count: number): ChainedEntry[] {
  const out: ChainedEntry[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 0; seq < count; seq++) {
    const unsigned = { seq, time: `2026-11-25T00:00:0${seq}.000Z`, action: 'a', prevHash };
    const entry = { ...unsigned, hash: sha256(chainPayload(unsigned)) };
    out.push(entry);
    prevHash = entry.hash;
  }
  return out;
}

chain('accepts a chain built the same way, and reports its head', () => {
  const verifier = new ChainVerifier(sha256);
  const all = entries(5);
  for (const entry of all) assert.ok(verifier.add(entry));
  assert.is(verifier.verified, 5);
  assert.is(verifier.head, all[4]!.hash);
  assert.is(verifier.problem, undefined);
});

chain('stops at the first problem and ignores what follows', () => {
  const verifier = new ChainVerifier(sha256);
  const all = entries(5);
  all[2] = { ...all[2]!, action: 'b' };
  for (const entry of all) verifier.add(entry);
  assert.equal(verifier.problem?.seq, 2);
  assert.is(verifier.verified, 2);
});

chain.run();
canonical.run();
