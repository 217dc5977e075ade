// The codebook editor: keyboard walking of the code tree, moving codes by drag and drop, and
// showing the server's refusals (400, 409) in place. No framework; htmx does the requests.
// Without this file every action still works through plain forms and the ⋯ menus.
(function () {
  "use strict";

  const collapsed = new Set(); // uuids the user folded; kept when the tree is re-rendered
  let dragged = null;
  let byShortcut = false; // the last move came from Alt+arrow on a tree item, not the menu

  const tree = () => document.querySelector("#code-tree [role=tree]");
  const itemOf = (el) => (el ? el.closest("[role=treeitem]") : null);
  const rowOf = (item) => item.querySelector(":scope > .tree-row");
  const visibleItems = () =>
    Array.from(document.querySelectorAll("#code-tree [role=treeitem]")).filter(
      (item) => !item.parentElement.closest("[role=treeitem][aria-expanded=false]"),
    );

  // htmx leaves 4xx answers unswapped; the codebook's refusals carry the message to show.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const status = event.detail.xhr.status;
    if ((status === 400 || status === 409) && event.detail.elt.closest("[data-codebook], .codebook-files")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // Roving tabindex: one tree item, and its ⋯ menu, are in the tab order.
  function activate(item, focus) {
    const root = tree();
    if (!root || !item) return;
    root.querySelectorAll("[role=treeitem]").forEach((other) => {
      const on = other === item;
      other.tabIndex = on ? 0 : -1;
      const summary = rowOf(other).querySelector(".code-menu > summary");
      if (summary) summary.tabIndex = on ? 0 : -1;
    });
    if (focus) item.focus();
  }

  function setExpanded(item, open) {
    if (!item.hasAttribute("aria-expanded")) return;
    item.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) collapsed.delete(item.dataset.uuid);
    else collapsed.add(item.dataset.uuid);
  }

  function initTree() {
    const root = tree();
    if (!root) return;
    root.querySelectorAll("[role=treeitem]").forEach((item) => {
      rowOf(item).querySelector(".code-name").tabIndex = -1;
      if (collapsed.has(item.dataset.uuid)) setExpanded(item, false);
    });
    const holder = document.getElementById("code-tree");
    const focusId = holder.dataset.focus;
    delete holder.dataset.focus; // once: later swaps elsewhere must not steal the focus
    const target = focusId ? document.getElementById(focusId) : null;
    const current =
      target || root.querySelector("[role=treeitem][aria-selected=true]") || root.querySelector("[role=treeitem]");
    activate(current, false);
    if (target && byShortcut) {
      // Alt+arrow again moves it on: keep the focus on the item, the menu shut.
      const menu = rowOf(target).querySelector(".code-menu");
      if (menu) menu.open = false;
      target.focus();
    } else if (target) {
      const button = rowOf(target).querySelector(
        `.code-menu[open] button[value="${holder.dataset.focusDirection}"]`,
      );
      (button || target).focus();
    }
    byShortcut = false;
  }

  function markSelected() {
    const editor = document.getElementById("code-editor");
    const root = tree();
    if (!editor || !root) return;
    root.querySelectorAll("[role=treeitem]").forEach((item) => {
      item.setAttribute("aria-selected", item.dataset.uuid === editor.dataset.code ? "true" : "false");
    });
  }

  function submitStep(item, direction) {
    // A click, not requestSubmit(): htmx learns the pressed button (the direction) from it.
    const button = rowOf(item).querySelector(`form.menu button[value="${direction}"]`);
    if (!button) return;
    byShortcut = true;
    button.click();
  }

  document.addEventListener("keydown", (event) => {
    const item = event.target;
    if (!(item instanceof HTMLElement) || item.getAttribute("role") !== "treeitem") return;
    const items = visibleItems();
    const index = items.indexOf(item);
    const editable = item.hasAttribute("draggable");
    let next = null;
    if (event.altKey && editable) {
      const direction = { ArrowUp: "up", ArrowDown: "down", ArrowRight: "indent", ArrowLeft: "outdent" }[event.key];
      if (direction) {
        event.preventDefault();
        submitStep(item, direction);
      }
      return;
    }
    switch (event.key) {
      case "ArrowDown":
        next = items[index + 1];
        break;
      case "ArrowUp":
        next = items[index - 1];
        break;
      case "Home":
        next = items[0];
        break;
      case "End":
        next = items[items.length - 1];
        break;
      case "ArrowRight":
        if (item.getAttribute("aria-expanded") === "false") setExpanded(item, true);
        else if (item.getAttribute("aria-expanded") === "true") next = item.querySelector("[role=treeitem]");
        break;
      case "ArrowLeft":
        if (item.getAttribute("aria-expanded") === "true") setExpanded(item, false);
        else next = itemOf(item.parentElement);
        break;
      case "Enter":
      case " ":
        rowOf(item).querySelector(".code-name").click();
        break;
      case "ContextMenu":
      case "F10": {
        if (event.key === "F10" && !event.shiftKey) return;
        const menu = rowOf(item).querySelector(".code-menu");
        if (!menu) return;
        menu.open = true;
        menu.querySelector("button").focus();
        break;
      }
      default:
        return;
    }
    event.preventDefault();
    if (next) activate(next, true);
  });

  document.addEventListener("focusin", (event) => {
    const item = event.target instanceof HTMLElement && event.target.getAttribute("role") === "treeitem" ? event.target : null;
    if (item && item.tabIndex !== 0) activate(item, false);
  });

  document.addEventListener("click", (event) => {
    const twisty = event.target instanceof Element ? event.target.closest(".twisty") : null;
    if (!twisty) return;
    const item = itemOf(twisty);
    setExpanded(item, item.getAttribute("aria-expanded") === "false");
  });

  // Drag and drop: the middle of a code makes the dragged code its subcode; its top or bottom
  // quarter places it before or after. The server checks the move as for every other one.
  function zone(row, event) {
    const box = row.getBoundingClientRect();
    const y = event.clientY - box.top;
    if (y < box.height * 0.25) return "before";
    if (y > box.height * 0.75) return "after";
    return "inside";
  }

  function clearMarks() {
    document.querySelectorAll(".drop-before, .drop-after, .drop-inside").forEach((row) => {
      row.classList.remove("drop-before", "drop-after", "drop-inside");
    });
  }

  function dropTarget(event) {
    const row = event.target instanceof Element ? event.target.closest("#code-tree .tree-row") : null;
    const item = itemOf(row);
    if (!row || !dragged || item === dragged || dragged.contains(item)) return null;
    return { row, item };
  }

  document.addEventListener("dragstart", (event) => {
    const item = event.target instanceof Element ? event.target.closest("[role=treeitem][draggable=true]") : null;
    if (!item) return;
    dragged = item;
    item.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.uuid);
  });

  document.addEventListener("dragover", (event) => {
    const found = dropTarget(event);
    if (!found) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    found.row.classList.add(`drop-${zone(found.row, event)}`);
  });

  document.addEventListener("dragleave", (event) => {
    if (event.target instanceof Element && event.target.classList.contains("tree-row")) {
      event.target.classList.remove("drop-before", "drop-after", "drop-inside");
    }
  });

  document.addEventListener("drop", (event) => {
    const found = dropTarget(event);
    if (!found) return;
    event.preventDefault();
    const where = zone(found.row, event);
    const values = { revision: dragged.dataset.revision, parent: "", position: "" };
    if (where === "inside") {
      values.parent = found.item.dataset.uuid;
    } else {
      const parent = itemOf(found.item.parentElement);
      const siblings = Array.from(found.item.parentElement.children).filter(
        (el) => el.matches("[role=treeitem]") && el !== dragged,
      );
      values.parent = parent ? parent.dataset.uuid : "";
      values.position = siblings.indexOf(found.item) + (where === "after" ? 2 : 1);
    }
    const url = tree().dataset.moveUrl.replace("00000000-0000-0000-0000-000000000000", dragged.dataset.uuid);
    finishDrag();
    htmx.ajax("POST", url, { source: "#code-tree", target: "#code-tree", swap: "outerHTML", values });
  });

  function finishDrag() {
    clearMarks();
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
  }
  document.addEventListener("dragend", finishDrag);

  // htmx:load fires for the page and for every element htmx puts in, out-of-band ones too.
  document.addEventListener("htmx:load", (event) => {
    const el = event.target;
    if (!(el instanceof Element)) return;
    if (el.id === "code-tree" || el.querySelector("#code-tree")) initTree();
    if (el.id === "code-editor" || el.querySelector("#code-editor")) markSelected();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", initTree);
  else initTree();
})();
