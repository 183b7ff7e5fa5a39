import { z } from 'zod';

/**
 * The largest per-meeting cap the API accepts. It only rejects typing
 * mistakes: the Janus server's own cap (HOP_JANUS_MAX_CONNECTIONS) still
 * applies to every meeting on it.
 */
export const MAX_MEETING_CONNECTIONS = 10_000;

/** Body of `PUT /api/v1/meetings/:id/media`. */
export const meetingMediaRequestSchema = z
  .object({
    /** Participants connected at once to this meeting; null returns to HOP_MEETING_MAX_CONNECTIONS. */
    maxConnections: z.number().int().min(1).max(MAX_MEETING_CONNECTIONS).nullable(),
  })
  .strict();

/** The media settings of a meeting and its connections now, as GET and PUT `/api/v1/meetings/:id/media` return them. */
export const meetingMediaSchema = z.object({
  meetingId: z.uuid(),
  /** The meeting's own cap, or null when it uses the default. */
  maxConnections: z.number().int().nullable(),
  /** HOP_MEETING_MAX_CONNECTIONS of the process that handled the request. */
  defaultMaxConnections: z.number().int(),
  /** The cap joins are checked against: `maxConnections`, else the default. */
  effectiveMaxConnections: z.number().int(),
  /** HOP_JANUS_MAX_CONNECTIONS of the process that handled the request; it also limits the meeting. */
  serverMaxConnections: z.number().int(),
  /** The Janus server of the meeting's room, or null before the room is placed. */
  janusServer: z.string().nullable(),
  /** Participants connected to the meeting now. */
  connected: z.number().int().nonnegative(),
});

export type MeetingMedia = z.infer<typeof meetingMediaSchema>;
