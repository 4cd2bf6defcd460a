import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/index.js';
import { compileLists } from '../../src/identity/lists.js';

describe('compileLists (default lab lists)', () => {
  const lists = compileLists(defaultConfig().lists);

  it('finds protected numbers with their owner peers', () => {
    expect(lists.protectedEntry('+31205551050')?.ownerPeers).toEqual(['pbx-acme']);
    expect(lists.protectedEntry('+319008844')?.owner).toBe('Politie (0900-8844, police non-emergency line)');
    expect(lists.protectedEntry('+31205551100')).toBeUndefined();
  });

  it('finds do-not-originate numbers and brand numbers', () => {
    expect(lists.doNotOriginateEntry('+31205550999')?.owner).toBe('Lab Bank fraud helpdesk (inbound only)');
    expect(lists.doNotOriginateEntry('+31205550998')).toBeUndefined();
    expect(lists.brands.map((b) => [b.brand.name, b.numbers.has('+31205550950'), b.numbers.has('+31205551950')])).toEqual([
      ['Lab Bank', true, false],
    ]);
  });
});
