// The call workflow with one command added in front: what a careless change to workflows/ does to
// the calls in flight. The replay test shows its histories refuse it.
import { sleep } from '@temporalio/workflow';
import { callWorkflow as current } from '../../workflows/call';
import type { CallSummary, CallWorkflowInput } from '../../workflows/messages';

export async function callWorkflow(input: CallWorkflowInput): Promise<CallSummary> {
  await sleep('1 millisecond');
  return current(input);
}
