// The navigation on a narrow window: one メニュー button opens the links and the log-out button below
// the header, and closes them again (the button, Esc, or a click elsewhere). Wide windows never see
// the button (CSS), so there the menu is simply always open.

export function initMenu() {
  const button = document.getElementById("nav-toggle");
  const header = button?.closest(".site-header");
  if (!button || !header) return;

  function setOpen(open) {
    header.classList.toggle("menu-open", open);
    button.setAttribute("aria-expanded", String(open));
  }

  button.addEventListener("click", () => setOpen(button.getAttribute("aria-expanded") !== "true"));
  header.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && header.classList.contains("menu-open")) {
      event.preventDefault();
      event.stopPropagation();
      setOpen(false);
      button.focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (header.classList.contains("menu-open") && !header.contains(event.target)) setOpen(false);
  });
}
