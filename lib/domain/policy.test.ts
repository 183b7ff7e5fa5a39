import assert from 'node:assert/strict';
import { test } from 'node:test';
import { actions, decide, type Action } from './policy.ts';
import { MATRIX_NOW, policySubjects } from './policy-subjects.ts';

/**
 * The expected matrix, written by hand from the rules in docs/permissions.md
 * (Y allow, . deny), one row per subject in policy-subjects.ts and one column
 * per action in this order.
 */
const columns: Action[] = [
  'meeting.create',
  'meeting.read',
  'meeting.update',
  'meeting.join',
  'lobby.admit',
  'hand.lower',
  'attendance.manage',
  'attendance.read-all',
  'attendance.read-own',
  'document.read',
  'document.upload',
  'directory.read',
  'directory.manage',
  'audit.read',
  'api-key.manage',
  'notification.manage',
  'meeting-room.read',
  'meeting-room.manage',
  'calendar.feed',
];

const expected: Record<string, string> = {
  //                                       cr rd up jn lb hl am ar ao dr du rd dm au ak nm rr rm cf
  'admin, other unit, not invited':       'Y  Y  Y  .  .  .  .  Y  .  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y',
  'organiser, own unit, not invited':     'Y  Y  Y  .  .  .  .  Y  .  Y  Y  Y  .  .  .  .  Y  .  Y',
  'organiser, other unit':                '.  .  .  .  .  .  .  .  .  .  .  Y  .  .  .  .  Y  .  Y',
  'member as chair':                      '.  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  .  .  .  .  .  .  Y',
  'member as secretary':                  '.  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  .  .  .  .  .  .  Y',
  'member as participant':                '.  Y  .  Y  .  .  .  .  Y  Y  Y  Y  .  .  .  .  .  .  Y',
  'member as secretary, draft':           '.  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  Y  .  .  .  .  .  .  Y',
  'member as participant, draft':         '.  .  .  .  .  .  .  .  .  .  .  Y  .  .  .  .  .  .  Y',
  'member as observer':                   '.  Y  .  Y  .  .  .  .  Y  Y  .  Y  .  .  .  .  .  .  Y',
  'member, own unit, not invited':        '.  .  .  .  .  .  .  .  .  .  .  Y  .  .  .  .  .  .  Y',
  'member, other unit':                   '.  .  .  .  .  .  .  .  .  .  .  Y  .  .  .  .  .  .  Y',
  'guest, invited, during meeting':       '.  Y  .  Y  .  .  .  .  Y  .  .  .  .  .  .  .  .  .  Y',
  'guest, invited, next week':            '.  Y  .  .  .  .  .  .  Y  .  .  .  .  .  .  .  .  .  Y',
  'guest, not invited':                   '.  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  Y',
  'API key, meetings and documents read': '.  Y  .  .  .  .  .  .  .  Y  .  .  .  .  .  .  Y  .  .',
  'not signed in':                        '.  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .  .',
};

test('matrix covers every action', () => {
  assert.deepEqual([...columns].sort(), Object.keys(actions).sort());
});

test('matrix covers every subject', () => {
  assert.deepEqual(Object.keys(expected).sort(), policySubjects.map((subject) => subject.name).sort());
});

test('policy decisions match the matrix', (t) => {
  let cases = 0;
  for (const subject of policySubjects) {
    const row = expected[subject.name]!.split(/\s+/);
    assert.equal(row.length, columns.length, `row of ${subject.name}`);
    for (const [index, action] of columns.entries()) {
      const decision = decide(subject.principal, action, { meeting: subject.meeting, unitId: subject.unitId, now: MATRIX_NOW });
      assert.equal(decision.allow, row[index] === 'Y', `${subject.name} × ${action}: ${decision.reason}`);
      cases++;
    }
  }
  t.diagnostic(`${policySubjects.length} subjects × ${columns.length} actions = ${cases} cases`);
});
