import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.ts';
import * as directory from './0002_directory.ts';
import * as accounts from './0003_accounts.ts';
import * as meetingAccess from './0004_meeting_access.ts';
import * as audit from './0005_audit.ts';

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
};
