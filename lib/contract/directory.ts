import { z } from 'zod';

/**
 * Schemas of the organisation directory: the fields shared by the directory
 * events and the admin HTTP API, the request bodies and queries, and the unit
 * and user bodies the API returns. Names are validated here and normalised by
 * the domain code (`normalizeName`) before they are stored.
 */

export const unitKindSchema = z.enum(['province', 'department', 'district', 'commune', 'office', 'other']);
export type UnitKindName = z.infer<typeof unitKindSchema>;

/** C0 control characters and DEL, tab and line breaks included, because directory fields are single lines. */
const controlCharacters = /[\u0000-\u001F\u007F]/;
const unpairedSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Characters that show nothing on their own: spaces, separators and format characters such as U+200B. */
const invisibleCharacters = /[\s\p{Z}\p{Cf}]/gu;

/**
 * A single line of text shown to people: valid Unicode, no control characters,
 * something visible, at most `max` UTF-16 code units. The value is not
 * transformed, so the same schema describes event data as published.
 */
export const singleLineText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !unpairedSurrogate.test(value), 'must be valid Unicode (it contains an unpaired surrogate)')
    .refine((value) => !controlCharacters.test(value), 'must be a single line without control characters')
    .refine((value) => value.replace(invisibleCharacters, '').length > 0, 'must contain visible text');

export const unitNameSchema = singleLineText(300);
export const personNameSchema = singleLineText(200);
export const positionSchema = singleLineText(200);

/** A unit code of the e-office system or the national administrative list, such as `STTTT` or `000.00.21.H56`. */
export const unitCodeSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N}._\/-]*$/u, 'code must be letters and digits, optionally with . _ / -');

export const emailSchema = z.email().max(320);

export const phoneSchema = z
  .string()
  .max(40)
  .regex(/^\+?[0-9][0-9 .-]*[0-9]$/, 'phone must be digits, optionally starting with + and grouped with spaces, dots or dashes')
  .refine((value) => {
    const digits = value.replace(/[^0-9]/g, '').length;
    return digits >= 6 && digits <= 20;
  }, 'phone must contain 6 to 20 digits');

/** Subject of the identity provider or the e-office system's person id. */
export const externalIdSchema = z
  .string()
  .min(1)
  .max(300)
  .refine((value) => !controlCharacters.test(value) && !unpairedSurrogate.test(value), 'must not contain control characters');

/** Maximum number of units per person. It guards against runaway input and is not a rule of the province. */
export const MAX_MEMBERSHIPS = 50;

export const membershipSchema = z
  .object({
    unitId: z.uuid(),
    position: positionSchema.nullable(),
  })
  .strict();

export const membershipListSchema = z
  .array(membershipSchema)
  .max(MAX_MEMBERSHIPS)
  .refine((list) => new Set(list.map((item) => item.unitId.toLowerCase())).size === list.length, 'each unit may appear once');

// HTTP request bodies. Optional fields of a PATCH body are left unchanged when absent.

export const createUnitRequestSchema = z
  .object({
    parentId: z.uuid().nullable().default(null),
    kind: unitKindSchema,
    code: unitCodeSchema.nullable().default(null),
    name: unitNameSchema,
  })
  .strict();
export type CreateUnitRequest = z.infer<typeof createUnitRequestSchema>;

export const updateUnitRequestSchema = z
  .object({
    parentId: z.uuid().nullable().optional(),
    kind: unitKindSchema.optional(),
    code: unitCodeSchema.nullable().optional(),
    name: unitNameSchema.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one of parentId, kind, code, name');
export type UpdateUnitRequest = z.infer<typeof updateUnitRequestSchema>;

export const createUserRequestSchema = z
  .object({
    displayName: personNameSchema,
    email: emailSchema.nullable().default(null),
    phone: phoneSchema.nullable().default(null),
    externalId: externalIdSchema.nullable().default(null),
    memberships: membershipListSchema.default([]),
    /** System role; only the admin API sets it (directory events leave it as it is). */
    systemRole: z.enum(['admin', 'organiser', 'member', 'guest']).default('member'),
  })
  .strict();
export type CreateUserRequest = z.infer<typeof createUserRequestSchema>;

export const updateUserRequestSchema = z
  .object({
    displayName: personNameSchema.optional(),
    email: emailSchema.nullable().optional(),
    phone: phoneSchema.nullable().optional(),
    externalId: externalIdSchema.nullable().optional(),
    /** Replaces the whole membership list when present. */
    memberships: membershipListSchema.optional(),
    systemRole: z.enum(['admin', 'organiser', 'member', 'guest']).optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'give at least one of displayName, email, phone, externalId, memberships, systemRole');
export type UpdateUserRequest = z.infer<typeof updateUserRequestSchema>;

/** Body of the disable operations: empty. */
export const disableRequestSchema = z.object({}).strict();

const booleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

export const listUnitsQuerySchema = z
  .object({
    format: z.enum(['flat', 'tree']).default('flat'),
    includeDisabled: booleanQuery.default(false),
  })
  .strict();

export const listUsersQuerySchema = z
  .object({
    /** Words to find in the name (ignoring case and tone marks) or in the e-mail address. */
    q: z.string().max(200).optional(),
    unitId: z.uuid().optional(),
    /** With `unitId`: also people of the units below it. */
    includeSubunits: booleanQuery.default(false),
    includeDisabled: booleanQuery.default(false),
    limit: z.coerce.number().int().min(1).max(500).default(50),
  })
  .strict();

// Response bodies.

export const unitSchema = z.object({
  id: z.uuid(),
  parentId: z.uuid().nullable(),
  kind: unitKindSchema,
  code: z.string().nullable(),
  name: z.string(),
  disabledAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type Unit = z.infer<typeof unitSchema>;

export interface UnitTreeNode extends Unit {
  children: UnitTreeNode[];
}

export const userSchema = z.object({
  id: z.uuid(),
  displayName: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  externalId: z.string().nullable(),
  systemRole: z.enum(['admin', 'organiser', 'member', 'guest']),
  memberships: z.array(z.object({ unitId: z.uuid(), position: z.string().nullable() })),
  disabledAt: z.iso.datetime({ offset: true }).nullable(),
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
});
export type User = z.infer<typeof userSchema>;
