// Stands in for `flotilla agent` in the local provider's contract test: a process that carries the tags the
// provider put in its environment and lives until it is told to stop, without a control plane to talk to.
setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
