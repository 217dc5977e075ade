// Analysis tables: fold a theme's rows of the code × intervention matrix.
(function () {
  "use strict";

  function rowsUnder(table, key) {
    const found = [];
    const queue = [key];
    while (queue.length) {
      const parent = queue.shift();
      table.querySelectorAll('tr[data-parent="' + CSS.escape(parent) + '"]').forEach(function (row) {
        found.push(row);
        queue.push(row.dataset.key);
      });
    }
    return found;
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button.fold");
    if (!button) return;
    const row = button.closest("tr");
    const table = row.closest("table");
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    button.textContent = open ? "▸" : "▾";
    rowsUnder(table, row.dataset.key).forEach(function (child) {
      child.hidden = open;
      const inner = child.querySelector("button.fold");
      if (inner) {
        inner.setAttribute("aria-expanded", open ? "false" : "true");
        inner.textContent = open ? "▸" : "▾";
      }
    });
  });
})();
