// The token room's typed API, served with comlink on every peer port (the proxy's) and, for
// facts(), on the supervisor's control port. Comlink turns a thrown Error into a bare Error (the
// `code` is lost), so peers call the *Result variants: a union that carries a WireError intact.
import * as Comlink from 'comlink';
import { parseRegionPath } from '../../src/domain/metadata-facts.ts';
import { RunsdError, toWire, type WireError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Facts } from '../../src/protocol.ts';
import type { TokenCache } from './cache.ts';
import type { MetadataClient } from './metadata-client.ts';

export interface Token {
  value: string;
  /** ms since the epoch (from the token's `exp`; a static token that carries none never expires). */
  expiresAt: number;
}

export interface TokenApi {
  token(audience: string): Promise<Token>;
  facts(): Promise<Facts>;
}

export type TokenResult = ({ ok: true } & Token) | { ok: false; error: WireError };
export type FactsResult = { ok: true; facts: Facts } | { ok: false; error: WireError };

/** What a peer port serves. Clients use tokenResult/factsResult; token/facts throw (code kept by
 * keepErrorCodes() for callers that read `err.code`). */
export interface TokenPortApi extends TokenApi {
  tokenResult(audience: string): Promise<TokenResult>;
  factsResult(): Promise<FactsResult>;
}

export interface TokenApiDeps {
  cache: TokenCache;
  metadata: MetadataClient;
  staticToken: string | null;
  log: Logger;
}

const MAX_AUDIENCE = 2048;

export function createTokenApi(deps: TokenApiDeps): TokenPortApi {
  const staticToken: Token | null = deps.staticToken
    ? // Used as-is for every audience (runsd compatibility): never refreshed, so never "expiring" —
      // otherwise a mirror would ask again on every request once its exp has passed.
      { value: deps.staticToken, expiresAt: Number.MAX_SAFE_INTEGER }
    : null;
  let facts: Facts | null = null;
  let factsLoading: Promise<Facts> | null = null;

  const token = async (audience: string): Promise<Token> => {
    if (typeof audience !== 'string' || audience.length === 0 || audience.length > MAX_AUDIENCE) {
      throw new RunsdError(
        'RUNSD_TOKEN_FETCH',
        `not a usable audience: ${JSON.stringify(String(audience)).slice(0, 80)}`,
      );
    }
    if (staticToken) return staticToken;
    const t = await deps.cache.get(audience);
    return { value: t.value, expiresAt: t.expiresAt };
  };

  const readFacts = async (): Promise<Facts> => {
    const [regionText, projectId] = await Promise.all([
      deps.metadata.get('instance/region'),
      deps.metadata.get('project/project-id').then(
        (t) => t.trim() || null,
        (err: unknown) => {
          deps.log.warn('metadata server did not give the project id', { error: String(err) });
          return null;
        },
      ),
    ]);
    const parsed = parseRegionPath(regionText);
    if (!parsed) {
      throw new RunsdError(
        'RUNSD_METADATA',
        `metadata server answered instance/region with ${JSON.stringify(regionText.slice(0, 100))}, not projects/NUMBER/regions/REGION`,
      );
    }
    return { region: parsed.region, projectNumber: parsed.projectNumber, projectId };
  };

  const getFacts = async (): Promise<Facts> => {
    if (facts) return facts;
    factsLoading ??= readFacts().finally(() => {
      factsLoading = null;
    });
    try {
      const got = await factsLoading;
      // A missing project id is not worth failing for, but is asked again next time.
      if (got.projectId !== null) facts = got;
      return got;
    } catch (err) {
      throw new RunsdError('RUNSD_METADATA', err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
  };

  return {
    token,
    facts: getFacts,
    tokenResult: (audience) =>
      token(audience).then(
        (t) => ({ ok: true, value: t.value, expiresAt: t.expiresAt }),
        (err: unknown) => ({ ok: false, error: toWire(err, 'RUNSD_TOKEN_FETCH') }),
      ),
    factsResult: () =>
      getFacts().then(
        (f) => ({ ok: true, facts: f }),
        (err: unknown) => ({ ok: false, error: toWire(err, 'RUNSD_METADATA') }),
      ),
  };
}

let kept = false;
/** Makes comlink carry a RunsdError's `code` with the thrown message, so a caller that awaits
 * `facts()` (the supervisor) still sees `err.code`. Installed once per thread, in the room. */
export function keepErrorCodes(): void {
  if (kept) return;
  kept = true;
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<unknown, unknown>;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    deserialize: base.deserialize,
    serialize(v) {
      const [wire, transfer] = base.serialize(v);
      const err = (v as { value?: unknown }).value;
      const w = wire as { isError?: boolean; value?: Record<string, unknown> };
      if (err instanceof RunsdError && w.isError && w.value) w.value['code'] = err.code;
      return [wire, transfer];
    },
  });
}
