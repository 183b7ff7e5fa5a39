import type { Kysely } from 'kysely';
import type { Database } from '../adapters/db/schema.ts';
import type { MediaCluster } from '../adapters/media/media.ts';
import type { ObjectStorage } from '../adapters/storage/storage.ts';
import type { Logger } from '../log.ts';

/**
 * The adapters a function handler may use. The gateway builds one set for its
 * in-process functions; the OpenFaaS template builds one per function pod from
 * the same environment variables. Handlers never construct adapters themselves.
 */
export interface Dependencies {
  db: Kysely<Database>;
  /** Null when no Janus server is configured (media off). */
  media: MediaCluster | null;
  storage: ObjectStorage | null;
  log: Logger;
  now: () => Date;
  /** Key that signs Janus join tokens (lib/domain/join-token.ts); the same in every process of one installation. */
  joinTokenSecret: string;
  /** Address of the web client as people reach it (PUBLIC_BASE_URL), for links in notifications; no trailing slash. */
  publicBaseUrl?: string;
  /**
   * Working days of notice a regular meeting needs (HOP_MIN_NOTICE_WORKING_DAYS);
   * 0 turns the check off, and undefined means MIN_NOTICE_WORKING_DAYS (3).
   */
  minNoticeWorkingDays?: number;
  /** Largest meeting document upload in bytes (HOP_DOCUMENT_MAX_BYTES); undefined means DEFAULT_DOCUMENT_MAX_BYTES (200 MiB). */
  documentMaxBytes?: number;
  /** Lifetime of document download links in seconds (HOP_DOCUMENT_LINK_SECONDS); undefined means DOWNLOAD_LINK_SECONDS (120). */
  documentLinkSeconds?: number;
  /**
   * True when SMTP is configured (HOP_SMTP_URL), so notification-fanout writes
   * e-mail deliveries; absent counts as false.
   */
  emailEnabled?: boolean;
}
