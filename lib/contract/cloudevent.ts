import { randomUUID } from 'node:crypto';
import { z } from 'zod';

/**
 * The CloudEvents 1.0 envelope in structured JSON mode. hop's event types are
 * reverse-DNS and versioned (`vn.hop.meeting.scheduled.v1`); a breaking change
 * to a data schema gets a new type, never a changed one.
 */
export const cloudEventEnvelopeSchema = z.object({
  specversion: z.literal('1.0'),
  id: z.string().min(1).max(200),
  source: z.string().min(1).max(500),
  type: z.string().regex(/^[a-z0-9]+(\.[a-z0-9-]+)+\.v[0-9]+$/, 'type must be reverse-DNS and end in .vN'),
  subject: z.string().min(1).max(200).optional(),
  time: z.iso.datetime({ offset: true }),
  datacontenttype: z.literal('application/json'),
  dataschema: z.string().optional(),
  /** W3C trace context carried as a CloudEvents extension attribute. */
  traceparent: z.string().max(100).optional(),
  data: z.unknown(),
});

export type CloudEventEnvelope = z.infer<typeof cloudEventEnvelopeSchema>;

export interface CloudEvent<T> extends Omit<CloudEventEnvelope, 'data'> {
  data: T;
}

export interface NewEventOptions {
  source: string;
  subject?: string;
  id?: string;
  time?: Date;
  traceparent?: string;
}

export function newCloudEvent<T>(type: string, data: T, options: NewEventOptions): CloudEvent<T> {
  const event: CloudEvent<T> = {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    data,
  };
  if (options.subject !== undefined) event.subject = options.subject;
  if (options.traceparent !== undefined) event.traceparent = options.traceparent;
  return event;
}
