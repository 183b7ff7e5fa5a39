import { z } from 'zod';
import { DEFAULT_GRACE_MS } from './intervals.ts';

const seconds = (fallback: number) => z.coerce.number().int().min(0).max(24 * 3600).default(fallback);

const settingsSchema = z.object({
  /** Gap a participant may drop out for and keep one interval, in seconds. */
  HOP_ATTENDANCE_GRACE_SECONDS: seconds(DEFAULT_GRACE_MS / 1000),
  /** Janus `session_timeout` in seconds; must match the servers' janus.jcfg. */
  HOP_JANUS_SESSION_TIMEOUT_SECONDS: seconds(60),
});

export interface AttendanceSettings {
  graceMs: number;
  sessionTimeoutMs: number;
}

/** Reads the attendance settings from the environment; throws naming the invalid variable. */
export function attendanceSettings(env: Record<string, string | undefined> = process.env): AttendanceSettings {
  const parsed = settingsSchema.parse({
    HOP_ATTENDANCE_GRACE_SECONDS: env.HOP_ATTENDANCE_GRACE_SECONDS || undefined,
    HOP_JANUS_SESSION_TIMEOUT_SECONDS: env.HOP_JANUS_SESSION_TIMEOUT_SECONDS || undefined,
  });
  return { graceMs: parsed.HOP_ATTENDANCE_GRACE_SECONDS * 1000, sessionTimeoutMs: parsed.HOP_JANUS_SESSION_TIMEOUT_SECONDS * 1000 };
}
