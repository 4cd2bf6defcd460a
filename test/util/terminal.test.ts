import { describe, expect, it } from 'vitest';
import { hasTerminalControls, jsonTerminalSafe, terminalLines, terminalSafe } from '../../src/util/terminal.js';

describe('terminalSafe', () => {
  it('writes OSC title, CSI clear and BEL as visible escapes', () => {
    expect(terminalSafe('a\x1b]0;pwned\x07\x1b[2Jb')).toBe('a\\x1b]0;pwned\\x07\\x1b[2Jb');
  });

  it('escapes every C0 control, DEL and every C1 control, and nothing printable around them', () => {
    for (let c = 0; c <= 0x1f; c++) expect(terminalSafe(`x${String.fromCharCode(c)}y`)).toBe(`x\\x${c.toString(16).padStart(2, '0')}y`);
    expect(terminalSafe('\x7f')).toBe('\\x7f');
    for (let c = 0x80; c <= 0x9f; c++) expect(terminalSafe(String.fromCharCode(c))).toBe(`\\x${c.toString(16)}`);
    expect(terminalSafe('\xa0é ü ł 日本 +31612345678 ~ \\x1b')).toBe('\xa0é ü ł 日本 +31612345678 ~ \\x1b');
  });

  it('escapes bidi overrides and the Unicode line separators', () => {
    expect(terminalSafe('+31\u202e8765\u202c\u2028\u2066')).toBe('+31\\u202e8765\\u202c\\u2028\\u2066');
  });

  it('returns the very same string when nothing needs escaping', () => {
    const s = 'sc02-1@spoofwatch.test "ACME" <sip:+31881234567@pbx>';
    expect(terminalSafe(s)).toBe(s);
    expect(hasTerminalControls(s)).toBe(false);
    expect(hasTerminalControls('\x9b2J')).toBe(true);
    // the non-global test regex keeps no state between calls
    expect([1, 2, 3].map(() => terminalSafe('\x1b'))).toEqual(['\\x1b', '\\x1b', '\\x1b']);
  });
});

describe('terminalLines', () => {
  it('keeps the line breaks of a multi-line message and escapes everything else, CR included', () => {
    expect(terminalLines('a.yaml: 2 errors\npeers[0]: "\x1b[2J"\r\nz')).toBe('a.yaml: 2 errors\npeers[0]: "\\x1b[2J"\\x0d\nz');
    expect(terminalLines('plain\ntext')).toBe('plain\ntext');
  });
});

describe('jsonTerminalSafe', () => {
  it('escapes DEL, C1 and bidi controls that JSON.stringify leaves raw, and parses back to the same value', () => {
    const value = { callId: 'a\x1b]0;t\x07\x9b2J\x7f\u202eb', n: 1 };
    const raw = JSON.stringify(value);
    expect(raw).toMatch(/[\x7f-\x9f]/);
    const safe = jsonTerminalSafe(raw);
    expect(safe).toBe('{"callId":"a\\u001b]0;t\\u0007\\u009b2J\\u007f\\u202eb","n":1}');
    expect(JSON.parse(safe)).toEqual(value);
    expect(jsonTerminalSafe('{"a":"b"}')).toBe('{"a":"b"}');
  });
});
