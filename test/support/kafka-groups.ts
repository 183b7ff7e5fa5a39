/**
 * Consumer groups for end-to-end tests on the shared Kafka broker.
 */
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { loadRegistry } from '../../gateway/registry.ts';

/**
 * Creates the bridge's consumer groups of this run (`prefix` and each function
 * with topics in stack.yml) at the current end of their topics. The broker is
 * shared, and a group starting from the beginning, or the shared `hop-fn-`
 * groups, would first work through what benchmarks and earlier runs left there.
 * Returns the group ids, for deletion after the test.
 */
export async function createGroupsAtEnd(brokers: string, prefix: string): Promise<string[]> {
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'hop-e2e-groups', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const groups: string[] = [];
  try {
    // On a fresh broker the topics may not exist yet; create them as the platform would (the tests use 3 partitions).
    const registry = await loadRegistry('stack.yml');
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(registry.flatMap((fn) => fn.topics))].filter((topic) => !existing.has(topic));
    if (missing.length > 0) await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions: 3 })), waitForLeaders: true });
    for (const fn of registry) {
      if (fn.topics.length === 0) continue;
      groups.push(`${prefix}${fn.name}`);
      for (const topic of fn.topics) {
        const ends = await topicEnds(admin, topic);
        await admin.setOffsets({ groupId: `${prefix}${fn.name}`, topic, partitions: ends.map((end) => ({ partition: end.partition, offset: end.high })) });
      }
    }
  } finally {
    await admin.disconnect();
  }
  return groups;
}

/**
 * Returns the end offsets of `topic`. Right after a topic is created the broker
 * may still return UNKNOWN_TOPIC_OR_PARTITION for a moment, so this retries
 * for up to 10 s.
 */
async function topicEnds(admin: Admin, topic: string): Promise<{ partition: number; high: string }[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/** Deletes the groups `createGroupsAtEnd` made; a failure is ignored, because the broker is shared and the groups are harmless. */
export async function deleteGroups(brokers: string, groups: string[]): Promise<void> {
  const admin = new Kafka({ brokers: brokers.split(','), clientId: 'hop-e2e-groups', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
}

