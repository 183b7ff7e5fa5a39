/**
 * hop's permission policy, in one place. Protected endpoints call `decide`
 * before they act, and the meeting list filters by the same rules. System roles
 * come from the directory (`app_user.system_role`), and meeting roles from the
 * meeting's participant list. The matrix in
 * docs/permissions.md is generated from `actions` and `decide`.
 */
import { z } from 'zod';

export type SystemRole = 'admin' | 'organiser' | 'member' | 'guest';
export type MeetingRole = 'chair' | 'secretary' | 'participant' | 'observer' | 'guest';

export type Principal =
  | {
      kind: 'user';
      userId: string;
      systemRole: SystemRole;
      /** Units the person belongs to; an organiser schedules for these. */
      unitIds: readonly string[];
    }
  | { kind: 'api-key'; keyId: string; scopes: readonly string[] }
  | { kind: 'anonymous' };

/** The principal as it travels in the `X-Hop-Principal` header from the gateway to a function. */
export const principalSchema: z.ZodType<Principal> = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('user'),
    userId: z.string().min(1).max(100),
    systemRole: z.enum(['admin', 'organiser', 'member', 'guest']),
    unitIds: z.array(z.string().max(100)).max(1000),
  }),
  z.object({ kind: z.literal('api-key'), keyId: z.string().min(1).max(100), scopes: z.array(z.string().max(100)).max(100) }),
  z.object({ kind: z.literal('anonymous') }),
]);

/** The facts about a meeting that the policy decides on. */
export interface MeetingContext {
  /** The unit the meeting belongs to. */
  unitId: string;
  /** The principal's role in this meeting, or null when they are not invited. */
  meetingRole: MeetingRole | null;
  startsAt: Date;
  endsAt: Date;
  /** A draft is seen only by those who may change it: admins, organisers of the unit, the chair and the secretary. */
  draft?: boolean;
}

export const actions = {
  'meeting.create': { scope: 'meetings:write', about: 'schedule a meeting for a unit' },
  'meeting.read': { scope: 'meetings:read', about: "see a meeting's title, time and participants" },
  'meeting.update': { scope: 'meetings:write', about: 'change or cancel a meeting, edit its participants' },
  'meeting.join': { scope: null, about: 'get join details for the video room' },
  'lobby.admit': { scope: null, about: 'admit people waiting in the lobby' },
  'hand.lower': { scope: null, about: "lower a participant's raised hand" },
  'attendance.manage': { scope: 'attendance:write', about: 'mark attendance of anyone in the meeting' },
  'attendance.read-all': { scope: 'attendance:read', about: "see everyone's attendance" },
  'attendance.read-own': { scope: null, about: 'see their own attendance' },
  'document.read': { scope: 'documents:read', about: 'list and download meeting documents' },
  'document.upload': { scope: 'documents:write', about: 'upload documents and reports to a meeting' },
  'directory.read': { scope: 'directory:read', about: 'list units and search people' },
  'directory.manage': { scope: 'directory:write', about: 'create, change and disable units and users' },
  'audit.read': { scope: 'audit:read', about: 'query and export the audit log' },
  'api-key.manage': { scope: null, about: 'issue and revoke API keys' },
  'meeting-room.read': { scope: 'meetings:read', about: 'list the physical meeting rooms and their bookings' },
  'meeting-room.manage': { scope: 'meeting-rooms:write', about: 'create, change and disable physical meeting rooms' },
  'calendar.feed': { scope: null, about: 'create or rotate their own calendar feed link' },
  'notification.manage': { scope: 'notifications:write', about: 'manage webhook endpoints and their allow-list, list and replay notification deliveries' },
} as const satisfies Record<string, { scope: string | null; about: string }>;

export type Action = keyof typeof actions;

/** Actions about one meeting, which a draft hides from everyone but its editors. */
const meetingActions: Partial<Record<Action, true>> = {
  'meeting.read': true,
  'meeting.update': true,
  'meeting.join': true,
  'lobby.admit': true,
  'hand.lower': true,
  'attendance.manage': true,
  'attendance.read-all': true,
  'attendance.read-own': true,
  'document.read': true,
  'document.upload': true,
};

export interface Decision {
  allow: boolean;
  /** Why, in English, for logs and the audit record. */
  reason: string;
}

/** How long before the start a guest may enter, and how long after the end. */
export const GUEST_EARLY_ENTRY_MS = 30 * 60 * 1000;
export const GUEST_LATE_ENTRY_MS = 0;

const allow = (reason: string): Decision => ({ allow: true, reason });
const deny = (reason: string): Decision => ({ allow: false, reason });

function ownsUnit(principal: Extract<Principal, { kind: 'user' }>, unitId: string | undefined): boolean {
  return unitId !== undefined && principal.unitIds.includes(unitId);
}

/**
 * Decides whether `principal` may do `action`. Meeting actions need `meeting`;
 * `meeting.create` needs `unitId`, the unit the meeting is scheduled for.
 * `now` bounds a guest's entry to the meeting's time window.
 */
export function decide(
  principal: Principal,
  action: Action,
  context: { meeting?: MeetingContext; unitId?: string; now?: Date } = {},
): Decision {
  if (principal.kind === 'anonymous') return deny('not signed in');

  if (principal.kind === 'api-key') {
    const scope = actions[action].scope;
    if (scope === null) return deny(`${action} is not open to API keys`);
    return principal.scopes.includes(scope) ? allow(`API key has scope ${scope}`) : deny(`API key lacks scope ${scope}`);
  }

  const { systemRole } = principal;
  const meeting = context.meeting;
  const meetingRole = meeting?.meetingRole ?? null;
  const organiserOfMeetingUnit = systemRole === 'organiser' && ownsUnit(principal, meeting?.unitId);
  const leads = meetingRole === 'chair' || meetingRole === 'secretary';

  if (meeting?.draft && meetingActions[action] && systemRole !== 'admin' && !organiserOfMeetingUnit && !leads) {
    return deny('the meeting is a draft: only admins, organisers of the unit, the chair and the secretary see it');
  }

  switch (action) {
    case 'directory.read':
      return systemRole === 'guest' ? deny('guests do not browse the directory') : allow(`signed in as ${systemRole}`);

    case 'directory.manage':
    case 'audit.read':
    case 'api-key.manage':
    case 'meeting-room.manage':
    case 'notification.manage':
      return systemRole === 'admin' ? allow('admin') : deny('admins only');

    case 'meeting-room.read':
      return systemRole === 'admin' || systemRole === 'organiser' ? allow(systemRole) : deny('only admins and organisers book meeting rooms');

    case 'calendar.feed':
      return allow(`signed in as ${systemRole}`);

    case 'meeting.create':
      if (systemRole === 'admin') return allow('admin');
      if (systemRole === 'organiser' && ownsUnit(principal, context.unitId)) return allow('organiser of the unit');
      return deny('only admins and organisers of the unit schedule meetings');

    case 'meeting.read':
      if (!meeting) return deny('no meeting given');
      if (systemRole === 'admin') return allow('admin');
      if (organiserOfMeetingUnit) return allow('organiser of the meeting unit');
      if (meetingRole !== null) return allow(`invited as ${meetingRole}`);
      return deny('not invited and not an organiser of the meeting unit');

    case 'meeting.update':
      if (!meeting) return deny('no meeting given');
      if (systemRole === 'admin') return allow('admin');
      if (organiserOfMeetingUnit) return allow('organiser of the meeting unit');
      if (leads) return allow(`meeting ${meetingRole}`);
      return deny('only the chair, the secretary, organisers of the unit and admins change a meeting');

    case 'meeting.join': {
      if (!meeting) return deny('no meeting given');
      if (meetingRole === null) return deny('not invited');
      if (systemRole === 'guest' || meetingRole === 'guest') {
        const now = (context.now ?? new Date()).getTime();
        const opens = meeting.startsAt.getTime() - GUEST_EARLY_ENTRY_MS;
        const closes = meeting.endsAt.getTime() + GUEST_LATE_ENTRY_MS;
        if (now < opens || now > closes) return deny('guests join only within the meeting time window');
      }
      return allow(`invited as ${meetingRole}`);
    }

    case 'lobby.admit':
    case 'hand.lower':
    case 'attendance.manage':
      if (!meeting) return deny('no meeting given');
      if (leads) return allow(`meeting ${meetingRole}`);
      return deny('only the chair and the secretary');

    case 'attendance.read-all':
      if (!meeting) return deny('no meeting given');
      if (systemRole === 'admin') return allow('admin');
      if (organiserOfMeetingUnit) return allow('organiser of the meeting unit');
      if (leads) return allow(`meeting ${meetingRole}`);
      return deny('only the chair, the secretary, organisers of the unit and admins');

    case 'attendance.read-own':
      if (!meeting) return deny('no meeting given');
      return meetingRole !== null ? allow(`invited as ${meetingRole}`) : deny('not invited');

    case 'document.read':
      if (!meeting) return deny('no meeting given');
      if (systemRole === 'admin') return allow('admin');
      if (organiserOfMeetingUnit) return allow('organiser of the meeting unit');
      if (meetingRole !== null && meetingRole !== 'guest') return allow(`invited as ${meetingRole}`);
      return deny('only invited members, organisers of the unit and admins');

    case 'document.upload':
      if (!meeting) return deny('no meeting given');
      if (organiserOfMeetingUnit || systemRole === 'admin') return allow('organiser or admin');
      if (leads || meetingRole === 'participant') return allow(`invited as ${meetingRole}`);
      return deny('observers and guests do not upload');
  }
}
