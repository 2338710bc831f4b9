// Preloaded (`node -r`) into the compiled bridge by test/bridge/helpers.ts: when the process has not exited some
// seconds after SIGTERM, it prints what still keeps it alive (sockets, timers, child processes) to stderr, so a
// test that waits for the bridge to exit fails with the cause instead of hanging. The timer is unref'd: it
// never keeps the process alive by itself.
'use strict';
const {setTimeout} = require('node:timers');
const waitMs = 10000;
process.once('SIGTERM', () => {
  setTimeout(() => {
    process.stderr.write(`still running ${waitMs / 1000} s after SIGTERM; open: ${process.getActiveResourcesInfo().join(', ')}\n`);
  }, waitMs).unref();
});
