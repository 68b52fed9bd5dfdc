// The browser's HTTP cache, asked without touching the network (the page and the decode worker).

/**
 * Whether `url` is in the HTTP cache (any freshness), without touching the network. Only a
 * same-origin URL can be asked (`only-if-cached` needs `mode: 'same-origin'`): any other
 * counts as not cached.
 */
export async function isCached(url: string): Promise<boolean> {
  if (!sameOrigin(url)) return false;
  try {
    const res = await fetch(url, { cache: 'only-if-cached', mode: 'same-origin' });
    void res.body?.cancel().catch(() => undefined);
    return res.ok;
  } catch {
    return false;
  }
}

/** Whether `url` is on this page's (or worker's) origin: only those can be asked. */
export function sameOrigin(url: string): boolean {
  return new URL(url).origin === (self as unknown as { location: { origin: string } }).location.origin;
}
