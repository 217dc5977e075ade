// Small behaviours every page may use, declared in the HTML with data- attributes instead of
// inline handlers (the Content-Security-Policy allows no inline script):
//
//   <form data-confirm="Delete this?">       asks first; Cancel keeps the form from submitting
//   <select data-autosubmit>                  submits its form when the choice changes
//   <input data-select-on-focus>              selects its whole text on focus (a link to copy)
//   <form data-reset-on-success>              clears itself after a successful htmx request
//   <div data-swap-bad-request>               htmx shows a 400 answer inside it (a refusal
//                                             carrying its message) instead of dropping it
//   <button data-menu-toggle aria-controls=id aria-expanded="false">
//                                             opens and closes the element `id` (the header's
//                                             menu on a narrow screen); Escape closes it and
//                                             gives the focus back to the button, and a click
//                                             outside it closes it
//
// And one without an attribute: a box that scrolls sideways (a wide table in .table-scroll, a
// figure, a pre) takes the keyboard focus while it overflows, as a named region, so that it can
// be scrolled with the arrow keys (WCAG 2.1.1; axe: scrollable-region-focusable).
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  document.addEventListener("change", function (event) {
    const field = event.target;
    if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) {
      field.form.requestSubmit();
    }
  });

  document.addEventListener("focusin", function (event) {
    const field = event.target;
    if (field instanceof HTMLInputElement && field.hasAttribute("data-select-on-focus")) {
      field.select();
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const form = event.target;
    if (form instanceof HTMLFormElement && form.hasAttribute("data-reset-on-success") &&
        event.detail.successful) {
      form.reset();
    }
  });

  function setMenu(button, open) {
    const menu = document.getElementById(button.getAttribute("aria-controls") || "");
    if (!menu) return;
    button.setAttribute("aria-expanded", open ? "true" : "false");
    menu.classList.toggle("is-open", open);
  }

  document.addEventListener("click", function (event) {
    const target = event.target instanceof Element ? event.target : null;
    const button = target && target.closest("[data-menu-toggle]");
    if (button) {
      setMenu(button, button.getAttribute("aria-expanded") !== "true");
      return;
    }
    // A tap outside an open menu closes it, as a tap on the page behind a sheet does.
    document.querySelectorAll("[data-menu-toggle][aria-expanded='true']").forEach(function (open) {
      const menu = document.getElementById(open.getAttribute("aria-controls") || "");
      if (menu && target && !menu.contains(target)) setMenu(open, false);
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("[data-menu-toggle][aria-expanded='true']").forEach(function (button) {
      const menu = document.getElementById(button.getAttribute("aria-controls") || "");
      const inside = menu && menu.contains(document.activeElement);
      setMenu(button, false);
      if (inside) button.focus();
    });
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.target;
    if (event.detail.xhr.status === 400 && target instanceof Element &&
        target.closest("[data-swap-bad-request]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  const SCROLL_BOXES = ".table-wrap, .table-scroll, figure, pre, [data-scroll-region]";

  // Named after its table (a box without a caption stays unnamed, so that it does not repeat the
  // name of the section around it).
  function regionName(box) {
    const caption = box.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    const table = box.querySelector("table[aria-label]");
    if (table) return table.getAttribute("aria-label");
    return "";
  }

  function markScrollBoxes() {
    for (const box of document.querySelectorAll(SCROLL_BOXES)) {
      const overflows = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
      const scrolls = /(auto|scroll)/.test(getComputedStyle(box).overflowX + getComputedStyle(box).overflowY);
      if (overflows && scrolls) {
        if (!box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0");
          box.dataset.scrollFocus = "";
        }
        if (!box.hasAttribute("role") && !box.matches("figure, pre")) {
          const name = regionName(box);
          if (name) {
            box.setAttribute("role", "region");
            box.setAttribute("aria-label", name);
            box.dataset.scrollRole = "";
          }
        }
      } else if ("scrollFocus" in box.dataset) {
        box.removeAttribute("tabindex");
        delete box.dataset.scrollFocus;
        if ("scrollRole" in box.dataset) {
          box.removeAttribute("role");
          box.removeAttribute("aria-label");
          delete box.dataset.scrollRole;
        }
      }
    }
  }

  let pending = 0;
  function soon() {
    window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(markScrollBoxes);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", markScrollBoxes);
  } else {
    markScrollBoxes();
  }
  window.addEventListener("resize", soon);
  document.addEventListener("htmx:afterSettle", soon);
  document.addEventListener("toggle", soon, true);
})();
