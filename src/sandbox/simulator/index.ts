export { startSimulator } from './start-simulator';
export type {
  CallerScript,
  CallerStep,
  DeliveredWebhook,
  RecordedRequest,
  SimCall,
  SimLog,
  Simulator,
  SimulatorOptions,
  SocketAttempt,
  SocketSubscribe,
  WsFrames,
} from './types';
