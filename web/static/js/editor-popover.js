// The editor's one popover (the speaker menu, a dictionary correction's choices): placed under (or
// above) the button that opened it, ↑/↓ between its items, closed by Tab, Esc or a click elsewhere,
// and the focus given back to that button.

/** The popover element ``el`` of the editor page. */
export function createPopover(el) {
  let returnTo = null;

  function open(anchor, children, label) {
    el.replaceChildren(...children);
    el.setAttribute("aria-label", label);
    el.hidden = false;
    const r = anchor.getBoundingClientRect();
    const height = el.offsetHeight;
    const top = r.bottom + 4 + height > innerHeight ? Math.max(8, r.top - height - 4) : r.bottom + 4;
    el.style.top = `${top}px`;
    el.style.left = `${Math.min(r.left, innerWidth - el.offsetWidth - 8)}px`;
    returnTo = anchor;
  }

  function close(restoreFocus = true) {
    if (el.hidden) return;
    el.hidden = true;
    el.replaceChildren();
    if (restoreFocus && returnTo?.isConnected) returnTo.focus();
    returnTo = null;
  }

  el.addEventListener("keydown", (event) => {
    const items = [...el.querySelectorAll(".menu-item:not([disabled])")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      items[(at + step + items.length) % items.length]?.focus();
    } else if (event.key === "Tab") {
      close(false);
    }
  });

  document.addEventListener("mousedown", (event) => {
    if (!el.hidden && !el.contains(event.target)) close(false);
  });

  return { open, close, isOpen: () => !el.hidden };
}
