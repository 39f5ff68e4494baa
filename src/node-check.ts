// The first module the bundle evaluates (main.ts imports it before anything else): on a Node too old
// for runsd, say so in one line and exit 1 before any other code runs — instead of starting and
// failing only later inside a room (Node 20 lacks Promise.withResolvers, reusePort, …). bin/runsd
// makes the same check (same words) before it loads any file; test/e2e/package.test.ts runs both
// on the machine's own Node 20.
export const MIN_NODE = [22, 12] as const;

export function nodeTooOld(version: string): string | null {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  if (major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1])) return null;
  return `runsd: needs Node ≥ ${MIN_NODE.join('.')}, found v${version} — use the single executable dist/runsd or a newer Node`;
}

const problem = nodeTooOld(process.versions.node);
if (problem !== null) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
