import type { RulePack } from './types.js';

/** Dutch two-digit geographic area codes (NSN prefix); the rest have three digits. */
const AREA2 = new Set(['10', '13', '15', '20', '23', '24', '26', '30', '33', '35', '36', '38', '40', '43', '45', '46', '50', '53', '55', '58', '70', '71', '72', '73', '74', '75', '76', '77', '78', '79']);

/** Netherlands: the Nummerplan (RULES.md §3), today's rules in pack form. */
export const NL: RulePack = {
  country: 'NL',
  callingCode: '31',
  name: 'Netherlands',
  planSource: 'Nummerplan telefonie- en ISDN-diensten (ACM / Rijksinspectie Digitale Infrastructuur)',
  plan: [
    ['1', 'geographic'],
    ['2', 'geographic'],
    ['3', 'geographic'],
    ['4', 'geographic'],
    ['5', 'geographic'],
    ['7', 'geographic'],
    ['6', 'other'],
    ['61', 'mobile'],
    ['62', 'mobile'],
    ['63', 'mobile'],
    ['64', 'mobile'],
    ['65', 'mobile'],
    ['68', 'mobile'],
    ['66', 'paging'],
    ['67', 'unused'],
    ['697', 'unused'],
    ['800', 'freephone'],
    ['84', 'personal'],
    ['87', 'personal'],
    ['85', 'voip'],
    ['91', 'voip'],
    ['88', 'company'],
    ['900', 'premium'],
    ['906', 'premium'],
    ['909', 'premium'],
    ['97', 'm2m'],
  ],
  shortNumbers: { emergency: /^112$/, short: /^(?:140\d{2,3}|18\d{2}|116\d{3})$/ },
  neighbourDigits: (nsn) => (nsn.startsWith('6') ? 5 : (AREA2.has(nsn.slice(0, 2)) ? 2 : 3) + 2),
  fromAbroad: { fixed: 'high', mobile: 'medium', source: 'NL draft bill on CLI from abroad (2022); BE royal decree 12 May 2024' },
  rules: [
    { rule: 'CLI-SPECIAL', what: '112 and the 14 0xx, 18xy, 116xxx short numbers never place calls (critical for 112)', severity: 'critical', source: 'Nummerplan: short numbers; Telecommunicatiewet art. 7.8' },
    { rule: 'CLI-SPECIAL', what: '0900/0906/0909 premium numbers never originate calls', severity: 'high', source: 'Nummerplan: 090x informatienummers' },
    { rule: 'CLI-SPECIAL', what: '066 paging numbers never place voice calls', severity: 'high', source: 'Nummerplan: 066 semafoondiensten' },
    { rule: 'CLI-SPECIAL', what: '097 M2M numbers never place voice calls', severity: 'high', source: 'Nummerplan: 097 machine-to-machine' },
    { rule: 'CLI-INVALID', what: '067x and 0697 are not in use', severity: 'high', source: 'Nummerplan: 06 block allocation' },
    { rule: 'REG-INTL-NATIONAL-CLI', what: 'a Dutch fixed CLI from an international peer (mobile: medium, roaming)', severity: 'high', source: 'NL draft bill 2022; BE royal decree 12 May 2024' },
    { rule: 'CLI-NEIGHBOUR', what: 'neighbours share the area code + 2 digits (mobile 06 + 4)', severity: 'medium', source: 'FCC consumer guidance on neighbour spoofing' },
  ],
};
