import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfig } from '../../src/config/index.js';

describe('embedded default config = the scenario lab', () => {
  it('has the same peers and lists as captures/scenario/spoofwatch.yaml, so npm start explains captures/', () => {
    const scenario = parseConfig(readFileSync('captures/scenario/spoofwatch.yaml', 'utf8'), 'spoofwatch.yaml');
    if (!scenario.ok) throw new Error(scenario.errors.join('\n'));
    const d = defaultConfig();
    expect(d.peers).toEqual(scenario.config.peers);
    expect(d.lists).toEqual(scenario.config.lists);
    expect(d.homeCountry).toBe(scenario.config.homeCountry);
  });
});
