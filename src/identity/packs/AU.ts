import type { RulePack } from './types.js';

/** Australia: ACMA Numbering Plan 2015 and the C661 Reducing Scam Calls and Scam SMs code. */
export const AU: RulePack = {
  country: 'AU',
  callingCode: '61',
  regions: ['CX', 'CC'],
  name: 'Australia',
  planSource: 'Telecommunications Numbering Plan 2015 (ACMA)',
  plan: [
    ['2', 'geographic'],
    ['3', 'geographic'],
    ['7', 'geographic'],
    ['8', 'geographic'],
    ['4', 'mobile'],
    ['5', 'voip'],
    ['145', 'satellite'],
    ['147', 'satellite'],
    ['13', 'other'],
    ['1800', 'freephone'],
    ['190', 'premium'],
  ],
  shortNumbers: { emergency: /^(?:000|112|106)$/, short: /^(?:1223|1225|12455)$/ },
  fromAbroad: {
    fixed: 'high',
    mobile: 'medium',
    source: 'ACMA C661:2022 Reducing Scam Calls and Scam SMs, §4 (calls from overseas presenting Australian CLI)',
  },
  rules: [
    { rule: 'CLI-INVALID', what: 'invalid or unallocated CLI is blocked', severity: 'high', source: 'ACMA C661:2022 §4.2 (invalid, unallocated CLI)' },
    { rule: 'CLI-SPECIAL', what: '000, 112 and 106 presented as caller (critical)', severity: 'critical', source: 'ACMA C661:2022 §4.2; Numbering Plan 2015 emergency service numbers' },
    { rule: 'CLI-SPECIAL', what: '1900 premium numbers presented as caller', severity: 'high', source: 'Numbering Plan 2015: premium rate services' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'an Australian fixed CLI from an overseas peer', severity: 'high', source: 'ACMA C661:2022 §4.3 (overseas calls with Australian CLI)' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'an Australian mobile CLI from an overseas peer: medium (roaming)', severity: 'medium', source: 'ACMA C661:2022 §4.3 (mobile roaming exception)' },
  ],
};
