import type { RulePack } from './types.js';

/** Germany: BNetzA Nummernplan and TKG §120. */
export const DE: RulePack = {
  country: 'DE',
  callingCode: '49',
  name: 'Germany',
  planSource: 'Bundesnetzagentur Nummernplan (Ortsnetze, Mobil 015x-017x, 0137, 0700, 0800, 0900)',
  plan: [
    ['1', 'other'],
    ['15', 'mobile'],
    ['16', 'mobile'],
    ['17', 'mobile'],
    ['137', 'televoting'],
    ['2', 'geographic'],
    ['3', 'geographic'],
    ['32', 'voip'],
    ['4', 'geographic'],
    ['5', 'geographic'],
    ['6', 'geographic'],
    ['7', 'geographic'],
    ['700', 'personal'],
    ['8', 'geographic'],
    ['800', 'freephone'],
    ['9', 'geographic'],
    ['900', 'premium'],
  ],
  shortNumbers: { emergency: /^(?:110|112)$/, short: /^(?:115|116\d{3}|118\d{2,4})$/ },
  fromAbroad: {
    fixed: 'high',
    mobile: 'medium',
    source: 'TKG §120 (1); BNetzA since 1 Dec 2022: German CLI on calls from foreign networks is suppressed (mobile: roaming)',
  },
  rules: [
    { rule: 'CLI-SPECIAL', what: '110 and 112 presented as caller (critical)', severity: 'critical', source: 'TKG §120 (2); Nummernplan Notruf' },
    { rule: 'CLI-SPECIAL', what: '0900 premium numbers presented as caller', severity: 'high', source: 'TKG §120 (2) Nr. 2: no 0900 as CLI' },
    { rule: 'CLI-SPECIAL', what: '0137 mass-calling (televoting) numbers presented as caller', severity: 'high', source: 'TKG §120 (2) Nr. 2: no 0137 as CLI' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a German fixed CLI from a foreign network', severity: 'high', source: 'TKG §120 (1); BNetzA since 1 Dec 2022 (heise.de/-7362394)' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a German mobile CLI from a foreign network: medium (roaming)', severity: 'medium', source: 'BNetzA since 1 Dec 2022: mobile roaming exception' },
  ],
};
