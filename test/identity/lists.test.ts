import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { compileLists } from '../../src/identity/lists.js';

describe('compileLists (default lab lists)', () => {
  const lists = compileLists(defaultConfig().lists);

  it('finds protected numbers with their owner peers', () => {
    expect(lists.protectedEntry('+31703456789')?.ownerPeers).toEqual(['lawfirm-pbx']);
    expect(lists.protectedEntry('+31703456789')?.owner).toBe('De Vries Advocaten (lawyer, legal privilege)');
    expect(lists.protectedEntry('+31703456788')).toBeUndefined();
  });

  it('finds do-not-originate numbers and brand numbers', () => {
    expect(lists.doNotOriginateEntry('+31201234000')?.owner).toBe('Examplebank fraud helpdesk (inbound only)');
    expect(lists.doNotOriginateEntry('+31201234001')).toBeUndefined();
    expect(lists.brands.map((b) => [b.brand.name, b.numbers.has('+31201234050'), b.numbers.has('+31201235050')])).toEqual([
      ['Examplebank', true, false],
    ]);
  });
});
