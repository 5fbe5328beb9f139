/**
 * Neutralising untrusted room content for terminals.
 *
 * @module
 */

// ESC-initiated CSI / OSC / other two-byte sequences, raw C1 CSI and OSC, then
// any remaining control character (C0, DEL, C1).
const TERMINAL_SEQUENCES = new RegExp(
  [
    "\\u001b\\[[\\u0020-\\u003f]*[\\u0040-\\u007e]?", // CSI
    "\\u001b\\][^\\u0007\\u009c\\u001b]*(?:\\u0007|\\u009c|\\u001b\\\\)?", // OSC
    "\\u001b[PX^_][^\\u009c\\u001b]*(?:\\u009c|\\u001b\\\\)?", // DCS, SOS, PM, APC
    "\\u001b.?", // any other escape pair
    "\\u009b[\\u0020-\\u003f]*[\\u0040-\\u007e]?", // C1 CSI
    "\\u009d[^\\u0007\\u009c]*(?:\\u0007|\\u009c)?", // C1 OSC
    "[\\u0000-\\u001f\\u007f-\\u009f]", // every other control character
  ].join("|"),
  "gu",
);

/**
 * Removes terminal control sequences and control characters from untrusted
 * text, keeping printable Unicode. An unterminated sequence swallows the rest
 * of the text, so it cannot take effect on the terminal.
 *
 * @param text untrusted text
 * @returns text safe to print on a terminal
 */
export function terminalText(text: string): string {
  return text.replace(TERMINAL_SEQUENCES, "").replace(INVISIBLE, "");
}

/**
 * Characters that reorder or hide text: bidi controls (U+061C, U+200E/F,
 * U+202A–E, U+2066–9), zero-width and invisible formatting characters
 * (U+200B–D, U+2060–4, U+FEFF, U+180E, U+00AD) and line/paragraph separators.
 */
const INVISIBLE =
  /[\u00ad\u061c\u180e\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/gu;

/**
 * Replaces newlines and other control characters with single spaces, for
 * rendering one field on one line.
 *
 * @param text untrusted text
 * @returns the text on one line
 */
export function oneLine(text: string): string {
  return terminalText(text.replace(/[\r\n\t\u0085\u2028\u2029]+/gu, " "));
}

/**
 * Clips text to `max` characters (code points), appending `...` when cut.
 *
 * @param text text
 * @param max longest length kept
 * @returns the clipped text
 */
export function clip(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : chars.slice(0, max).join("") + "...";
}
