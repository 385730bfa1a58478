#!/usr/bin/env node
'use strict';
const { main } = require('../dist/src/cli');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
