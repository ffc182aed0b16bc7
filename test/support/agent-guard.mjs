// Preloaded (node --import) into agents that tests start: the test process holds the agent's stdin open,
// so when the test process dies, even by SIGKILL, stdin ends and the agent goes with it instead of
// lingering as an orphan.
process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.resume();
// Reading stdin must not keep an agent that is done (--once, --idle-exit) alive.
process.stdin.unref();
