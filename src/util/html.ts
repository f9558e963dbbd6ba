/**
 * Escapes text for Telegram's HTML parse mode (and web pages): &, < and >. Quotes need no escaping outside
 * attribute values, and escaped text is never put inside one.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
