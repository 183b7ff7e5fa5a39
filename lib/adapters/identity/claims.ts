import { z } from 'zod';
import type { SystemRole } from '../db/schema.ts';
import { HopError } from '../../errors.ts';

/**
 * Maps the claims of a verified OpenID Connect token to a hop identity. The
 * token must already be verified (see oidc.ts); this module only reads claims.
 */

/** A claim path: `realm_access.roles`, or segments when a segment contains a dot (`['resource_access', 'hop.tinh', 'roles']`). */
export type ClaimPath = string | readonly string[];

export interface ClaimMappingOptions {
  /** Path of the claim with the provider's role names, e.g. Keycloak's `realm_access.roles` or `resource_access.<client>.roles`, or `groups`. */
  rolesClaim: ClaimPath;
  /** Provider role name → hop system role. Roles missing from the map are ignored. */
  roleMap: Readonly<Record<string, SystemRole>>;
  /** Role for a user whose token carries no mapped role; `null` rejects such a user with IDENTITY_ROLE_MISSING. */
  defaultRole: SystemRole | null;
  /** Claim with the user's unit codes (a string array, or one string of codes separated by commas or spaces); unset means no units. */
  unitsClaim?: ClaimPath;
}

/** The hop identity of a signed-in OIDC user. */
export interface OidcIdentity {
  /** `iss + '|' + sub`, stored in `app_user.external_id`. */
  externalId: string;
  issuer: string;
  subject: string;
  /** NFC: `name`, else `family_name given_name` (Vietnamese order), else `preferred_username`, else the subject. */
  displayName: string;
  /** Lower case; `null` when the token has none or `email_verified` is false. */
  email: string | null;
  /** The highest mapped role (admin > organiser > member > guest), or the default role. */
  systemRole: SystemRole;
  /** Every provider role name found at the roles claim, mapped or not, for logs and audits. */
  providerRoles: string[];
  /** Unit codes, NFC and trimmed, without duplicates, in token order. */
  unitCodes: string[];
}

export const systemRoles = ['admin', 'organiser', 'member', 'guest'] as const satisfies readonly SystemRole[];

const rolePrecedence: Record<SystemRole, number> = { admin: 3, organiser: 2, member: 1, guest: 0 };

/** The standard claims hop reads; other claims pass through unchanged. */
const standardClaimsSchema = z.looseObject({
  // Not trimmed: iss and sub are compared byte for byte.
  iss: z.string().min(1),
  sub: z.string().min(1).max(255),
  name: z.string().optional(),
  given_name: z.string().optional(),
  family_name: z.string().optional(),
  preferred_username: z.string().optional(),
  email: z.string().optional(),
  email_verified: z.union([z.boolean(), z.enum(['true', 'false'])]).optional(),
});

const roleListSchema = z.array(z.string());
const unitListSchema = z.union([z.array(z.string()), z.string()]);

/** Parses `OIDC_ROLE_MAP`: JSON (`{"hop-admin":"admin"}`) or `name=role` pairs separated by commas. */
export function parseRoleMap(text: string): Record<string, SystemRole> {
  const trimmed = text.trim();
  if (trimmed === '') return {};

  let entries: unknown;
  if (trimmed.startsWith('{')) {
    try {
      entries = JSON.parse(trimmed);
    } catch (cause) {
      throw new Error(`OIDC role map is not valid JSON: ${trimmed}`, { cause });
    }
  } else {
    const pairs = trimmed.split(',').map((pair) => pair.trim()).filter((pair) => pair !== '');
    const object: Record<string, string> = {};
    for (const pair of pairs) {
      const separator = pair.lastIndexOf('=');
      if (separator <= 0) throw new Error(`OIDC role map entry "${pair}" is invalid; expected provider-role=hop-role`);
      object[pair.slice(0, separator).trim()] = pair.slice(separator + 1).trim();
    }
    entries = object;
  }

  const parsed = z.record(z.string().min(1), z.enum(systemRoles)).safeParse(entries);
  if (!parsed.success) {
    throw new Error(`OIDC role map is invalid; each value must be one of ${systemRoles.join(', ')}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Splits a dotted claim path into segments; an array path is used as it is. */
export function claimPathSegments(path: ClaimPath): string[] {
  const segments = typeof path === 'string' ? path.split('.') : [...path];
  if (segments.length === 0 || segments.some((segment) => segment === '')) {
    throw new Error(`OIDC claim path "${String(path)}" has an empty segment`);
  }
  return segments;
}

/** Reads the value at a claim path, or undefined when any segment is missing. */
export function readClaim(claims: Record<string, unknown>, path: ClaimPath): unknown {
  let current: unknown = claims;
  for (const segment of claimPathSegments(path)) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function invalidClaim(claim: string, issue: string): HopError {
  return new HopError('TOKEN_INVALID', {
    details: { reason: 'claims', claim, issue },
    message: `The identity token claim ${claim} is invalid: ${issue}`,
  });
}

function displayNameOf(claims: z.infer<typeof standardClaimsSchema>): string {
  const candidates = [
    claims.name,
    // Vietnamese order: family name first (Nguyễn Văn + An).
    [claims.family_name, claims.given_name].filter((part) => part !== undefined && part.trim() !== '').join(' '),
    claims.preferred_username,
    claims.sub,
  ];
  for (const candidate of candidates) {
    const normalised = candidate?.normalize('NFC').replace(/\s+/g, ' ').trim();
    if (normalised) return normalised;
  }
  return claims.sub;
}

function emailOf(claims: z.infer<typeof standardClaimsSchema>): string | null {
  // Keycloak and some others send email_verified as the string "false".
  if (claims.email_verified === false || claims.email_verified === 'false') return null;
  const email = claims.email?.normalize('NFC').trim().toLowerCase();
  if (!email) return null;
  if (!z.email().safeParse(email).success) throw invalidClaim('email', 'not an e-mail address');
  return email;
}

function providerRolesOf(claims: Record<string, unknown>, path: ClaimPath): string[] {
  const value = readClaim(claims, path);
  if (value === undefined || value === null) return [];
  const parsed = roleListSchema.safeParse(value);
  if (!parsed.success) throw invalidClaim(claimPathSegments(path).join('.'), 'expected an array of strings');
  return [...new Set(parsed.data.map((role) => role.normalize('NFC')))];
}

function unitCodesOf(claims: Record<string, unknown>, path: ClaimPath | undefined): string[] {
  if (path === undefined) return [];
  const value = readClaim(claims, path);
  if (value === undefined || value === null) return [];
  const parsed = unitListSchema.safeParse(value);
  if (!parsed.success) throw invalidClaim(claimPathSegments(path).join('.'), 'expected a string or an array of strings');
  const codes = typeof parsed.data === 'string' ? parsed.data.split(/[\s,]+/) : parsed.data;
  const normalised = codes.map((code) => code.normalize('NFC').trim()).filter((code) => code !== '');
  return [...new Set(normalised)];
}

/**
 * Maps verified token claims to a hop identity.
 * Throws HopError TOKEN_INVALID (reason `claims`) when a claim hop reads has the
 * wrong type, and IDENTITY_ROLE_MISSING when no role maps and there is no default role.
 */
export function identityFromClaims(claims: Record<string, unknown>, options: ClaimMappingOptions): OidcIdentity {
  const parsed = standardClaimsSchema.safeParse(claims);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalidClaim(issue?.path.join('.') || 'token', issue?.message ?? 'invalid');
  }
  const standard = parsed.data;

  const providerRoles = providerRolesOf(claims, options.rolesClaim);
  let systemRole: SystemRole | null = null;
  for (const role of providerRoles) {
    const mapped = Object.hasOwn(options.roleMap, role) ? options.roleMap[role] : undefined;
    if (mapped !== undefined && (systemRole === null || rolePrecedence[mapped] > rolePrecedence[systemRole])) systemRole = mapped;
  }
  systemRole ??= options.defaultRole;
  if (systemRole === null) {
    throw new HopError('IDENTITY_ROLE_MISSING', { details: { providerRoles } });
  }

  return {
    externalId: `${standard.iss}|${standard.sub}`,
    issuer: standard.iss,
    subject: standard.sub,
    displayName: displayNameOf(standard),
    email: emailOf(standard),
    systemRole,
    providerRoles,
    unitCodes: unitCodesOf(claims, options.unitsClaim),
  };
}
