// 記録のひな形: administrators upload a Word template per kind of record and department, choose which
// one is used, download or remove it (API: /api/v1/admin/templates; every change is audited there).
import { $, announce, api, errorText, formatDate, h, initLayout, parseServerTime, showMessage } from "./common.js";

initLayout();

const API = "/api/v1/admin/templates";
const form = $("tpl-form");
const rows = $("tpl-rows");
const errorBox = $("tpl-error");
const message = $("tpl-message");

function say(text) {
  showMessage(message, text, "success");
  announce(text);
}

async function act(promise, done) {
  showMessage(errorBox, "");
  showMessage(message, "", "success");
  try {
    await promise;
    say(done);
    await load();
  } catch (error) {
    showMessage(errorBox, errorText(error));
  }
}

function row(t) {
  const label = `${t.kind_label}(${t.department})のひな形 ${t.name}`;
  const choose = t.active
    ? h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          "aria-label": `${label}を使わない`,
          onclick: () =>
            act(
              api(`${API}/${t.id}/unuse`, { method: "POST" }),
              `${t.name} を使わないようにしました。標準の様式で書き出します。`,
            ),
        },
        "使わない",
      )
    : h(
        "button",
        {
          type: "button",
          class: "btn btn-small btn-primary",
          "aria-label": `${label}を使う`,
          onclick: () => act(api(`${API}/${t.id}/use`, { method: "POST" }), `${t.name} を使うようにしました。`),
        },
        "使う",
      );
  const remove = h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      "aria-label": `${label}を削除`,
      onclick: () => {
        if (!confirm(`ひな形「${t.name}」を削除します。よろしいですか。`)) return;
        act(api(`${API}/${t.id}`, { method: "DELETE" }), `${t.name} を削除しました。`);
      },
    },
    "削除",
  );
  return h(
    "tr",
    { "data-id": t.id },
    h("td", {}, t.kind_label),
    h("td", {}, t.department),
    h("td", {}, h("a", { href: `${API}/${t.id}/file`, download: t.name }, t.name)),
    h("td", { class: "tpl-state" }, t.active ? "使用中" : "使っていない"),
    h("td", {}, formatDate(parseServerTime(t.created_at))),
    h("td", {}, choose, " ", remove),
  );
}

async function load() {
  try {
    const found = await api(API);
    rows.replaceChildren(
      ...(found.length
        ? found.map(row)
        : [h("tr", {}, h("td", { colspan: 6, class: "hint" }, "まだありません。すべて標準の様式で書き出します。"))]),
    );
  } catch (error) {
    showMessage(errorBox, errorText(error));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("tpl-file").files[0];
  if (!file) {
    showMessage(errorBox, "Word ファイル(.docx)を選んでください。");
    $("tpl-file").focus();
    return;
  }
  const data = new FormData();
  data.append("kind", $("tpl-kind").value);
  data.append("department_id", $("tpl-department").value);
  data.append("file", file, file.name);
  const submit = $("tpl-submit");
  submit.disabled = true;
  await act(api(API, { method: "POST", body: data }), `${file.name} を登録しました。これから書き出す記録に使います。`);
  submit.disabled = false;
  form.reset();
});

load();
