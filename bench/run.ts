// `npm run bench` runs every scenario; `npm run bench -- <name> [<name>...]` only those.
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { type Figure, type Scenario, SomeSystemsFailed, machine } from './scenario';
import { SCENARIOS } from './scenarios';

function print(scenario: Scenario, date: Date, figures: readonly Figure[]): void {
  const width = Math.max(...figures.map((f) => f.label.length));
  console.log(`== ${scenario.name}: ${scenario.title}`);
  console.log(`machine: ${machine()}`);
  console.log(`date:    ${date.toISOString()}`);
  console.log(`command: npm run bench -- ${scenario.name}`);
  for (const f of figures) console.log(`  ${f.label.padEnd(width)}  ${f.value}${f.unit ? ` ${f.unit}` : ''}`);
  console.log('');
}

async function main(names: readonly string[]): Promise<number> {
  // The workers the scenarios run log their state changes at INFO: keep the figures readable.
  Runtime.install({
    logger: new DefaultLogger('ERROR'),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length > 0) {
    const known = SCENARIOS.map((s) => s.name).join(', ');
    console.error(`unknown scenario: ${unknown.join(', ')} (there are: ${known})`);
    return 2;
  }
  const selected = names.length > 0 ? SCENARIOS.filter((s) => names.includes(s.name)) : SCENARIOS;
  let failed = 0;
  for (const scenario of selected) {
    const date = new Date();
    try {
      print(scenario, date, await scenario.run());
    } catch (err) {
      failed++;
      if (err instanceof SomeSystemsFailed) {
        // The systems that passed their check keep their figures; the others' failures follow.
        print(scenario, date, err.figures);
        console.error(
          `== ${scenario.name} FAILED on ${err.failures.map((f) => f.system).join(', ')} (npm run bench -- ${scenario.name})`,
        );
        for (const f of err.failures) console.error(`-- ${f.system}:`, f.error);
      } else {
        console.error(`== ${scenario.name} FAILED (npm run bench -- ${scenario.name})`);
        console.error(err);
      }
    }
  }
  return failed > 0 ? 1 : 0;
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
