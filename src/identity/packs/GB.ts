import type { RulePack } from './types.js';

/** United Kingdom: Ofcom National Telephone Numbering Plan and CLI guidance. */
export const GB: RulePack = {
  country: 'GB',
  callingCode: '44',
  regions: ['GG', 'JE', 'IM'],
  name: 'United Kingdom',
  planSource: 'Ofcom National Telephone Numbering Plan (2024)',
  plan: [
    ['1', 'geographic'],
    ['2', 'geographic'],
    ['3', 'other'],
    ['55', 'company'],
    ['56', 'voip'],
    ['7', 'mobile'],
    ['70', 'personal'],
    ['76', 'paging'],
    ['7624', 'mobile'],
    ['800', 'freephone'],
    ['808', 'freephone'],
    ['9', 'premium'],
  ],
  shortNumbers: { emergency: /^(?:999|112)$/, short: /^(?:116\d{3}|111|101|105|118\d{3})$/ },
  fromAbroad: {
    fixed: 'high',
    mobile: 'medium',
    source: 'Ofcom General Condition C6.6 and CLI guidance (2022: block calls from abroad with UK geographic/non-geographic CLI; 29 Jan 2025: UK mobile CLI from abroad unless roaming)',
  },
  rules: [
    { rule: 'CLI-INVALID', what: 'the CLI must be a valid, dialable UK number of 10 or 11 digits', severity: 'high', source: 'Ofcom General Condition C6.6; Ofcom CLI guidance §2.6 (2022)' },
    { rule: 'CLI-SPECIAL', what: '09 premium-rate numbers are never presented as CLI', severity: 'high', source: 'Ofcom CLI guidance §3 (numbers not to be used as CLI)' },
    { rule: 'CLI-SPECIAL', what: '076 pager numbers never place voice calls', severity: 'high', source: 'Ofcom National Telephone Numbering Plan: 076 radiopaging' },
    { rule: 'CLI-SPECIAL', what: '999/112 emergency and 116xxx/111/101/105/118xxx short codes never place calls (critical for 999/112)', severity: 'critical', source: 'Ofcom National Telephone Numbering Plan: short codes' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a UK geographic or non-geographic CLI from an international peer', severity: 'high', source: 'Ofcom CLI guidance (2022); transnexus.com, "UK rules on calls from abroad" (2022)' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a UK mobile (+447) CLI from an international peer: medium (roaming)', severity: 'medium', source: 'Ofcom statement of 29 Jan 2025 on mobile CLI from abroad' },
  ],
};
