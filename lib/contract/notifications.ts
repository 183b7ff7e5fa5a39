import { z } from 'zod';
import { emailSchema, personNameSchema, phoneSchema, singleLineText } from './directory.ts';

/**
 * Schemas of notification delivery: the `vn.hop.notification.requested.v1`
 * event data, the webhook body hop sends, and the admin API's request and
 * response bodies for webhook endpoints, the target allow-list and deliveries.
 * docs/notifications.md describes the behaviour behind them.
 */

export const notificationKinds = ['scheduled', 'updated', 'postponed', 'cancelled', 'removed', 'reminder'] as const;
export const notificationKindSchema = z.enum(notificationKinds);
export type NotificationKind = z.infer<typeof notificationKindSchema>;

export const notificationRecipientSchema = z.object({
  participantId: z.uuid().nullable(),
  userId: z.uuid().nullable(),
  name: personNameSchema,
  email: emailSchema.nullable(),
  phone: phoneSchema.nullable(),
  language: z.enum(['vi', 'en']),
});
export type NotificationRecipient = z.infer<typeof notificationRecipientSchema>;

/**
 * One rendered notification for one recipient. `subject` becomes an e-mail
 * header, so it is a single line; `ics` is an iCalendar object (RFC 5545) whose
 * METHOD line (REQUEST or CANCEL) is copied into the e-mail's calendar part.
 */
export const notificationRequestedDataSchema = z.object({
  notificationId: z.uuid(),
  kind: notificationKindSchema,
  meetingId: z.uuid(),
  occurrenceId: z.uuid().nullable(),
  recipient: notificationRecipientSchema,
  subject: singleLineText(500),
  text: z.string().min(1).max(100_000),
  html: z.string().min(1).max(500_000),
  ics: z.string().min(1).max(200_000).nullable(),
});
export type NotificationRequested = z.infer<typeof notificationRequestedDataSchema>;

/**
 * The JSON body of a webhook request, in the shape Standard Webhooks
 * recommends: `type`, `timestamp` (when the notification was requested) and
 * `data`.
 */
export const webhookPayloadSchema = z.object({
  type: z.string(),
  timestamp: z.iso.datetime({ offset: true }),
  data: notificationRequestedDataSchema,
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** A webhook URL as typed by an admin; the target check (lib/domain/notifications/target-check.ts) decides whether hop may call it. */
const webhookUrlSchema = z.string().trim().min(1).max(2000);

const eventKindsSchema = z.array(notificationKindSchema).max(notificationKinds.length);

export const createWebhookEndpointRequestSchema = z
  .object({
    name: singleLineText(200),
    url: webhookUrlSchema,
    /** Notification kinds to deliver; empty or omitted delivers every kind. */
    eventKinds: eventKindsSchema.default([]),
    enabled: z.boolean().default(true),
  })
  .strict();

export const updateWebhookEndpointRequestSchema = z
  .object({
    name: singleLineText(200).optional(),
    url: webhookUrlSchema.optional(),
    eventKinds: eventKindsSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict();

export const webhookEndpointSchema = z.object({
  id: z.uuid(),
  name: z.string(),
  url: z.string(),
  eventKinds: z.array(notificationKindSchema),
  enabled: z.boolean(),
  /** Why hop disabled the endpoint by itself (410 Gone), or null. */
  disabledReason: z.string().nullable(),
  /** Until when the previous secret still signs requests after a rotation, or null. */
  previousSecretExpiresAt: z.iso.datetime({ offset: true }).nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;

/** The answer of create and rotate-secret: the only time the secret is shown. */
export const webhookEndpointWithSecretSchema = webhookEndpointSchema.extend({
  secret: z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/),
});

export const createAllowedTargetRequestSchema = z
  .object({
    /** A host name (`hooks.example.gov.vn`), an IP address or a CIDR block (`10.20.0.0/16`, `fd12::/64`). */
    target: z.string().trim().min(1).max(300),
    port: z.number().int().min(1).max(65535).nullable().default(null),
    note: singleLineText(500).nullable().default(null),
  })
  .strict();

export const allowedTargetSchema = z.object({
  id: z.uuid(),
  kind: z.enum(['host', 'cidr']),
  /** Lower-case host name, or the CIDR block with its network address. */
  target: z.string(),
  port: z.number().int().nullable(),
  note: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type AllowedTarget = z.infer<typeof allowedTargetSchema>;

export const deliveryStatuses = ['pending', 'delivering', 'delivered', 'dead'] as const;
export const deliveryStatusSchema = z.enum(deliveryStatuses);
export type DeliveryStatus = z.infer<typeof deliveryStatusSchema>;

export const listDeliveriesQuerySchema = z
  .object({
    status: deliveryStatusSchema.optional(),
    channel: z.enum(['webhook', 'email']).optional(),
    endpointId: z.uuid().optional(),
    notificationId: z.uuid().optional(),
    meetingId: z.uuid().optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    /** The `nextCursor` of the previous page. */
    cursor: z.string().regex(/^[A-Za-z0-9_-]+$/).max(200).optional(),
  })
  .strict();

export const notificationDeliverySchema = z.object({
  id: z.uuid(),
  notificationId: z.uuid(),
  meetingId: z.uuid(),
  kind: notificationKindSchema,
  channel: z.enum(['webhook', 'email']),
  endpointId: z.uuid().nullable(),
  emailAddress: z.string().nullable(),
  sequence: z.number().int(),
  status: deliveryStatusSchema,
  attemptCount: z.number().int(),
  firstAttemptAt: z.iso.datetime({ offset: true }).nullable(),
  nextAttemptAt: z.iso.datetime({ offset: true }),
  lastError: z.string().nullable(),
  lastStatusCode: z.number().int().nullable(),
  deliveredAt: z.iso.datetime({ offset: true }).nullable(),
  deadAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
});
export type NotificationDelivery = z.infer<typeof notificationDeliverySchema>;

/** Body of the replay, disable and rotate operations: empty. */
export const emptyRequestSchema = z.object({}).strict();
