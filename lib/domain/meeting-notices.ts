/**
 * Turns a meeting change or a due reminder into one rendered notification per
 * participant (`vn.hop.notification.requested.v1`), written to the outbox.
 * The texts come from lib/domain/notification-templates.ts, and
 * notification-fanout delivers them to webhooks and e-mail.
 *
 * The meeting is read from the database when the event is handled, so every
 * notice shows the meeting as it is then, with its current SEQUENCE.
 */
import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import { appendManyToOutbox } from '../adapters/db/outbox.ts';
import { uuidV7 } from '../adapters/db/uuid-v7.ts';
import type { Database } from '../adapters/db/schema.ts';
import { DEFAULT_TIME_ZONE, type Meeting } from '../contract/meeting.ts';
import { newEvent } from '../contract/events.ts';
import { deriveInviteKey, joinPath } from './invite-key.ts';
import { loadMeeting } from './meetings.ts';
import { prepareNotice, type NoticeKind, type NoticeMeeting, type NoticeRecipient, type PreparedNotice } from './notification-templates.ts';

/** Labels of the field names `meeting.updated` lists in `changedFields`, per language. */
const CHANGE_LABELS: Record<'vi' | 'en', Record<string, string>> = {
  vi: {
    title: 'Tên cuộc họp',
    description: 'Nội dung',
    times: 'Thời gian',
    timeZone: 'Múi giờ',
    agenda: 'Chương trình họp',
    mode: 'Hình thức họp',
    place: 'Địa điểm',
    preparation: 'Tài liệu, nội dung cần chuẩn bị',
    urgent: 'Họp khẩn',
    recurrenceRule: 'Lịch lặp lại',
    participants: 'Thành phần tham dự',
  },
  en: {
    title: 'Title',
    description: 'Description',
    times: 'Time',
    timeZone: 'Time zone',
    agenda: 'Agenda',
    mode: 'Meeting mode',
    place: 'Place',
    preparation: 'What to prepare',
    urgent: 'Urgent meeting',
    recurrenceRule: 'Recurrence',
    participants: 'Participants',
  },
};

export interface NoticeRequest {
  kind: NoticeKind;
  /** Set for a notice about one occurrence (moved, cancelled, reminder). */
  occurrenceId?: string | null;
  /** Only these participants; all of the meeting's when undefined. */
  participantIds?: readonly string[];
  /** Field names from `meeting.updated`, listed in the notice. */
  changedFields?: readonly string[];
  cancelReason?: string | null;
  reminderMinutesBefore?: number;
}

export interface NoticeContext {
  /** The triggering event's id; with the participant id it makes each notification id stable across redelivery. */
  eventId: string;
  source: string;
  now: Date;
  joinTokenSecret: string;
  /** Absolute base for join links; without it the notice carries no join link. */
  publicBaseUrl?: string;
}

/** A participant as a notice reaches them: their own contact, else their directory account's. */
export interface NoticeRecipientRow {
  id: string;
  name: string;
  email: string | null;
  phone: string | null;
  user_id: string | null;
  userEmail: string | null;
  userPhone: string | null;
  userTimeZone: string | null;
  userLanguage: 'vi' | 'en' | null;
}

/** Loads the participants of a meeting in list order, only those in `participantIds` when it is given. */
export async function loadNoticeRecipients(
  trx: Transaction<Database>,
  meetingId: string,
  participantIds?: readonly string[],
): Promise<NoticeRecipientRow[]> {
  const people = await trx
    .selectFrom('participant')
    .leftJoin('app_user', 'app_user.id', 'participant.user_id')
    .select([
      'participant.id',
      'participant.name',
      'participant.email',
      'participant.phone',
      'participant.user_id',
      'app_user.email as userEmail',
      'app_user.phone as userPhone',
      'app_user.time_zone as userTimeZone',
      'app_user.language as userLanguage',
    ])
    .where('participant.meeting_id', '=', meetingId)
    .orderBy('participant.position')
    .execute();
  if (!participantIds) return people;
  const wanted = new Set(participantIds);
  return people.filter((person) => wanted.has(person.id));
}

/**
 * Writes one notification per recipient to the outbox inside `trx` and returns
 * how many. A draft or missing meeting gets none.
 */
export async function writeMeetingNotices(
  trx: Transaction<Database>,
  meetingId: string,
  request: NoticeRequest,
  context: NoticeContext,
  loaded?: Meeting,
): Promise<number> {
  const meeting = loaded ?? (await loadMeeting(trx, meetingId));
  if (!meeting || meeting.status === 'draft') return 0;
  const people = await loadNoticeRecipients(trx, meetingId, request.participantIds);
  return writeNoticesTo(trx, meeting, people, request, context);
}

/**
 * Writes one notification of `meeting` to each of `people` and returns how
 * many. `people` may include participants already deleted in this
 * transaction, which is how removed participants get their notice. Recipients
 * who share a language and a time zone share one rendering (`prepareNotice`),
 * so only the greeting, join link and iCalendar ATTENDEE are built per person.
 */
export async function writeNoticesTo(
  trx: Transaction<Database>,
  meeting: Meeting,
  people: readonly NoticeRecipientRow[],
  request: NoticeRequest,
  context: NoticeContext,
): Promise<number> {
  if (meeting.status === 'draft' || people.length === 0) return 0;
  const base = { ...noticeMeeting(meeting, request), organizer: organizerOf(meeting, context.publicBaseUrl) };
  const prepared = new Map<string, PreparedNotice>();
  // A removed participant's invitation key no longer opens the meeting, so their notice carries no link.
  const linksJoin = meeting.mode !== 'in_person' && Boolean(context.publicBaseUrl) && request.kind !== 'removed';

  const entries: Parameters<typeof appendManyToOutbox>[1][number][] = [];
  for (const person of people) {
    const recipient: NoticeRecipient = {
      name: person.name,
      email: person.email ?? person.userEmail ?? null,
      phone: person.phone ?? person.userPhone ?? null,
      timeZone: person.userTimeZone ?? meeting.timeZone ?? DEFAULT_TIME_ZONE,
      language: person.userLanguage ?? 'vi',
    };
    const audience = `${recipient.language}|${recipient.timeZone}`;
    let notice = prepared.get(audience);
    if (!notice) {
      const changes = request.changedFields?.map((field) => CHANGE_LABELS[recipient.language][field] ?? field);
      notice = prepareNotice(request.kind, { ...base, changes }, recipient, { reminderMinutesBefore: request.reminderMinutesBefore });
      prepared.set(audience, notice);
    }
    const joinUrl = linksJoin ? `${context.publicBaseUrl}${joinPath(meeting.id, deriveInviteKey(context.joinTokenSecret, person.id))}` : null;
    const rendered = notice.render(recipient, joinUrl);

    const event = newEvent(
      'vn.hop.notification.requested.v1',
      {
        notificationId: stableUuid(`${context.eventId}:${person.id}:${request.kind}`),
        kind: request.kind,
        meetingId: meeting.id,
        occurrenceId: request.occurrenceId ?? null,
        recipient: {
          participantId: person.id,
          userId: person.user_id,
          name: recipient.name,
          email: recipient.email,
          phone: recipient.phone,
          language: recipient.language,
        },
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        ics: rendered.ics,
      },
      // Time-ordered ids keep the outbox's and processed_event's unique indexes growing at one end.
      { id: uuidV7(), source: context.source, subject: meeting.id, time: context.now },
    );
    entries.push({ event, key: meeting.id });
  }
  await appendManyToOutbox(trx, entries);
  return entries.length;
}

/** Builds the template input for a meeting, or for one of its occurrences when `request.occurrenceId` is set. */
function noticeMeeting(meeting: Meeting, request: NoticeRequest): Omit<NoticeMeeting, 'joinUrl'> {
  const occurrence = request.occurrenceId ? meeting.occurrences.find((candidate) => candidate.id === request.occurrenceId) : undefined;
  const place = meeting.place ? [meeting.place.name, meeting.place.location].filter(Boolean).join(', ') : null;
  return {
    meetingId: meeting.id,
    occurrenceId: occurrence?.id ?? null,
    sequence: meeting.sequence,
    title: meeting.title,
    startsAt: occurrence?.startsAt ?? meeting.startsAt,
    endsAt: occurrence?.endsAt ?? meeting.endsAt,
    originalStartsAt: occurrence?.recurrenceId ?? null,
    timeZone: meeting.timeZone,
    mode: meeting.mode,
    place,
    agenda: meeting.agenda.map((item) => ({ title: item.title, presenter: item.presenter, minutes: item.plannedMinutes })),
    chair: meeting.participants.find((participant) => participant.role === 'chair')?.name ?? null,
    secretary: meeting.participants.find((participant) => participant.role === 'secretary')?.name ?? null,
    preparation: meeting.preparation,
    urgent: meeting.urgent,
    // A notice about one occurrence describes that occurrence alone, not the series.
    recurrenceRule: occurrence ? null : meeting.recurrenceRule,
    cancelReason: request.cancelReason ?? null,
  };
}

/**
 * Picks the iCalendar ORGANIZER, which RFC 5546 requires in REQUEST and
 * CANCEL. It is the chair, else the secretary, when they have an e-mail
 * address, else hop's own no-reply address on the public host.
 */
function organizerOf(meeting: Meeting, publicBaseUrl: string | undefined): { name: string; email: string } {
  for (const role of ['chair', 'secretary'] as const) {
    const person = meeting.participants.find((participant) => participant.role === role && participant.email);
    if (person?.email) return { name: person.name, email: person.email };
  }
  let host = 'hop.invalid';
  if (publicBaseUrl) {
    try {
      host = new URL(publicBaseUrl).hostname;
    } catch {
      // keep the reserved name
    }
  }
  return { name: 'hop', email: `no-reply@${host}` };
}

/** Derives a UUID (version 5 layout) from the SHA-256 of `name`, so a repeated event yields the same notification ids. */
export function stableUuid(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Writes the invitations of a meeting being scheduled, in the transaction that
 * schedules it, so they commit with the `meeting.scheduled` event
 * `scheduledEventId` and never lag behind it.
 */
export function writeInvitations(
  trx: Transaction<Database>,
  meetingId: string,
  scheduledEventId: string,
  context: Omit<NoticeContext, 'eventId'>,
  loaded?: Meeting,
): Promise<number> {
  return writeMeetingNotices(trx, meetingId, { kind: 'scheduled' }, { ...context, eventId: `${scheduledEventId}:scheduled` }, loaded);
}
