// The proxy's half: a local mirror of tokens (value + expiry) in the proxy's own thread. A fresh
// mirror entry answers without crossing a thread; the token room is asked (comlink over the peer
// port) only on a miss — or, in the background, when the entry nears expiry — and concurrent misses
// for one audience share one call. After the token room restarts, replacePort() re-issues calls
// that were waiting on the dead port.
import type { MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { mirrorStaleAt, usable } from '../../src/domain/token-policy.ts';
import { RunsdError } from '../../src/errors.ts';
import { portEndpoint } from '../../src/port-endpoint.ts';
import type { Token, TokenPortApi } from './api.ts';

export interface TokenClientOptions {
  /** Bound on one wait for the token room (its own retries included). */
  timeoutMs?: number;
  now?: () => number;
  /** How often expired mirror entries are dropped (default 60 s; 0 = never, tests call sweep()). */
  sweepMs?: number;
}

export interface TokenClient {
  /**
   * The token for `audience`. Rejects only with a RunsdError whose code is RUNSD_TOKEN_FETCH and
   * whose message starts `no ID token for AUDIENCE: ` (or, for an audience the room refuses,
   * `not a usable audience: "AUDIENCE"`), whatever failed: the metadata server, the room's answer,
   * no answer within `timeoutMs`, or a closed client. Callers use the message as it is
   * (test/workers/token/client.test.ts, test/workers/token/room.test.ts).
   */
  get(audience: string): Promise<string>;
  /** The mirror's usable entry, or null; never asks the room. */
  peek(audience: string): Token | null;
  /**
   * The hot path: the mirror's token for `audience` if usable (asking the room in the background
   * when it nears expiry), else null — then the caller uses get(). Synchronous, so a request that
   * hits the mirror costs no promise and no microtask.
   */
  cached(audience: string): string | null;
  /** Mirror entries held (expired ones are swept; tests read this). */
  readonly size: number;
  replacePort(port: MessagePort): void;
  /** Drops expired entries now (the timer does this every `sweepMs`). */
  sweep(): void;
  close(): void;
}

interface Mirror extends Token {
  receivedAt: number;
  staleAt: number;
}

const REPLACED = Symbol('replaced');

export function createTokenClient(port: MessagePort, opts: TokenClientOptions = {}): TokenClient {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const mirror = new Map<string, Mirror>();
  const inflight = new Map<string, Promise<string>>();
  let current = port;
  let remote = Comlink.wrap<TokenPortApi>(portEndpoint(port));
  let onReplace = Promise.withResolvers<typeof REPLACED>();
  let closed = false;

  const callRoom = async (audience: string): Promise<Token> => {
    for (;;) {
      if (closed) throw new RunsdError('RUNSD_INTERNAL', 'token client closed');
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(new RunsdError('RUNSD_PORT_TIMEOUT', `token room gave no answer within ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        const r = await Promise.race([remote.token(audience), onReplace.promise, timeout]);
        if (r !== REPLACED) return r;
      } finally {
        clearTimeout(timer);
      }
    }
  };

  const ask = (audience: string): Promise<string> => {
    const running = inflight.get(audience);
    if (running) return running;
    const p = callRoom(audience)
      .then((r) => {
        const at = now();
        mirror.set(audience, {
          value: r.value,
          expiresAt: r.expiresAt,
          receivedAt: at,
          staleAt: mirrorStaleAt(at, r.expiresAt),
        });
        return r.value;
      }, asTokenFetch(audience))
      .finally(() => inflight.delete(audience));
    inflight.set(audience, p);
    return p;
  };

  const fresh = (audience: string, t: number): Mirror | null => {
    const m = mirror.get(audience);
    return m && usable(t, m.receivedAt, m.expiresAt) ? m : null;
  };

  const cached = (audience: string): string | null => {
    const t = now();
    const m = fresh(audience, t);
    if (!m) return null;
    // Near expiry: keep answering from the mirror while the room is asked in the background.
    if (t >= m.staleAt && !inflight.has(audience)) ask(audience).catch(() => {});
    return m.value;
  };

  // An app that called many audiences once would otherwise keep every token (and its audience)
  // for the life of the process: entries past their use are dropped on a slow timer.
  const sweep = () => {
    const t = now();
    for (const [aud, m] of mirror) if (!usable(t, m.receivedAt, m.expiresAt)) mirror.delete(aud);
  };
  const sweepMs = opts.sweepMs ?? 60_000;
  const sweeper = sweepMs > 0 ? setInterval(sweep, sweepMs).unref() : null;

  return {
    get(audience) {
      const v = cached(audience);
      if (v !== null) return Promise.resolve(v);
      mirror.delete(audience);
      return ask(audience);
    },
    cached,
    sweep,
    get size() {
      return mirror.size;
    },
    peek(audience) {
      const m = fresh(audience, now());
      return m ? { value: m.value, expiresAt: m.expiresAt } : null;
    },
    replacePort(p) {
      current.close();
      current = p;
      remote = Comlink.wrap<TokenPortApi>(portEndpoint(p));
      const old = onReplace;
      onReplace = Promise.withResolvers<typeof REPLACED>();
      old.resolve(REPLACED);
    },
    close() {
      closed = true;
      if (sweeper) clearInterval(sweeper);
      current.close();
      mirror.clear();
      onReplace.resolve(REPLACED);
    },
  };
}

/** Every failure of get() as the one error it rejects with (see TokenClient.get). */
function asTokenFetch(audience: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof RunsdError && err.code === 'RUNSD_TOKEN_FETCH') throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new RunsdError('RUNSD_TOKEN_FETCH', `no ID token for ${audience}: ${reason}`, { cause: err });
  };
}
