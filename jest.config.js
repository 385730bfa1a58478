/** @type {import('jest').Config} */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Temporal servers and workers take a few seconds to start on 2 cores.
  testTimeout: 60_000,
  maxWorkers: 2,
};
