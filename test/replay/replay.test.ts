// Calls in flight replay the workflow code a worker runs: every committed history (recorded from real
// calls by test/replay/record.ts) must replay against today's workflows/, and a change to the
// workflow's commands must be caught.
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { otelWorkerTracing } from '../../src/runtime/otel-tracing';
import { tracingWorkflowModules } from '../../src/runtime/tracing';
import { callSinks } from '../../src/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundleWorkflows } from '../helpers/temporal-env';

const DIR = join(__dirname, 'histories');
/**
 * Recorded on the build before the patches `turn-taking-1` and
 * `local-activities-recorded-before-completing`: the calls of that build still in flight take the
 * old branches. Kept until those patches are deprecated (README "Changing the workflow safely").
 */
const BEFORE_PATCHES = 'before-patches';
const jsonIn = (dir: string) =>
  readdirSync(join(DIR, dir))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => (dir ? `${dir}/${f}` : f));
const HISTORIES = [...jsonIn(''), ...jsonIn(BEFORE_PATCHES)];
const history = (file: string): unknown => JSON.parse(readFileSync(join(DIR, file), 'utf8'));

let bundle: WorkflowBundleWithSourceMap;
/** As a worker with tracing on bundles the workflows: with OpenTelemetry's workflow interceptors. */
let traced: WorkflowBundleWithSourceMap;
beforeAll(async () => {
  [bundle, traced] = await Promise.all([
    bundleWorkflows(),
    bundleWorkflows(undefined, tracingWorkflowModules()),
  ]);
}, 60_000);

const PATHS = [
  'barge-in-and-end-call.json',
  'continue-as-new-1.json',
  'continue-as-new-2.json',
  'continue-as-new-3.json',
  'failover-continued-reply.json',
  'outage-reconciled.json',
  'silence-reprompt-goodbye.json',
  'speaking-session-gone.json',
];
/** Recorded on this build only: the paths of the rules that came with the patches. */
const NEW_PATHS = [
  'search-attributes.json',
  'tools-and-transfer.json',
  'transfer-not-done.json',
  'turn-taking.json',
  // Replies that speak for themselves (replySpeech: direct, #7).
  'speaking-barge-in-and-end-call.json',
  'speaking-failover-continued-reply.json',
  'speaking-barge-in-cut-here.json',
  // The turn cut itself off when the ingress of its process heard the caller (#7).
  'speaking-barge-in-on-hearing.json',
  // The same, the turn ending once its flush was answered (its result says `onHearing`), before the
  // workflow's cancellation, which the real server still takes (#7).
  'speaking-barge-in-ended-on-hearing.json',
  // A call's first events held back for its first workflow task (the ingress's start delay, #7).
  'first-events-in-one-task.json',
];

it('has the histories of the paths a call can take, on this build and on the last', () => {
  expect(HISTORIES).toEqual([
    ...[...PATHS, ...NEW_PATHS].sort(),
    ...PATHS.map((f) => `${BEFORE_PATCHES}/${f}`),
  ]);
});

it.each(HISTORIES)('%s replays against the current workflow', async (file) => {
  await Worker.runReplayHistory(
    { workflowBundle: bundle, replayName: file, sinks: callSinks() },
    history(file),
  );
});

it('bundles the workflow interceptors only when tracing is on', () => {
  expect(traced.code).toContain('@temporalio/interceptor-workflow');
  expect(bundle.code).not.toContain('@temporalio/interceptor-workflow');
});

// A call started before tracing was turned on, taken over by a worker that traces: the interceptors
// add no command, and a replayed span is never exported again (the sink is not called on replay).
it.each(HISTORIES)('%s replays with tracing on, exporting nothing', async (file) => {
  const exporter = new InMemorySpanExporter();
  const tracing = otelWorkerTracing(
    new SimpleSpanProcessor(exporter),
    Resource.default(),
    new BasicTracerProvider().getTracer('replay'),
  );
  await Worker.runReplayHistory(
    {
      workflowBundle: traced,
      replayName: file,
      sinks: { ...callSinks(), ...tracing.sinks },
      interceptors: { activity: tracing.activity },
    },
    history(file),
  );
  expect(exporter.getFinishedSpans()).toEqual([]);
});

it('a workflow that issues one more command is caught by every history', async () => {
  const changed = await bundleWorkflows(require.resolve('./changed-workflow'));
  for (const file of HISTORIES) {
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: changed, replayName: file, sinks: callSinks() },
        history(file),
      ),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  }
}, 60_000);
