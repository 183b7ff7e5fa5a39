import { z } from 'zod';
import { eventSource } from '../../lib/contract/events.ts';
import { probeServers, replaceRoomsOffUnhealthyServers } from '../../lib/domain/media-placement.ts';
import { httpFunction } from '../../lib/runtime/function.ts';

const name = 'media-health';

/**
 * Cron, every minute: probes each Janus server (VideoRoom `list`), stores
 * its health and load in `media_server` for room placement, and moves the
 * rooms of meetings that have not started off servers that failed the probe.
 */
export const handler = httpFunction({
  name,
  body: z.object({}).passthrough(),
  handle: async (_input, deps) => {
    const probes = await probeServers(deps);
    const moved = await replaceRoomsOffUnhealthyServers(deps, eventSource(name));
    const unhealthy = probes.filter((probe) => !probe.healthy).map((probe) => probe.id);
    if (unhealthy.length > 0 || moved.length > 0) deps.log.info({ fn: name, unhealthy, moved: moved.length }, 'media health checked');
    return { body: { servers: probes.map(({ id, healthy, rooms, participants }) => ({ id, healthy, rooms, participants })), moved } };
  },
});
