import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCatalog } from '../lib/errors.ts';
// @ts-expect-error The join page's modules are plain browser JavaScript without type declarations.
import { capacityRefusalCode, capacityRefusalMessage } from './join-refusal.js';

describe('capacity refusal of a Janus session', () => {
  it('maps the proxy reasons to codes', () => {
    // The reason as gateway/media-signalling.ts builds it: the code, a colon and the English message.
    assert.equal(capacityRefusalCode(`MEETING_FULL: ${errorCatalog.MEETING_FULL.en}`), 'MEETING_FULL');
    assert.equal(capacityRefusalCode(`MEDIA_SERVER_FULL: ${errorCatalog.MEDIA_SERVER_FULL.en}`), 'MEDIA_SERVER_FULL');
  });

  it('leaves other errors alone', () => {
    for (const reason of [
      'Error connecting to the Janus WebSockets server: Is the server down?',
      'the media session could not be recorded; try again',
      'MEDIA_UNAVAILABLE: Janus is away',
      'meeting_full: lower case',
      '',
      undefined,
      { code: 503 },
    ]) {
      assert.equal(capacityRefusalCode(reason), null, String(reason));
      assert.equal(capacityRefusalMessage(reason, 'vi'), null, String(reason));
    }
  });

  it('gives the Vietnamese catalogue message', () => {
    assert.equal(capacityRefusalMessage('MEETING_FULL: full', 'vi'), errorCatalog.MEETING_FULL.vi);
    assert.match(capacityRefusalMessage('MEETING_FULL: full', 'vi'), /đã đủ số điểm cầu/);
    assert.equal(capacityRefusalMessage('MEDIA_SERVER_FULL: full', 'vi'), errorCatalog.MEDIA_SERVER_FULL.vi);
  });

  it('gives the English message when chosen', () => {
    assert.equal(capacityRefusalMessage('MEETING_FULL: full', 'en'), errorCatalog.MEETING_FULL.en);
    assert.equal(capacityRefusalMessage('MEDIA_SERVER_FULL: full', 'en'), errorCatalog.MEDIA_SERVER_FULL.en);
    assert.equal(capacityRefusalMessage('MEETING_FULL: full', 'fr'), errorCatalog.MEETING_FULL.vi, 'another language falls back to Vietnamese');
  });
});
