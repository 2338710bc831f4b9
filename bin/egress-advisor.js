#!/usr/bin/env node
'use strict';
// Thin launcher: the compiled CLI lives in lib/ (built by `npm run build`, which `npm install` runs).
require('../lib/server/cli/main.js')
  .main(process.argv)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`egress-advisor: ${err && err.stack ? err.stack : err}\n`);
      process.exitCode = 70;
    },
  );
