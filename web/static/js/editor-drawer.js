// The side panel (記録の情報, 話者, 書き出し, …) on a narrow window: a drawer opened by the
// 「記録の情報」 button and closed by its 閉じる button, Esc or a click outside it. On a wide window the
// panel is always shown beside the text and the button is hidden (CSS); the functions then do nothing
// anyone can see.
import { $ } from "./common.js";

/** The drawer of one editor page. */
export function createDrawer() {
  const button = $("side-toggle");
  const close = $("side-close");
  const side = $("ed-side");

  function isOpen() {
    return document.body.classList.contains("side-open");
  }

  function setOpen(open, focusBack = true) {
    document.body.classList.toggle("side-open", open);
    button.setAttribute("aria-expanded", String(open));
    if (open) (side.querySelector("summary") || close).focus();
    else if (focusBack) button.focus();
  }

  button.addEventListener("click", () => setOpen(!isOpen()));
  close.addEventListener("click", () => setOpen(false));
  document.addEventListener("pointerdown", (event) => {
    if (isOpen() && !side.contains(event.target) && !button.contains(event.target)) setOpen(false, false);
  });

  return { isOpen, close: () => setOpen(false) };
}
