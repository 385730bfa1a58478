/**
 * The Temporal Runtime (once per process): Core's and the SDK's log lines, and workflows' and
 * activities' `log`, all go to our logger, at their levels, in its one format.
 */
import type { LogLevel as TemporalLogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import {
  Runtime,
  makeTelemetryFilterString,
  type MetricsExporterConfig,
  type RuntimeOptions,
} from '@temporalio/worker';
import type { LogFields, Logger, LogLevel } from '../logger';

export type CoreLogLevel = Exclude<TemporalLogLevel, 'TRACE'>;

export interface RuntimeTelemetryOptions {
  /** The least level of Core's own lines that is forwarded. Default: WARN. */
  coreLevel?: CoreLogLevel;
  /** Passed to `telemetryOptions.metrics` as is. */
  metrics?: MetricsExporterConfig;
}

/** LOG_LEVEL as the level Core filters its lines at. */
export function coreLevelOf(level: LogLevel): CoreLogLevel {
  return level.toUpperCase() as CoreLogLevel;
}

/**
 * The SDK's Logger over ours. TRACE (every activation, every activity start) is dropped: Core is
 * never asked for it, and the SDK's own TRACE lines would bury everything else at debug.
 * Metadata (sdkComponent, taskQueue, workflowId, runId, activityType, Core's `target`...) become
 * fields; its symbol-keyed timestamp is not a field.
 */
export function temporalLogger(log: Logger): TemporalLogger {
  const to = (level: TemporalLogLevel, message: string, meta?: LogMetadata): void => {
    const fields: LogFields | undefined = meta;
    switch (level) {
      case 'TRACE':
        return;
      case 'DEBUG':
        return log.debug(message, fields);
      case 'INFO':
        return log.info(message, fields);
      case 'WARN':
        return log.warn(message, fields);
      default:
        return log.error(message, fields);
    }
  };
  return {
    log: to,
    trace: (m, meta) => to('TRACE', m, meta),
    debug: (m, meta) => to('DEBUG', m, meta),
    info: (m, meta) => to('INFO', m, meta),
    warn: (m, meta) => to('WARN', m, meta),
    error: (m, meta) => to('ERROR', m, meta),
  };
}

/** The options given to `Runtime.install`. */
export function runtimeOptions(log: Logger, opts: RuntimeTelemetryOptions = {}): RuntimeOptions {
  const core = opts.coreLevel ?? 'WARN';
  return {
    logger: temporalLogger(log),
    telemetryOptions: {
      logging: {
        // Forwarded, not printed by Core itself (its own coloured format, whatever LOG_FORMAT says).
        forward: {},
        // The crates under Core (tonic, hyper, h2) are chatty below WARN.
        filter: makeTelemetryFilterString({ core, other: core === 'ERROR' ? 'ERROR' : 'WARN' }),
      },
      ...(opts.metrics && { metrics: opts.metrics }),
    },
  };
}

/** Installs the Runtime; before any worker or native connection is created. */
export function installRuntime(log: Logger, opts: RuntimeTelemetryOptions = {}): Runtime {
  return Runtime.install(runtimeOptions(log, opts));
}
