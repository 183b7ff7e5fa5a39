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
}
