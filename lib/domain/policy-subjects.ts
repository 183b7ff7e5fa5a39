import type { MeetingContext, Principal } from './policy.ts';

/**
 * The people and keys the permission matrix is checked for, each with the
 * meeting they act on: their own meeting (invited with a meeting role), a
 * meeting of their own unit they are not invited to, or a meeting of another
 * unit. docs/permissions.md and the policy test share this list.
 */
export interface PolicySubject {
  name: string;
  principal: Principal;
  meeting: MeetingContext;
  /** The unit `meeting.create` is asked for. */
  unitId: string;
}

const OWN_UNIT = '11111111-1111-4111-8111-111111111111';
const OTHER_UNIT = '22222222-2222-4222-8222-222222222222';
/** The instant the matrix is evaluated at: during the meeting below. */
export const MATRIX_NOW = new Date('2026-12-07T02:30:00Z');
const during = { startsAt: new Date('2026-12-07T02:00:00Z'), endsAt: new Date('2026-12-07T04:00:00Z') };
const nextWeek = { startsAt: new Date('2026-12-14T02:00:00Z'), endsAt: new Date('2026-12-14T04:00:00Z') };

const user = (systemRole: 'admin' | 'organiser' | 'member' | 'guest'): Principal => ({
  kind: 'user',
  userId: `${systemRole}-user`,
  systemRole,
  unitIds: systemRole === 'guest' ? [] : [OWN_UNIT],
});

export const policySubjects: PolicySubject[] = [
  { name: 'admin, other unit, not invited', principal: user('admin'), meeting: { unitId: OTHER_UNIT, meetingRole: null, ...during }, unitId: OTHER_UNIT },
  { name: 'organiser, own unit, not invited', principal: user('organiser'), meeting: { unitId: OWN_UNIT, meetingRole: null, ...during }, unitId: OWN_UNIT },
  { name: 'organiser, other unit', principal: user('organiser'), meeting: { unitId: OTHER_UNIT, meetingRole: null, ...during }, unitId: OTHER_UNIT },
  { name: 'member as chair', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'chair', ...during }, unitId: OWN_UNIT },
  { name: 'member as secretary', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'secretary', ...during }, unitId: OWN_UNIT },
  { name: 'member as participant', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'participant', ...during }, unitId: OWN_UNIT },
  { name: 'member as observer', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'observer', ...during }, unitId: OWN_UNIT },
  { name: 'member as participant, draft', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'participant', draft: true, ...during }, unitId: OWN_UNIT },
  { name: 'member as secretary, draft', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: 'secretary', draft: true, ...during }, unitId: OWN_UNIT },
  { name: 'member, own unit, not invited', principal: user('member'), meeting: { unitId: OWN_UNIT, meetingRole: null, ...during }, unitId: OWN_UNIT },
  { name: 'member, other unit', principal: user('member'), meeting: { unitId: OTHER_UNIT, meetingRole: null, ...during }, unitId: OTHER_UNIT },
  { name: 'guest, invited, during meeting', principal: user('guest'), meeting: { unitId: OTHER_UNIT, meetingRole: 'guest', ...during }, unitId: OTHER_UNIT },
  { name: 'guest, invited, next week', principal: user('guest'), meeting: { unitId: OTHER_UNIT, meetingRole: 'guest', ...nextWeek }, unitId: OTHER_UNIT },
  { name: 'guest, not invited', principal: user('guest'), meeting: { unitId: OTHER_UNIT, meetingRole: null, ...during }, unitId: OTHER_UNIT },
  {
    name: 'API key, meetings and documents read',
    principal: { kind: 'api-key', keyId: 'key-1', scopes: ['meetings:read', 'documents:read'] },
    meeting: { unitId: OTHER_UNIT, meetingRole: null, ...during },
    unitId: OTHER_UNIT,
  },
  { name: 'not signed in', principal: { kind: 'anonymous' }, meeting: { unitId: OWN_UNIT, meetingRole: null, ...during }, unitId: OWN_UNIT },
];
