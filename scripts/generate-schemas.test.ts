import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { errorCatalog } from '../lib/errors.ts';
import { generatedFiles } from './generate-schemas.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('published schemas up to date', async () => {
  for (const [relative, content] of generatedFiles()) {
    const current = await readFile(path.join(root, relative), 'utf8').catch(() => null);
    assert.equal(current, content, `${relative} is out of date: run npm run schemas`);
  }
});

test('every error code documented', async () => {
  const doc = await readFile(path.join(root, 'docs/errors.md'), 'utf8');
  for (const code of Object.keys(errorCatalog)) {
    assert.ok(doc.includes(`\`${code}\``), `docs/errors.md lacks ${code}`);
  }
});

test('Vietnamese messages in NFC', () => {
  for (const [code, definition] of Object.entries(errorCatalog)) {
    assert.equal(definition.vi, definition.vi.normalize('NFC'), `${code} message is not NFC`);
  }
});
