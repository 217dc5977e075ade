// The coding workspace: paint the highlights and margin labels; select text with the mouse or
// the keyboard, code it through the picker; a segment's panel from its margin label; layers,
// code search, margin labels beside their text.
//
// A selection is coded through the picker, or at once by a click on a code in the code list
// or by dropping the selection on one; both post the picker's form (`applyTo`, `submitPicker`).
// Up to 1050 px the code list is a bottom sheet, up to 700 px the picker too, and the margin
// labels stand on a line under their paragraph.
//
// The page holds the text once, in chunks carrying `data-offset`, and the segments of the layers
// on as JSON (#ws-data: UUID, start and end in code points, code, coder, memo; the codes and
// coders once each). This file paints them: highlights.js cuts each chunk into runs, offsets.js
// converts code points to the DOM's UTF-16, and every text from the data goes into the page as
// text (textContent, never markup).
//
// The server is the source of truth: applying a code posts {start, end, quote, codes, memo}
// (code points, from offsets.js) and the answer carries the segments it stored (#ws-update,
// out-of-band), the counts of the code tree and the live region; the page paints what the
// server stored, nothing it guessed. Turning a layer on or off fetches that layer's data. A
// refusal (400) shows its message in the picker or panel and keeps the selection. Without this
// file the page still reads and the segment panel works through plain links and forms;
// highlights and coding need this file.
import { assignLanes, chunkRuns, DEFAULT_COLOR, lineColor, MAX_LANES, safeColor, tint } from "./highlights.js";
import {
  chunkText,
  codePointToPoint,
  pointToCodePoint,
  selectionToCodePoints,
  textBetween,
} from "./offsets.js";

const ws = document.querySelector("[data-workspace]");
const WORD = /[\p{L}\p{N}\p{M}\p{Extended_Pictographic}\u200d\ufe0f'’_-]/u;
const SPACE = /\s/u;
const RECENT_MAX = 6;
// Up to these widths the side panel, and then the picker too, are bottom sheets and the margin
// labels fold under their paragraph (the same widths as the CSS).
const sheetQuery = window.matchMedia("(max-width: 1050px)");
const phoneQuery = window.matchMedia("(max-width: 700px)");
const coarseQuery = window.matchMedia("(pointer: coarse)");

const root = () => document.getElementById("ws-text");
const picker = () => document.getElementById("picker");
const panel = () => document.getElementById("segment-panel");
const status = () => document.getElementById("ws-status");
const canCode = () => Boolean(picker());

// The selection the picker (or a click on a code) codes: {start, end, quote, range}.
let pending = null;
let last = null; // the last selection made in the text, same shape
let dragged = null; // the selection being dragged onto a code, same shape
let returnFocus = null; // where Escape goes back to
let pointerInText = false;
let panelOpener = null;
let ticksBeforeNewCode = [];
let statusTimer = 0;

// Text access: chunks and their code points (conversions to and from the DOM: offsets.js) ---

const chunkPoints = new WeakMap();
// The chunks never change while the page is open (coding changes only what is painted on them).
let chunkList = null;

function chunks() {
  if (!chunkList) {
    const container = root();
    chunkList = container ? Array.from(container.querySelectorAll(".ws-chunk[data-offset]")) : [];
  }
  return chunkList;
}

function startOf(chunk) {
  return Number(chunk.dataset.offset);
}

function endOf(chunk) {
  return Number(chunk.dataset.end);
}

function pointsOf(chunk) {
  let points = chunkPoints.get(chunk);
  if (!points) {
    points = Array.from(chunkText(chunk));
    chunkPoints.set(chunk, points);
  }
  return points;
}

// The chunk holding code point `offset` (the last one for the text's end).
function chunkAt(offset) {
  const list = chunks();
  let low = 0;
  let high = list.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (offset < startOf(list[middle])) high = middle - 1;
    else if (offset >= endOf(list[middle])) low = middle + 1;
    else return list[middle];
  }
  const final = list[list.length - 1];
  return final && offset === endOf(final) ? final : null;
}

function charAt(offset) {
  const chunk = chunkAt(offset);
  if (!chunk || offset >= endOf(chunk)) return "";
  return pointsOf(chunk)[offset - startOf(chunk)] || "";
}

// The code point of the selection's focus (the caret) in the text, or null.
function caret(selection) {
  if (!selection.rangeCount) return null;
  return pointToCodePoint(root(), selection.focusNode, selection.focusOffset);
}

function rangeOf(start, end) {
  const first = chunkAt(start);
  const second = chunkAt(end) || first;
  if (!first) return null;
  const range = document.createRange();
  range.setStart(...codePointToPoint(first, start));
  // An end at a chunk's start belongs to the chunk before it.
  const endChunk = second && startOf(second) === end && end > start ? chunkAt(end - 1) : second;
  range.setEnd(...codePointToPoint(endChunk, end));
  return range;
}

function select(start, end) {
  const range = rangeOf(start, end);
  if (!range) return null;
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  return range;
}

function isWord(ch) {
  return ch !== "" && WORD.test(ch);
}

function inExcluded(offset) {
  const chunk = chunkAt(offset);
  return Boolean(chunk && chunk.hasAttribute("data-excluded"));
}

function overlapsExcluded(start, end) {
  return chunks().some((c) => c.hasAttribute("data-excluded") && startOf(c) < end && start < endOf(c));
}

function textLength() {
  const list = chunks();
  return list.length ? endOf(list[list.length - 1]) : 0;
}

// The word at or after `offset`, skipping sections that are not coded.
function wordAfter(offset) {
  const length = textLength();
  let p = offset;
  for (;;) {
    while (p < length && !isWord(charAt(p))) p += 1;
    if (p >= length) return null;
    if (!inExcluded(p)) break;
    p = endOf(chunkAt(p));
  }
  let end = p;
  while (end < length && isWord(charAt(end))) end += 1;
  return [p, end];
}

function wordBefore(offset) {
  let p = offset;
  for (;;) {
    while (p > 0 && !isWord(charAt(p - 1))) p -= 1;
    if (p <= 0) return null;
    if (!inExcluded(p - 1)) break;
    p = startOf(chunkAt(p - 1));
  }
  let start = p;
  while (start > 0 && isWord(charAt(start - 1))) start -= 1;
  return [start, p];
}

function wordAt(offset) {
  if (!isWord(charAt(offset))) return wordAfter(offset);
  let start = offset;
  while (start > 0 && isWord(charAt(start - 1))) start -= 1;
  return wordAfter(start);
}

// Painting: the segments as highlights and margin labels --------------------------------------

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";
const SURROGATE = /[\ud800-\udfff]/;
const model = {
  element: null, // the #ws-data block painted from
  viewer: "",
  several: false,
  segmentUrl: "",
  codes: new Map(), // id -> [name, path, colour]
  coders: new Map(), // id -> [username, initials, colour]
  segments: new Map(), // UUID -> {key, start, end, code, coder, memo}
};
const chunkTexts = new WeakMap();
const painted = new WeakSet();

// Segments as the server sends them (coding/workspace/render.py `encode_segments`), column-wise:
// `ids`, the 16 bytes of every UUID one after another in base64, and `spans`, five numbers a
// segment (start, length, code id, coder id, memo).
function uuidsOf(ids) {
  const bytes = atob(ids || "");
  const uuids = [];
  for (let at = 0; at + 16 <= bytes.length; at += 16) {
    let hex = "";
    for (let i = at; i < at + 16; i += 1) hex += bytes.charCodeAt(i).toString(16).padStart(2, "0");
    uuids.push(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
  }
  return uuids;
}

function decodeSegments(encoded) {
  const uuids = uuidsOf(encoded.ids);
  const spans = encoded.spans || [];
  return uuids.map((key, n) => {
    const [start, length, code, coder, memo] = spans.slice(n * 5, n * 5 + 5);
    return { key, start, end: start + length, code: String(code), coder: String(coder), memo: Boolean(memo) };
  });
}

function addCodes(codes) {
  for (const [id, entry] of Object.entries(codes || {})) model.codes.set(id, entry);
}

// Read the page's data block (again, after the layers changed): everything it says replaces
// what was painted before.
function loadData(element) {
  const data = JSON.parse(element.textContent);
  model.element = element;
  model.viewer = String(data.viewer);
  model.several = Boolean(data.several);
  model.segmentUrl = data.segmentUrl;
  model.codes = new Map();
  addCodes(data.codes);
  model.coders = new Map(Object.entries(data.coders || {}));
  model.segments = new Map();
  for (const segment of decodeSegments(data.segments)) model.segments.set(segment.key, segment);
}

// A chunk's text as the server sent it, the length of its heading, and (when it holds
// characters outside the BMP) the UTF-16 offset of each of its code points.
function textOf(chunk) {
  let found = chunkTexts.get(chunk);
  if (!found) {
    const text = chunk.textContent;
    const heading = chunk.querySelector(".ws-heading");
    let units = null;
    if (SURROGATE.test(text)) {
      units = [];
      let at = 0;
      for (const point of text) {
        units.push(at);
        at += point.length;
      }
      units.push(at);
    }
    found = { text, units, heading: heading ? Array.from(heading.textContent).length : 0 };
    chunkTexts.set(chunk, found);
  }
  return found;
}

function codeOf(segment) {
  const entry = model.codes.get(segment.code);
  return entry ? { name: entry[0], path: entry[1], color: safeColor(entry[2]) } : { name: "?", path: "?", color: DEFAULT_COLOR };
}

function markFor(run, lanes, active) {
  const mark = document.createElement("mark");
  const keys = run.marks.map((m) => m.key);
  mark.dataset.segments = keys.join(" ");
  const colors = new Map();
  const names = new Set();
  for (const segment of run.marks) {
    const code = codeOf(segment);
    names.add(code.name);
    const lane = lanes.get(segment.key) || 0;
    if (lane < MAX_LANES && !colors.has(lane)) colors.set(lane, code.color);
  }
  mark.style.setProperty("--t", tint(codeOf(run.marks[0]).color));
  mark.style.setProperty("--n", String(Math.max(0, ...colors.keys()) + 1));
  for (const [lane, color] of colors) mark.style.setProperty(`--l${lane}`, lineColor(color));
  mark.title = [...names].join(", ");
  if (active && keys.includes(active)) mark.classList.add("is-active");
  return mark;
}

function labelFor(segment) {
  const code = codeOf(segment);
  const [username, initials, colour] = model.coders.get(segment.coder) || ["", "", ""];
  const label = document.createElement("a");
  label.className = segment.coder === model.viewer ? "ws-label is-own" : "ws-label";
  label.id = `seg-${segment.key}`;
  label.dataset.segment = segment.key;
  label.href = model.segmentUrl.replace(ZERO_UUID, segment.key);
  label.title = `${code.path} · ${username}`;
  label.style.setProperty("--c", lineColor(code.color));
  const name = document.createElement("span");
  name.className = "ws-label-name";
  name.textContent = code.name;
  label.append(name);
  if (model.several) {
    const who = document.createElement("span");
    who.className = "ws-initials";
    who.setAttribute("aria-label", username);
    who.textContent = initials;
    if (colour) who.style.setProperty("--who", safeColor(colour));
    label.append(who);
  }
  if (segment.memo) {
    const memo = document.createElement("span");
    memo.className = "ws-memo-mark";
    memo.title = ws.dataset.msgMemo;
    memo.setAttribute("aria-label", ws.dataset.msgMemo);
    memo.textContent = "✎";
    label.append(memo);
  }
  return label;
}

function inTextOrder(a, b) {
  return a.start - b.start || a.end - b.end || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

// Rebuild one chunk's highlights from `marks` (the segments overlapping it, in text order) and
// the labels of those starting in it. A chunk never painted and without marks is left as sent.
function paintChunk(chunk, marks) {
  if (!marks.length && !painted.has(chunk)) return;
  painted.add(chunk);
  const start = startOf(chunk);
  const end = endOf(chunk);
  const { text, units, heading } = textOf(chunk);
  const unit = (point) => (units ? units[point - start] : point - start);
  const lanes = assignLanes(marks);
  const active = activeSegment();
  const fragment = document.createDocumentFragment();
  for (const run of chunkRuns(start, end, start + heading, marks)) {
    let node = document.createTextNode(text.slice(unit(run.start), unit(run.end)));
    if (run.heading) {
      const span = document.createElement("span");
      span.className = "ws-heading";
      span.append(node);
      node = span;
    }
    if (run.marks.length) {
      const mark = markFor(run, lanes, active);
      mark.append(node);
      node = mark;
    }
    fragment.append(node);
  }
  chunk.replaceChildren(fragment);
  const margin = chunk.parentElement.querySelector(".ws-margin");
  margin.querySelectorAll(".ws-label").forEach((label) => label.remove());
  margin.append(...marks.filter((m) => m.start >= start).map(labelFor));
  pendingAlign.add(chunk.parentElement);
}

function validSegments() {
  const length = textLength();
  return [...model.segments.values()]
    .filter((s) => Number.isInteger(s.start) && Number.isInteger(s.end) && 0 <= s.start && s.start < s.end && s.end <= length)
    .sort(inTextOrder);
}

// Chunks still to paint, with their marks. The rows near the viewport are painted at once,
// the others when the browser is idle or when they come near the viewport, whichever is first:
// a long text shows its first screen without waiting for the rest.
const unpainted = new Map();
let restTask = 0;
const idle =
  window.requestIdleCallback ||
  ((step) => setTimeout(() => step({ timeRemaining: () => 8, didTimeout: false }), 1));

function paintPending(chunk) {
  const marks = unpainted.get(chunk);
  if (!marks) return;
  unpainted.delete(chunk);
  paintChunk(chunk, marks);
}

function paintNear() {
  for (const row of nearRows) paintPending(row.querySelector(".ws-chunk"));
}

function paintRest() {
  if (restTask) return;
  if (!unpainted.size) {
    const container = root();
    if (container && !container.dataset.paintedAll) {
      container.dataset.paintedAll = String(Math.round(performance.now()));
    }
    return;
  }
  restTask = idle(
    (deadline) => {
      restTask = 0;
      for (const chunk of unpainted.keys()) {
        paintPending(chunk);
        if (deadline.timeRemaining() < 3 && !deadline.didTimeout) break;
      }
      paintRest();
    },
    { timeout: 300 },
  );
}

// Every chunk, from one sweep over the segments in text order: those near the viewport now.
function paintAll() {
  unpainted.clear();
  const ordered = validSegments();
  let next = 0;
  let active = [];
  for (const chunk of chunks()) {
    const start = startOf(chunk);
    const end = endOf(chunk);
    while (next < ordered.length && ordered[next].start < end) {
      active.push(ordered[next]);
      next += 1;
    }
    active = active.filter((s) => s.end > start);
    if (active.length || painted.has(chunk)) unpainted.set(chunk, [...active]);
  }
  paintNear();
  paintRest();
}

// A segment's margin label, its chunk painted first if it was not yet.
function segmentLabel(key) {
  const segment = model.segments.get(key);
  if (segment) {
    const chunk = chunkAt(segment.start);
    if (chunk) paintPending(chunk);
  }
  return document.getElementById(`seg-${key}`);
}

// The chunks overlapping any of `spans` ({start, end}), painted again.
function repaint(spans) {
  const touched = chunks().filter((chunk) => {
    const start = startOf(chunk);
    const end = endOf(chunk);
    return spans.some((span) => span.start < end && start < Math.max(span.end, span.start + 1));
  });
  if (!touched.length) return;
  const ordered = validSegments();
  for (const chunk of touched) {
    const start = startOf(chunk);
    const end = endOf(chunk);
    unpainted.delete(chunk);
    paintChunk(chunk, ordered.filter((s) => s.start < end && s.end > start));
  }
}

// The answer to a change: segments stored (added or replaced by UUID) and removed.
function applyUpdate(update) {
  addCodes(update.codes);
  const spans = [];
  for (const key of uuidsOf(update.remove)) {
    const old = model.segments.get(key);
    if (old) spans.push(old);
    model.segments.delete(key);
  }
  for (const segment of decodeSegments(update.add || {})) {
    const old = model.segments.get(segment.key);
    if (old) spans.push(old);
    model.segments.set(segment.key, segment);
    spans.push(segment);
  }
  repaint(spans);
}

// Whatever the last htmx answer brought: new layers' data, or a change to paint. Safe to call
// more than once per answer (several htmx events lead here).
function takeUpdates() {
  const data = document.getElementById("ws-data");
  if (data && data !== model.element) {
    loadData(data);
    paintAll();
  }
  const update = document.getElementById("ws-update-data");
  if (update) {
    update.remove();
    applyUpdate(JSON.parse(update.textContent));
  }
  alignPending();
}

// Selections --------------------------------------------------------------------------------

function snapOn() {
  const box = document.getElementById("ws-snap");
  return Boolean(box && box.checked);
}

// [start, end] without the spaces at either end and grown to whole words, or null if only
// spaces are left.
function snapSpan(from, to) {
  const length = textLength();
  let start = from;
  let end = to;
  while (start < end && SPACE.test(charAt(start))) start += 1;
  while (end > start && SPACE.test(charAt(end - 1))) end -= 1;
  if (start >= end) return null;
  while (start > 0 && isWord(charAt(start - 1)) && isWord(charAt(start))) start -= 1;
  while (end < length && isWord(charAt(end)) && isWord(charAt(end - 1))) end += 1;
  return [start, end];
}

// The selection in the text as {start, end, quote, range}, snapped to words when asked.
function currentSelection(snap = snapOn()) {
  const container = root();
  const selection = window.getSelection();
  if (!container || !selection.rangeCount || selection.isCollapsed) return null;
  if (!selection.getRangeAt(0).intersectsNode(container)) return null;
  const found = selectionToCodePoints(container);
  if (!found) return null;
  if (snap) {
    const span = snapSpan(found.start, found.end);
    if (!span) return null;
    const [start, end] = span;
    if (start !== found.start || end !== found.end) {
      const range = select(start, end);
      return { start, end, quote: textBetween(container, start, end), range: range.cloneRange() };
    }
  }
  return { ...found, range: selection.getRangeAt(0).cloneRange() };
}

// A remembered selection snapped to words when asked, without touching the page's selection
// (a touch selection the browser still shows, or one being dragged).
function snapped(found) {
  if (!found || !snapOn()) return found;
  const span = snapSpan(found.start, found.end);
  if (!span) return null;
  const [start, end] = span;
  if (start === found.start && end === found.end) return found;
  return { start, end, quote: textBetween(root(), start, end), range: rangeOf(start, end) };
}

// The side panel's line that says what a click on a code will code.
function showSelection() {
  const line = document.getElementById("ws-selection");
  if (!line) return;
  line.hidden = !last;
  if (!last) return;
  const quote = last.quote.length > 120 ? `${last.quote.slice(0, 120)}…` : last.quote;
  document.getElementById("ws-selection-quote").textContent = quote;
}

function remember(found) {
  last = found;
  if (ws.classList.contains("is-bounds")) fillBounds(found);
  showSelection();
}

function forget() {
  last = null;
  showSelection();
  if (!pending) showPending(null);
}

function showPending(range) {
  if (!window.CSS || !CSS.highlights || typeof Highlight === "undefined") return;
  if (range) CSS.highlights.set("ws-pending", new Highlight(range));
  else CSS.highlights.delete("ws-pending");
}

function say(message) {
  const region = status();
  if (!region) return;
  region.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => {
    region.textContent = "";
  }, 5000);
}

// The picker --------------------------------------------------------------------------------

function recentKey() {
  return `veerkracht.recent.${ws.dataset.study}.${ws.dataset.user}`;
}

function recentCodes() {
  try {
    const stored = JSON.parse(localStorage.getItem(recentKey()) || "[]");
    return Array.isArray(stored) ? stored : [];
  } catch {
    return [];
  }
}

function rememberRecent(uuids) {
  const list = [...uuids, ...recentCodes().filter((u) => !uuids.includes(u))].slice(0, RECENT_MAX);
  try {
    localStorage.setItem(recentKey(), JSON.stringify(list));
  } catch {
    // Private windows may refuse storage; recent codes are a convenience.
  }
}

function boxes() {
  return Array.from(document.querySelectorAll("#picker-codes input[type=checkbox]"));
}

function boxFor(uuid) {
  return boxes().find((box) => box.value === uuid) || null;
}

function visibleBoxes() {
  return boxes().filter((box) => !box.closest("li").hidden);
}

function ticked() {
  return boxes().filter((box) => box.checked);
}

function renderRecent() {
  const holder = document.getElementById("picker-recent");
  if (!holder) return;
  const list = holder.querySelector(".ws-recent-list");
  list.replaceChildren();
  for (const uuid of recentCodes()) {
    const box = boxFor(uuid);
    if (!box) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "ws-chip";
    button.dataset.code = uuid;
    const swatch = box.parentElement.querySelector(".swatch").cloneNode(true);
    button.append(swatch, document.createTextNode(box.dataset.name));
    if (box.dataset.shortcut) {
      const key = document.createElement("kbd");
      key.textContent = box.dataset.shortcut;
      button.append(key);
    }
    list.append(button);
  }
  holder.hidden = list.children.length === 0;
}

function fold(value) {
  return value.normalize("NFD").replace(/\p{M}/gu, "").toLocaleLowerCase();
}

function filterPicker() {
  const query = fold(document.getElementById("picker-search").value.trim());
  let shown = 0;
  for (const item of document.querySelectorAll("#picker-codes li[data-search]")) {
    item.hidden = query !== "" && !fold(item.dataset.search).includes(query);
    if (!item.hidden) shown += 1;
  }
  document.getElementById("picker-no-match").hidden = shown > 0;
}

// The room the picker may take: the viewport, less the side panel's code list when it stands
// beside the text (a click on a code there applies it, so the picker leaves it in view).
function pickerRoom(width, margin) {
  let right = window.innerWidth - margin;
  const side = document.getElementById("ws-side");
  if (side && !sheetQuery.matches) {
    const box = side.getBoundingClientRect();
    if (box.width && box.left - margin - width >= margin) right = box.left - margin;
  }
  return right;
}

// Below the selection, else above it, each with room for most of the code list; else the page
// scrolls the selection up to make that room below it; else beside the text column; else in
// the larger space above or below. The picker's code list scrolls inside it, so with the
// height given here its search, Apply and Cancel are always in view. On a phone it is a
// bottom sheet (CSS) and the selection is scrolled into view above it.
function placePicker(dialog, found) {
  dialog.style.height = "";
  dialog.style.maxHeight = "none";
  dialog.style.left = "0px";
  dialog.style.top = "0px";
  // The code list takes the room it is given (flex), so its full height is added by hand.
  const list = document.getElementById("picker-codes");
  const natural = dialog.offsetHeight + (list ? list.scrollHeight - list.clientHeight : 0);
  dialog.style.maxHeight = "";
  dialog.style.left = "";
  dialog.style.top = "";
  const range = rangeOf(found.start, found.end) || found.range;
  let rect = range ? range.getBoundingClientRect() : null;
  if (phoneQuery.matches) {
    dialog.style.height = `${Math.round(Math.min(natural, window.innerHeight * 0.78))}px`;
    // Room below the text's end, so that even its last line can scroll above the sheet.
    ws.style.paddingBottom = `${dialog.offsetHeight}px`;
    const room = window.innerHeight - dialog.offsetHeight - 8;
    if (rect && (rect.bottom > room || rect.top < 8)) {
      window.scrollBy(0, rect.top - Math.max(8, Math.min(room - rect.height, room / 3)));
    }
    return;
  }
  const margin = 12;
  const gap = 10;
  const width = dialog.offsetWidth;
  const full = window.innerHeight - 2 * margin;
  const want = Math.min(natural, full, Math.max(380, Math.round(window.innerHeight * 0.8)));
  const right = pickerRoom(width, margin);
  let left = rect ? rect.left : (right - width) / 2;
  let top = margin;
  let height = Math.min(natural, full);
  const below = () => window.innerHeight - margin - rect.bottom - gap;
  const above = () => rect.top - gap - margin;
  if (rect && below() < want && above() < want) {
    // Scroll the selection up (its first line stays in view) to make room below it.
    const by = Math.min(rect.bottom - (window.innerHeight - margin - gap - want), rect.top - margin);
    if (by > 0) {
      window.scrollBy(0, by);
      rect = (rangeOf(found.start, found.end) || range).getBoundingClientRect();
    }
  }
  if (!rect) {
    top = (window.innerHeight - height) / 2;
  } else if (below() >= want) {
    top = rect.bottom + gap;
    height = Math.min(natural, below());
  } else if (above() >= want) {
    height = Math.min(natural, above());
    top = rect.top - gap - height;
  } else {
    const chunk = chunkAt(found.start);
    const column = chunk ? chunk.getBoundingClientRect() : rect;
    if (column.right + 16 + width <= right) {
      left = column.right + 16;
      top = rect.top - height / 3;
    } else if (below() >= above()) {
      height = Math.min(natural, Math.max(below(), 240));
      top = rect.bottom + gap;
    } else {
      height = Math.min(natural, Math.max(above(), 240));
      top = rect.top - gap - height;
    }
  }
  dialog.style.height = `${Math.round(height)}px`;
  left = Math.max(margin, Math.min(left, right - width));
  top = Math.max(margin, Math.min(top, window.innerHeight - height - margin));
  dialog.style.left = `${Math.round(left + window.scrollX)}px`;
  dialog.style.top = `${Math.round(top + window.scrollY)}px`;
}

// The picker's form filled for `found`, nothing ticked: what the picker and a click on a code
// both post.
function fillPicker(found) {
  pending = found;
  document.getElementById("picker-start").value = found.start;
  document.getElementById("picker-end").value = found.end;
  document.getElementById("picker-quote-value").value = found.quote;
  const preview = found.quote.length > 160 ? `${found.quote.slice(0, 160)}…` : found.quote;
  document.getElementById("picker-quote").textContent = `“${preview}”`;
  document.getElementById("picker-search").value = "";
  document.getElementById("picker-memo").value = "";
  document.getElementById("picker-memo-box").open = false;
  document.getElementById("picker-error").replaceChildren();
  boxes().forEach((box) => {
    box.checked = false;
  });
  filterPicker();
  renderRecent();
}

function showPicker(found) {
  const dialog = picker();
  dialog.hidden = false;
  placePicker(dialog, found);
  showPending(rangeOf(found.start, found.end) || found.range);
  if (coarseQuery.matches) {
    // On a touch screen the search would open the on-screen keyboard over the list.
    const title = document.getElementById("picker-title");
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  } else {
    document.getElementById("picker-search").focus({ preventScroll: true });
  }
}

function openPicker(found, from) {
  const dialog = picker();
  if (!dialog || !found) return;
  if (overlapsExcluded(found.start, found.end)) {
    say(ws.dataset.msgNotCoded);
    return;
  }
  returnFocus = from || document.activeElement;
  fillPicker(found);
  showPicker(found);
}

function closePicker({ restore = true, refocus = true } = {}) {
  const dialog = picker();
  if (!dialog || dialog.hidden) return;
  dialog.hidden = true;
  ws.style.paddingBottom = "";
  showPending(null);
  const wanted = pending;
  pending = null;
  if (restore && wanted) {
    const range = rangeOf(wanted.start, wanted.end);
    if (range) {
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
  }
  const target = refocus && returnFocus && returnFocus.isConnected ? returnFocus : null;
  if (target) target.focus({ preventScroll: true });
}

// One click on a code in the code list (or a selection dropped on it) codes the selection at
// once, through the picker's form: the same request, checks and audit as Apply. A refusal
// opens the picker with its message.
function applyTo(found, uuids, from) {
  const chosen = snapped(found);
  if (!picker() || !chosen) {
    say(ws.dataset.msgSelectFirst);
    return;
  }
  if (overlapsExcluded(chosen.start, chosen.end)) {
    say(ws.dataset.msgNotCoded);
    return;
  }
  closePicker({ restore: false, refocus: false });
  returnFocus = from || null;
  fillPicker(chosen);
  for (const uuid of uuids) {
    const box = boxFor(uuid);
    if (box) box.checked = true;
  }
  submitPicker();
}

function submitPicker() {
  const form = document.getElementById("picker-form");
  if (ticked().length === 0) {
    const first = visibleBoxes()[0];
    if (!first) {
      say(ws.dataset.msgNoMatch);
      return;
    }
    first.checked = true;
  }
  form.requestSubmit();
}

function applyNow(uuid) {
  const box = boxFor(uuid);
  if (!box) return;
  box.checked = true;
  submitPicker();
}

function focusables(dialog) {
  return Array.from(
    dialog.querySelectorAll("input:not([type=hidden]), textarea, select, button, summary, [tabindex='0']"),
  ).filter((el) => !el.disabled && el.offsetParent !== null);
}

function onPickerKey(event) {
  const dialog = picker();
  const target = event.target;
  if (event.key === "Escape") {
    event.preventDefault();
    closePicker();
    return;
  }
  if (event.key === "Tab") {
    const items = focusables(dialog);
    const first = items[0];
    const final = items[items.length - 1];
    if (event.shiftKey && target === first) {
      event.preventDefault();
      final.focus();
    } else if (!event.shiftKey && target === final) {
      event.preventDefault();
      first.focus();
    }
    return;
  }
  const search = document.getElementById("picker-search");
  if (target === search) {
    const plain = !event.ctrlKey && !event.metaKey && !event.altKey;
    if (plain && search.value === "" && event.key.length === 1) {
      const box = boxes().find((b) => b.dataset.shortcut === event.key);
      if (box) {
        event.preventDefault();
        applyNow(box.value);
        return;
      }
    }
    if (event.key === "ArrowDown") {
      event.preventDefault();
      const first = visibleBoxes()[0];
      if (first) first.focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      submitPicker();
    }
    return;
  }
  if (target.matches("#picker-codes input[type=checkbox]")) {
    const list = visibleBoxes();
    const index = list.indexOf(target);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const next = list[index + (event.key === "ArrowDown" ? 1 : -1)];
      (next || (event.key === "ArrowUp" ? search : target)).focus();
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (ticked().length === 0) target.checked = true;
      submitPicker();
    }
    return;
  }
  if (target.id === "picker-memo" && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    submitPicker();
  }
}

// Opening the picker from the text --------------------------------------------------------

function codeSelection(from) {
  const found = currentSelection() || last;
  if (!found) {
    say(ws.dataset.msgSelectFirst);
    return;
  }
  if (ws.classList.contains("is-bounds")) {
    fillBounds(found);
    const submit = document.querySelector("[data-bounds-form] [type=submit]");
    if (submit) submit.focus();
    return;
  }
  openPicker(found, from);
}

// A press on the selection that the picker took the focus from selects it again, so that it
// can be dragged onto a code in the code list.
function reselectUnder(event) {
  const found = pending || last;
  if (!found || !canCode() || ws.classList.contains("is-bounds")) return;
  const range = rangeOf(found.start, found.end);
  if (!range) return;
  const hit = Array.from(range.getClientRects()).some(
    (r) => event.clientX >= r.left && event.clientX <= r.right && event.clientY >= r.top && event.clientY <= r.bottom,
  );
  if (!hit) return;
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

function afterPointerSelection(event) {
  if (dragged) return;
  const found = canCode() ? currentSelection() : null;
  if (!found && !ws.classList.contains("is-bounds")) forget();
  if (found) {
    remember(found);
    if (!ws.classList.contains("is-bounds")) {
      const chunk = event.target.closest && event.target.closest(".ws-chunk");
      openPicker(found, chunk && chunk.tabIndex === 0 ? chunk : null);
    }
    return;
  }
  // A click on a highlight, not a drag: open the innermost segment's panel.
  const mark = event.target.closest && event.target.closest("mark[data-segments]");
  if (mark && window.getSelection().isCollapsed) {
    const label = segmentLabel(mark.dataset.segments.split(" ")[0]);
    if (label) openPanelFrom(label);
  }
}

function scrollToSelection() {
  const selection = window.getSelection();
  if (!selection.rangeCount) return;
  const node = selection.focusNode;
  const element = node && (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement);
  if (!element) return;
  const rect = selection.getRangeAt(0).getBoundingClientRect();
  if (rect.top < 60 || rect.bottom > window.innerHeight - 40) {
    element.scrollIntoView({ block: "center" });
  }
}

function selectWord(word) {
  if (!word) return;
  select(word[0], word[1]);
  scrollToSelection();
}

// Keys in a focused chunk of text: a word-wise selection that Shift+arrows extend.
function onChunkKey(event) {
  const chunk = event.target;
  const selection = window.getSelection();
  const mod = event.ctrlKey || event.metaKey;
  const found = selectionToCodePoints(root());
  const at = caret(selection);
  switch (event.key) {
    case "ArrowRight":
    case "ArrowLeft": {
      const forward = event.key === "ArrowRight";
      if (event.shiftKey) {
        selection.modify("extend", forward ? "forward" : "backward", mod ? "word" : "character");
      } else if (found) {
        selectWord(forward ? wordAfter(found.end) : wordBefore(found.start));
      } else {
        selectWord(wordAt(at ?? startOf(chunk)));
      }
      break;
    }
    case "ArrowDown":
    case "ArrowUp": {
      const forward = event.key === "ArrowDown";
      if (event.shiftKey) {
        selection.modify("extend", forward ? "forward" : "backward", "line");
      } else {
        if (!selection.isCollapsed) {
          if (forward) selection.collapseToEnd();
          else selection.collapseToStart();
        }
        selection.modify("move", forward ? "forward" : "backward", "line");
        const moved = caret(selection);
        if (moved !== null) selectWord(forward ? wordAt(moved) : wordAt(moved) || wordBefore(moved));
      }
      break;
    }
    case "Home":
    case "End":
      if (!event.shiftKey) return;
      selection.modify("extend", event.key === "End" ? "forward" : "backward", "lineboundary");
      break;
    case "Enter":
      codeSelection(chunk);
      break;
    case "c":
      if (mod || event.altKey || event.shiftKey) return;
      codeSelection(chunk);
      break;
    case "Escape":
      selection.removeAllRanges();
      break;
    default:
      return;
  }
  event.preventDefault();
  scrollToSelection();
  const now = currentSelection(false);
  if (now) {
    remember(now);
    if (["ArrowRight", "ArrowLeft", "ArrowDown", "ArrowUp", "Home", "End"].includes(event.key)) {
      const quote = now.quote.length > 80 ? `${now.quote.slice(0, 80)}…` : now.quote;
      say(`${ws.dataset.msgSelected} ${quote}`);
    }
  }
}

// The segment panel -------------------------------------------------------------------------

function markSegment(uuid, className, on) {
  if (!uuid) return;
  for (const mark of document.querySelectorAll(`mark[data-segments~="${CSS.escape(uuid)}"]`)) {
    mark.classList.toggle(className, on);
  }
}

function activeSegment() {
  const box = panel();
  return box && !box.hidden ? box.dataset.segment || "" : "";
}

function openPanelFrom(label) {
  panelOpener = label;
  htmx.ajax("GET", label.getAttribute("href"), { source: label, target: "#segment-panel", swap: "outerHTML" });
}

function closePanel() {
  const box = panel();
  if (!box || box.hidden) return;
  markSegment(activeSegment(), "is-active", false);
  box.hidden = true;
  endBounds();
  if (panelOpener && panelOpener.isConnected) panelOpener.focus();
  else if (box.dataset.segment) {
    const label = segmentLabel(box.dataset.segment);
    if (label) label.focus();
  }
}

function panelShown(box) {
  document.querySelectorAll("mark.is-active").forEach((m) => m.classList.remove("is-active"));
  if (box.hidden) return;
  markSegment(box.dataset.segment, "is-active", true);
  if (sheetQuery.matches) openSheet(true);
  const title = box.querySelector("#segment-panel-title");
  if (title) {
    title.tabIndex = -1;
    title.focus({ preventScroll: true });
  }
  box.scrollIntoView({ block: "nearest" });
}

// Changing a segment's boundaries: a mode in which a selection fills the panel's form instead
// of opening the picker.
function startBounds(button) {
  ws.classList.add("is-bounds");
  button.setAttribute("aria-pressed", "true");
  const form = button.closest("[data-bounds-form]");
  form.querySelector("[data-bounds-step]").hidden = false;
  say(ws.dataset.msgBounds);
}

function endBounds() {
  ws.classList.remove("is-bounds");
}

function fillBounds(found) {
  const form = document.querySelector("[data-bounds-form]");
  if (!form || !found) return;
  form.querySelector("[name=start]").value = found.start;
  form.querySelector("[name=end]").value = found.end;
  form.querySelector("[name=quote]").value = found.quote;
  const preview = form.querySelector("[data-bounds-preview]");
  preview.textContent = `“${found.quote.length > 120 ? `${found.quote.slice(0, 120)}…` : found.quote}”`;
}

// Margin labels beside their text --------------------------------------------------------------

// Rows whose labels wait to be placed, and rows near the viewport (an IntersectionObserver keeps
// this up to date). Only rows near the viewport are measured: a long text's other rows are
// not laid out at all (`content-visibility: auto` in the CSS), and measuring them would make
// the browser lay out the whole text.
const pendingAlign = new Set();
const nearRows = new Set();
let rowObserver = null;

// Each label moves down to the line where its segment starts, below the label before it. All
// positions are read first, then written, so the browser lays out once per pass; only rows
// painted since the last pass (or all rows, after a resize) are measured.
function alignRows(rows) {
  if (phoneQuery.matches) return; // the labels sit on a line under their paragraph (CSS)
  const plans = [];
  for (const row of rows) {
    const labels = Array.from(row.querySelectorAll(".ws-margin .ws-label"));
    labels.forEach((label) => {
      label.style.marginTop = "";
    });
    if (labels.length) plans.push({ row, labels });
  }
  const measured = plans.map(({ row, labels }) => {
    const chunk = row.querySelector(".ws-chunk");
    const top = row.getBoundingClientRect().top;
    return labels.map((label) => {
      const mark = chunk.querySelector(`mark[data-segments~="${CSS.escape(label.dataset.segment)}"]`);
      const rect = mark ? mark.getClientRects()[0] : null;
      const box = label.getBoundingClientRect();
      return { label, want: rect ? rect.top - top : 0, at: box.top - top, height: box.height };
    });
  });
  for (const entries of measured) {
    let shift = 0;
    let bottom = -Infinity;
    for (const entry of entries) {
      const natural = entry.at + shift;
      const place = Math.max(natural, entry.want, bottom);
      const extra = Math.max(0, Math.round(place - natural));
      if (extra) entry.label.style.marginTop = `${extra}px`;
      shift += extra;
      bottom = natural + extra + entry.height + 2;
    }
  }
}

function alignPending() {
  const rows = [...pendingAlign].filter((row) => nearRows.has(row));
  rows.forEach((row) => pendingAlign.delete(row));
  if (rows.length) alignRows(rows);
}

function alignAll() {
  chunks().forEach((chunk) => pendingAlign.add(chunk.parentElement));
  alignPending();
}

let alignFrame = 0;
function scheduleAlign() {
  cancelAnimationFrame(alignFrame);
  alignFrame = requestAnimationFrame(alignAll);
}

// A row's expected height until it has been laid out once (the browser then remembers its
// real one): its lines at about 72 characters each.
function estimateHeights(rows) {
  if (!rows.length) return;
  const style = getComputedStyle(rows[0].querySelector(".ws-chunk"));
  const lineHeight = parseFloat(style.lineHeight) || 34;
  // About 72 characters a line at the reading measure; fewer on a phone.
  const perLine = phoneQuery.matches
    ? Math.max(24, Math.floor(rows[0].clientWidth / ((parseFloat(style.fontSize) || 17) * 0.5)))
    : 72;
  for (const row of rows) {
    let lines = 0;
    for (const line of textOf(row.querySelector(".ws-chunk")).text.split("\n")) {
      lines += Math.max(1, Math.ceil(line.length / perLine));
    }
    row.style.containIntrinsicSize = `auto ${Math.round(lines * lineHeight)}px`;
  }
}

function watchRows() {
  const rows = chunks().map((chunk) => chunk.parentElement);
  estimateHeights(rows);
  // The rows in the first screen now, so their labels are placed before the first frame.
  const bottom = window.innerHeight;
  for (const row of rows) {
    const box = row.getBoundingClientRect();
    if (box.top > bottom) break;
    if (box.bottom >= 0) nearRows.add(row);
  }
  if (typeof IntersectionObserver === "undefined") {
    rows.forEach((row) => nearRows.add(row));
    return;
  }
  rowObserver = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (entry.isIntersecting) {
          nearRows.add(entry.target);
          paintPending(entry.target.querySelector(".ws-chunk"));
        } else {
          nearRows.delete(entry.target);
        }
      }
      alignPending();
    },
    { rootMargin: "50% 0px" },
  );
  rows.forEach((row) => rowObserver.observe(row));
}

// A link from the code report: #seg-<uuid> scrolls to that segment and flashes it.
function flashFromHash() {
  const match = /^#seg-([0-9a-f-]{36})$/.exec(window.location.hash);
  if (!match) return;
  const label = segmentLabel(match[1]);
  if (!label) return;
  const mark = document.querySelector(`mark[data-segments~="${match[1]}"]`);
  (mark || label).scrollIntoView({ block: "center" });
  label.classList.add("ws-flash");
  markSegment(match[1], "ws-flash", true);
  setTimeout(() => {
    label.classList.remove("ws-flash");
    markSegment(match[1], "ws-flash", false);
  }, 2600);
}

// The code tree: search, and a click codes the selection ------------------------------------

function filterTree() {
  const input = document.getElementById("ws-tree-search");
  if (!input) return;
  const query = fold(input.value.trim());
  const nodes = Array.from(document.querySelectorAll("#ws-tree li.ws-node")).reverse();
  for (const node of nodes) {
    const own = query === "" || fold(node.dataset.search).includes(query);
    const child = node.querySelector(":scope > ul > li.ws-node:not([hidden])");
    node.hidden = !own && !child;
  }
}

// The side panel as a bottom sheet (small screens) ---------------------------------------

function openSheet(open) {
  const side = document.getElementById("ws-side");
  const toggle = document.getElementById("ws-sheet-toggle");
  if (!side || !toggle) return;
  side.classList.toggle("is-open", open);
  toggle.setAttribute("aria-expanded", String(open));
}

// The page's skip link leads to the text's first passage (focused, its first word selected)
// rather than to the top of the page: one Tab and Enter from loading to coding.
function skipToText() {
  const link = document.querySelector("a.skip-link") || document.querySelector("body a[href='#main']");
  const first = chunks().find((chunk) => chunk.tabIndex === 0);
  if (!link || !first) return;
  link.href = `#${first.id}`;
  link.textContent = ws.dataset.msgSkip;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    first.scrollIntoView({ block: "start" });
    first.focus({ preventScroll: true });
  });
}

// Wiring ------------------------------------------------------------------------------------

function init() {
  document.addEventListener("pointerdown", (event) => {
    const container = root();
    pointerInText = Boolean(container && container.contains(event.target));
    if (pointerInText && event.pointerType === "mouse" && event.button === 0) reselectUnder(event);
  }, true);

  document.addEventListener("mouseup", (event) => {
    const started = pointerInText;
    pointerInText = false;
    if (!started) return;
    // The selection is final only after the mouseup has been handled.
    setTimeout(() => afterPointerSelection(event), 0);
  });

  document.addEventListener("focusin", (event) => {
    const chunk = event.target;
    if (!(chunk instanceof HTMLElement) || !chunk.matches(".ws-chunk[tabindex='0']")) return;
    if (pointerInText) return;
    // Keep a selection or caret already in this chunk (coming back from the picker).
    const selection = window.getSelection();
    if (selection.rangeCount && chunk.contains(selection.focusNode)) return;
    selectWord(wordAfter(startOf(chunk)));
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("#picker")) {
      onPickerKey(event);
      return;
    }
    if (target.closest("#segment-panel") && event.key === "Escape") {
      event.preventDefault();
      closePanel();
      return;
    }
    if (target.closest("#ws-side") && event.key === "Escape" && sheetQuery.matches) {
      event.preventDefault();
      openSheet(false);
      document.getElementById("ws-sheet-toggle").focus();
      return;
    }
    if (target.matches(".ws-chunk[tabindex='0']") && canCode()) onChunkKey(event);
  });

  document.addEventListener("click", (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    if (target.closest("[data-picker-close]")) {
      closePicker();
    } else if (target.closest("#ws-code-selection")) {
      codeSelection(target.closest("#ws-code-selection"));
      return; // the picker it opened stays open
    } else if (target.closest(".ws-chip[data-code]")) {
      applyNow(target.closest(".ws-chip").dataset.code);
    } else if (target.closest("button.ws-tree-code[data-code]")) {
      const button = target.closest("button");
      applyTo(pending || currentSelection() || last, [button.dataset.code], button);
      return;
    } else if (target.closest("[data-selection-clear]")) {
      window.getSelection().removeAllRanges();
      forget();
    } else if (target.closest("#ws-sheet-toggle")) {
      openSheet(!document.getElementById("ws-side").classList.contains("is-open"));
    } else if (target.closest("[data-panel-close]")) {
      closePanel();
    } else if (target.closest("[data-bounds-toggle]")) {
      startBounds(target.closest("[data-bounds-toggle]"));
    } else if (target.closest(".ws-label") && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      // The label is a plain link (the page works without this file); here it opens the panel.
      event.preventDefault();
      openPanelFrom(target.closest(".ws-label"));
    }
    // A click outside an open picker closes it, keeping the selection.
    const dialog = picker();
    if (dialog && !dialog.hidden && !target.closest("#picker") && !target.closest(".ws-chunk")) {
      closePicker({ restore: false });
    }
  });

  document.addEventListener("mouseover", (event) => {
    const label = event.target instanceof Element ? event.target.closest(".ws-label") : null;
    if (label) markSegment(label.dataset.segment, "is-hot", true);
  });
  document.addEventListener("mouseout", (event) => {
    const label = event.target instanceof Element ? event.target.closest(".ws-label") : null;
    if (label) markSegment(label.dataset.segment, "is-hot", false);
  });

  document.addEventListener("input", (event) => {
    if (event.target.id === "picker-search") filterPicker();
    if (event.target.id === "ws-tree-search") filterTree();
  });

  document.addEventListener("selectionchange", () => {
    if (pending || dragged) return;
    const selection = window.getSelection();
    const container = root();
    if (!container) return;
    const inText =
      selection.rangeCount && !selection.isCollapsed && selection.getRangeAt(0).intersectsNode(container);
    if (!inText) {
      // The selection went (a tap on a code in the bottom sheet clears it on a phone): the
      // remembered one is what a click on a code codes, so it stays marked.
      if (last) showPending(rangeOf(last.start, last.end));
      return;
    }
    const found = selectionToCodePoints(container);
    if (found) {
      showPending(null);
      remember({ ...found, range: selection.getRangeAt(0).cloneRange() });
    }
  });

  // A selection dragged onto a code in the code list codes it.
  document.addEventListener("dragstart", (event) => {
    const container = root();
    if (!canCode() || !container || !(event.target instanceof Node) || !container.contains(event.target)) return;
    const found = last || currentSelection(false);
    if (!found) return;
    pointerInText = false;
    dragged = found;
    container.classList.add("is-dragging");
    if (event.dataTransfer) event.dataTransfer.effectAllowed = "copy";
    closePicker({ restore: false, refocus: false });
    if (sheetQuery.matches) openSheet(true);
  });
  const dropRow = (event) => {
    const row = event.target instanceof Element ? event.target.closest("#ws-tree .tree-row") : null;
    return row && row.querySelector("button.ws-tree-code[data-code]") ? row : null;
  };
  document.addEventListener("dragover", (event) => {
    const row = dragged && dropRow(event);
    document.querySelectorAll("#ws-tree .tree-row.is-drop").forEach((r) => r !== row && r.classList.remove("is-drop"));
    if (!row) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
    row.classList.add("is-drop");
  });
  document.addEventListener("drop", (event) => {
    const row = dragged && dropRow(event);
    if (!row) return;
    event.preventDefault();
    row.classList.remove("is-drop");
    const button = row.querySelector("button.ws-tree-code[data-code]");
    const found = dragged;
    dragged = null;
    applyTo(found, [button.dataset.code], button);
  });
  document.addEventListener("dragend", () => {
    dragged = null;
    pointerInText = false;
    const container = root();
    if (container) container.classList.remove("is-dragging");
    document.querySelectorAll("#ws-tree .tree-row.is-drop").forEach((r) => r.classList.remove("is-drop"));
  });

  // htmx: requests, refusals, answers.
  document.addEventListener("htmx:configRequest", (event) => {
    const form = event.detail.elt;
    if (form.id === "picker-form") {
      const uuids = ticked().map((box) => box.value);
      if (!uuids.length) {
        event.preventDefault();
        say(ws.dataset.msgChoose);
        return;
      }
      rememberRecent(uuids);
    } else if (form.matches && form.matches("#picker-new form")) {
      ticksBeforeNewCode = ticked().map((box) => box.value);
    }
  });

  // htmx leaves 4xx answers unswapped; the workspace's refusals carry the message to show.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const code = event.detail.xhr.status;
    if (code >= 400 && code < 500 && event.detail.elt.closest("[data-workspace]")) {
      event.detail.shouldSwap = code !== 403 && code !== 404;
      event.detail.isError = false;
      if (code === 403 || code === 404) say(ws.dataset.msgRefused);
    }
  });

  document.body.addEventListener("codeApplied", () => {
    // Paint what the answer stored before placing the caret in the repainted chunk.
    takeUpdates();
    const keyboard = returnFocus && returnFocus.matches && returnFocus.matches(".ws-chunk");
    const fromList = returnFocus && returnFocus.matches && returnFocus.matches("button.ws-tree-code");
    const applied = pending;
    closePicker({ restore: false });
    pending = null;
    const selection = window.getSelection();
    selection.removeAllRanges();
    forget();
    if (fromList) {
      returnFocus.classList.remove("is-applied");
      void returnFocus.offsetWidth; // restarts the flash on a second click
      returnFocus.classList.add("is-applied");
      if (sheetQuery.matches) {
        // The sheet closes so that the new highlight is in view; focus goes to its handle.
        openSheet(false);
        document.getElementById("ws-sheet-toggle").focus({ preventScroll: true });
      }
    }
    if (!applied) return;
    // The caret goes after the coded text, so the next arrow press selects the next word.
    const chunk = chunkAt(Math.max(0, applied.end - 1));
    if (!chunk) return;
    const after = document.createRange();
    after.setStart(...codePointToPoint(chunk, applied.end));
    selection.addRange(after);
    if (keyboard && chunk.tabIndex === 0) chunk.focus({ preventScroll: true });
  });

  document.body.addEventListener("codeCreated", (event) => {
    for (const uuid of ticksBeforeNewCode) {
      const box = boxFor(uuid);
      if (box) box.checked = true;
    }
    const box = boxFor(event.detail.uuid);
    if (box) box.checked = true;
    filterPicker();
    const details = document.getElementById("picker-new");
    details.open = false;
    details.querySelector("#picker-new-name").value = "";
    document.getElementById("picker-apply").focus();
  });

  let shownPanel = panel();
  document.addEventListener("htmx:afterSettle", () => {
    const box = panel();
    if (box && box !== shownPanel) {
      shownPanel = box;
      panelShown(box);
    }
    filterTree();
    takeUpdates();
    const region = status();
    if (region && region.textContent.trim()) say(region.textContent.trim());
  });
  document.addEventListener("htmx:oobAfterSwap", takeUpdates);
  // A click on a code that was refused (or failed) shows the picker with the message.
  document.addEventListener("htmx:afterRequest", (event) => {
    if (event.detail.elt.id !== "picker-form" || event.detail.successful) return;
    const dialog = picker();
    if (pending && dialog.hidden) showPicker(pending);
  });
  document.addEventListener("htmx:afterSwap", takeUpdates);

  // A window made narrower or wider moves the text under an open picker: it is placed again.
  // Only for a new width: a phone's on-screen keyboard changes the height alone, and the
  // picker must not move while one types in its search.
  let resizeTimer = 0;
  let lastWidth = window.innerWidth;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      scheduleAlign();
      const dialog = picker();
      if (window.innerWidth !== lastWidth && dialog && !dialog.hidden && pending) {
        placePicker(dialog, pending);
      }
      lastWidth = window.innerWidth;
    }, 150);
  });

  performance.mark("ws-start");
  skipToText();
  watchRows();
  const data = document.getElementById("ws-data");
  if (data) {
    loadData(data);
    paintAll();
  }
  performance.measure("ws-paint", "ws-start");
  const box = panel();
  if (box && !box.hidden) panelShown(box);
  performance.mark("ws-aligning");
  alignPending();
  performance.measure("ws-align", "ws-aligning");
  flashFromHash();
  // Labels are placed with the fonts the page ended up with.
  if (document.fonts && document.fonts.status !== "loaded") document.fonts.ready.then(scheduleAlign);
  // When the highlights are on screen (the frame after this one has been drawn), for the
  // browser test that times the page.
  requestAnimationFrame(() =>
    setTimeout(() => {
      root().dataset.painted = String(Math.round(performance.now()));
    }, 0),
  );
}

if (ws) init();
