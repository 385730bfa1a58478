// The worker bundles this file: every workflow the task queue runs.
export { callWorkflow } from './call';
