import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { uuidV7 } from './uuid-v7.ts';

describe('uuidV7', () => {
  test('version 7 layout', () => {
    const id = uuidV7(Date.UTC(2026, 11, 7, 7, 30));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, '').slice(0, 12), 16), Date.UTC(2026, 11, 7, 7, 30), 'the first 48 bits are the Unix time in ms');
    assert.equal(z.uuid().safeParse(id).success, true, 'the API schemas accept it');
  });

  test('later ids sort after earlier ones', () => {
    const start = Date.UTC(2026, 11, 7);
    const ids = Array.from({ length: 50 }, (_, index) => uuidV7(start + index));
    assert.deepEqual([...ids].sort(), ids);
  });

  test('same millisecond, different ids', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 1000 }, () => uuidV7(now)));
    assert.equal(ids.size, 1000);
  });
});
