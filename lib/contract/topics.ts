/**
 * Kafka topics, one per aggregate. Every message is keyed by its aggregate id
 * (the meeting id for meetings, attendance, documents and media), so Kafka keeps
 * the events of one meeting in one partition and in order.
 * `docs/events.md` lists the topics, keys and event types.
 */
export const topics = {
  meetings: 'hop.meetings.v1',
  attendance: 'hop.attendance.v1',
  documents: 'hop.documents.v1',
  notifications: 'hop.notifications.v1',
  /** Reminders falling due, keyed by meeting id; apart from hop.meetings.v1 so a burst of them does not queue meeting changes. */
  reminders: 'hop.reminders.v1',
  media: 'hop.media.v1',
  /** Organisation directory: units keyed by unit id, people keyed by user id. */
  directory: 'hop.directory.v1',
  /** Audit records for the province's central logging, keyed by the id of the changed entity. */
  audit: 'hop.audit.v1',
  deadLetter: 'hop.dead-letter.v1',
} as const;

export type TopicName = (typeof topics)[keyof typeof topics];

export const allTopics: TopicName[] = Object.values(topics);
