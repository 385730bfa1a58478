export { startSimulator } from './start-simulator';
export { signBody } from './webhook-dispatcher';
export { startWebhookReceiver, waitUntil } from './webhook-receiver';
export type { ReceivedWebhook, WebhookReceiver } from './webhook-receiver';
export type {
  CallerScript,
  CallerStep,
  DeliveredWebhook,
  RecordedRequest,
  SimCall,
  SimLog,
  Simulator,
  SimulatorOptions,
} from './types';
