// Sortable tables: every column heading of a <table data-sortable> becomes a button that sorts
// the rows by that column, ascending first, then descending. A cell's data-sort holds its value
// (a number, or text); an empty data-sort ("not computable") always sorts last. The heading
// carries aria-sort, so screen readers announce the order. Without this file the table is
// simply unsorted.
(function () {
  "use strict";

  function value(cell) {
    if (!cell) return { empty: true };
    const raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    if (raw === "") return { empty: true };
    const number = Number(raw);
    if (raw.trim() !== "" && !Number.isNaN(number)) return { number };
    return { text: raw };
  }

  // Empty values last whatever the direction; numbers before text; text by the page's language.
  function compare(a, b, direction) {
    if (a.empty || b.empty) return (a.empty ? 1 : 0) - (b.empty ? 1 : 0);
    const sign = direction === "descending" ? -1 : 1;
    if ("number" in a && "number" in b) return sign * (a.number - b.number);
    if ("number" in a) return -1;
    if ("number" in b) return 1;
    return sign * a.text.localeCompare(b.text, document.documentElement.lang || undefined, { numeric: true });
  }

  function sortBy(table, index) {
    const header = table.tHead.rows[0].cells[index];
    const direction = header.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    Array.from(table.tHead.rows[0].cells).forEach((cell) => cell.removeAttribute("aria-sort"));
    header.setAttribute("aria-sort", direction);
    Array.from(table.tBodies).forEach((body) => {
      const rows = Array.from(body.rows).map((row, position) => ({ row, position, key: value(row.cells[index]) }));
      rows.sort((a, b) => compare(a.key, b.key, direction) || a.position - b.position);
      rows.forEach(({ row }) => body.appendChild(row));
    });
  }

  function init(root) {
    (root || document).querySelectorAll("table[data-sortable]").forEach((table) => {
      if (table.dataset.sortableReady || !table.tHead) return;
      table.dataset.sortableReady = "true";
      Array.from(table.tHead.rows[0].cells).forEach((header, index) => {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        while (header.firstChild) button.appendChild(header.firstChild);
        header.appendChild(button);
        button.addEventListener("click", () => sortBy(table, index));
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", () => init(document));
  } else {
    init(document);
  }
  document.addEventListener("htmx:afterSettle", (event) => init(event.target));
  window.VeerkrachtSortable = { init, sortBy, compare, value };
})();
