// Quiet by default: the child's output is the user's log. Errors and warnings always print (they
// are rare and actionable); info(N, …) prints at -v>=N. json emits one Cloud Logging object a line
// (https://cloud.google.com/logging/docs/structured-logging: severity, message, time, labels).
// Never pass a token to a logger: log the audience and expiry instead.
import type { LogFormat } from './config.ts';

export type Fields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  error(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  info(level: number, msg: string, fields?: Fields): void;
}

export interface LogOptions {
  verbosity: number;
  format: LogFormat;
  room?: string;
  write?: (line: string) => void;
}

function formatText(room: string, severity: string, msg: string, fields: Fields): string {
  let s = `runsd${room === 'supervisor' ? '' : `[${room}]`}: ${severity === 'ERROR' ? 'error: ' : severity === 'WARNING' ? 'warning: ' : ''}${msg}`;
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = String(v);
    s += ` ${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return `${s}\n`;
}

export function createLogger(opts: LogOptions): Logger {
  const room = opts.room ?? 'supervisor';
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const emit = (severity: string, msg: string, fields: Fields = {}) => {
    if (opts.format === 'json') {
      // Cloud Logging's structured-log fields (severity, message, time, labels) come last, so a field
      // named like one of them cannot replace it; the rest become jsonPayload (test/log.test.ts).
      write(
        `${JSON.stringify({ ...fields, severity, message: msg, time: new Date().toISOString(), 'logging.googleapis.com/labels': { component: `runsd-${room}` } })}\n`,
      );
    } else {
      write(formatText(room, severity, msg, fields));
    }
  };
  return {
    error: (msg, fields) => emit('ERROR', msg, fields),
    warn: (msg, fields) => emit('WARNING', msg, fields),
    info: (level, msg, fields) => {
      if (opts.verbosity >= level) emit(level >= 5 ? 'DEBUG' : 'INFO', msg, fields);
    },
  };
}
