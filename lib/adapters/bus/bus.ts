/**
 * The event bus contract that both implementations keep: Kafka (kafkajs) in
 * production and tests, and the embedded bus that `npm start` uses when no
 * broker is configured.
 *
 * - A topic has a fixed number of partitions; a message goes to the partition
 *   chosen from its key, so messages with the same key keep their order.
 * - A consumer group receives each message once per group; within a partition
 *   `handle` is called for one message at a time, in offset order (or
 *   `batch.handle` for a run of consecutive messages).
 * - An offset is committed only after `handle` resolves. If `handle` throws, the
 *   message is not committed and will be delivered again (at least once).
 */
export interface BusMessageInput {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

export interface BusMessage {
  topic: string;
  partition: number;
  /** Decimal string, as Kafka reports offsets. */
  offset: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
  /** Milliseconds since the epoch at which the message was appended. */
  timestamp: number;
}

export interface SubscribeOptions {
  groupId: string;
  topics: string[];
  /** Start position of a group with no committed offset: the earliest message unless false. */
  fromBeginning?: boolean;
  handle: (message: BusMessage) => Promise<void>;
  /**
   * Hands consecutive messages of one partition over together. When set, the
   * bus calls `batch.handle` instead of `handle` with 1 to `maxMessages`
   * messages in offset order, as many as it has fetched. The offsets are
   * committed only after it resolves. If it throws, none of them is committed
   * and they are delivered again, perhaps grouped differently.
   */
  batch?: { maxMessages: number; handle: (messages: BusMessage[]) => Promise<void> };
}

export interface Subscription {
  /** Stops fetching, lets the message in progress finish, and leaves the group. */
  stop(): Promise<void>;
}

export interface Bus {
  readonly kind: 'kafka' | 'embedded';
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  ensureTopics(topics: string[]): Promise<void>;
  /** Appends messages in order and resolves once the bus has stored them durably. */
  publish(topic: string, messages: BusMessageInput[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Resolves when the bus responds; readiness probes call it. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
