// Owns the resolv.conf file: reads the original bytes once, rewrites the file in place (it is
// usually a bind mount, which cannot be renamed over), and restores it byte for byte on every exit
// path: restore() on normal shutdown, and a synchronous process 'exit' hook as the last resort.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseResolvConf, type ResolvConf } from '../domain/resolv-conf-text.ts';
import { RunsdError } from '../errors.ts';

export class ResolvConfFile {
  readonly path: string;
  readonly original: Buffer;
  readonly parsed: ResolvConf;
  private written = false;
  private readonly onExit = () => this.restore();

  private constructor(path: string, original: Buffer) {
    this.path = path;
    this.original = original;
    this.parsed = parseResolvConf(original.toString('utf8'));
  }

  static read(path: string): ResolvConfFile {
    try {
      return new ResolvConfFile(path, readFileSync(path));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return new ResolvConfFile(path, Buffer.alloc(0));
      throw new RunsdError('RUNSD_RESOLV_CONF', `runsd: cannot read ${path}: ${e.message}`);
    }
  }

  write(text: string): void {
    if (!this.written) process.on('exit', this.onExit);
    try {
      writeFileSync(this.path, text);
      this.written = true;
    } catch (err) {
      throw new RunsdError(
        'RUNSD_RESOLV_CONF',
        `runsd: cannot write ${this.path}: ${(err as Error).message} (DNS mode needs root; use -mode=env or -skip_dns_hijack)`,
      );
    }
  }

  /** Puts the original bytes back. Safe to call more than once. */
  restore(): void {
    if (!this.written) return;
    this.written = false;
    process.off('exit', this.onExit);
    try {
      writeFileSync(this.path, this.original);
    } catch (err) {
      process.stderr.write(`runsd: error: could not restore ${this.path}: ${(err as Error).message}\n`);
    }
  }
}
