// The highlights of one chunk of the workspace's text: where its runs begin and end, which
// segments cover each run and the underline lane of every segment. Pure: plain data in and out,
// no DOM; every offset is a Unicode code point into the whole text, as the server stores them
// (workspace.js converts to UTF-16 for the DOM through offsets.js).
//
// A mark is {key, start, end} (key: the segment's UUID). A chunk is cut at every mark boundary
// inside it and at the end of its section's heading; each run lists the marks covering it,
// innermost (shortest) first, so its background takes the innermost segment's colour.
// Overlapping marks are drawn as stacked underlines, one lane each; a mark keeps its lane
// throughout a chunk, so its underline does not jump up and down between runs.

// Underlines drawn under one run; a run under more marks still lists them all.
export const MAX_LANES = 4;
export const DEFAULT_COLOR = "#767676";
const HEX = /^#[0-9a-fA-F]{6}$/;

function byKey(a, b) {
  if (a.key < b.key) return -1;
  return a.key > b.key ? 1 : 0;
}

/** A colour fit for a style: a plain "#rrggbb" in lower case, else the default grey. */
export function safeColor(color) {
  return typeof color === "string" && HEX.test(color) ? color.toLowerCase() : DEFAULT_COLOR;
}

/** A light background of `color`: that much of it over white, so dark text stays legible. */
export function tint(color, strength = 0.22) {
  const hex = safeColor(color);
  let out = "#";
  for (const at of [1, 3, 5]) {
    const channel = parseInt(hex.slice(at, at + 2), 16);
    out += Math.round(255 - (255 - channel) * strength)
      .toString(16)
      .padStart(2, "0");
  }
  return out;
}

function luminance(hex) {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const v = parseInt(hex.slice(at, at + 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/**
 * `color` as an underline that stands out from the page: itself when it has 3:1 contrast with
 * white (WCAG 1.4.11), else darkened in steps until it has. A light colour a code was given
 * still marks its segments visibly; the palette's colours pass unchanged.
 */
export function lineColor(color) {
  const hex = safeColor(color);
  let out = hex;
  for (let keep = 1; 1.05 / (luminance(out) + 0.05) < 3 && keep > 0; keep -= 0.05) {
    out = "#";
    for (const at of [1, 3, 5]) {
      out += Math.round(parseInt(hex.slice(at, at + 2), 16) * (keep - 0.05))
        .toString(16)
        .padStart(2, "0");
    }
  }
  return out;
}

/**
 * An underline lane per mark (a Map from key to lane) such that overlapping marks never share
 * one: the lowest lane free at its start, taking earlier and then longer marks first (so an
 * outer segment sits closest to the text and the ones nested in it below).
 */
export function assignLanes(marks) {
  const lanes = new Map();
  const laneEnds = [];
  const ordered = [...marks].sort((a, b) => a.start - b.start || b.end - a.end || byKey(a, b));
  for (const mark of ordered) {
    let lane = laneEnds.findIndex((end) => end <= mark.start);
    if (lane < 0) {
      lane = laneEnds.length;
      laneEnds.push(mark.end);
    } else {
      laneEnds[lane] = mark.end;
    }
    lanes.set(mark.key, lane);
  }
  return lanes;
}

function innermostFirst(a, b) {
  return a.end - a.start - (b.end - b.start) || b.start - a.start || byKey(a, b);
}

/**
 * The runs of the chunk [start, end) whose heading ends at `headingEnd` (start when it has
 * none), under `marks` (those overlapping the chunk): [{start, end, marks, heading}], in order,
 * together covering the chunk exactly.
 */
export function chunkRuns(start, end, headingEnd, marks) {
  const cuts = new Set([start, end]);
  if (headingEnd > start && headingEnd < end) cuts.add(headingEnd);
  for (const mark of marks) {
    if (mark.start > start && mark.start < end) cuts.add(mark.start);
    if (mark.end > start && mark.end < end) cuts.add(mark.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  // A sweep: the marks covering a run are those begun at or before its start and not yet
  // ended; each mark enters once and leaves once.
  const byStart = [...marks].sort((a, b) => a.start - b.start);
  let next = 0;
  let open = [];
  const runs = [];
  for (let i = 0; i + 1 < points.length; i += 1) {
    const a = points[i];
    const b = points[i + 1];
    while (next < byStart.length && byStart[next].start <= a) {
      open.push(byStart[next]);
      next += 1;
    }
    open = open.filter((mark) => mark.end > a);
    const covering = open.filter((mark) => mark.end >= b).sort(innermostFirst);
    runs.push({ start: a, end: b, marks: covering, heading: a < headingEnd });
  }
  return runs;
}
