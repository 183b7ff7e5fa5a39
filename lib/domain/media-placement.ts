/**
 * Placement of VideoRooms on Janus servers: new rooms go to the least-loaded
 * healthy server, a probe every minute records each server's health and load
 * in `media_server`, and rooms of meetings that have not started are moved
 * off a server that went down. Rooms of meetings already under way are never
 * moved, because their participants are connected to that server.
 */
import { sql } from 'kysely';
import type { MediaServer } from '../adapters/media/media.ts';
import type { Dependencies } from '../runtime/dependencies.ts';
import { provisionRoom } from './rooms.ts';

export interface ServerProbe {
  id: string;
  healthy: boolean;
  rooms: number;
  participants: number;
  error?: string;
}

/** Asks one server for its rooms (VideoRoom `list`); a failure or timeout marks it unhealthy. */
async function probeServer(server: MediaServer): Promise<ServerProbe> {
  try {
    const rooms = await server.listRooms();
    return { id: server.id, healthy: true, rooms: rooms.length, participants: rooms.reduce((sum, room) => sum + room.participants, 0) };
  } catch (error) {
    return { id: server.id, healthy: false, rooms: 0, participants: 0, error: (error as Error).message.slice(0, 500) };
  }
}

/** Probes every configured server and stores the results in `media_server`. */
export async function probeServers(deps: Dependencies): Promise<ServerProbe[]> {
  if (deps.media === null) return [];
  const probes = await Promise.all(deps.media.servers().map(probeServer));
  const now = deps.now();
  for (const probe of probes) {
    await deps.db
      .insertInto('media_server')
      .values({
        id: probe.id,
        healthy: probe.healthy,
        rooms: probe.rooms,
        participants: probe.participants,
        checked_at: now,
        unhealthy_since: probe.healthy ? null : now,
        last_error: probe.error ?? null,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet((eb) => ({
          healthy: eb.ref('excluded.healthy'),
          rooms: eb.ref('excluded.rooms'),
          participants: eb.ref('excluded.participants'),
          checked_at: eb.ref('excluded.checked_at'),
          // The first failed probe sets the time; later ones keep it.
          unhealthy_since: probe.healthy ? null : sql<Date>`coalesce(media_server.unhealthy_since, excluded.unhealthy_since)`,
          last_error: eb.ref('excluded.last_error'),
        })),
      )
      .execute();
    if (!probe.healthy) deps.log.warn({ janusServer: probe.id, error: probe.error }, 'Janus server failed its health probe');
  }
  return probes;
}

/**
 * Returns the id of the server a new room goes to: among the configured
 * servers not marked unhealthy, the one with the fewest live participants
 * (from the last probe) plus rooms hop has placed on it for meetings not yet
 * over; ties go to the first in configuration order. A server never probed
 * counts as healthy. When every server is unhealthy, the least loaded of all
 * is returned, so provisioning fails there and is retried.
 */
export async function pickServer(deps: Dependencies): Promise<string> {
  if (deps.media === null) throw new Error('pickServer: media is off');
  const configured = deps.media.servers().map((server) => server.id);
  const health = await deps.db.selectFrom('media_server').selectAll().where('id', 'in', configured).execute();
  const placed = await deps.db
    .selectFrom('room')
    .innerJoin('meeting', 'meeting.id', 'room.meeting_id')
    .select(['room.janus_server', (eb) => eb.fn.countAll<string>().as('rooms')])
    .where('room.janus_server', 'in', configured)
    .where('room.status', 'in', ['pending', 'ready', 'failed'])
    .where('meeting.status', 'not in', ['cancelled', 'ended'])
    .groupBy('room.janus_server')
    .execute();

  const healthById = new Map(health.map((row) => [row.id, row]));
  const placedById = new Map(placed.map((row) => [row.janus_server, Number(row.rooms)]));
  const ranked = configured.map((id, order) => ({
    id,
    order,
    healthy: healthById.get(id)?.healthy ?? true,
    load: (healthById.get(id)?.participants ?? 0) + (placedById.get(id) ?? 0),
  }));
  const candidates = ranked.some((server) => server.healthy) ? ranked.filter((server) => server.healthy) : ranked;
  candidates.sort((a, b) => a.load - b.load || a.order - b.order);
  return candidates[0]!.id;
}

/**
 * Moves the rooms of meetings that have not started off unhealthy servers:
 * each room row is cleared and provisioned again, which places it with
 * pickServer. Returns the ids of the meetings moved.
 */
export async function replaceRoomsOffUnhealthyServers(deps: Dependencies, source: string): Promise<string[]> {
  if (deps.media === null) return [];
  const unhealthy = await deps.db.selectFrom('media_server').select('id').where('healthy', '=', false).execute();
  if (unhealthy.length === 0) return [];
  const now = deps.now();

  const stranded = await deps.db
    .selectFrom('room')
    .innerJoin('meeting', 'meeting.id', 'room.meeting_id')
    .select(['room.meeting_id', 'room.janus_server'])
    .where('room.janus_server', 'in', unhealthy.map((row) => row.id))
    .where('room.status', 'in', ['ready', 'failed'])
    .where('meeting.status', '=', 'scheduled')
    .where('meeting.starts_at', '>', now)
    .execute();

  const moved: string[] = [];
  for (const room of stranded) {
    const log = deps.log.child({ meetingId: room.meeting_id, from: room.janus_server });
    // Only a room still on the dead server is cleared, so a concurrent run cannot clear a room placed anew.
    const cleared = await deps.db
      .updateTable('room')
      .set({ status: 'pending', janus_server: null, room_id: null, secret: null, pin: null, last_error: `moved off unhealthy Janus server ${room.janus_server}`, updated_at: now })
      .where('meeting_id', '=', room.meeting_id)
      .where('janus_server', '=', room.janus_server)
      .executeTakeFirst();
    if (cleared.numUpdatedRows === 0n) continue;
    try {
      await provisionRoom(room.meeting_id, deps, source);
      moved.push(room.meeting_id);
      log.info('room of a future meeting moved off an unhealthy Janus server');
    } catch (error) {
      // The row stays pending; join-issue and the next run provision it.
      log.warn({ err: error }, 'placing a moved room failed; it stays pending');
    }
  }
  return moved;
}
