import type { Kysely } from 'kysely';
import type { Bus } from './bus.ts';
import { EmbeddedBus } from './embedded-bus.ts';
import { KafkaBus, type KafkaBusOptions } from './kafka-bus.ts';

export type BusConfig =
  | ({ kind: 'kafka' } & KafkaBusOptions)
  | { kind: 'embedded'; db: Kysely<any>; partitions?: number };

/** Creates the Kafka bus, or the embedded bus on the application's database when no broker is configured. */
export function createBus(config: BusConfig): Bus {
  if (config.kind === 'kafka') {
    const { kind: _kind, ...options } = config;
    return new KafkaBus(options);
  }
  return new EmbeddedBus({
    db: config.db,
    ...(config.partitions !== undefined ? { partitions: config.partitions } : {}),
  });
}
