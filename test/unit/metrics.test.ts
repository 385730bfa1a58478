import type { WorkflowInfo } from '@temporalio/workflow';
import { AgentMetrics } from '../../src/metrics';
import { callSinks } from '../../src/worker';
import { metricValue, parseScrape } from '../helpers/metrics';

const run = (runId: string) => ({ runId }) as WorkflowInfo;

describe('AgentMetrics', () => {
  it("appends the Temporal runtime's text to its own, and leaves out a source that fails", async () => {
    const metrics = new AgentMetrics();
    metrics.bargeIns.inc();
    metrics.append(
      async () =>
        '# TYPE temporal_worker_task_slots_available gauge\ntemporal_worker_task_slots_available 7\n',
    );
    metrics.append(() => Promise.reject(new Error('exporter down')));
    const samples = parseScrape(await metrics.scrape());
    expect(metricValue(samples, 'voipbin_agent_barge_ins_total')).toBe(1);
    expect(metricValue(samples, 'temporal_worker_task_slots_available')).toBe(7);
  });

  it('asks Temporal for the active calls at each scrape; unknown is NaN, never a stale figure', async () => {
    const metrics = new AgentMetrics();
    const answers: Array<number | Error> = [3, new Error('unavailable'), 0];
    metrics.countActiveCalls(async () => {
      const next = answers.shift()!;
      if (next instanceof Error) throw next;
      return next;
    });
    // `serve` asks twice (ingress and worker): the first one counts.
    metrics.countActiveCalls(async () => 99);
    const active = async () => metricValue(parseScrape(await metrics.scrape()), 'voipbin_agent_active_calls');
    expect(await active()).toBe(3);
    expect(await active()).toBeNaN();
    expect(await active()).toBe(0);
  });
});

describe('the call workflows metrics sink', () => {
  it('counts each report, but a run start or end once however often its last task runs', async () => {
    const metrics = new AgentMetrics();
    const { callMetrics } = callSinks(metrics);
    void callMetrics.callStarted.fn(run('r1'));
    void callMetrics.callStarted.fn(run('r1'));
    void callMetrics.callEnded.fn(run('r1'), 'caller-hangup');
    // The run's last workflow task failed on the server (a signal came meanwhile) and ran again.
    void callMetrics.callEnded.fn(run('r1'), 'caller-hangup');
    void callMetrics.callEnded.fn(run('r2'), 'silence');
    void callMetrics.turnEnded.fn(run('r1'), 'completed');
    void callMetrics.turnEnded.fn(run('r1'), 'completed');
    void callMetrics.turnEnded.fn(run('r1'), 'cancelled');
    void callMetrics.firstSentence.fn(run('r1'), 420);
    void callMetrics.bargeIn.fn(run('r1'));
    void callMetrics.reprompt.fn(run('r1'));
    const samples = parseScrape(await metrics.scrape());
    expect(metricValue(samples, 'voipbin_agent_calls_started_total')).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_calls_ended_total', { reason: 'caller-hangup' })).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_calls_ended_total', { reason: 'silence' })).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_turns_total', { outcome: 'completed' })).toBe(2);
    expect(metricValue(samples, 'voipbin_agent_turns_total', { outcome: 'cancelled' })).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_turn_first_sentence_seconds_sum')).toBeCloseTo(0.42);
    expect(metricValue(samples, 'voipbin_agent_turn_first_sentence_seconds_bucket', { le: '0.5' })).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_barge_ins_total')).toBe(1);
    expect(metricValue(samples, 'voipbin_agent_reprompts_total')).toBe(1);
  });

  it('is never called while a history replays, and drops every report without metrics', () => {
    const { callMetrics } = callSinks();
    for (const sink of Object.values(callMetrics)) expect(sink.callDuringReplay).toBe(false);
    expect(() => callMetrics.callEnded.fn(run('r1'), 'caller-hangup')).not.toThrow();
  });
});
