import { makeTelemetryFilterString } from '@temporalio/worker';
import { createLogger, type LogFields } from '../../src/logger';
import { coreLevelOf, runtimeOptions, temporalLogger } from '../../src/runtime/telemetry';

function capture(level: 'debug' | 'info' = 'debug') {
  const lines: LogFields[] = [];
  const log = createLogger({ level, format: 'json', write: (l) => lines.push(JSON.parse(l) as LogFields) });
  return { log, lines };
}

describe('the SDK logger over ours', () => {
  it('writes each level at ours, TRACE dropped, the metadata as fields', () => {
    const { log, lines } = capture();
    const sdk = temporalLogger(log);
    const meta = { sdkComponent: 'worker', taskQueue: 'voice-agent', [Symbol('timestamp')]: 1n };
    sdk.trace('trace line', meta);
    sdk.debug('debug line', meta);
    sdk.info('info line', meta);
    sdk.warn('warn line', meta);
    sdk.error('error line', meta);
    sdk.log('INFO', 'core line', { sdkComponent: 'core', target: 'temporalio_sdk_core::worker' });
    sdk.log('TRACE', 'core trace');
    expect(lines.map((l) => [l['level'], l['msg']])).toEqual([
      ['debug', 'debug line'],
      ['info', 'info line'],
      ['warn', 'warn line'],
      ['error', 'error line'],
      ['info', 'core line'],
    ]);
    expect(lines[0]).toEqual({
      level: 'debug',
      time: expect.any(String) as unknown,
      msg: 'debug line',
      sdkComponent: 'worker',
      taskQueue: 'voice-agent',
    });
    expect(lines[4]).toMatchObject({ sdkComponent: 'core', target: 'temporalio_sdk_core::worker' });
  });

  it('keeps to the level of ours', () => {
    const { log, lines } = capture('info');
    const sdk = temporalLogger(log);
    sdk.debug('dropped');
    sdk.log('DEBUG', 'dropped too');
    sdk.info('kept');
    expect(lines.map((l) => l['msg'])).toEqual(['kept']);
  });

  it("keeps an SDK error's stack and cause", () => {
    const { log, lines } = capture();
    const err = new Error('Activity failed', { cause: new Error('VoIPBIN POST /calls answered 500') });
    temporalLogger(log).warn('Activity failed', { error: err });
    expect(lines[0]?.['error']).toMatchObject({
      message: 'Activity failed',
      stack: err.stack,
      cause: { message: 'VoIPBIN POST /calls answered 500' },
    });
  });
});

describe('the Runtime options', () => {
  it("forward Core's lines (not printed by Core itself), filtered at the given level", () => {
    const options = runtimeOptions(capture().log, { coreLevel: 'DEBUG' });
    expect(options.telemetryOptions?.logging).toEqual({
      forward: {},
      filter: makeTelemetryFilterString({ core: 'DEBUG', other: 'WARN' }),
    });
    expect(options.telemetryOptions).not.toHaveProperty('metrics');
  });

  it('default to WARN, and quiet the crates under Core to ERROR with Core', () => {
    expect(runtimeOptions(capture().log).telemetryOptions?.logging?.filter).toBe(
      makeTelemetryFilterString({ core: 'WARN', other: 'WARN' }),
    );
    expect(runtimeOptions(capture().log, { coreLevel: 'ERROR' }).telemetryOptions?.logging?.filter).toBe(
      makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }),
    );
  });

  it('pass the metrics exporter through untouched', () => {
    const metrics = { prometheus: { bindAddress: '127.0.0.1:9464' } };
    expect(runtimeOptions(capture().log, { metrics }).telemetryOptions?.metrics).toBe(metrics);
  });

  it('take LOG_LEVEL as the level of Core', () => {
    expect(['debug', 'info', 'warn', 'error'].map((l) => coreLevelOf(l as 'debug'))).toEqual([
      'DEBUG',
      'INFO',
      'WARN',
      'ERROR',
    ]);
  });
});
