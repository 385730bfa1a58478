import { DEFAULT_AGENT_CONFIG } from '../../src/agent-config';
import { profileFor, renderPrompt, usedVariables, variablesIn } from '../../workflows/prompt-variables';

const PROFILE = DEFAULT_AGENT_CONFIG.profiles['default']!;

describe('prompt variables', () => {
  it('fills each {{name}} with the call value; a name without one becomes empty', () => {
    expect(
      renderPrompt('Caller {{ caller }} called {{called}} ({{direction}}).', {
        caller: '+1555',
        called: '+1666',
        direction: 'inbound',
      }),
    ).toBe('Caller +1555 called +1666 (inbound).');
    expect(renderPrompt('Hello {{name}}, welcome.', {})).toBe('Hello , welcome.');
    expect(renderPrompt('No placeholders.', { caller: 'x' })).toBe('No placeholders.');
    expect(variablesIn('{{caller}} and {{ profile }} and {{caller}}')).toEqual([
      'caller',
      'profile',
      'caller',
    ]);
  });

  it('keeps of the call only what the prompts use: a number is in the history only when asked for', () => {
    const known = { caller: '+15550001111', called: '+15550002222', direction: 'inbound', profile: 'sales' };
    expect(usedVariables(PROFILE, known)).toBeUndefined();
    expect(
      usedVariables(
        { systemPrompt: 'The caller is {{caller}}.', greeting: 'Thanks for calling {{profile}}.' },
        known,
      ),
    ).toEqual({ caller: '+15550001111', profile: 'sales' });
    // A profile with HTTP tools sends the call's numbers to them (headers): they are kept then.
    expect(usedVariables({ ...PROFILE, tools: [{}] }, known)).toEqual({
      caller: '+15550001111',
      called: '+15550002222',
    });
    expect(usedVariables({ ...PROFILE, tools: [] }, known)).toBeUndefined();
  });

  it("fills the profile's system prompt and greeting, and nothing else", () => {
    const profile = { ...PROFILE, systemPrompt: 'Caller: {{caller}}.', greeting: 'Hi, this is {{profile}}.' };
    expect(profileFor(profile, { caller: '+1555', profile: 'Acme sales' })).toEqual({
      ...profile,
      systemPrompt: 'Caller: +1555.',
      greeting: 'Hi, this is Acme sales.',
    });
    // A call that began before variables existed: its prompts as they are (none had placeholders).
    expect(profileFor(PROFILE, undefined)).toBe(PROFILE);
  });
});
