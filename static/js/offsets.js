// Offsets between the browser's UTF-16 code units and the server's Unicode code points.
//
// A segment is stored as code-point offsets into the intervention's text (coding/offsets.py has
// the Python side). The page renders the text in chunks, each an element whose `data-offset`
// holds the code-point offset of its first character; highlight elements (<mark>, <span>) may
// split a chunk's text into several text nodes. Inside a chunk:
//   - the text nodes, in order, spell exactly the chunk's slice of the text ("\n" included, so
//     style it with `white-space: pre-wrap`; no <br>, no template indentation);
//   - anything that is not part of the text (a code badge, a button) sits in an element marked
//     `data-offset-ignore`, which is skipped.
// Only the chunk holding a selection boundary is measured, never the whole page.
//
// The workspace (workspace.js) takes every conversion between the page and code points from
// here: selections, a caret, a code point back to a DOM point, and a chunk's text.

const HIGH = (unit) => unit >= 0xd800 && unit <= 0xdbff;
const LOW = (unit) => unit >= 0xdc00 && unit <= 0xdfff;

function checkInteger(value, name) {
  if (!Number.isInteger(value)) {
    throw new RangeError(`The ${name} must be a whole number, not ${value}.`);
  }
}

// Code points in text.slice(0, utf16End); a boundary inside a surrogate pair counts the pair
// when roundUp, not otherwise.
function codePointsBefore(text, utf16End, roundUp) {
  let count = 0;
  let i = 0;
  while (i < utf16End) {
    const pair = HIGH(text.charCodeAt(i)) && i + 1 < text.length && LOW(text.charCodeAt(i + 1));
    if (pair && i + 1 === utf16End && !roundUp) break;
    i += pair ? 2 : 1;
    count += 1;
  }
  return count;
}

/** The code-point offset of a UTF-16 offset into `text`; RangeError outside it or mid-pair. */
export function utf16ToCodePoint(text, utf16Offset) {
  checkInteger(utf16Offset, "UTF-16 offset");
  if (utf16Offset < 0 || utf16Offset > text.length) {
    throw new RangeError(
      `The UTF-16 offset ${utf16Offset} lies outside the text (0 to ${text.length}).`,
    );
  }
  if (
    utf16Offset > 0 &&
    utf16Offset < text.length &&
    LOW(text.charCodeAt(utf16Offset)) &&
    HIGH(text.charCodeAt(utf16Offset - 1))
  ) {
    throw new RangeError(`The UTF-16 offset ${utf16Offset} falls inside a surrogate pair.`);
  }
  return codePointsBefore(text, utf16Offset, true);
}

/** The UTF-16 offset of a code-point offset into `text`; RangeError outside it. */
export function codePointToUtf16(text, cpOffset) {
  checkInteger(cpOffset, "offset");
  if (cpOffset < 0) throw new RangeError(`The offset ${cpOffset} lies outside the text.`);
  let i = 0;
  for (let count = 0; count < cpOffset; count += 1) {
    if (i >= text.length) {
      throw new RangeError(`The offset ${cpOffset} lies outside the text (0 to ${count}).`);
    }
    const pair = HIGH(text.charCodeAt(i)) && i + 1 < text.length && LOW(text.charCodeAt(i + 1));
    i += pair ? 2 : 1;
  }
  return i;
}

function isCounted(node, chunk) {
  const ignored = node.parentElement && node.parentElement.closest("[data-offset-ignore]");
  return !ignored || !chunk.contains(ignored);
}

function textNodes(chunk) {
  const walker = document.createTreeWalker(chunk, NodeFilter.SHOW_TEXT, {
    acceptNode: (node) =>
      isCounted(node, chunk) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT,
  });
  const nodes = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) nodes.push(node);
  return nodes;
}

function chunkStart(chunk) {
  const value = Number(chunk.dataset.offset);
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`A chunk's data-offset is not an offset: ${chunk.dataset.offset}`);
  }
  return value;
}

/** The text a chunk holds: its counted text nodes, joined. */
export function chunkText(chunk) {
  return textNodes(chunk)
    .map((node) => node.data)
    .join("");
}

function chunkEnd(chunk) {
  return chunkStart(chunk) + Array.from(chunkText(chunk)).length;
}

function chunkOf(root, node) {
  const element = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  const chunk = element && element.closest("[data-offset]");
  return chunk && root.contains(chunk) ? chunk : null;
}

/**
 * The code-point offset into the whole text of the DOM point (container, offset) inside a chunk
 * of `root` (a caret, a selection boundary), or null when the point is in no chunk. A point
 * inside a surrogate pair counts the pair when `roundUp` (an end), not otherwise.
 */
export function pointToCodePoint(root, container, offset, roundUp = false) {
  const chunk = chunkOf(root, container);
  if (!chunk) return null;
  const point = document.createRange();
  point.setStart(container, offset);
  point.collapse(true);
  // Walk the chunk's text nodes up to the point.
  let count = chunkStart(chunk);
  for (const node of textNodes(chunk)) {
    if (node === container) return count + codePointsBefore(node.data, offset, roundUp);
    if (point.comparePoint(node, 0) >= 0) return count;
    count += Array.from(node.data).length;
  }
  return count;
}

/**
 * The DOM point [text node, UTF-16 offset] of code point `cpOffset` of the whole text, which
 * `chunk` holds; between two text nodes it is the end of the first.
 */
export function codePointToPoint(chunk, cpOffset) {
  let count = chunkStart(chunk);
  const nodes = textNodes(chunk);
  for (const node of nodes) {
    const length = Array.from(node.data).length;
    if (cpOffset <= count + length) {
      return [node, codePointToUtf16(node.data, Math.max(0, cpOffset - count))];
    }
    count += length;
  }
  const last = nodes[nodes.length - 1];
  return last ? [last, last.data.length] : [chunk, 0];
}

// The code-point offset of the boundary point (container, offset). `isStart` decides, for a
// point between chunks or outside the root, whether it snaps to the next text (a start) or to
// the end of the previous text (an end).
function boundaryToCodePoint(root, container, offset, isStart) {
  const inChunk = pointToCodePoint(root, container, offset, !isStart);
  if (inChunk !== null) return inChunk;
  const point = document.createRange();
  point.setStart(container, offset);
  point.collapse(true);
  const chunks = Array.from(root.querySelectorAll("[data-offset]"));
  if (chunks.length === 0) return null;
  if (isStart) {
    const next = chunks.find((c) => point.comparePoint(c, 0) >= 0);
    return next ? chunkStart(next) : chunkEnd(chunks[chunks.length - 1]);
  }
  const previous = chunks.filter((c) => point.comparePoint(c, c.childNodes.length) <= 0).pop();
  return previous ? chunkEnd(previous) : chunkStart(chunks[0]);
}

/** The text of the intervention between two code-point offsets, read from the chunks. */
export function textBetween(root, start, end) {
  const chunks = Array.from(root.querySelectorAll("[data-offset]"));
  let quote = "";
  for (const [index, chunk] of chunks.entries()) {
    const from = chunkStart(chunk);
    const next = chunks[index + 1];
    // Chunks come in text order, so one wholly before the selection needs no measuring.
    if (from >= end || (next && chunkStart(next) <= start)) continue;
    const points = Array.from(chunkText(chunk));
    if (from + points.length <= start) continue;
    quote += points.slice(Math.max(0, start - from), end - from).join("");
  }
  return quote;
}

/**
 * The window's selection inside `root` as `{start, end, quote}` in code points of the whole
 * intervention text, or null when nothing of the text is selected. A selection reaching beyond
 * `root` is cut to it; a backwards selection counts like a forwards one.
 */
export function selectionToCodePoints(root) {
  const selection = window.getSelection();
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  // A Range is always in document order, whichever way the user dragged; Firefox can hold
  // several ranges (Ctrl+select), of which the first start and last end count.
  const first = selection.getRangeAt(0);
  const last = selection.getRangeAt(selection.rangeCount - 1);
  const start = boundaryToCodePoint(root, first.startContainer, first.startOffset, true);
  const end = boundaryToCodePoint(root, last.endContainer, last.endOffset, false);
  if (start === null || end === null || start >= end) return null;
  return { start, end, quote: textBetween(root, start, end) };
}
