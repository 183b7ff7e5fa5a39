/**
 * Type declarations for the parts of janode 1.8.0 that hop uses. The package
 * ships JavaScript only, so these follow its JSDoc in src/janode.js,
 * src/connection.js, src/session.js, src/handle.js and src/plugins/videoroom-plugin.js.
 */
declare module 'janode' {
  import type { EventEmitter } from 'node:events';

  export interface JanodeServerAddress {
    url: string;
    apisecret?: string;
    token?: string;
  }

  export interface JanodeConfiguration {
    server_key?: string;
    address: JanodeServerAddress | JanodeServerAddress[];
    /** Seconds between connection attempts. Default 10. */
    retry_time_secs?: number;
    /** Further attempts after the first failed one. Default 5. */
    max_retries?: number;
    is_admin?: boolean;
    ws_options?: Record<string, unknown>;
  }

  /** A message from Janus: `janus` is the message type, `plugindata` carries a plugin's reply. */
  export interface JanusMessage {
    janus: string;
    transaction?: string;
    plugindata?: { plugin: string; data: Record<string, unknown> };
    [key: string]: unknown;
  }

  export interface JanodeHandle extends EventEmitter {
    readonly id: number;
    /** Sends a Janus API request from this handle. With a positive `timeoutMs` it rejects with "Transaction timed out!" after that time. */
    sendRequest(request: Record<string, unknown>, timeoutMs?: number): Promise<JanusMessage>;
    detach(): Promise<void>;
  }

  export interface JanodePluginDescriptor<H extends JanodeHandle = JanodeHandle> {
    id: string;
    Handle?: new (...args: never[]) => H;
    EVENT?: Record<string, string>;
  }

  export interface JanodeSession extends EventEmitter {
    readonly id: number;
    attach<H extends JanodeHandle>(plugin: JanodePluginDescriptor<H>): Promise<H>;
    destroy(): Promise<void>;
  }

  export interface JanodeConnection extends EventEmitter {
    readonly id: number;
    /** Creates a Janus session that sends keep-alives every `keepAliveSeconds` (default 30). */
    create(keepAliveSeconds?: number): Promise<JanodeSession>;
    getInfo(): Promise<JanusMessage>;
    close(): Promise<void>;
  }

  export interface JanodeLogger {
    debug(...args: unknown[]): void;
    verbose(...args: unknown[]): void;
    info(...args: unknown[]): void;
    warning(...args: unknown[]): void;
    error(...args: unknown[]): void;
    setLevel(level: 'debug' | 'verb' | 'info' | 'warn' | 'error' | 'none'): string;
  }

  const Janode: {
    connect(config: JanodeConfiguration | JanodeConfiguration[], key?: number | string | null): Promise<JanodeConnection>;
    Logger: JanodeLogger;
    EVENT: {
      CONNECTION_CLOSED: 'connection_closed';
      SESSION_DESTROYED: 'session_destroyed';
      HANDLE_DETACHED: 'handle_detached';
      CONNECTION_ERROR: 'connection_error';
    };
  };
  export default Janode;
}

declare module 'janode/plugins/videoroom' {
  import type { JanodeHandle, JanodePluginDescriptor } from 'janode';

  const VideoRoomPlugin: JanodePluginDescriptor<JanodeHandle> & { id: 'janus.plugin.videoroom' };
  export default VideoRoomPlugin;
}
