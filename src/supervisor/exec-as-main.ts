// Process entry of the -user helper from source or the bundle (dist/exec-as.cjs); see exec-as.ts.
import { execAs } from './exec-as.ts';

execAs(process.argv.slice(2));
