// 利用状況 (placeholder): this month's hours against the city's target.
import { api, errorText, h, initLayout } from "./common.js";

initLayout();
const box = document.getElementById("usage-summary");

async function load() {
  try {
    const usage = await api("/api/v1/usage");
    const used = Number(usage.used_hours || 0);
    const target = Number(usage.target_hours || 0);
    const items = [
      ["対象月", usage.period?.month || ""],
      ["利用時間", `${used.toFixed(1)} 時間` + (usage.ratio != null ? `(目標の ${(usage.ratio * 100).toFixed(1)}%)` : "")],
      ["目標", target ? `${target.toFixed(0)} 時間` : "—"],
      ["録音の数", `${usage.recordings ?? 0} 件`],
    ];
    box.replaceChildren(h("dl", { class: "facts" }, items.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  } catch (error) {
    box.replaceChildren(h("p", { class: "alert alert-error" }, errorText(error)));
  }
}
load();
