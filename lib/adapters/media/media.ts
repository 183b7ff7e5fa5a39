/**
 * The media adapter contract: the requests hop sends to a Janus server's VideoRoom
 * plugin. The Janode implementation speaks the Janus WebSocket API.
 */
export interface CreateRoomRequest {
  /** Janus room id; the caller picks it so a retried provisioning finds its own room. */
  roomId: number;
  description: string;
  secret: string;
  pin: string;
  /** Maximum number of concurrent publishers (video feeds). */
  publishers: number;
  /** Per-publisher bitrate cap in bits per second. */
  bitrate: number;
  /** Invitation tokens accepted at join; Janus rejects a join without one when the list is set. */
  allowed?: string[];
}

export interface RoomInfo {
  roomId: number;
  description: string;
  participants: number;
}

export interface MediaServer {
  /** The id hop stores with each room (the `server` field of Janus events). */
  readonly id: string;
  /** Creates the room, or does nothing when a room with that id exists (idempotent). */
  createRoom(request: CreateRoomRequest): Promise<void>;
  /** Destroys the room; a room that no longer exists is not an error. */
  destroyRoom(roomId: number, secret: string): Promise<void>;
  roomExists(roomId: number): Promise<boolean>;
  listRooms(): Promise<RoomInfo[]>;
  /** Adds tokens to the room's `allowed` list and returns the whole list as Janus now has it. */
  allowTokens(roomId: number, secret: string, tokens: string[]): Promise<string[]>;
  /** Removes tokens from the room's `allowed` list. */
  removeTokens(roomId: number, secret: string, tokens: string[]): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The Janus servers hop can place rooms on, by id. */
export interface MediaCluster {
  servers(): MediaServer[];
  server(id: string): MediaServer | undefined;
  /** The first configured server. Room placement uses media-placement.ts pickServer(), which balances on load. */
  pick(): MediaServer;
  close(): Promise<void>;
}
