/** The rule engine gives each rule its window state, and pairs rules that key their windows by the same thing. */
import { describe, expect, it } from 'vitest';
import { RuleEngine } from '../../src/rules/engine.js';
import { ALL_RULES } from '../../src/rules/registry.js';
import type { CallFacts, Finding, Policy, Rule, RuleContext, WindowState, WindowStates } from '../../src/rules/types.js';
import { memoryWindows } from '../../src/rules/window.js';

/** A rule that adds its own key to its state and reports the state's size (keys of the store it sits on). */
function keyRule(id: string, windowKey?: string): Rule & { sizes: number[] } {
  const sizes: number[] = [];
  return {
    id,
    title: id,
    defaultSeverity: 'info',
    description: id,
    scope: 'initial-invite',
    ...(windowKey !== undefined ? { windowKey } : {}),
    sizes,
    evaluate(ctx: RuleContext) {
      ctx.state.add(`${id}-key`, 0, id);
      sizes.push(ctx.state.size);
      return undefined;
    },
  };
}

const call = { initialInvite: true, kind: 'request' } as unknown as CallFacts;

describe('RuleEngine window states', () => {
  it('puts two rules with the same windowKey on one store, a third and rules without it on stores of their own', () => {
    const a = keyRule('A', 'cli');
    const b = keyRule('B', 'cli');
    const c = keyRule('C', 'cli');
    const d = keyRule('D');
    const e = keyRule('E', 'other');
    const engine = new RuleEngine({} as Policy, {}, [a, b, c, d, e], memoryWindows(100));
    expect(engine.evaluate(call, { raised: undefined })).toEqual([]);
    // A and B share: B's state holds A's key and its own. C, D and E see only their own key.
    expect([a.sizes, b.sizes, c.sizes, d.sizes, e.sizes]).toEqual([[1], [2], [1], [1], [1]]);
  });

  it('pairs only enabled rules', () => {
    const a = keyRule('A', 'cli');
    const b = keyRule('B', 'cli');
    const c = keyRule('C', 'cli');
    new RuleEngine({} as Policy, { B: { enabled: false } }, [a, b, c], memoryWindows(100)).evaluate(call, { raised: undefined });
    expect([a.sizes, b.sizes, c.sizes]).toEqual([[1], [], [2]]);
  });

  it('pairs rules that record every call of their key before a sparse one', () => {
    const a = { ...keyRule('A', 'cli'), windowSparse: true };
    const b = keyRule('B', 'cli');
    const c = keyRule('C', 'cli');
    new RuleEngine({} as Policy, {}, [a, b, c], memoryWindows(100)).evaluate(call, { raised: undefined });
    // B and C share a store; the sparse A has its own.
    expect([a.sizes, b.sizes, c.sizes]).toEqual([[1], [1], [2]]);
  });

  it('every built-in rule that keeps window state names its key (the scale-out shards by it); the two that record every call by the calling number share a store', () => {
    expect(ALL_RULES.filter((r) => r.windowKey !== undefined).map((r) => `${r.id}:${r.windowKey}`)).toEqual([
      'CLI-MULTI-PEER:cli',
      'CLI-NEIGHBOUR:cli',
      'CLI-VELOCITY:cli',
      'SHAKEN-REPLAY:shaken-replay',
    ]);
    expect(ALL_RULES.filter((r) => r.windowSparse).map((r) => r.id)).toEqual(['CLI-NEIGHBOUR']);
  });

  it('takes its window states from the WindowStates it is given (the seam for a shared store), and returns findings, not alerts', () => {
    const made: string[] = [];
    const fake = (): WindowState => {
      const keys = new Set<string>();
      return { recent: () => [], count: () => 0, add: (k) => void keys.add(k), expire: () => keys.clear(), get size() { return keys.size; }, evicted: 0, storeRef: {} };
    };
    const states: WindowStates = {
      single: () => (made.push('single'), fake()),
      pair: () => (made.push('pair'), [fake(), fake()]),
    };
    const finding: Finding = { severity: 'high', summary: 'found', reasons: ['r'], evidence: [] };
    const a = keyRule('A', 'cli');
    const b = keyRule('B', 'cli');
    const f: Rule = { ...keyRule('F'), evaluate: () => finding };
    const engine = new RuleEngine({} as Policy, {}, [a, b, f], states);
    expect(made).toEqual(['pair', 'single']);
    const seen = { raised: undefined as Set<string> | undefined };
    const found = engine.evaluate(call, seen);
    expect(found.map((x) => [x.rule.id, x.finding])).toEqual([['F', finding]]);
    expect([a.sizes, b.sizes]).toEqual([[1], [1]]);
    // Once per (call, rule): the second message of the call finds nothing new.
    expect(engine.evaluate(call, seen)).toEqual([]);
  });
});
