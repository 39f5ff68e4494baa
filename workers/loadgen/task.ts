// The piscina task (this file is the pool's worker entry): run one share of the connections until the
// deadline and return plain data (histogram as [µs, count] pairs, counts by status and error code).
import type { TaskResult } from '../../src/domain/loadgen-report.ts';
import { runH2c } from './h2c.ts';
import { runHttp1 } from './http1.ts';
import type { TaskSpec } from './spec.ts';

export default function loadTask(spec: TaskSpec): Promise<TaskResult> {
  return spec.protocol === 'h2c' ? runH2c(spec) : runHttp1(spec);
}
