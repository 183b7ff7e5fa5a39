/** A Janus server as hop addresses it: its id, the URL hop connects to, the URL browsers use. */
export interface JanusEndpoint {
  id: string;
  url: string;
  publicUrl: string;
}

/** Parses `a=ws://x,ws://y` into named endpoints; unnamed ones are called janus-1, janus-2 … */
export function parseJanusEndpoints(urls: string, publicUrls: string | undefined): JanusEndpoint[] {
  const split = (value: string) =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean)
      .map((item, index) => {
        const match = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(item);
        return match ? { id: match[1]!, url: match[2]! } : { id: `janus-${index + 1}`, url: item };
      });

  const servers = split(urls);
  const publics = publicUrls ? split(publicUrls) : [];
  return servers.map((server, index) => ({
    ...server,
    publicUrl: publics.find((p) => p.id === server.id)?.url ?? publics[index]?.url ?? server.url,
  }));
}
