import { setHandler } from '@temporalio/workflow';
import { CallAgent } from './call-agent';
import {
  callerSpeechSignal,
  conversationQuery,
  reconcileSignal,
  sentenceSignal,
  voipbinEventSignal,
  type CallSummary,
  type CallWorkflowInput,
} from './messages';

/** One VoIPBIN call, from the first event to hangup. Workflow id: `call-<call id>`. */
export async function callWorkflow(input: CallWorkflowInput): Promise<CallSummary> {
  const agent = new CallAgent(input);
  setHandler(voipbinEventSignal, (event) => agent.onEvent(event));
  setHandler(sentenceSignal, (sentence) => agent.onSentence(sentence));
  setHandler(callerSpeechSignal, (speech) => agent.onCallerSpeech(speech));
  setHandler(reconcileSignal, () => agent.onReconcileRequested());
  setHandler(conversationQuery, () => agent.view());
  return agent.run();
}
