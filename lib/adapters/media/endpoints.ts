/** A Janus server as hop addresses it: its id and the Janus API WebSocket URL hop connects to. */
export interface JanusEndpoint {
  id: string;
  url: string;
}

/** Parses `a=ws://x,ws://y` into named endpoints; unnamed ones are called janus-1, janus-2 … */
export function parseJanusEndpoints(urls: string): JanusEndpoint[] {
  return urls
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item, index) => {
      const match = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(item);
      return match ? { id: match[1]!, url: match[2]! } : { id: `janus-${index + 1}`, url: item };
    });
}
