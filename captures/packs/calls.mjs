// Labelled calls for the country rule packs (issue #21 point 1): GB, DE and US configurations, each with a national
// and an international peer on its own 127.0.0.x addresses (see <cc>.yaml). `node calls.mjs` writes xml/<id>.xml with
// the scenario template of ../scenario/calls.mjs; ../../scripts/capture-packs.sh plays them against a SIPp UAS and
// records captures/packs/packs.pcapng. `expect` is the exact alert set (rule → severity) spoofwatch raises for the
// call under its country's config; test/scenario/packs.test.ts checks it and pins the full alerts in <cc>.alerts.ndjson.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scenario } from '../scenario/calls.mjs';

export const PEERS = {
  'gb-national': '127.0.0.21',
  'gb-intl': '127.0.0.22',
  'de-national': '127.0.0.31',
  'de-intl': '127.0.0.32',
  'us-national': '127.0.0.41',
  'us-intl': '127.0.0.42',
};

const gb = (id, peer, user, label, expect) => ({ id, country: 'GB', peer: `gb-${peer}`, label, from: `<sip:${user}@gb.example;user=phone>`, to: '+442079460123', expect });
const de = (id, peer, user, label, expect) => ({ id, country: 'DE', peer: `de-${peer}`, label, from: `<sip:${user}@de.example;user=phone>`, to: '+494012345678', expect });
const us = (id, peer, user, label, expect) => ({ id, country: 'US', peer: `us-${peer}`, label, from: `<sip:${user}@us.example;user=phone>`, to: '+13104561234', expect });

export const CALLS = [
  gb('gb01', 'national', '+442079460000', 'legitimate: London number from the national carrier', {}),
  gb('gb02', 'national', '09098790000', 'premium-rate 09 number as caller (Ofcom CLI guidance)', { 'CLI-SPECIAL': 'high' }),
  gb('gb03', 'national', '999', 'emergency 999 as caller', { 'CLI-SPECIAL': 'critical' }),
  gb('gb04', 'national', '0207946000', 'not a dialable UK number (10 digits for London)', { 'CLI-INVALID': 'high' }),
  gb('gb05', 'intl', '+442079460000', 'UK geographic number arriving from abroad (Ofcom 2022)', { 'REG-INTL-NATIONAL-CLI': 'high' }),
  gb('gb06', 'intl', '+447911123456', 'UK mobile from abroad: roaming possible (Ofcom 2025), medium', { 'REG-INTL-NATIONAL-CLI': 'medium' }),
  gb('gb07', 'intl', '+33142685300', 'legitimate: French caller via the international carrier', {}),
  de('de01', 'national', '03012345678', 'legitimate: Berlin number from the national carrier', {}),
  de('de02', 'national', '110', 'police emergency 110 as caller (TKG §120)', { 'CLI-SPECIAL': 'critical' }),
  de('de03', 'national', '01371234567', '0137 televoting number as caller (TKG §120)', { 'CLI-SPECIAL': 'high' }),
  de('de04', 'national', '09001234567', '0900 premium number as caller (TKG §120)', { 'CLI-SPECIAL': 'high' }),
  de('de05', 'intl', '+493087654321', 'German fixed number from a foreign network (BNetzA 2022)', { 'REG-INTL-NATIONAL-CLI': 'high' }),
  de('de06', 'intl', '+4915112345678', 'German mobile from a foreign network: roaming, medium', { 'REG-INTL-NATIONAL-CLI': 'medium' }),
  us('us01', 'national', '+12124561234', 'legitimate: New York number from the national carrier', {}),
  us('us02', 'national', '911', '911 as caller', { 'CLI-SPECIAL': 'critical' }),
  us('us03', 'national', '2125550123', 'fictional 555-01XX number', { 'CLI-INVALID': 'high' }),
  us('us04', 'national', '4115551234', 'N11 area code: not a NANP number', { 'CLI-INVALID': 'high' }),
  us('us05', 'national', '9005550123', '900 premium number as caller', { 'CLI-SPECIAL': 'high' }),
  us('us06', 'intl', '+12124567890', 'US number from an international gateway (FCC 22-37)', { 'REG-INTL-NATIONAL-CLI': 'high' }),
];

/** The Call-ID SIPp gives the call: -cid_str "<id>-%u@spoofwatch.test" with one call per run. */
export function callIdOf(c) {
  return `${c.id}-1@spoofwatch.test`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'xml');
  mkdirSync(dir, { recursive: true });
  const plan = [];
  for (const c of CALLS) {
    writeFileSync(join(dir, `${c.id}.xml`), scenario(c));
    plan.push(`${c.id} ${PEERS[c.peer]} udp`);
  }
  writeFileSync(join(dir, 'plan.txt'), plan.join('\n') + '\n');
  console.log(`wrote ${CALLS.length} scenarios to ${dir}`);
}
