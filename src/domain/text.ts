// U+0000 in text meant for people (a journal row, a status message, a log printed by the CLI): shown as `\0`.
// Input never holds it (the API refuses it); output may (a task printed it), and the log store keeps it exactly.

/** The text with every U+0000 written as the two characters `\0`, so it can be stored as text and seen. */
export function showNul(text: string): string {
  return text.includes('\0') ? text.replaceAll('\0', '\\0') : text;
}
