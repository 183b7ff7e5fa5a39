import type { Kysely } from 'kysely';
import type { Bus } from './bus.ts';
import { EmbeddedBus } from './embedded-bus.ts';
import { KafkaBus } from './kafka-bus.ts';

export type BusConfig =
  | { kind: 'kafka'; brokers: string[]; clientId: string; partitions?: number }
  | { kind: 'embedded'; db: Kysely<any>; partitions?: number };

/** Creates the Kafka bus, or the embedded bus on the application's database when no broker is configured. */
export function createBus(config: BusConfig): Bus {
  if (config.kind === 'kafka') {
    return new KafkaBus({
      brokers: config.brokers,
      clientId: config.clientId,
      ...(config.partitions !== undefined ? { partitions: config.partitions } : {}),
    });
  }
  return new EmbeddedBus({
    db: config.db,
    ...(config.partitions !== undefined ? { partitions: config.partitions } : {}),
  });
}
