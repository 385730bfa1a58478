// @ts-check
// Mutation testing with StrykerJS: `npm run test:mutation`. How to read it: docs/mutation-testing.md.
//
// Targets (Stryker has no per-file thresholds, so only the last one is enforced, by `break`):
//   - at least 85% on the call-state module (workflows/call-state.ts) and on the speaker queue
//     (workflows/speech-queue.ts): read them off the per-file table of the clear-text report;
//   - at least 70% over all mutated modules: below it the run fails.
//
// Equivalent mutants: they survive because nothing a caller can observe changes. Keep this list in
// sync with the code (file:line:column as Stryker reports them).
// The sentence splitter's were also checked by running the original and the mutant over 200,000
// random texts made of sentence fragments, whole and in random chunks: same sentences, released by
// the same push(), every time.
//   activities/sentences.ts:26:18 Regex `[.!?…]+` -> `[.!?…]`: a run of punctuation before whitespace
//     is then matched from its last mark instead of its first; the match ends at the same place, so
//     the sentence ends and the next one starts at the same place.
//   activities/sentences.ts:26:18 Regex `\s+` -> `\s`: only the first whitespace character is
//     consumed; the rest starts the next candidate, and every use of a candidate trims it (the
//     list-marker test trims, the abbreviation regex is anchored at the end). A newline in that
//     whitespace is then matched by the `\n+` alternative at the same place, so it still splits.
//   activities/sentences.ts:26:18 Regex `\n+` -> `\n`: the text between two newlines of a run is
//     empty, and empty sentences are dropped (`if (sentence)`).
//   activities/sentences.ts:28:22 Regex `[.!?…]+` -> `[.!?…]` (SENTENCE_END): anchored at the end,
//     a run of marks matches exactly when its last mark does.
//   activities/sentences.ts:32:16 OptionalChaining `?.[1]?.toLowerCase()` -> `?.[1].toLowerCase()`:
//     group 1 is not optional, so whenever the regex matches it holds a string.
//   activities/sentences.ts:33:7 ConditionalExpression `if (!word)` -> `if (false)`: without a word,
//     `ABBREVIATIONS.has(undefined)` is false and `/^\p{L}$/u.test(undefined)` tests "undefined":
//     false as well, the same answer.
//   workflows/call-state.ts:176:11 ArrayDeclaration `seen: []` -> `["Stryker was here"]`: only a
//     transcript whose id is that very string would be taken for a repeat.
//   workflows/call-state.ts:259:14 ConditionalExpression `outcome.kind === 'completed'` -> `true`: a
//     failed outcome took the branch before, and only a completed outcome has `endCall` (the test
//     is there for the type checker).
//   workflows/speech-queue.ts:68:23 and 82:52 UpdateOperator `q.nextId++` -> `q.nextId--`: ids only
//     need to be unique within a call, and counting down keeps them unique.
// (workflows/call-state.ts applyStatus's `<=` -> `<` is killed; an equal rank is a repeat.)

/**
 * The modules under mutation, each with the fast unit tests that pin its behaviour. Adding a module
 * is one line here. Only unit tests: nothing that starts a Temporal server (test/workflow, test/e2e, test/integration).
 * @type {ReadonlyArray<readonly [module: string, ...tests: string[]]>}
 */
const MODULES = [
  ['workflows/call-state.ts', 'test/unit/call-state.test.ts'],
  ['workflows/speech-queue.ts', 'test/unit/speech-queue.test.ts', 'test/unit/call-state.test.ts'],
  ['activities/sentences.ts', 'test/unit/sentences.test.ts'],
  ['src/ingress/event-router.ts', 'test/unit/event-router.test.ts', 'test/unit/ingress-app.test.ts'],
  ['src/ingress/signature.ts', 'test/unit/signature.test.ts', 'test/unit/ingress-app.test.ts'],
  ['src/ingress/delivered-events.ts', 'test/unit/delivered-events.test.ts', 'test/unit/ingress-app.test.ts'],
];

const tests = [...new Set(MODULES.flatMap(([, ...files]) => files))];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'jest',
  plugins: ['@stryker-mutator/jest-runner'],
  mutate: MODULES.map(([module]) => module),
  jest: {
    projectType: 'custom',
    configFile: 'jest.config.js',
    // The jest config of mutation runs: jest.config.js with only the unit tests listed above.
    config: {
      roots: ['<rootDir>/test/unit'],
      testMatch: tests.map((file) => `**/${file}`),
      testPathIgnorePatterns: ['/node_modules/', '/test/workflow/', '/test/e2e/', '/test/integration/'],
      // Transpile only: `npm run typecheck` checks the types; here it would only slow every run.
      transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.mutation.json' }] },
    },
  },
  coverageAnalysis: 'perTest',
  concurrency: 2,
  // Over the 5 s default: on a busy 2-core machine, load alone turned killed mutants into timeouts.
  timeoutMS: 10_000,
  reporters: ['clear-text', 'html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false },
  thresholds: { high: 85, low: 70, break: 70 },
  // Nothing the unit tests need: keeps the sandbox copy small.
  ignorePatterns: [
    '/dist',
    '/.temporal',
    '/.data',
    '/coverage',
    '/test/e2e',
    '/test/workflow',
    '/test/integration',
  ],
  tempDirName: '.stryker-tmp',
};
