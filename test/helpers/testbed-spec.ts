// What runInTestbed hands to testbed-main.ts (JSON on argv) and what comes back in DIR/outcome.json.
import type { KnobPatch } from '../../src/emulator/control.ts';
import type { EmulatorOptions, EmulatorReport } from '../../src/emulator/index.ts';

/** Fixed addresses inside the namespace (127.0.0.1 and ::1 stay free for runsd's own DNS/proxy). */
export const BED = {
  dns: '127.0.0.2',
  frontend: '127.0.0.3',
  metadata: '127.0.0.4',
  metadataHostPort: '127.0.0.4:80',
  /** control plane (src/emulator/control.ts): GET /report, POST /knobs … as EMULATOR_CONTROL */
  control: '127.0.0.5',
} as const;

export type TestbedKnobs = KnobPatch;

export interface TestbedSignal {
  signal: NodeJS.Signals;
  /** send once the command's stdout+stderr contains this text (deterministic) */
  whenOutput?: string;
  /** else after this many ms */
  afterMs?: number;
}

export interface TestbedSpec {
  root: string;
  dir: string;
  /** null: run the command directly, without runsd (to test the bed itself) */
  runsdArgs: string[] | null;
  command: string[];
  env: Record<string, string | null>;
  emulator: Omit<EmulatorOptions, 'caPath' | 'host'>;
  knobs: TestbedKnobs;
  resolvConf: string;
  stdin: string | null;
  timeoutMs: number;
  asUser: { uid: number; gid: number } | null;
  signals: TestbedSignal[];
  chroot: TestbedChroot | null;
}

/** Run runsd inside a root filesystem (test/helpers/rootfs.ts) with chroot, in the same namespace. */
export interface TestbedChroot {
  dir: string;
  /** runsd's path inside `dir` */
  runsd: string;
  /** where the emulator's CA is copied inside `dir` (NODE_EXTRA_CA_CERTS points there) */
  caPath: string;
  /** /dev nodes to bind-mount from the host */
  devices: string[];
}

export interface TestbedOutcome {
  code: number;
  signal: string | null;
  timedOut: boolean;
  resolvConfAfter: string;
  report: EmulatorReport;
  error?: string;
}
