import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.ts';
import * as directory from './0002_directory.ts';
import * as accounts from './0003_accounts.ts';
import * as meetingAccess from './0004_meeting_access.ts';
import * as audit from './0005_audit.ts';
import * as scheduling from './0006_scheduling.ts';
import * as holidays from './0007_holidays.ts';
import * as notifications from './0008_notifications.ts';
import * as reminders from './0009_reminders.ts';
import * as documents from './0010_documents.ts';
import * as attendance from './0011_attendance.ts';
import * as mediaPlacement from './0012_media_placement.ts';
import * as calendarIndex from './0013_calendar_index.ts';
import * as joinRefusalsHands from './0014_join_refusals_hands.ts';

/**
 * The ordered migration list. Migrations are imported statically rather than
 * read from a folder so that a function image built by the OpenFaaS template
 * carries them without a file-system layout to match.
 */
export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_directory': directory,
  '0003_accounts': accounts,
  '0004_meeting_access': meetingAccess,
  '0005_audit': audit,
  '0006_scheduling': scheduling,
  '0007_holidays': holidays,
  '0008_notifications': notifications,
  '0009_reminders': reminders,
  '0010_documents': documents,
  '0011_attendance': attendance,
  '0012_media_placement': mediaPlacement,
  '0013_calendar_index': calendarIndex,
  '0014_join_refusals_hands': joinRefusalsHands,
};
