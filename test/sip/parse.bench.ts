/**
 * Benchmark (not a timed test): `npx vitest bench --run test/sip`.
 * The 1004-byte INVITE with SDP and two PAI headers, parse + callId + from + pai, against sip.js.
 */
import { bench, describe } from 'vitest';
import { Core } from 'sip.js';
import { parseSipMessage } from '../../src/sip/index.js';
import { fixture } from './helpers.js';

const invite = fixture('corpus', 'invite-pai-sdp');
const text = invite.toString('latin1');
const quiet = { warn(): void {}, error(): void {}, log(): void {}, debug(): void {} };
let sink = 0;

describe('INVITE with SDP and PAI', () => {
  bench('split only', () => {
    sink += parseSipMessage(invite).kind.length;
  });
  bench('split + callId + from + pai', () => {
    const m = parseSipMessage(invite);
    if (m.kind !== 'invalid') sink += (m.callId?.length ?? 0) + (m.from === undefined ? 0 : 1) + m.pai.length;
  });
  bench('sip.js Core.Parser.parseMessage', () => {
    sink += Core.Parser.parseMessage(text, quiet as never) === undefined ? 0 : 1;
  });
});
