// Go `flag` package syntax, because runsd must accept the Go runsd's command lines unchanged:
// `-name=v`, `--name=v`, `-name v` (non-boolean only), boolean `-name` / `-name=false`. Parsing
// stops at `--` (dropped) or at the first argument that is not a flag (kept). util.parseArgs and
// the usual CLI libraries treat `-name` as a cluster of short options, so they cannot do this.

export interface FlagSpec {
  name: string;
  boolean?: boolean;
  /** May be given more than once; every value is kept, in order, in `lists`. */
  repeatable?: boolean;
}

export type GoFlagsResult =
  | { ok: true; values: Map<string, string>; lists: Map<string, string[]>; rest: string[] }
  | { ok: false; error: string };

const BOOL_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);
const BOOL_FALSE = new Set(['0', 'f', 'F', 'false', 'FALSE', 'False']);

/** Go's strconv.ParseBool; undefined when the text is not a boolean. */
export function parseGoBool(text: string): boolean | undefined {
  if (BOOL_TRUE.has(text)) return true;
  if (BOOL_FALSE.has(text)) return false;
  return undefined;
}

/** Parses argv (without node/script). The last occurrence of a flag wins, as in Go. */
export function parseGoFlags(argv: readonly string[], specs: readonly FlagSpec[]): GoFlagsResult {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const values = new Map<string, string>();
  const lists = new Map<string, string[]>();
  const set = (spec: FlagSpec, v: string) => {
    values.set(spec.name, v);
    if (spec.repeatable) lists.set(spec.name, [...(lists.get(spec.name) ?? []), v]);
  };
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i]!;
    if (arg === '--') return { ok: true, values, lists, rest: argv.slice(i + 1) };
    if (arg.length < 2 || arg[0] !== '-') break;
    const body = arg[1] === '-' ? arg.slice(2) : arg.slice(1);
    if (body.length === 0 || body[0] === '-' || body[0] === '=') {
      return { ok: false, error: `bad flag syntax: ${arg}` };
    }
    const eq = body.indexOf('=');
    const name = eq === -1 ? body : body.slice(0, eq);
    const spec = byName.get(name);
    if (!spec) return { ok: false, error: `flag provided but not defined: -${name}` };
    i++;
    if (spec.boolean) {
      const text = eq === -1 ? 'true' : body.slice(eq + 1);
      const b = parseGoBool(text);
      if (b === undefined) {
        return { ok: false, error: `invalid boolean value "${text}" for -${name}: expected true or false` };
      }
      values.set(name, String(b));
      continue;
    }
    if (eq !== -1) {
      set(spec, body.slice(eq + 1));
      continue;
    }
    if (i >= argv.length) return { ok: false, error: `flag needs an argument: -${name}` };
    set(spec, argv[i]!);
    i++;
  }
  return { ok: true, values, lists, rest: argv.slice(i) };
}
