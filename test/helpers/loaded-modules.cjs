// Preloaded into an agent process by a test (NODE_OPTIONS=--require <this file>): when the process
// exits, the files of every module it loaded, one a line, go to LOADED_MODULES_FILE.
'use strict';
const { writeFileSync } = require('node:fs');

const file = process.env.LOADED_MODULES_FILE;
if (file) process.on('exit', () => writeFileSync(file, Object.keys(require.cache).join('\n') + '\n'));
