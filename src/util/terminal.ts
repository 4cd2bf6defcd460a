/**
 * Terminal-safe text (issue #17 point 3). Every field of an alert can be written by whoever sent the SIP
 * message (Call-ID, display names, User-Agent …); printed raw, an `ESC ] 0 ; … BEL` retitles the operator's
 * window and `ESC [ 2 J` clears it. Human-readable output (the `analyze` table, `tail`, the daemon's console
 * lines) goes through {@link terminalSafe}; JSON output keeps JSON's escaping and goes through
 * {@link jsonTerminalSafe}, which adds the few characters `JSON.stringify` leaves raw.
 *
 * Escaped: C0 controls U+0000–U+001F (ESC, BEL, CR, LF, TAB … ECMA-48 §5.2), DEL U+007F, C1 controls
 * U+0080–U+009F (ECMA-48 §5.3: 8-bit CSI U+009B and OSC U+009D act like `ESC [` / `ESC ]` on many terminals),
 * the line and paragraph separators U+2028/U+2029, and the Unicode bidirectional controls (U+061C, U+200E/F,
 * U+202A–U+202E, U+2066–U+2069; Unicode UAX #9), which reorder what an analyst reads ("Trojan Source",
 * CVE-2021-42574). A leaf module: no imports.
 */

/** Characters {@link terminalSafe} replaces. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, for a quick test (no `g`: `test` must not carry `lastIndex` between calls). */
const UNSAFE_TEST = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** Characters that `JSON.stringify` leaves raw but a terminal may act on (it escapes C0 itself). */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const JSON_UNSAFE_TEST = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

const hex2 = (c: number): string => c.toString(16).padStart(2, '0');

function visible(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c <= 0xff) return `\\x${hex2(c)}`;
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

const jsonEscape = (ch: string): string => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `s` with every control character (C0, DEL, C1) and every bidi/line-separator control replaced by a visible
 * escape: ESC → `\x1b`, U+009B → `\x9b`, LF → `\x0a`, U+202E → `\u202e`. Text without any comes back as the
 * same string, after one regex test (no allocation). Backslashes are left as they are.
 */
export function terminalSafe(s: string): string {
  return UNSAFE_TEST.test(s) ? s.replace(UNSAFE, visible) : s;
}

/** {@link terminalSafe} on each line of a multi-line message (error lists): the line breaks stay line breaks. */
export function terminalLines(s: string): string {
  return hasTerminalControls(s) ? s.split('\n').map(terminalSafe).join('\n') : s;
}

/**
 * A JSON text (one `JSON.stringify` result) with DEL, C1, U+2028/U+2029 and the bidi controls written as
 * `\uXXXX` escapes: it parses to the same value, and no byte of it makes a terminal act. `JSON.stringify`
 * already escapes C0 (RFC 8259 §7); these characters may appear raw only inside strings, where `\u` escapes
 * them equally.
 */
export function jsonTerminalSafe(json: string): string {
  return JSON_UNSAFE_TEST.test(json) ? json.replace(JSON_UNSAFE, jsonEscape) : json;
}

/** Whether `s` holds a character that {@link terminalSafe} would replace. */
export function hasTerminalControls(s: string): boolean {
  return UNSAFE_TEST.test(s);
}
