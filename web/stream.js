/**
 * One WebSocket to /api/v1/stream that reconnects with capped exponential backoff and jitter. Browsers cannot
 * set an Authorization header on a WebSocket, so the token goes in the `token` query parameter, which the
 * hub's auth hook accepts for this route only.
 */

const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 30_000;

/**
 * @param {{ query: Record<string, string>, token: () => string | null, onMessage: (m: any) => void,
 *           onState?: (state: 'connecting' | 'open' | 'closed', failures: number) => void }} options
 */
export function openStream({ query, token, onMessage, onState = () => {} }) {
  let socket;
  let timer;
  let failures = 0;
  let stopped = false;

  function connect() {
    const params = new URLSearchParams({ ...query, token: token() ?? '' });
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const current = new WebSocket(`${scheme}://${location.host}/api/v1/stream?${params}`);
    socket = current;
    onState('connecting', failures);
    current.onopen = () => {
      failures = 0;
      onState('open', 0);
    };
    current.onmessage = (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      onMessage(message);
    };
    current.onclose = () => {
      if (stopped || socket !== current) return;
      socket = undefined;
      failures++;
      onState('closed', failures);
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** (failures - 1));
      timer = setTimeout(connect, delay / 2 + (Math.random() * delay) / 2);
    };
  }

  connect();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      const current = socket;
      socket = undefined;
      if (!current) return;
      current.onmessage = null;
      // Closing a socket that is still connecting makes Chromium log an error: let it open, then close it.
      if (current.readyState === WebSocket.CONNECTING) current.onopen = () => current.close();
      else current.close();
    },
  };
}
