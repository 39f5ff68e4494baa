// The token room's typed API, served with comlink on every peer port (the proxy's) and, for
// facts(), on the supervisor's control port. Failures reject with a RunsdError whose code reaches
// the caller (src/port-endpoint.ts carries it across the port).
import { parseRegionPath } from '../../src/domain/metadata-facts.ts';
import type { RegionList } from '../../src/domain/service-list.ts';
import { RunsdError } from '../../src/errors.ts';
import type { Logger } from '../../src/log.ts';
import type { Facts } from '../../src/protocol.ts';
import type { TokenCache } from './cache.ts';
import type { Catalog } from './catalog.ts';
import type { MetadataClient } from './metadata-client.ts';

export interface Token {
  value: string;
  /** ms since the epoch (from the token's `exp`; a static token that carries none never expires). */
  expiresAt: number;
}

/** What a peer port serves (workers/token/client.ts calls it). */
export interface TokenPortApi {
  /** Rejects with RUNSD_TOKEN_FETCH; the message names the audience. */
  token(audience: string): Promise<Token>;
  /** Rejects with RUNSD_METADATA. */
  facts(): Promise<Facts>;
  /** -check_services: a region's service list (workers/token/catalog.ts); `miss`: a room did not
   * find a name in it (refreshed at once, spaced). Never rejects: "unchecked" lists say why. */
  services(region: string, miss: boolean): Promise<RegionList>;
}

export interface TokenApiDeps {
  cache: TokenCache;
  metadata: MetadataClient;
  staticToken: string | null;
  log: Logger;
  catalog?: Catalog | null;
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

  const services = async (region: string, miss: boolean): Promise<RegionList> => {
    const off: RegionList = { region: String(region), names: null, fetchedAt: 0, state: 'refused' };
    if (!deps.catalog || typeof region !== 'string' || !/^[a-z]+-[a-z]+[0-9]+$/.test(region)) return off;
    return deps.catalog.get(region, miss === true);
  };

  return { token, facts: getFacts, services };
}
