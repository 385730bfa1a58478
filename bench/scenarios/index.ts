import type { Scenario } from '../scenario';
import { drain } from './drain';
import { failover } from './failover';
import { failoverCost } from './failover-cost';
import { historyBudget } from './history-budget';
import { install } from './install';
import {
  load,
  loadGreetingScenario,
  loadPacedScenario,
  loadServeBothScenario,
  loadServeScenario,
} from './load';
import { loadCapacity } from './load-capacity';
import { outage } from './outage';
import { simulatorLoad } from './simulator-load';
import { turnLatency } from './turn-latency';

/** Every scenario `npm run bench` runs, in this order. A new scenario is a file here and a line below. */
export const SCENARIOS: readonly Scenario[] = [
  install,
  turnLatency,
  simulatorLoad({ name: 'simulator-load', calls: 100 }),
  failover,
  drain,
  failoverCost,
  outage,
  historyBudget,
  load({ name: 'load', calls: 200 }),
  loadGreetingScenario,
  loadPacedScenario,
  loadServeScenario,
  loadServeBothScenario,
  loadCapacity,
];
