import { escapeHtml } from './html.js';

/**
 * Splits plain text into pieces whose (optionally escaped) length fits `limit`, cutting at line breaks,
 * then spaces, and only inside a word when one word alone is longer than the limit.
 */
export function splitText(text: string, limit: number, measure: (piece: string) => number = (p) => p.length): string[] {
  const pieces: string[] = [];
  let rest = text;
  while (measure(rest) > limit) {
    let cut = largestPrefixFitting(rest, limit, measure);
    const window = rest.slice(0, cut);
    const boundary = Math.max(window.lastIndexOf('\n'), window.lastIndexOf(' '));
    if (boundary > cut / 2) cut = boundary + 1;
    pieces.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  if (rest.length > 0 || pieces.length === 0) pieces.push(rest);
  return pieces;
}

function largestPrefixFitting(text: string, limit: number, measure: (piece: string) => number): number {
  let low = 1;
  let high = Math.min(text.length, limit);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (measure(text.slice(0, mid)) <= limit) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** Splits plain text so that each piece, HTML-escaped, fits Telegram's limit; returns escaped pieces. */
export function splitEscaped(text: string, limit: number): string[] {
  return splitText(text, limit, (piece) => escapeHtml(piece).length).map(escapeHtml);
}

/**
 * Splits HTML we generated ourselves (tags never span lines) at line breaks. A single line longer than the
 * limit loses its markup and is split as text, so no piece ever carries a broken tag.
 */
export function splitHtmlByLines(html: string, limit: number): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const line of html.split('\n')) {
    const candidate = current ? `${current}\n${line}` : line;
    if (candidate.length <= limit) {
      current = candidate;
      continue;
    }
    if (current) pieces.push(current);
    if (line.length <= limit) current = line;
    else {
      const plain = line.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
      const split = splitEscaped(plain, limit);
      current = split.pop() ?? '';
      pieces.push(...split);
    }
  }
  if (current || pieces.length === 0) pieces.push(current);
  return pieces;
}
