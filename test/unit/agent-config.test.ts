import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AgentConfig,
  DEFAULT_AGENT_CONFIG,
  loadAgentConfig,
  matchOutboundRoute,
  matchRoute,
  parseAgentConfig,
} from '../../src/agent-config';
import { ConfigError } from '../../src/config-error';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'voipbin-agent-profiles-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

/** The example of SPEC §3, verbatim. */
const SPEC_EXAMPLE = {
  profiles: {
    default: {
      systemPrompt: 'You are the front desk of ...',
      greeting: 'Hello, thanks for calling. How can I help?',
      model: 'gpt-4o-mini',
      language: 'en-US',
      voice: { provider: 'elevenlabs', voiceId: '21m00Tcm4TlvDq8ikWAM' },
      silenceTimeoutSeconds: 30,
      maxReprompts: 2,
      repromptText: 'Are you still there?',
      goodbyeText: 'Thank you for calling. Goodbye.',
      maxCallSeconds: 1800,
    },
  },
  routes: [
    { to: '+15551230000', profile: 'default' },
    { to: '*', profile: 'default' },
  ],
};

describe('DEFAULT_AGENT_CONFIG', () => {
  it('has one default profile that takes every call', () => {
    expect(Object.keys(DEFAULT_AGENT_CONFIG.profiles)).toEqual(['default']);
    expect(DEFAULT_AGENT_CONFIG.routes).toEqual([{ to: '*', profile: 'default' }]);
    expect(DEFAULT_AGENT_CONFIG.profiles['default']).toEqual({
      systemPrompt: 'You are a helpful, concise voice assistant on a phone call.',
      greeting: 'Hello, thanks for calling. How can I help?',
      model: 'gpt-4o-mini',
      language: 'en-US',
      voice: { provider: 'elevenlabs' },
      silenceTimeoutSeconds: 30,
      maxReprompts: 2,
      repromptText: 'Are you still there?',
      goodbyeText: 'Thank you for calling. Goodbye.',
      apologyText: "Sorry, I'm having trouble right now. Could you say that again?",
      maxCallSeconds: 1800,
      firstTokenTimeoutSeconds: 5,
      stallTimeoutSeconds: 5,
      sentencePauseSeconds: 0.2,
      contextMessages: 40,
      backchannels: { maxWords: 3 },
      unfinishedWaitSeconds: 0.8,
      bargeIn: 'words',
      bargeInWords: 2,
      replySpeech: 'direct',
    });
  });
});

describe('parseAgentConfig', () => {
  it('accepts the example of the spec as JSON', () => {
    const config = parseAgentConfig(JSON.stringify(SPEC_EXAMPLE), 'agent.config.json');
    expect(config.routes).toEqual(SPEC_EXAMPLE.routes);
    expect(config.profiles['default']).toEqual({
      ...SPEC_EXAMPLE.profiles.default,
      apologyText: DEFAULT_AGENT_CONFIG.profiles['default']?.apologyText,
      firstTokenTimeoutSeconds: 5,
      stallTimeoutSeconds: 5,
      sentencePauseSeconds: 0.2,
      contextMessages: 40,
      backchannels: { maxWords: 3 },
      unfinishedWaitSeconds: 0.8,
      bargeIn: 'words',
      bargeInWords: 2,
      replySpeech: 'direct',
    });
  });

  it('accepts the same config as YAML (.yaml and .yml, any case)', () => {
    const yaml = [
      'profiles:',
      '  default:',
      '    systemPrompt: "You are the front desk of ..."',
      '    voice:',
      '      provider: elevenlabs',
      '      voiceId: 21m00Tcm4TlvDq8ikWAM',
      '    silenceTimeoutSeconds: 12.5',
      '    maxReprompts: 0',
      'routes:',
      '  - to: "+15551230000"',
      '    profile: default',
      '  - to: "*"',
      '    profile: default',
      '',
    ].join('\n');
    for (const name of ['agents.yaml', 'agents.yml', 'AGENTS.YAML']) {
      const config = parseAgentConfig(yaml, name);
      expect(config.profiles['default']).toMatchObject({
        systemPrompt: 'You are the front desk of ...',
        voice: { provider: 'elevenlabs', voiceId: '21m00Tcm4TlvDq8ikWAM' },
        silenceTimeoutSeconds: 12.5,
        maxReprompts: 0,
        greeting: 'Hello, thanks for calling. How can I help?',
      });
      expect(config.routes.map((r) => r.to)).toEqual(['+15551230000', '*']);
    }
  });

  it('fills every missing profile key with its default', () => {
    const config = parseAgentConfig('{"profiles":{"sales":{"greeting":"Sales, hi."}},"routes":[]}', 'a.json');
    expect(config.profiles['sales']).toEqual({
      ...DEFAULT_AGENT_CONFIG.profiles['default'],
      greeting: 'Sales, hi.',
    });
    expect(config.routes).toEqual([]);
  });

  it('defaults the routes to every call on the default profile', () => {
    const config = parseAgentConfig('{"profiles":{"default":{}}}', 'a.json');
    expect(config.routes).toEqual([{ to: '*', profile: 'default' }]);
  });

  it('rejects invalid JSON, naming AGENT_CONFIG and the file', () => {
    const err = thrown(() => parseAgentConfig('{"profiles": {', '/etc/agents/agent.config.json'));
    expect(err.message).toContain('AGENT_CONFIG');
    expect(err.message).toContain('/etc/agents/agent.config.json');
    expect(err.message).toMatch(/not valid/);
  });

  it('rejects invalid YAML, naming AGENT_CONFIG and the file', () => {
    const err = thrown(() => parseAgentConfig('profiles:\n  default: {greeting: "unclosed\n', 'agents.yaml'));
    expect(err.message).toContain('AGENT_CONFIG');
    expect(err.message).toContain('agents.yaml');
    expect(err.message).toMatch(/not valid \.yaml/);
  });

  it('reads a file with no extension as JSON', () => {
    expect(parseAgentConfig('{"profiles":{"default":{}}}', 'agents').profiles['default']).toBeDefined();
    const err = thrown(() => parseAgentConfig('profiles:\n  default: {}\n', 'agents'));
    expect(err.message).toContain('not valid JSON');
  });

  it.each<[string, string, unknown]>([
    [
      'a route naming an undefined profile',
      'routes.0.profile',
      { profiles: { default: {} }, routes: [{ to: '*', profile: 'sales' }] },
    ],
    ['an unknown profile key', 'systemPromt', { profiles: { default: { systemPromt: 'typo' } } }],
    [
      'a negative silence timeout',
      'profiles.default.silenceTimeoutSeconds',
      { profiles: { default: { silenceTimeoutSeconds: -5 } } },
    ],
    [
      'a zero silence timeout',
      'profiles.default.silenceTimeoutSeconds',
      { profiles: { default: { silenceTimeoutSeconds: 0 } } },
    ],
    [
      'a zero first-token timeout',
      'profiles.default.firstTokenTimeoutSeconds',
      { profiles: { default: { firstTokenTimeoutSeconds: 0 } } },
    ],
    [
      'a negative stall timeout',
      'profiles.default.stallTimeoutSeconds',
      { profiles: { default: { stallTimeoutSeconds: -1 } } },
    ],
    [
      'a sentence pause of minutes',
      'profiles.default.sentencePauseSeconds',
      { profiles: { default: { sentencePauseSeconds: 60 } } },
    ],
    [
      'a fractional maxReprompts',
      'profiles.default.maxReprompts',
      { profiles: { default: { maxReprompts: 1.5 } } },
    ],
    [
      'a string where a number goes',
      'profiles.default.maxCallSeconds',
      { profiles: { default: { maxCallSeconds: '1800' } } },
    ],
    ['an empty greeting', 'profiles.default.greeting', { profiles: { default: { greeting: '' } } }],
    [
      'an unknown voice key',
      'profiles.default.voice',
      { profiles: { default: { voice: { provider: 'x', voice: 'y' } } } },
    ],
    ['an unknown top-level key', 'route', { profiles: { default: {} }, route: [] }],
    [
      'an unknown route key',
      'via',
      { profiles: { default: {} }, routes: [{ to: '*', profile: 'default', via: 'x' }] },
    ],
    [
      'a route without a number',
      'routes.0.to',
      { profiles: { default: {} }, routes: [{ profile: 'default' }] },
    ],
    [
      'a context window of one message (a turn needs the question and what came before)',
      'profiles.default.contextMessages',
      { profiles: { default: { contextMessages: 1 } } },
    ],
    [
      'a context window that is not a whole number',
      'profiles.default.contextMessages',
      { profiles: { default: { contextMessages: 12.5 } } },
    ],
    [
      'a reply path that does not exist',
      'profiles.default.replySpeech',
      { profiles: { default: { replySpeech: 'sideways' } } },
    ],
    ['no profiles at all', 'profiles', { profiles: {} }],
    ['a missing profiles key', 'profiles', { routes: [] }],
    ['a top-level array', '(root)', []],
  ])('rejects %s, naming %s', (_what, key, raw) => {
    const err = thrown(() => parseAgentConfig(JSON.stringify(raw), 'agent.config.json'));
    expect(err.message).toContain('AGENT_CONFIG agent.config.json is invalid');
    expect(err.message).toContain(key);
  });

  it('takes a context window of its own per profile', () => {
    const raw = { profiles: { default: { contextMessages: 12 } } };
    expect(parseAgentConfig(JSON.stringify(raw), 'a.json').profiles['default']?.contextMessages).toBe(12);
  });

  it('names the undefined profile a route refers to', () => {
    const raw = { profiles: { default: {} }, routes: [{ to: '+15551230000', profile: 'sales' }] };
    const err = thrown(() => parseAgentConfig(JSON.stringify(raw), 'a.json'));
    expect(err.message).toContain('"sales"');
  });

  it('rejects an empty YAML file', () => {
    const err = thrown(() => parseAgentConfig('', 'agents.yaml'));
    expect(err.message).toContain('AGENT_CONFIG agents.yaml is invalid');
  });
});

describe('loadAgentConfig', () => {
  it('uses the built-in default when no path is given and cwd has no agent.config.json', () => {
    expect(loadAgentConfig(undefined, dir)).toEqual({
      config: DEFAULT_AGENT_CONFIG,
      source: 'built-in default',
    });
  });

  it('picks up agent.config.json in cwd', () => {
    const path = write('agent.config.json', JSON.stringify({ profiles: { default: { language: 'fr-FR' } } }));
    const loaded = loadAgentConfig(undefined, dir);
    expect(loaded.source).toBe(path);
    expect(loaded.config.profiles['default']?.language).toBe('fr-FR');
  });

  it('loads the given JSON file', () => {
    const path = write('x.json', JSON.stringify(SPEC_EXAMPLE));
    expect(loadAgentConfig(path, dir).config.routes).toHaveLength(2);
  });

  it('loads the given YAML file', () => {
    const path = write('x.yaml', 'profiles:\n  default:\n    model: llama3\n');
    const loaded = loadAgentConfig(path, dir);
    expect(loaded.source).toBe(path);
    expect(loaded.config.profiles['default']?.model).toBe('llama3');
  });

  it('stops on a given path that does not exist, even if cwd has agent.config.json', () => {
    write('agent.config.json', JSON.stringify(SPEC_EXAMPLE));
    const missing = join(dir, 'nope.yaml');
    const err = thrown(() => loadAgentConfig(missing, dir));
    expect(err.message).toBe(`AGENT_CONFIG ${missing} does not exist`);
  });

  it('stops on an invalid file, naming the key', () => {
    const path = write('bad.json', JSON.stringify({ profiles: { default: { systemPromt: 'x' } } }));
    const err = thrown(() => loadAgentConfig(path, dir));
    expect(err.message).toContain(path);
    expect(err.message).toContain('systemPromt');
  });
});

describe('matchRoute', () => {
  const config: AgentConfig = parseAgentConfig(
    JSON.stringify({
      profiles: { sales: { greeting: 'Sales.' }, support: { greeting: 'Support.' }, fallback: {} },
      routes: [
        { to: '+15551230000', profile: 'sales' },
        { to: '+15551239999', profile: 'support' },
        { to: '+15551230000', profile: 'support' },
        { to: '*', profile: 'fallback' },
        { to: '+15557777777', profile: 'sales' },
      ],
    }),
    'routes.json',
  );

  it('returns the profile of the route for the number called', () => {
    const match = matchRoute(config, '+15551239999');
    expect(match?.profileName).toBe('support');
    expect(match?.profile.greeting).toBe('Support.');
  });

  it('lets the first matching route win', () => {
    expect(matchRoute(config, '+15551230000')?.profileName).toBe('sales');
  });

  it('lets `*` take any other number, before any later exact route', () => {
    expect(matchRoute(config, '+15550000000')?.profileName).toBe('fallback');
    expect(matchRoute(config, '+15557777777')?.profileName).toBe('fallback');
    expect(matchRoute(config, '')?.profileName).toBe('fallback');
  });

  it('returns undefined when no route matches', () => {
    const exactOnly = parseAgentConfig(
      JSON.stringify({ profiles: { sales: {} }, routes: [{ to: '+15551230000', profile: 'sales' }] }),
      'x.json',
    );
    expect(matchRoute(exactOnly, '+15550000000')).toBeUndefined();
    expect(matchRoute(exactOnly, '15551230000')).toBeUndefined();
    expect(matchRoute(exactOnly, '+15551230000')?.profileName).toBe('sales');
  });

  it('returns undefined with no routes at all', () => {
    const none = parseAgentConfig(JSON.stringify({ profiles: { sales: {} }, routes: [] }), 'x.json');
    expect(matchRoute(none, '+15551230000')).toBeUndefined();
  });

  it('routes every call to the default profile with the built-in config', () => {
    expect(matchRoute(DEFAULT_AGENT_CONFIG, '+15551230000')).toEqual({
      profileName: 'default',
      profile: DEFAULT_AGENT_CONFIG.profiles['default'],
    });
  });
});

describe('routes left out', () => {
  it('send every call to the only profile when it is not called default', () => {
    const config = parseAgentConfig(
      JSON.stringify({ profiles: { sales: { greeting: 'Sales here.' } } }),
      'a.json',
    );
    expect(config.routes).toEqual([{ to: '*', profile: 'sales' }]);
    expect(matchRoute(config, '+15550000000')?.profileName).toBe('sales');
  });
});

describe('outbound routes', () => {
  const config = parseAgentConfig(
    JSON.stringify({
      profiles: { default: {}, sales: {}, callback: {} },
      routes: [
        { to: '+15557770000', profile: 'sales', direction: 'outbound', from: '+15551230000' },
        { to: '*', profile: 'callback', direction: 'outbound' },
        { to: '*', profile: 'default' },
      ],
    }),
    'agent.config.json',
  );

  it('say which profile places a call to a number, with its caller id', () => {
    expect(matchOutboundRoute(config, '+15557770000')).toMatchObject({
      profileName: 'sales',
      from: '+15551230000',
    });
    expect(matchOutboundRoute(config, '+15558880000')?.profileName).toBe('callback');
    expect(matchOutboundRoute(config, '+15557770000', 'callback')?.profileName).toBe('callback');
    // A profile no outbound route names places no call.
    expect(matchOutboundRoute(config, '+15557770000', 'default')).toBeUndefined();
  });

  it('never answer an inbound call', () => {
    expect(matchRoute(config, '+15557770000')?.profileName).toBe('default');
    const outboundOnly = parseAgentConfig(
      JSON.stringify({ profiles: { a: {} }, routes: [{ to: '*', profile: 'a', direction: 'outbound' }] }),
      'agent.config.json',
    );
    expect(matchRoute(outboundOnly, '+15557770000')).toBeUndefined();
  });
});
