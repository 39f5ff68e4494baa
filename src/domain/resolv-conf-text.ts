// resolv.conf as text: parse what glibc/musl read, and render runsd's version. Pure.

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  /** Options other than ndots, in order (timeout:2, attempts:3, edns0, …). */
  options: string[];
  ndots: number | null;
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [], options: [], ndots: null };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [key, ...words] = line.split(/\s+/);
    switch (key) {
      case 'nameserver':
        if (words[0]) out.nameservers.push(words[0]);
        break;
      // "domain" and "search" override each other; the last one wins (resolv.conf(5)).
      case 'search':
        out.search = words;
        break;
      case 'domain':
        out.search = words.slice(0, 1);
        break;
      case 'options':
        for (const o of words) {
          const m = /^ndots:([0-9]+)$/.exec(o);
          if (m) out.ndots = Number(m[1]);
          else if (!out.options.includes(o)) out.options.push(o);
        }
        break;
      default:
        break;
    }
  }
  return out;
}

export interface RenderInput {
  original: ResolvConf;
  nameservers: string[]; // runsd's listeners: 127.0.0.1 (+ ::1)
  domain: string; // "run.internal." (trailing dot optional)
  region: string | null;
  ndots: number;
}

/** The search list runsd writes: REGION.DOMAIN DOMAIN, then the original entries (deduplicated). */
export function searchList(domain: string, region: string | null, original: string[]): string[] {
  const d = domain.replace(/\.$/, '');
  const ours = region ? [`${region}.${d}`, d] : [d];
  const seen = new Set(ours.map((s) => s.toLowerCase()));
  const rest = original.filter((s) => {
    const k = s.replace(/\.$/, '').toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  // glibc reads at most 6 search domains (MAXDNSRCH) before 2.26; keep ours first.
  return [...ours, ...rest];
}

export function renderResolvConf(input: RenderInput): string {
  const lines = ['# written by runsd; the original is restored when runsd exits'];
  for (const ns of input.nameservers) lines.push(`nameserver ${ns}`);
  lines.push(`search ${searchList(input.domain, input.region, input.original.search).join(' ')}`);
  lines.push(`options ${[`ndots:${input.ndots}`, ...input.original.options].join(' ')}`);
  return `${lines.join('\n')}\n`;
}
