// Process entry of the -user helper from source or the bundle (dist/exec-as.cjs); see exec-as.ts.
// The SIGUSR1 guard comes first, as in main.ts: a forwarded SIGUSR1 must not open an inspector as root.
import '../sigusr1-guard.ts';
import { execAs } from './exec-as.ts';

execAs(process.argv.slice(2));
