/**
 * The media adapter on Janode: each Janus server gets one WebSocket
 * connection, one Janus session and one VideoRoom handle, opened on the first
 * request and opened again on the next request after they drop.
 */
import Janode, { type JanodeConnection, type JanodeHandle, type JanodeSession } from 'janode';
import VideoRoomPlugin from 'janode/plugins/videoroom';
import { log } from '../../log.ts';
import type { CreateRoomRequest, MediaCluster, MediaServer, RoomInfo } from './media.ts';

const mediaLog = log.child({ module: 'janode-media' });

/** VideoRoom error codes, from janus_videoroom.c (Janus 1.1.2). */
export const VideoRoomError = {
  NO_SUCH_ROOM: 426,
  ROOM_EXISTS: 427,
  UNAUTHORIZED: 433,
} as const;

export interface JanodeServerConfig {
  /** The id hop stores with each room. */
  id: string;
  /** Janus API WebSocket URL for the gateway, e.g. ws://127.0.0.1:8188. */
  url: string;
  /** Janus `api_secret`, when the server sets one. */
  apiSecret?: string;
  /** VideoRoom `admin_key`, when the server sets one. It is sent with `create` and `list`. */
  adminKey?: string;
}

export interface JanodeClusterOptions {
  servers: JanodeServerConfig[];
  /** Limit for each VideoRoom request, in milliseconds. Default 10000. */
  requestTimeoutMs?: number;
  /** Limit for opening the connection, session and handle, in milliseconds. Default 10000. */
  connectTimeoutMs?: number;
}

/** A failed request to Janus. `code` is the Janus or VideoRoom error code when Janus sent one. */
export class MediaServerError extends Error {
  constructor(
    message: string,
    readonly serverId: string,
    readonly code: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MediaServerError';
  }
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

interface Attachment {
  connection: JanodeConnection;
  session: JanodeSession;
  handle: JanodeHandle;
}

/** VideoRoom reply body. `videoroom` names the reply type, and errors carry `error_code` and `error`. */
type VideoRoomData = Record<string, unknown> & { videoroom?: string };

export class JanodeMediaServer implements MediaServer {
  readonly id: string;
  /** Janus API WebSocket URL as seen from hop; the gateway's signalling proxy relays browsers to it. */
  readonly url: string;
  /** Janus `api_secret`, when the server sets one. */
  readonly apiSecret: string | undefined;
  private readonly adminKey: string | undefined;
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly log;
  private current: Attachment | undefined;
  private connecting: Promise<Attachment> | undefined;
  private closed = false;

  constructor(config: JanodeServerConfig, options: { requestTimeoutMs?: number; connectTimeoutMs?: number } = {}) {
    this.id = config.id;
    this.url = config.url;
    this.apiSecret = config.apiSecret;
    this.adminKey = config.adminKey;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.log = mediaLog.child({ server: config.id });
  }

  async createRoom(request: CreateRoomRequest): Promise<void> {
    const body: Record<string, unknown> = {
      request: 'create',
      room: request.roomId,
      description: request.description,
      secret: request.secret,
      pin: request.pin,
      publishers: request.publishers,
      bitrate: request.bitrate,
      permanent: false,
      notify_joining: true,
    };
    if (request.allowed) body.allowed = request.allowed;
    if (this.adminKey) body.admin_key = this.adminKey;

    try {
      await this.request('create', body, 'created');
      this.log.info({ roomId: request.roomId, allowedTokens: request.allowed?.length }, 'room created');
    } catch (error) {
      if (!(error instanceof MediaServerError) || error.code !== VideoRoomError.ROOM_EXISTS) throw error;
      // A retried provisioning finds the room its first attempt created. Adding
      // the tokens again makes sure the retry's list is in place. This fails
      // with 433 when the room was created with another secret.
      this.log.info({ roomId: request.roomId }, 'room exists; create treated as done');
      if (request.allowed && request.allowed.length > 0) {
        await this.allowTokens(request.roomId, request.secret, request.allowed);
      }
    }
  }

  async destroyRoom(roomId: number, secret: string): Promise<void> {
    try {
      await this.request('destroy', { request: 'destroy', room: roomId, secret, permanent: false }, 'destroyed');
      this.log.info({ roomId }, 'room destroyed');
    } catch (error) {
      if (!(error instanceof MediaServerError) || error.code !== VideoRoomError.NO_SUCH_ROOM) throw error;
      this.log.info({ roomId }, 'room to destroy does not exist; nothing to do');
    }
  }

  async roomExists(roomId: number): Promise<boolean> {
    const data = await this.request('exists', { request: 'exists', room: roomId }, 'success');
    return data.exists === true;
  }

  async listRooms(): Promise<RoomInfo[]> {
    const body: Record<string, unknown> = { request: 'list' };
    if (this.adminKey) body.admin_key = this.adminKey;
    const data = await this.request('list', body, 'success');
    const list = Array.isArray(data.list) ? (data.list as Record<string, unknown>[]) : [];
    return list.map((room) => ({
      roomId: Number(room.room),
      description: typeof room.description === 'string' ? room.description : '',
      participants: typeof room.num_participants === 'number' ? room.num_participants : 0,
    }));
  }

  async allowTokens(roomId: number, secret: string, tokens: string[]): Promise<string[]> {
    // Janus rejects an `add` without tokens (missing `allowed`), and there is nothing to add.
    if (tokens.length === 0) return [];
    const data = await this.request('allowed', { request: 'allowed', room: roomId, secret, action: 'add', allowed: tokens }, 'success');
    this.log.info({ roomId, tokens: tokens.length }, 'tokens added to room');
    return Array.isArray(data.allowed) ? data.allowed.filter((token): token is string => typeof token === 'string') : [];
  }

  async removeTokens(roomId: number, secret: string, tokens: string[]): Promise<void> {
    if (tokens.length === 0) return;
    await this.request('allowed', { request: 'allowed', room: roomId, secret, action: 'remove', allowed: tokens }, 'success');
    this.log.info({ roomId, tokens: tokens.length }, 'tokens removed from room');
  }

  /** Lists the participants of a room (publishers and others), as the VideoRoom `listparticipants` request returns them. */
  async listParticipants(roomId: number): Promise<{ id: number; display?: string; publisher: boolean }[]> {
    const data = await this.request('listparticipants', { request: 'listparticipants', room: roomId }, 'participants');
    const participants = Array.isArray(data.participants) ? (data.participants as Record<string, unknown>[]) : [];
    return participants.map((participant) => ({
      id: Number(participant.id),
      ...(typeof participant.display === 'string' ? { display: participant.display } : {}),
      publisher: participant.publisher === true,
    }));
  }

  async ping(): Promise<void> {
    const { connection } = await this.attach();
    await this.withTimeout(connection.getInfo(), this.requestTimeoutMs, 'info');
  }

  async close(): Promise<void> {
    this.closed = true;
    const attachment = this.current ?? (await this.connecting?.catch(() => undefined));
    this.current = undefined;
    if (!attachment) return;
    // Destroying the session also detaches the handle. A failure here means the session is already gone.
    await this.withTimeout(attachment.session.destroy(), this.requestTimeoutMs, 'destroy session').catch((error: unknown) => {
      this.log.debug({ err: error }, 'destroying the Janus session failed while closing');
    });
    await this.withTimeout(attachment.connection.close(), this.requestTimeoutMs, 'close connection').catch((error: unknown) => {
      this.log.debug({ err: error }, 'closing the Janus connection failed while closing');
    });
    this.log.info('Janus connection closed');
  }

  /**
   * Sends a VideoRoom request and returns the plugin's reply. A VideoRoom or
   * Janus error, a reply of another type than `expected`, a lost connection
   * and a timeout all raise MediaServerError.
   */
  private async request(name: string, body: Record<string, unknown>, expected: string): Promise<VideoRoomData> {
    const { handle } = await this.attach();
    let data: VideoRoomData;
    try {
      // Janode times out the transaction itself; the race also covers a send that never settles.
      const response = await this.withTimeout(
        handle.sendRequest({ janus: 'message', body }, this.requestTimeoutMs),
        this.requestTimeoutMs + 1_000,
        name,
      );
      data = (response.plugindata?.data ?? {}) as VideoRoomData;
    } catch (error) {
      const code = janusErrorCode(error);
      const message = (error as Error).message;
      // A request without a reply suggests a dead connection that Janode has not noticed yet.
      if (code === undefined && /timed out/i.test(message)) this.dropConnection(`request ${name} timed out`);
      if (error instanceof MediaServerError) throw error;
      throw new MediaServerError(`Janus ${this.id}: ${name} failed: ${message}`, this.id, code, { cause: error });
    }

    if (typeof data.error_code === 'number') {
      throw new MediaServerError(`Janus ${this.id}: ${name} failed: ${data.error_code} ${String(data.error)}`, this.id, data.error_code);
    }
    if (data.videoroom !== expected) {
      throw new MediaServerError(`Janus ${this.id}: ${name} returned "${String(data.videoroom)}", expected "${expected}"`, this.id, undefined);
    }
    return data;
  }

  /** Returns the open connection, session and handle, opening them when there are none. */
  private async attach(): Promise<Attachment> {
    if (this.closed) throw new MediaServerError(`Janus ${this.id}: the media server client is closed`, this.id, undefined);
    if (this.current) return this.current;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async open(): Promise<Attachment> {
    let connection: JanodeConnection | undefined;
    const opening = (async (): Promise<Attachment> => {
      connection = await Janode.connect({
        address: { url: this.url, ...(this.apiSecret ? { apisecret: this.apiSecret } : {}) },
        // One attempt per request: the next request tries again, so a down server fails fast.
        max_retries: 0,
        retry_time_secs: 1,
      });
      const session = await connection.create();
      const handle = await session.attach(VideoRoomPlugin);
      return { connection, session, handle };
    })();

    let attachment: Attachment;
    try {
      attachment = await this.withTimeout(opening, this.connectTimeoutMs, 'connect');
    } catch (error) {
      // An attempt that finishes after the timeout must not leave a connection open.
      void opening.then((late) => late.connection.close()).catch(() => undefined);
      if (connection) void connection.close().catch(() => undefined);
      this.log.warn({ err: underlyingError(error), url: this.url }, 'connecting to Janus failed');
      if (error instanceof MediaServerError) throw error;
      throw new MediaServerError(`Janus ${this.id}: connecting to ${this.url} failed: ${(error as Error).message}`, this.id, janusErrorCode(error), {
        cause: error,
      });
    }

    if (this.closed) {
      await attachment.connection.close().catch(() => undefined);
      throw new MediaServerError(`Janus ${this.id}: the media server client is closed`, this.id, undefined);
    }

    const onDrop = (reason: string) => () => {
      if (this.current !== attachment) return;
      this.current = undefined;
      if (!this.closed) this.log.warn({ reason }, 'Janus connection lost; the next request reconnects');
    };
    attachment.connection.once(Janode.EVENT.CONNECTION_ERROR, onDrop('connection error'));
    attachment.connection.once(Janode.EVENT.CONNECTION_CLOSED, onDrop('connection closed'));
    attachment.session.once(Janode.EVENT.SESSION_DESTROYED, onDrop('session destroyed'));
    attachment.handle.once(Janode.EVENT.HANDLE_DETACHED, onDrop('handle detached'));
    this.current = attachment;
    this.log.info({ url: this.url, session: attachment.session.id }, 'connected to Janus');
    return attachment;
  }

  /** Forgets the current connection (closing it) so that the next request opens a new one. */
  private dropConnection(reason: string): void {
    const attachment = this.current;
    if (!attachment) return;
    this.current = undefined;
    this.log.warn({ reason }, 'dropping the Janus connection; the next request reconnects');
    void attachment.connection.close().catch(() => undefined);
  }

  private withTimeout<T>(promise: Promise<T>, timeoutMs: number, operation: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new MediaServerError(`Janus ${this.id}: ${operation} timed out after ${timeoutMs} ms`, this.id, undefined));
      }, timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Returns the Error inside a WebSocket ErrorEvent (what Janode rejects with when a connection fails), else the value itself. */
function underlyingError(error: unknown): unknown {
  const inner = (error as { error?: unknown } | null)?.error;
  return inner instanceof Error ? inner : error;
}

/**
 * Returns the Janus error code of a Janode error: VideoRoom errors carry it
 * in `_code`, and Janus core errors start their message with it ("458 No such session").
 */
function janusErrorCode(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { _code?: unknown })._code;
  if (typeof code === 'number') return code;
  const match = /^(\d{3}) /.exec((error as { message?: string }).message ?? '');
  return match ? Number(match[1]) : undefined;
}

let janodeLoggerRouted = false;

/**
 * Sends Janode's own log lines (console by default) to pino. Janode's debug
 * and verbose levels are dropped because they print whole Janus messages,
 * room secrets and PINs included.
 */
function routeJanodeLogger(): void {
  if (janodeLoggerRouted) return;
  janodeLoggerRouted = true;
  const janodeLog = log.child({ module: 'janode' });
  const text = (args: unknown[]) => args.map((arg) => (typeof arg === 'string' ? arg : String(arg))).join(' ');
  Janode.Logger.debug = () => undefined;
  Janode.Logger.verbose = () => undefined;
  Janode.Logger.info = (...args) => janodeLog.debug(text(args));
  Janode.Logger.warning = (...args) => janodeLog.warn(text(args));
  Janode.Logger.error = (...args) => janodeLog.warn(text(args));
}

/** A MediaCluster whose servers expose the Janode extras (listParticipants, url, apiSecret). */
export interface JanodeMediaCluster extends MediaCluster {
  servers(): JanodeMediaServer[];
  server(id: string): JanodeMediaServer | undefined;
  pick(): JanodeMediaServer;
}

/** Creates the cluster of Janus servers; `pick()` returns the first one. */
export function createJanodeCluster(options: JanodeClusterOptions): JanodeMediaCluster {
  if (options.servers.length === 0) throw new Error('createJanodeCluster: at least one Janus server is required');
  const ids = new Set<string>();
  for (const server of options.servers) {
    if (ids.has(server.id)) throw new Error(`createJanodeCluster: duplicate server id "${server.id}"`);
    ids.add(server.id);
  }
  routeJanodeLogger();

  const servers = options.servers.map(
    (config) => new JanodeMediaServer(config, { requestTimeoutMs: options.requestTimeoutMs, connectTimeoutMs: options.connectTimeoutMs }),
  );
  const byId = new Map(servers.map((server) => [server.id, server]));

  return {
    servers: () => [...servers],
    server: (id) => byId.get(id),
    // Room provisioning places rooms with lib/domain/media-placement.ts pickServer(), which reads the stored load.
    pick: () => servers[0] as JanodeMediaServer,
    close: async () => {
      await Promise.all(servers.map((server) => server.close()));
    },
  };
}
