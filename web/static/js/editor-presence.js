// Presence: who else has this recording open in an editor ("山田 花子さんがこの記録を開いています"),
// from a heartbeat every 15 seconds while the page is visible; closing the page says goodbye. The same
// clerk in another tab is named as such, so that a later conflict is no surprise.
import { api, csrfToken, h } from "./common.js";

/** The presence line of one editor page; ``ed`` is the page's shared context. */
export function createPresence(ed) {
  const tab = (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replace(/[^A-Za-z0-9_-]/g, "");
  const line = h("span", { id: "presence", class: "presence", role: "status", hidden: true });
  ed.els.saveState.after(line);
  let timer = 0;
  let seconds = 15;

  function show(others) {
    const people = [...new Set(others.filter((o) => !o.same_user && o.name).map((o) => `${o.name}さん`))];
    const mine = others.some((o) => o.same_user);
    const parts = [];
    if (people.length) parts.push(`${people.join("、")}がこの記録を開いています`);
    if (mine) parts.push("別のタブでもこの記録を開いています");
    const text = parts.join("。");
    line.hidden = !text;
    if (line.textContent !== text) line.textContent = text;
  }

  async function beat() {
    clearTimeout(timer);
    if (document.visibilityState === "hidden") return;
    try {
      const answer = await api(`${ed.base}/presence`, { method: "POST", json: { tab }, redirectOn401: false });
      seconds = answer.heartbeat_seconds || seconds;
      show(answer.others || []);
    } catch {
      // Presence is a courtesy: a missed beat is tried again at the next one.
    }
    timer = setTimeout(beat, seconds * 1000);
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") beat();
  });
  window.addEventListener("pagehide", () => {
    fetch(`${ed.base}/presence/${tab}`, {
      method: "DELETE",
      keepalive: true,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfToken() },
    }).catch(() => {});
  });

  return { start: beat };
}
