export { startSimulator } from './start-simulator';
export type {
  CallerScript,
  CallerStep,
  DeliveredWebhook,
  PlaybackEvent,
  RecordedRequest,
  SimCall,
  SimLog,
  Simulator,
  SimulatorOptions,
  SocketAttempt,
  SocketSubscribe,
  WsFrames,
} from './types';
