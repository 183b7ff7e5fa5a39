/**
 * Kiosk keys: API keys an admin issues for the screen of one meeting room.
 * Their only scope, `kiosk:<meeting room id>`, lets them read that room's
 * check-in code and counts (`GET /api/v1/meeting-rooms/:id/check-in-code`)
 * and nothing else, because no policy action has a scope of this form.
 */
import type { Principal } from '../policy.ts';

const KIOSK_SCOPE_PREFIX = 'kiosk:';

/** Returns the scope of a kiosk key for the meeting room `meetingRoomId`. */
export function kioskScope(meetingRoomId: string): string {
  return `${KIOSK_SCOPE_PREFIX}${meetingRoomId.toLowerCase()}`;
}

/** Tells whether `principal` is an API key issued for the kiosk of this meeting room. */
export function isKioskKeyFor(principal: Principal, meetingRoomId: string): boolean {
  return principal.kind === 'api-key' && principal.scopes.includes(kioskScope(meetingRoomId));
}
