// 管理: the administrator's console. One module for every section of /admin; the page says which
// (data-section). Secrets the API hands back once (a one-time password, a device key, an API token)
// are shown in one box and never stored by the page.
import {
  $,
  announce,
  api,
  errorText,
  formatBytes,
  formatDateTime,
  h,
  initLayout,
  showMessage,
} from "./common.js";

initLayout();

const ROLE_LABELS = { clerk: "職員", manager: "管理職", admin: "管理者" };
const ACTION_LABELS = {
  "admin.user_add": "利用者の追加",
  "admin.user_edit": "利用者の変更",
  "admin.user_password_reset": "パスワードの再発行",
  "admin.user_deactivate": "利用者の無効化",
  "admin.user_activate": "利用者の再有効化",
  "admin.department_add": "部署の追加",
  "admin.department_rename": "部署名の変更",
  "admin.department_retire": "部署の廃止",
  "admin.department_reinstate": "部署を戻す",
  "admin.cap": "月の上限の変更",
  "admin.device_add": "機器の登録",
  "admin.device_revoke": "機器キーの無効化",
  "admin.token_add": "トークンの発行",
  "admin.token_revoke": "トークンの無効化",
  "admin.audit_export": "監査ログの書き出し",
  "auth.login": "ログイン",
  "auth.login_failed": "ログインの失敗",
  "recording.upload": "録音のアップロード",
  "recording.view": "録音の閲覧",
  "recording.edit": "議事録の保存",
  "recording.export": "記録の書き出し",
  "recording.cancel": "処理の取り消し",
  "recording.delete": "録音の削除",
  "recording.relabel": "話者の付け直し",
  "recording.voice_name": "声による話者名の推定",
  "voice.enrol": "声の登録",
  "voice.delete": "声の削除",
  "publication.create": "公開用の作成",
  "publication.edit": "公開用の編集",
  "publication.export": "公開用の書き出し",
  "dictionary.create": "辞書の作成",
  "dictionary.delete": "辞書の削除",
  "dictionary.term_add": "用語の追加",
  "dictionary.term_edit": "用語の変更",
  "dictionary.term_delete": "用語の削除",
  "dictionary.import": "辞書の取り込み",
  "dictionary.export": "辞書の書き出し",
  "term_proposal.create": "辞書への提案",
  "term_proposal.accept": "提案の採用",
  "term_proposal.reject": "提案の却下",
  search: "検索",
  "usage.export": "利用実績の書き出し",
  "auth.logout": "ログアウト",
  "auth.password_change": "パスワード変更",
  "auth.password_refused": "パスワード変更の失敗",
};

const root = document.querySelector(".admin");
const section = root?.dataset.section || "";
const errorBox = $("admin-error");
const messageBox = $("admin-message");

function fail(error) {
  showMessage(messageBox, "");
  showMessage(errorBox, errorText(error));
  errorBox?.scrollIntoView({ block: "nearest" });
}

function done(message) {
  showMessage(errorBox, "");
  showMessage(messageBox, message, "success");
  announce(message);
}

/** Show a secret once: focus moves to it so a screen reader reads it out. */
function showOnce(title, value) {
  $("once-title").textContent = title;
  $("once-value").textContent = value;
  $("once").hidden = false;
  $("once").focus();
}

$("once-close")?.addEventListener("click", () => {
  $("once-value").textContent = "";
  $("once").hidden = true;
});

function cell(label, ...children) {
  return h("td", { "data-label": label }, ...children);
}

function emptyRow(body, columns, text) {
  body.replaceChildren(h("tr", {}, h("td", { colspan: columns, class: "hint" }, text)));
}

function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

async function departments() {
  return api("/api/v1/admin/departments");
}

function fillDepartments(select, list, chosen = "") {
  select.replaceChildren(
    ...list
      .filter((d) => !d.retired_at || d.name === chosen)
      .map((d) => h("option", { value: d.name, selected: d.name === chosen }, d.name)),
  );
}

// --- 利用者 ----------------------------------------------------------------------------------------

async function usersSection() {
  const body = $("users-rows");
  const form = $("user-form");
  let deps = [];

  async function load() {
    const [users, list] = await Promise.all([api("/api/v1/admin/users"), departments()]);
    deps = list;
    fillDepartments($("user-department"), deps, $("user-department").value);
    $("users-count").textContent = `${users.length} 人`;
    if (!users.length) return emptyRow(body, 6, "利用者はいません。");
    body.replaceChildren(...users.map(row));
  }

  function row(user) {
    const label = user.display_name || user.name;
    const role = h(
      "select",
      { "aria-label": `${label} の役割`, class: "role-select" },
      ...Object.entries(ROLE_LABELS).map(([value, text]) => h("option", { value, selected: value === user.role }, text)),
    );
    const dep = h(
      "select",
      { "aria-label": `${label} の部署`, class: "department-select" },
      ...deps
        .filter((d) => !d.retired_at || d.id === user.department_id)
        .map((d) => h("option", { value: d.id, selected: d.id === user.department_id }, d.name)),
    );
    const save = h("button", { class: "btn", type: "button" }, "変更を保存");
    save.addEventListener("click", () =>
      act(`${label} の役割と部署を保存しました。`, () =>
        api(`/api/v1/admin/users/${user.id}`, {
          method: "PATCH",
          json: { role: role.value, department_id: Number(dep.value) },
        }),
      ),
    );
    const reset = h("button", { class: "btn", type: "button" }, "パスワード再発行");
    reset.addEventListener("click", async () => {
      if (!confirm(`${label} のパスワードを再発行しますか?今のパスワードは使えなくなり、ログイン中の端末もログアウトします。`)) return;
      try {
        const answer = await api(`/api/v1/admin/users/${user.id}/password`, { method: "POST" });
        done(`${label} のパスワードを再発行しました。`);
        showOnce(`${user.name} の新しい仮パスワード`, answer.password);
      } catch (error) {
        fail(error);
      }
    });
    const toggle = h(
      "button",
      { class: user.active ? "btn btn-danger-quiet" : "btn", type: "button" },
      user.active ? "無効にする" : "有効に戻す",
    );
    toggle.addEventListener("click", () => {
      if (user.active && !confirm(`${label} を無効にしますか?すぐにログアウトし、ログインできなくなります。`)) return;
      const path = `/api/v1/admin/users/${user.id}/${user.active ? "deactivate" : "activate"}`;
      act(user.active ? `${label} を無効にしました。` : `${label} を有効に戻しました。`, () =>
        api(path, { method: "POST" }),
      );
    });
    return h(
      "tr",
      { "data-user": user.name, class: user.active ? "" : "row-inactive" },
      cell("ログイン名", h("span", { class: "mono" }, user.name)),
      cell("表示名", user.display_name || "—"),
      cell("役割", role),
      cell("部署", dep),
      cell("状態", h("span", { class: user.active ? "state state-ok" : "state state-off" }, user.active ? "有効" : "無効")),
      cell("操作", h("div", { class: "row-actions" }, save, reset, toggle)),
    );
  }

  async function act(message, call) {
    try {
      await call();
      await load();
      done(message);
    } catch (error) {
      fail(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    if (!values.name || !/^[A-Za-z0-9._@-]+$/.test(values.name)) {
      showMessage(messageBox, "");
      showMessage(errorBox, "ログイン名は半角の英字・数字と . _ @ - で入力してください。");
      $("user-name").focus();
      return;
    }
    try {
      const created = await api("/api/v1/admin/users", { method: "POST", json: values });
      form.reset();
      await load();
      done(`${created.name} を追加しました。`);
      showOnce(`${created.name} の仮パスワード`, created.password);
    } catch (error) {
      fail(error);
    }
  });

  await load();
}

// --- 部署 ------------------------------------------------------------------------------------------

async function departmentsSection() {
  const body = $("departments-rows");
  const form = $("department-form");

  async function load() {
    const list = await departments();
    if (!list.length) return emptyRow(body, 6, "部署はありません。");
    body.replaceChildren(...list.map(row));
  }

  function row(dep) {
    const retired = Boolean(dep.retired_at);
    const name = h("input", { type: "text", value: dep.name, maxlength: 200, "aria-label": `${dep.name} の部署名` });
    const rename = h("button", { class: "btn", type: "button" }, "名前を変更");
    rename.addEventListener("click", () =>
      act(`部署名を「${name.value}」に変更しました。`, () =>
        api(`/api/v1/admin/departments/${dep.id}`, { method: "PATCH", json: { name: name.value } }),
      ),
    );
    const cap = h("input", {
      type: "number",
      min: 0,
      step: 1,
      inputmode: "numeric",
      value: dep.monthly_cap_hours ?? "",
      "aria-label": `${dep.name} の月の上限時間`,
      class: "cap-input",
    });
    const saveCap = h("button", { class: "btn", type: "button" }, "上限を保存");
    saveCap.addEventListener("click", () => {
      const hours = cap.value === "" ? null : Number(cap.value);
      act(hours ? `${dep.name} の月の上限を ${hours} 時間にしました。` : `${dep.name} の月の上限をなくしました。`, () =>
        api(`/api/v1/usage/caps/${dep.id}`, { method: "PUT", json: { monthly_cap_hours: hours } }),
      );
    });
    const retire = h("button", { class: retired ? "btn" : "btn btn-danger-quiet", type: "button" }, retired ? "戻す" : "廃止する");
    retire.addEventListener("click", () => {
      if (!retired && !confirm(`${dep.name} を廃止しますか?記録と利用実績は残ります。`)) return;
      act(retired ? `${dep.name} を戻しました。` : `${dep.name} を廃止しました。`, () =>
        api(`/api/v1/admin/departments/${dep.id}/${retired ? "reinstate" : "retire"}`, { method: "POST" }),
      );
    });
    return h(
      "tr",
      { "data-department": dep.name, class: retired ? "row-inactive" : "" },
      cell("部署名", h("div", { class: "inline-edit" }, name, rename)),
      cell("月の上限 (時間)", h("div", { class: "inline-edit" }, cap, saveCap)),
      cell("利用者", `${dep.users} 人`),
      cell("機器", `${dep.devices} 台`),
      cell("状態", h("span", { class: retired ? "state state-off" : "state state-ok" }, retired ? "廃止" : "使用中")),
      cell("操作", retire),
    );
  }

  async function act(message, call) {
    try {
      await call();
      await load();
      done(message);
    } catch (error) {
      fail(error);
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("/api/v1/admin/departments", { method: "POST", json: formValues(form) });
      form.reset();
      await load();
      done(`部署「${created.name}」を追加しました。`);
    } catch (error) {
      fail(error);
    }
  });

  await load();
}

// --- 会議室機器 -------------------------------------------------------------------------------------

async function devicesSection() {
  const body = $("devices-rows");
  const form = $("device-form");

  async function load() {
    const [list, deps] = await Promise.all([api("/api/v1/admin/devices"), departments()]);
    fillDepartments($("device-department"), deps, $("device-department").value);
    if (!list.length) return emptyRow(body, 9, "登録された機器はありません。");
    body.replaceChildren(...list.map(row));
  }

  function row(device) {
    const revoke = device.active ? h("button", { class: "btn btn-danger-quiet", type: "button" }, "キーを無効にする") : "—";
    if (device.active) {
      revoke.addEventListener("click", async () => {
        if (!confirm(`${device.name} の機器キーを無効にしますか?この機器からの送信は受け付けなくなります。`)) return;
        try {
          await api(`/api/v1/admin/devices/${device.id}/revoke`, { method: "POST" });
          await load();
          done(`${device.name} の機器キーを無効にしました。`);
        } catch (error) {
          fail(error);
        }
      });
    }
    const dash = (value, format = (v) => v) => (value === null || value === undefined ? "—" : format(value));
    return h(
      "tr",
      { "data-device": device.name, class: device.active ? "" : "row-inactive" },
      cell("名前", device.name),
      cell("部署", device.department),
      cell("状態", h("span", { class: device.active ? "state state-ok" : "state state-off" }, device.active ? "有効" : "無効")),
      cell("最終接続", dash(device.last_seen_at, formatDateTime)),
      cell("エージェント", dash(device.agent_version)),
      cell("送信待ち", dash(device.queue_length, (n) => `${n} 件`)),
      cell("空き容量", dash(device.free_disk_bytes, formatBytes)),
      cell("アップロード", `${device.uploads} 件`),
      cell("操作", revoke),
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const created = await api("/api/v1/admin/devices", { method: "POST", json: formValues(form) });
      form.reset();
      await load();
      done(`${created.name} を登録しました。`);
      showOnce(`${created.name} の機器キー`, created.key);
    } catch (error) {
      fail(error);
    }
  });

  await load();
}

// --- API トークン -----------------------------------------------------------------------------------

async function tokensSection() {
  const body = $("tokens-rows");
  const form = $("token-form");
  const owner = $("token-owner");
  const [users, retention] = await Promise.all([api("/api/v1/admin/users"), api("/api/v1/admin/retention")]);
  const active = users.filter((u) => u.active);
  $("token-user").replaceChildren(...active.map((u) => h("option", { value: u.name }, `${u.display_name || u.name} (${u.name})`)));
  owner.append(...users.map((u) => h("option", { value: u.name }, `${u.display_name || u.name} (${u.name})`)));
  $("token-days").value = Math.round(retention.api_token_days);

  async function load() {
    const query = owner.value ? `?owner=${encodeURIComponent(owner.value)}` : "";
    const list = await api(`/api/v1/admin/tokens${query}`);
    if (!list.length) return emptyRow(body, 7, "API トークンはありません。");
    body.replaceChildren(...list.map(row));
  }

  function row(token) {
    const state = token.revoked ? "無効" : token.usable ? "有効" : "期限切れ";
    const revoke = token.usable ? h("button", { class: "btn btn-danger-quiet", type: "button" }, "無効にする") : "—";
    if (token.usable) {
      revoke.addEventListener("click", async () => {
        if (!confirm(`${token.owner} のトークン「${token.label || "用途なし"}」を無効にしますか?`)) return;
        try {
          await api(`/api/v1/admin/tokens/${token.id}/revoke`, { method: "POST" });
          await load();
          done("トークンを無効にしました。");
        } catch (error) {
          fail(error);
        }
      });
    }
    return h(
      "tr",
      { "data-token": token.id, class: token.usable ? "" : "row-inactive" },
      cell("持ち主", h("span", { class: "mono" }, token.owner)),
      cell("用途", token.label || "—"),
      cell("発行", formatDateTime(token.created_at)),
      cell("最終使用", token.last_used_at ? formatDateTime(token.last_used_at) : "—"),
      cell("有効期限", token.expires_at ? formatDateTime(token.expires_at) : "なし"),
      cell("状態", h("span", { class: token.usable ? "state state-ok" : "state state-off" }, state)),
      cell("操作", revoke),
    );
  }

  owner.addEventListener("change", () => load().catch(fail));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = formValues(form);
    const days = values.days ? Number(values.days) : null;
    try {
      const created = await api("/api/v1/admin/tokens", {
        method: "POST",
        json: { user: values.user, label: values.label, days },
      });
      await load();
      done(`${created.owner} のトークンを発行しました。`);
      showOnce(`${created.owner} の API トークン`, created.token);
    } catch (error) {
      fail(error);
    }
  });

  await load();
}

// --- 保存期間 ---------------------------------------------------------------------------------------

async function retentionSection() {
  const r = await api("/api/v1/admin/retention");
  const items = [
    ["録音の音声を保存する日数", `${r.retention_days} 日`, "KIROKU_RETENTION_DAYS"],
    ["中断したアップロードを残す日数", `${r.abandoned_upload_days} 日`, "KIROKU_ABANDONED_UPLOAD_DAYS"],
    ["ログインの有効時間", `${r.session_hours} 時間`, "KIROKU_SESSION_HOURS"],
    ["API トークンの既定の有効期間", `${r.api_token_days} 日`, "KIROKU_API_TOKEN_DAYS"],
    ["ログイン失敗で待たせるまでの回数", `${r.login_max_failures} 回`, "KIROKU_LOGIN_MAX_FAILURES"],
    ["ログイン失敗を数える期間", `${r.login_window_minutes} 分`, "KIROKU_LOGIN_WINDOW_MINUTES"],
  ];
  $("retention").replaceChildren(
    ...items.flatMap(([term, value, setting]) => [
      h("dt", {}, term),
      h("dd", {}, h("strong", {}, value), " ", h("span", { class: "hint mono" }, setting)),
    ]),
  );
}

// --- 声の登録 ---------------------------------------------------------------------------------------

async function voicesSection() {
  const holder = $("voices-departments");

  async function load() {
    const [voices, deps, users] = await Promise.all([
      api("/api/v1/voices"),
      departments(),
      api("/api/v1/admin/users"),
    ]);
    const people = new Map(users.map((u) => [u.id, u.display_name ? `${u.display_name} (${u.name})` : u.name]));
    const byDepartment = new Map();
    for (const profile of voices.items) {
      if (!byDepartment.has(profile.department_id)) byDepartment.set(profile.department_id, []);
      byDepartment.get(profile.department_id).push(profile);
    }
    if (!byDepartment.size) {
      holder.replaceChildren(h("p", { class: "hint" }, "登録された声はありません。"));
      return;
    }
    const named = deps.filter((d) => byDepartment.has(d.id));
    const known = new Set(named.map((d) => d.id));
    const unnamed = [...byDepartment.keys()].filter((id) => !known.has(id)).map((id) => ({ id, name: `部署 ${id}` }));
    holder.replaceChildren(...[...named, ...unnamed].map((dep) => table(dep, byDepartment.get(dep.id), people)));
  }

  function table(dep, profiles, people) {
    const titleId = `voices-dep-${dep.id}`;
    return h(
      "section",
      { class: "voices-department", "aria-labelledby": titleId, "data-department": dep.name },
      h("h2", { id: titleId }, dep.name, " ", h("span", { class: "count-pill" }, `${profiles.length} 人`)),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table admin-table voices-table" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["氏名", "役職", "登録した人", "登録日時", "同意の記録", "声の特徴量", "操作"].map((t) =>
                h("th", { scope: "col" }, t),
              ),
            ),
          ),
          h("tbody", {}, ...profiles.map((p) => row(p, people))),
        ),
      ),
    );
  }

  function row(profile, people) {
    const remove = h(
      "button",
      { class: "btn btn-danger-quiet", type: "button", "aria-label": `${profile.name} の声を削除` },
      "削除",
    );
    remove.addEventListener("click", async () => {
      const question =
        `${profile.name} の声を削除しますか?\n` +
        `声のデータ (特徴量 ${profile.embeddings} 件) はすぐに削除され、元に戻せません。` +
        "これからの録音では、この人の名前は声で推定されなくなります。";
      if (!confirm(question)) return;
      try {
        await api(`/api/v1/voices/${profile.id}`, { method: "DELETE" });
        await load();
        done(`${profile.name} の声を削除しました。`);
      } catch (error) {
        fail(error);
      }
    });
    const by = profile.enrolled_by_id === null ? "—" : people.get(profile.enrolled_by_id) || `利用者 ${profile.enrolled_by_id}`;
    return h(
      "tr",
      { "data-voice": profile.name },
      cell("氏名", profile.name),
      cell("役職", profile.title || "—"),
      cell("登録した人", by),
      cell("登録日時", formatDateTime(profile.created_at)),
      cell("同意の記録", h("span", { class: "consent" }, profile.consent)),
      cell("声の特徴量", `${profile.embeddings} 件`),
      cell("操作", remove),
    );
  }

  await load();
}

// --- 監査ログ ---------------------------------------------------------------------------------------

async function auditSection() {
  const body = $("audit-rows");
  const form = $("audit-form");
  const more = $("audit-more");
  const exportLink = $("audit-export");
  const PAGE = 100;
  let offset = 0;
  let filled = false;

  const users = await api("/api/v1/admin/users");
  $("audit-user").append(...users.map((u) => h("option", { value: u.name }, `${u.display_name || u.name} (${u.name})`)));

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(formValues(form))) if (value) params.set(key, value);
    return params;
  }

  function row(event) {
    return h(
      "tr",
      {},
      cell("日時", formatDateTime(event.at)),
      cell("操作", ACTION_LABELS[event.action] ? `${ACTION_LABELS[event.action]} (${event.action})` : event.action),
      cell("利用者", event.user || "—"),
      cell("機器", event.device || "—"),
      cell("録音", event.recording_id ?? "—"),
      cell("詳細", event.detail || "—"),
      cell("IP", event.ip || "—"),
    );
  }

  async function load(append = false) {
    const params = query();
    exportLink.href = `/api/v1/admin/audit/export?${params}`;
    params.set("limit", PAGE);
    params.set("offset", append ? offset : 0);
    const page = await api(`/api/v1/admin/audit?${params}`);
    if (!filled) {
      $("audit-action").append(...page.actions.map((a) => h("option", { value: a }, ACTION_LABELS[a] || a)));
      filled = true;
    }
    offset = (append ? offset : 0) + page.items.length;
    $("audit-count").textContent = `${page.total} 件`;
    if (!append) body.replaceChildren();
    if (!page.total) emptyRow(body, 7, "条件に合う記録はありません。");
    body.append(...page.items.map(row));
    more.hidden = offset >= page.total;
    announce(`監査ログ ${page.total} 件`);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load().catch(fail);
  });
  more.addEventListener("click", () => load(true).catch(fail));
  await load();
}

const SECTIONS = {
  users: usersSection,
  departments: departmentsSection,
  devices: devicesSection,
  tokens: tokensSection,
  retention: retentionSection,
  voices: voicesSection,
  audit: auditSection,
};

if (SECTIONS[section]) {
  SECTIONS[section]()
    .then(() => document.body.setAttribute("data-ready", "true"))
    .catch(fail);
} else {
  document.body.setAttribute("data-ready", "true");
}
