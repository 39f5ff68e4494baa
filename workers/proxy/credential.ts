// Stage 2 of the pipeline: the credential a service request carries. The app's own wins (Cloud Run
// checks X-Serverless-Authorization first); else an ID token for the route's audience, from the
// token client's local mirror when it holds one (no promise on the hot path), else from the token
// room. Every failure reaches handle() as RUNSD_TOKEN_FETCH naming the audience (a 503).
import type { Headers } from '../../src/domain/http-headers.ts';
import { hasCredential } from '../../src/domain/http-headers.ts';
import type { AuthHeader } from '../../src/domain/vocabulary.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Route } from './route.ts';

/** Where ID tokens come from (the token room's client with its local mirror, or a fake in tests). */
export interface TokenSource {
  /** Rejects with RUNSD_TOKEN_FETCH naming the audience (workers/token/client.ts holds to it). */
  get(audience: string): Promise<string>;
  /** A usable token held locally, without waiting (the hot path), else null. */
  cached?(audience: string): string | null;
}

type ServiceRoute = Extract<Route, { kind: 'service' }>;

export class Credentials {
  private readonly tokens: () => TokenSource | null;
  readonly header: AuthHeader;

  private readonly onMirrorHit: () => void;

  constructor(tokens: () => TokenSource | null, header: AuthHeader, onMirrorHit: () => void = () => {}) {
    this.tokens = tokens;
    this.header = header;
    this.onMirrorHit = onMirrorHit;
  }

  /**
   * The header value to add (`Bearer <token>`), null when the app brought its own credential, or a
   * promise of the value when the token has to come from the token room.
   */
  for(headers: Headers, r: ServiceRoute): string | null | Promise<string> {
    if (hasCredential(headers, this.header)) return null;
    const hot = this.tokens()?.cached?.(r.audience) ?? null;
    if (hot !== null) {
      this.onMirrorHit();
      return bearer(r, hot);
    }
    return this.token(r.audience).then((t) => bearer(r, t));
  }

  private async token(audience: string): Promise<string> {
    const src = this.tokens();
    if (!src) throw new RunsdError('RUNSD_TOKEN_FETCH', 'the token service is not connected (restarting?)');
    try {
      return await src.get(audience);
    } catch (err) {
      // The token client's errors pass as they are; a source that breaks the contract (a fake) is
      // brought to it here, so the app always gets a 503 naming the audience.
      if (err instanceof RunsdError && err.code === 'RUNSD_TOKEN_FETCH') throw err;
      const msg = err instanceof Error ? err.message : String(err);
      throw new RunsdError('RUNSD_TOKEN_FETCH', `no ID token for ${audience}: ${msg}`, { cause: err });
    }
  }
}

function bearer(r: ServiceRoute, token: string): string {
  if (r.bearer?.token !== token) r.bearer = { token, value: `Bearer ${token}` };
  return r.bearer.value;
}
