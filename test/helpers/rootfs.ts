// A minimal container root filesystem for the single executable, as the README's Install recipe
// makes one: the executable at /usr/local/bin/runsd, only the shared libraries `ldd` names for it,
// Debian's busybox-static as /bin/sh (+ the applets the tests' commands use), /etc/passwd and
// /etc/group, an /etc/resolv.conf to bind-mount over, /tmp and /dev with the usual nodes. No Node,
// no node_modules: what runs in it proves the executable needs neither.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export const BUSYBOX = '/usr/bin/busybox';
export const ROOTFS_RUNSD = '/usr/local/bin/runsd';
/** /dev nodes the test bed bind-mounts from the host (mknod would fail on a nodev /tmp). */
export const ROOTFS_DEVICES = ['null', 'zero', 'random', 'urandom'];
const APPLETS = ['sh', 'wget', 'id', 'cat', 'echo', 'sleep', 'env'];

/** Absolute paths of the shared objects the dynamic loader maps for `exe` (ldd's own list). */
/** Debian's busybox-static is there (a dynamically linked busybox would need its own libraries). */
export function staticBusybox(): boolean {
  return existsSync(BUSYBOX) && spawnSync('ldd', [BUSYBOX], { stdio: 'ignore' }).status !== 0;
}

export function sharedLibraries(exe: string): string[] {
  const out = execFileSync('ldd', [exe], { encoding: 'utf8' });
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" or "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]!);
  }
  if (libs.length === 0) throw new Error(`ldd ${exe} named no libraries:\n${out}`);
  return libs;
}

export function buildRootfs(dir: string, executable: string): void {
  chmodSync(dir, 0o755); // mkdtemp makes it 0700: nobody could not even reach / once chrooted
  const put = (path: string, from: string, mode = 0o755) => {
    const to = join(dir, path);
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to); // follows symlinks: the loader finds a real file under the name ldd gave
    chmodSync(to, mode);
  };
  put(ROOTFS_RUNSD, executable);
  for (const lib of sharedLibraries(executable)) put(lib, lib);
  put('/bin/busybox', BUSYBOX);
  for (const applet of APPLETS) symlinkSync('busybox', join(dir, 'bin', applet));
  mkdirSync(join(dir, 'etc/ssl/certs'), { recursive: true });
  writeFileSync(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n',
  );
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(dir, 'etc/resolv.conf'), '# replaced by a bind mount in the test bed\n');
  for (const d of ['tmp', 'proc', 'root', 'dev']) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  // Mount points for the device nodes and /proc the test bed mounts (testbed-main.ts), as a
  // container runtime provides them.
  for (const name of ROOTFS_DEVICES) writeFileSync(join(dir, 'dev', name), '');
}
