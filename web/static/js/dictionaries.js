// 辞書: the terminology dictionaries (city-wide and the department's): list, create, terms (add, edit,
// delete), CSV import and export, all through /api/v1/dictionaries; and the 「辞書に追加」 proposals
// clerks made in the editor, accepted or rejected here (/api/v1/term-proposals).
import { $, announce, api, errorText, formatDate, h, initLayout, saveDownload, showMessage } from "./common.js";

initLayout();

const MAX_SHOWN = 500;
const els = {
  list: $("dict-list"),
  error: $("dict-error"),
  detail: $("dict-detail"),
  title: $("dict-title"),
  meta: $("dict-meta"),
  readonly: $("readonly-note"),
  termForm: $("term-form"),
  termMessage: $("term-message"),
  filter: $("term-filter"),
  count: $("term-count"),
  terms: $("terms"),
  importBox: $("import-box"),
  importForm: $("import-form"),
  importResult: $("import-result"),
  exportCsv: $("export-csv"),
  deleteDict: $("delete-dict"),
  newDict: $("new-dict"),
  download: $("download"),
};

let dictionaries = [];
let current = null; // the selected dictionary, with its terms
let editingId = null;

function splitAliases(text) {
  return text
    .split(/[|、,，]/)
    .map((a) => a.trim())
    .filter(Boolean);
}

function scopeLabel(d) {
  return d.city_wide ? "全市共通" : d.department || "部署";
}

// --- the list of dictionaries ------------------------------------------------------------------

function renderList() {
  if (!dictionaries.length) {
    els.list.replaceChildren(h("li", { class: "hint" }, "辞書はまだありません。下で作成できます。"));
    return;
  }
  els.list.replaceChildren(
    ...dictionaries.map((d) =>
      h(
        "li",
        {},
        h(
          "button",
          {
            type: "button",
            "aria-current": current && current.id === d.id ? "true" : "false",
            onclick: () => select(d.id, true),
          },
          h("span", { class: "dict-name" }, d.name),
          h("span", { class: "dict-meta" }, `${scopeLabel(d)}・${d.term_count} 語${d.editable ? "" : "・閲覧のみ"}`),
        ),
      ),
    ),
  );
}

async function loadList() {
  try {
    dictionaries = await api("/api/v1/dictionaries");
    showMessage(els.error, "");
    fillTargets();
  } catch (error) {
    showMessage(els.error, errorText(error));
    dictionaries = [];
  }
  renderList();
}

async function select(id, focus = false, keepMessages = false) {
  if (current && current.id !== id) els.filter.value = ""; // another dictionary: start unfiltered
  try {
    current = await api(`/api/v1/dictionaries/${id}`);
  } catch (error) {
    showMessage(els.error, errorText(error));
    return;
  }
  editingId = null;
  history.replaceState(null, "", `/dictionaries?id=${id}`);
  renderList();
  renderDetail();
  if (!keepMessages) {
    els.importResult.replaceChildren();
    els.termMessage.replaceChildren();
  }
  if (focus) els.title.focus();
}

// --- one dictionary ---------------------------------------------------------------------------

function renderDetail() {
  els.detail.hidden = !current;
  if (!current) return;
  els.title.textContent = current.name;
  els.title.tabIndex = -1;
  els.meta.textContent = `${scopeLabel(current)}・${current.terms.length} 語`;
  els.readonly.hidden = current.editable;
  els.termForm.hidden = !current.editable;
  els.importBox.hidden = !current.editable;
  els.deleteDict.hidden = !current.editable;
  renderTerms();
}

function matches(term, query) {
  if (!query) return true;
  const hay = [term.term, term.reading, term.category, ...term.aliases].join("\n");
  return hay.includes(query);
}

function renderTerms() {
  const query = els.filter.value.trim();
  const found = current.terms.filter((t) => matches(t, query));
  const shown = found.slice(0, MAX_SHOWN);
  els.count.textContent =
    (query ? `${found.length} 語が見つかりました` : `${found.length} 語`) +
    (found.length > MAX_SHOWN ? `(先頭の ${MAX_SHOWN} 語を表示。検索で絞り込んでください)` : "");
  els.terms.replaceChildren(...shown.map((t) => (t.id === editingId ? editRow(t) : termRow(t))));
  if (!shown.length) {
    els.terms.replaceChildren(
      h("tr", {}, h("td", { colspan: 5, class: "hint" }, query ? "見つかりません。" : "用語はまだありません。")),
    );
  }
}

function termRow(t) {
  const actions = current.editable
    ? [
        h(
          "button",
          {
            type: "button",
            class: "btn btn-small",
            "aria-label": `${t.term} を編集`,
            onclick: () => {
              editingId = t.id;
              renderTerms();
              els.terms.querySelector("input")?.focus();
            },
          },
          "編集",
        ),
        " ",
        h(
          "button",
          {
            type: "button",
            class: "btn btn-small btn-danger-quiet",
            "aria-label": `${t.term} を削除`,
            onclick: () => deleteTerm(t),
          },
          "削除",
        ),
      ]
    : [];
  return h(
    "tr",
    { "data-term-id": t.id },
    h("td", {}, h("strong", {}, t.term)),
    h("td", {}, t.reading),
    h("td", { class: "aliases" }, t.aliases.join("、")),
    h("td", {}, t.category),
    h("td", { class: "actions nowrap" }, ...actions),
  );
}

function editRow(t) {
  const inputs = {
    term: h("input", { type: "text", value: t.term, "aria-label": "用語", maxlength: 200 }),
    reading: h("input", { type: "text", value: t.reading, "aria-label": "読み", maxlength: 400 }),
    aliases: h("input", { type: "text", value: t.aliases.join("、"), "aria-label": "誤表記", maxlength: 2000 }),
    category: h("input", { type: "text", value: t.category, "aria-label": "分類", maxlength: 100 }),
  };
  const save = async () => {
    try {
      const body = {
        term: inputs.term.value.trim(),
        reading: inputs.reading.value.trim(),
        aliases: splitAliases(inputs.aliases.value),
        category: inputs.category.value.trim(),
      };
      const updated = await api(`/api/v1/dictionaries/${current.id}/terms/${t.id}`, { method: "PUT", json: body });
      Object.assign(t, updated);
      editingId = null;
      renderTerms();
      say(`「${updated.term}」を保存しました。`, "success");
    } catch (error) {
      say(errorText(error), "error");
    }
  };
  const row = h(
    "tr",
    { "data-term-id": t.id },
    h("td", {}, inputs.term),
    h("td", {}, inputs.reading),
    h("td", {}, inputs.aliases),
    h("td", {}, inputs.category),
    h(
      "td",
      { class: "actions nowrap" },
      h("button", { type: "button", class: "btn btn-small btn-primary", onclick: save }, "保存"),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small",
          onclick: () => {
            editingId = null;
            renderTerms();
          },
        },
        "やめる",
      ),
    ),
  );
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.isComposing && event.target.tagName === "INPUT") {
      event.preventDefault();
      save();
    } else if (event.key === "Escape") {
      editingId = null;
      renderTerms();
    }
  });
  return row;
}

function say(message, kind) {
  els.termMessage.replaceChildren(h("p", { class: `alert alert-${kind}` }, message));
}

async function deleteTerm(t) {
  if (!confirm(`「${t.term}」を辞書から削除しますか?`)) return;
  try {
    await api(`/api/v1/dictionaries/${current.id}/terms/${t.id}`, { method: "DELETE" });
    current.terms = current.terms.filter((x) => x !== t);
    renderDetail();
    say(`「${t.term}」を削除しました。`, "success");
    bumpCount(current.id, current.terms.length);
  } catch (error) {
    say(errorText(error), "error");
  }
}

function bumpCount(id, count) {
  const d = dictionaries.find((x) => x.id === id);
  if (d) d.term_count = count;
  renderList();
}

els.termForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = els.termForm;
  const body = {
    term: form.elements.term.value.trim(),
    reading: form.elements.reading.value.trim(),
    aliases: splitAliases(form.elements.aliases.value),
    category: form.elements.category.value.trim(),
  };
  if (!body.term) {
    say("用語を入力してください。", "error");
    form.elements.term.focus();
    return;
  }
  try {
    const added = await api(`/api/v1/dictionaries/${current.id}/terms`, { method: "POST", json: body });
    current.terms.push(added);
    form.reset();
    renderDetail();
    bumpCount(current.id, current.terms.length);
    say(`「${added.term}」を追加しました。`, "success");
    form.elements.term.focus();
  } catch (error) {
    say(errorText(error), "error");
  }
});

els.filter.addEventListener("input", () => {
  if (current) renderTerms();
});

// --- CSV ------------------------------------------------------------------------------------

els.importForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = els.importForm.elements.file.files[0];
  if (!file) {
    els.importResult.replaceChildren(h("p", { class: "alert alert-error" }, "CSV ファイルを選んでください。"));
    return;
  }
  const mode = els.importForm.querySelector('input[name="mode"]:checked')?.value || "merge";
  if (mode === "replace" && !confirm("CSV にない用語はこの辞書から消えます。置き換えますか?")) return;
  const data = new FormData();
  data.append("mode", mode);
  data.append("file", file, file.name);
  const button = els.importForm.querySelector("button");
  button.disabled = true;
  try {
    const result = await api(`/api/v1/dictionaries/${current.id}/import`, { method: "POST", body: data });
    const lines = [
      `追加 ${result.added} 語、更新 ${result.updated} 語、変更なし ${result.unchanged} 語` +
        (result.removed ? `、削除 ${result.removed} 語` : "") +
        (result.skipped ? `、取り込めなかった行 ${result.skipped}` : ""),
    ];
    const problems = [...(result.errors || []), ...(result.warnings || [])];
    els.importResult.replaceChildren(
      h(
        "div",
        { class: `alert alert-${result.skipped ? "warning" : "success"}` },
        h("strong", {}, "取り込みました。"),
        ` ${lines[0]}。`,
        problems.length
          ? h(
              "ul",
              {},
              problems.slice(0, 50).map((p) => h("li", {}, p.text || `${p.row} 行目: ${p.message}`)),
            )
          : null,
      ),
    );
    announce(`CSV を取り込みました。${lines[0]}。`);
    els.importForm.reset();
    const id = current.id;
    await loadList();
    await select(id, false, true);
  } catch (error) {
    els.importResult.replaceChildren(h("p", { class: "alert alert-error" }, errorText(error)));
  } finally {
    button.disabled = false;
  }
});

els.exportCsv.addEventListener("click", async () => {
  try {
    const response = await api(`/api/v1/dictionaries/${current.id}/export`, { raw: true });
    await saveDownload(response, els.download, `${current.name}.csv`);
    announce("CSV を書き出しました。");
  } catch (error) {
    showMessage(els.error, errorText(error));
  }
});

els.deleteDict.addEventListener("click", async () => {
  if (!confirm(`辞書「${current.name}」と、その ${current.terms.length} 語を削除します。元に戻せません。よろしいですか?`)) {
    return;
  }
  try {
    await api(`/api/v1/dictionaries/${current.id}`, { method: "DELETE" });
    announce(`辞書「${current.name}」を削除しました。`);
    current = null;
    history.replaceState(null, "", "/dictionaries");
    renderDetail();
    await loadList();
  } catch (error) {
    showMessage(els.error, errorText(error));
  }
});

els.newDict.addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = els.newDict.elements.name.value.trim();
  if (!name) {
    showMessage(els.error, "辞書の名前を入力してください。");
    els.newDict.elements.name.focus();
    return;
  }
  const cityWide = Boolean(els.newDict.elements.city_wide?.checked);
  try {
    const created = await api("/api/v1/dictionaries", { method: "POST", json: { name, city_wide: cityWide } });
    els.newDict.reset();
    showMessage(els.error, "");
    await loadList();
    await select(created.id, true);
    announce(`辞書「${created.name}」を作成しました。`);
  } catch (error) {
    showMessage(els.error, errorText(error));
  }
});

// --- 「辞書に追加」の提案 ---------------------------------------------------------------------------
// Any member of the department may accept or reject (the API's rule); admins see every department's.

const P = "/api/v1/term-proposals";
const proposalEls = {
  rows: $("proposal-rows"),
  count: $("proposals-count"),
  stats: $("proposal-stats"),
  target: $("proposal-target"),
  message: $("proposal-message"),
};

function fillTargets() {
  const chosen = proposalEls.target.value;
  const mine = dictionaries.filter((d) => d.editable && !d.city_wide);
  proposalEls.target.replaceChildren(
    proposalEls.target.options[0],
    ...mine.map((d) => h("option", { value: d.id }, mine.length > 1 && d.department ? `${d.name}(${d.department})` : d.name)),
  );
  if (mine.some((d) => String(d.id) === chosen)) proposalEls.target.value = chosen;
}

async function loadStats() {
  try {
    const rows = await api(`${P}/stats`);
    const shown = rows.filter((r) => r.accepted || rows.length === 1);
    proposalEls.stats.textContent = shown.length
      ? "「辞書に追加」から増えた用語: " +
        shown.map((r) => (rows.length === 1 ? `${r.accepted} 語` : `${r.department} ${r.accepted} 語`)).join("、")
      : "「辞書に追加」から増えた用語: 0 語";
    proposalEls.stats.hidden = false;
  } catch {
    proposalEls.stats.hidden = true;
  }
}

function proposalRow(p) {
  const reading = h("input", { type: "text", value: p.reading, maxlength: 400, "aria-label": `「${p.term}」の読み` });
  const category = h("input", { type: "text", value: p.category, maxlength: 100, "aria-label": `「${p.term}」の分類` });
  const who = [p.proposed_by, p.created_at ? formatDate(p.created_at) : ""].filter(Boolean).join("・");
  return h(
    "tr",
    { "data-proposal-id": p.id },
    h("td", {}, h("strong", {}, p.term)),
    h("td", { class: "alias" }, p.alias),
    h("td", {}, reading),
    h("td", {}, category),
    h(
      "td",
      { class: "who" },
      who,
      p.recording_id ? [h("br"), h("a", { href: `/recordings/${p.recording_id}` }, "記録を開く")] : null,
    ),
    h(
      "td",
      { class: "actions nowrap" },
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small btn-primary",
          "aria-label": `「${p.term}」を採用`,
          onclick: (event) => decide(p, "accept", event.currentTarget, { reading: reading.value, category: category.value }),
        },
        "採用",
      ),
      " ",
      h(
        "button",
        {
          type: "button",
          class: "btn btn-small btn-danger-quiet",
          "aria-label": `「${p.term}」を却下`,
          onclick: (event) => decide(p, "reject", event.currentTarget),
        },
        "却下",
      ),
    ),
  );
}

async function loadProposals() {
  try {
    const { items } = await api(`${P}?status=proposed&limit=200`);
    proposalEls.count.textContent = `(${items.length} 件)`;
    proposalEls.rows.replaceChildren(...items.map(proposalRow));
    // Nothing waiting: one line instead of an empty table.
    for (const id of ["proposal-table", "proposal-target-box"]) $(id).hidden = !items.length;
    $("proposals-empty").hidden = items.length > 0;
  } catch (error) {
    proposalEls.rows.replaceChildren(h("tr", {}, h("td", { colspan: 6 }, errorText(error))));
  }
}

async function decide(p, action, button, edits = {}) {
  const say = (message, kind) =>
    proposalEls.message.replaceChildren(h("p", { class: `alert alert-${kind}` }, message));
  if (action === "reject" && !confirm(`「${p.alias}」→「${p.term}」の提案を却下しますか?`)) return;
  button.disabled = true;
  try {
    if (action === "accept") {
      const body = { reading: edits.reading.trim(), category: edits.category.trim() };
      if (proposalEls.target.value) body.dictionary_id = Number(proposalEls.target.value);
      const done = await api(`${P}/${p.id}/accept`, { method: "POST", json: body });
      say(`「${done.term}」を辞書「${done.dictionary.name}」に追加しました。`, "success");
      await loadList();
      await select(done.dictionary.id, false, true);
    } else {
      await api(`${P}/${p.id}/reject`, { method: "POST" });
      say(`「${p.alias}」→「${p.term}」の提案を却下しました。`, "success");
    }
    announce(proposalEls.message.textContent);
    await Promise.all([loadProposals(), loadStats()]);
  } catch (error) {
    say(errorText(error), "error");
    button.disabled = false;
    if (error.status === 409) await loadProposals(); // someone decided it first
  }
}

// --- start ------------------------------------------------------------------------------------

loadStats();
loadProposals();
(async () => {
  await loadList();
  const wanted = Number(new URLSearchParams(location.search).get("id"));
  const first = dictionaries.find((d) => d.id === wanted) || dictionaries.find((d) => d.editable) || dictionaries[0];
  if (first) await select(first.id);
})();
