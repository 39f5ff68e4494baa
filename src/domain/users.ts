// -user NAME|UID[:GROUP|GID] → uid, gid and supplementary groups, from /etc/passwd and /etc/group
// text (distroless images have no getent). Pure.
import { RunsdError } from '../errors.ts';

export interface Identity {
  uid: number;
  gid: number;
  groups: number[];
  name: string | null;
  home: string | null;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}
interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 7 && /^[0-9]+$/.test(f[2]!) && /^[0-9]+$/.test(f[3]!))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }));
}

function parseGroup(text: string): GroupEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && /^[0-9]+$/.test(f[2]!))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: f[3]!.split(',').filter(Boolean) }));
}

const isId = (s: string) => /^[0-9]+$/.test(s) && Number(s) <= 0xfffffffe;

export function resolveIdentity(spec: string, passwdText: string, groupText: string): Identity {
  const [userPart, groupPart] = spec.split(':') as [string, string | undefined];
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  const entry = isId(userPart)
    ? passwd.find((p) => p.uid === Number(userPart))
    : passwd.find((p) => p.name === userPart);
  if (!entry && !isId(userPart)) {
    throw new RunsdError('RUNSD_USER', `runsd: -user ${spec}: no user "${userPart}" in /etc/passwd`);
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid: number;
  if (groupPart !== undefined) {
    const g = isId(groupPart) ? { gid: Number(groupPart) } : groups.find((x) => x.name === groupPart);
    if (!g) throw new RunsdError('RUNSD_USER', `runsd: -user ${spec}: no group "${groupPart}" in /etc/group`);
    gid = g.gid;
  } else if (entry) {
    gid = entry.gid;
  } else {
    // A bare numeric uid with no passwd entry: Docker's `USER 1234` runs with gid 0; so do we.
    gid = 0;
  }
  const supplementary = entry ? groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid) : [];
  const all = [gid, ...supplementary.filter((g) => g !== gid)];
  return { uid, gid, groups: all, name: entry?.name ?? null, home: entry?.home ?? null };
}
