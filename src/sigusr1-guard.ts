// SIGUSR1 belongs to the child (runsd forwards it), but Node opens an inspector on it. A listener
// replaces the inspector's handler; the single executable imports this module first (no launcher
// runs before it), as bin/runsd does with --import for the bundle and the source.
process.on('SIGUSR1', () => {});
