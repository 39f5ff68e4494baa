// SIGUSR1 belongs to the child (runsd forwards it), but Node opens an inspector on it. A listener
// replaces the inspector's handler. main.ts imports this right after the version check, for the
// single executable and `node dist/runsd.cjs`, which no launcher runs before (bin/runsd installs the
// same listener with --import before any file loads, which matters for the slow-loading source);
// the -user helper imports it first too (exec-as-main.ts).
process.on('SIGUSR1', () => {});
