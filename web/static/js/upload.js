// アップロード: several files by drag and drop or the file picker, one XMLHttpRequest each (so the
// bar shows the bytes sent), then the transcription's progress for each until it is done.
import {
  STATUS_LABELS,
  announce,
  api,
  csrfToken,
  detailOf,
  errorText,
  formatBytes,
  h,
  initLayout,
  loginUrl,
  pageData,
  progressPhrase,
  showMessage,
  statusMessage,
  warnBeforeLeaving,
} from "./common.js";

initLayout();

const { suffixes = [], max_bytes: maxBytes = 0 } = pageData();
const SUFFIXES = new Set(suffixes);
const RETRIES = 2; // automatic re-sends after a dropped connection, then a button
const POLL_MS = 2000;

const form = document.getElementById("upload-form");
const input = document.getElementById("file-input");
const dropzone = document.getElementById("dropzone");
const list = document.getElementById("files");
const errorBox = document.getElementById("upload-error");
const start = document.getElementById("start");
const summary = document.getElementById("summary");
const heldAtLabel = document.getElementById("held-at-label");

// The date's label per kind (受付日時 for a call: left empty, it is the recording's own time).
const HELD_AT_LABELS = { meeting: "日時", interview: "面談日時", negotiation: "日時", phone: "受付日時" };

let entries = [];
let nextId = 1;
let busy = false;
let pollTimer = 0;

// --- files --------------------------------------------------------------------------------------

function suffixOf(name) {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot).toLowerCase() : "";
}

function stem(name) {
  const dot = name.lastIndexOf(".");
  return (dot > 0 ? name.slice(0, dot) : name).slice(0, 300);
}

function problemWith(file) {
  const suffix = suffixOf(file.name);
  const mediaType = file.type || "";
  const looksLikeMedia = SUFFIXES.has(suffix) || mediaType.startsWith("audio/") || mediaType.startsWith("video/");
  if (!looksLikeMedia) {
    return "音声・動画のファイルではないようです。wav, mp3, m4a などの録音ファイルを選んでください。";
  }
  if (file.size === 0) return "ファイルが空です(0 バイト)。";
  if (maxBytes && file.size > maxBytes) {
    return `ファイルが大きすぎます(上限 ${formatBytes(maxBytes)})。録音を分けてから登録してください。`;
  }
  return "";
}

function addFiles(files) {
  const added = [];
  for (const file of files) {
    const entry = { id: nextId++, file, state: "ready", attempts: 0, recordingId: null, xhr: null };
    const problem = problemWith(file);
    if (problem) {
      entry.state = "invalid";
      entry.message = problem;
    }
    entries.push(entry);
    list.append(renderEntry(entry));
    added.push(entry);
  }
  const ok = added.filter((e) => e.state === "ready").length;
  const bad = added.length - ok;
  announce(
    `${ok} 件のファイルを追加しました。` + (bad ? `${bad} 件は登録できません。理由は一覧に表示しています。` : ""),
  );
  showMessage(errorBox, "");
  updateSummary();
}

function renderEntry(entry) {
  const titleId = `title-${entry.id}`;
  const statusId = `status-${entry.id}`;
  entry.title = h("input", {
    id: titleId,
    type: "text",
    maxlength: 300,
    value: stem(entry.file.name),
    "aria-describedby": statusId,
  });
  // Each file has its own kind (a meeting uploaded beside a call stays a meeting): it follows the
  // form's 記録の種類 until the clerk picks one for this file.
  entry.kind = h(
    "select",
    { id: `kind-${entry.id}`, onchange: () => (entry.kindChosen = true) },
    kindChoices().map(([value, label]) => h("option", { value, selected: value === kind() }, label)),
  );
  entry.bar = h("progress", { max: 100, value: 0, "aria-label": `${entry.file.name} の進み具合` });
  entry.statusText = h("span", { id: statusId, class: "file-status", role: "status" });
  entry.remove = h(
    "button",
    {
      type: "button",
      class: "btn btn-small",
      "aria-label": `${entry.file.name} を一覧から取り除く`,
      onclick: () => removeEntry(entry),
    },
    "取り除く",
  );
  entry.action = h("span", { class: "file-action" });
  entry.el = h(
    "li",
    { class: "file-item" },
    h(
      "div",
      { class: "file-head" },
      h("span", { class: "file-name", title: entry.file.name }, entry.file.name),
      h("span", { class: "file-size" }, formatBytes(entry.file.size)),
      entry.remove,
    ),
    h(
      "div",
      { class: "file-fields" },
      h("div", { class: "field file-title" }, h("label", { for: titleId }, "タイトル"), entry.title),
      h("div", { class: "field file-kind" }, h("label", { for: `kind-${entry.id}` }, "種類"), entry.kind),
    ),
    h("div", { class: "file-progress" }, entry.bar, entry.statusText, entry.action),
  );
  paint(entry);
  return entry.el;
}

function paint(entry, text) {
  const el = entry.el;
  el.classList.toggle("is-error", entry.state === "invalid" || entry.state === "error" || entry.state === "failed");
  el.classList.toggle("is-done", entry.state === "done");
  const messages = {
    ready: "送信を待っています",
    invalid: entry.message,
    uploading: "送信中…",
    checking: "サーバーで音声を確認しています…",
    queued: "登録しました。文字起こしの順番を待っています",
    error: entry.message,
    failed: entry.message,
    done: "文字起こしが完了しました",
    canceled: "取り消しました",
  };
  entry.statusText.textContent = text || messages[entry.state] || "";
  entry.statusText.className =
    "file-status" +
    (["invalid", "error", "failed"].includes(entry.state) ? " error" : entry.state === "done" ? " ok" : "");
  entry.bar.hidden = entry.state === "invalid";
  entry.title.parentElement.hidden = entry.state === "invalid";
  entry.title.disabled = entry.state !== "ready" && entry.state !== "error";
  entry.kind.disabled = entry.title.disabled;
  entry.kind.parentElement.hidden = entry.state === "invalid";
  entry.remove.hidden = !["ready", "invalid", "error", "done", "failed", "canceled"].includes(entry.state);
  entry.action.replaceChildren();
  if (entry.state === "uploading") {
    entry.action.append(
      h("button", { type: "button", class: "btn btn-small", onclick: () => entry.xhr?.abort() }, "送信を中止"),
    );
  } else if (entry.state === "error" && !busy) {
    entry.action.append(
      h("button", { type: "button", class: "btn btn-small", onclick: () => retry(entry) }, "もう一度送信"),
    );
  } else if (entry.state === "done" && entry.recordingId) {
    entry.action.append(h("a", { class: "btn btn-small btn-primary", href: `/recordings/${entry.recordingId}` }, "編集を開く"));
  } else if (entry.state === "queued" && entry.recordingId) {
    entry.action.append(h("a", { class: "btn btn-small", href: `/recordings/${entry.recordingId}` }, "開く"));
  }
}

function removeEntry(entry) {
  entries = entries.filter((e) => e !== entry);
  entry.el.remove();
  announce(`${entry.file.name} を取り除きました。`);
  updateSummary();
  input.focus();
}

function updateSummary() {
  const ready = entries.filter((e) => e.state === "ready" || e.state === "error").length;
  start.disabled = busy || ready === 0;
  summary.textContent = busy ? "送信しています。この画面を閉じないでください。" : ready ? `${ready} 件を登録できます` : "";
}

// --- drag and drop ----------------------------------------------------------------------------

for (const type of ["dragenter", "dragover"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    dropzone.classList.add("dragover");
  });
}
for (const type of ["dragleave", "drop"]) {
  dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    if (type === "dragleave" && dropzone.contains(event.relatedTarget)) return;
    dropzone.classList.remove("dragover");
  });
}
dropzone.addEventListener("drop", (event) => {
  const files = [...(event.dataTransfer?.files || [])];
  if (files.length) addFiles(files);
});
// A file dropped beside the zone must not make the browser leave the page to open it.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

input.addEventListener("change", () => {
  addFiles([...input.files]);
  input.value = "";
});

// --- the form's other fields -------------------------------------------------------------------

function kind() {
  return form.querySelector('input[name="kind"]:checked')?.value || "meeting";
}

/** [value, label] of each kind the form offers. */
function kindChoices() {
  return [...form.querySelectorAll('input[name="kind"]')].map((radio) => [radio.value, radio.parentElement.textContent.trim()]);
}

for (const radio of form.querySelectorAll('input[name="kind"]')) {
  radio.addEventListener("change", () => {
    for (const entry of entries) if (!entry.kindChosen && !entry.kind.disabled) entry.kind.value = kind();
    heldAtLabel.textContent = HELD_AT_LABELS[kind()] || "日時";
    for (const block of form.querySelectorAll(".kind-fields")) block.hidden = block.dataset.kind !== kind();
  });
}

async function loadDictionaries() {
  const box = document.getElementById("dictionaries");
  try {
    const found = await api("/api/v1/dictionaries");
    if (!found.length) {
      box.replaceChildren(h("p", { class: "hint" }, "使える用語辞書はまだありません。"));
      return;
    }
    box.replaceChildren(
      ...found.map((d) =>
        h(
          "label",
          { class: "check" },
          h("input", { type: "checkbox", name: "dictionary", value: d.id }),
          h(
            "span",
            {},
            `${d.name}`,
            h("span", { class: "optional" }, `${d.city_wide ? "全市共通" : d.department}・${d.term_count} 語`),
          ),
        ),
      ),
    );
  } catch (error) {
    const missing = error.status === 404 || error.status === 405;
    box.replaceChildren(
      h("p", { class: "hint" }, missing ? "用語辞書はこのサーバーでは選べません。" : errorText(error)),
    );
  }
}

function formFor(entry) {
  const data = new FormData();
  const fileKind = entry.kind.value || kind();
  data.append("kind", fileKind);
  data.append("title", entry.title.value.trim());
  const heldAt = form.elements.held_at.value;
  if (heldAt) data.append("held_at", heldAt);
  // The chosen kind's fields: 場所 and 出席者 as their own form fields (the list and search show
  // them), the others as one JSON object (service.records.fields).
  const fields = {};
  for (const input of form.querySelectorAll(`.kind-fields[data-kind="${fileKind}"] [data-key]`)) {
    const value = input.value.trim();
    if (!value) continue;
    if (input.dataset.key === "place" || input.dataset.key === "attendees") data.append(input.dataset.key, value);
    else fields[input.dataset.key] = value;
  }
  if (Object.keys(fields).length) data.append("fields", JSON.stringify(fields));
  if (form.elements.speakers.value) data.append("speakers", form.elements.speakers.value);
  for (const box of form.querySelectorAll('input[name="dictionary"]:checked')) data.append("dictionary", box.value);
  // The file goes last: the other fields arrive before the large body.
  data.append("file", entry.file, entry.file.name);
  return data;
}

// --- sending ------------------------------------------------------------------------------------

function send(entry) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    entry.xhr = xhr;
    entry.state = "uploading";
    entry.bar.value = 0;
    paint(entry, "送信中… 0%");
    xhr.open("POST", "/api/v1/recordings");
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Accept", "application/json");
    let lastAnnounced = 0;
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.min(100, Math.floor((event.loaded / event.total) * 100));
      entry.bar.value = percent;
      entry.statusText.textContent = `送信中… ${percent}%(${formatBytes(event.loaded)} / ${formatBytes(event.total)})`;
      if (percent - lastAnnounced >= 25) {
        lastAnnounced = percent;
        announce(`${entry.file.name}: ${percent}% 送信しました`);
      }
    });
    xhr.upload.addEventListener("load", () => {
      entry.bar.value = 100;
      entry.state = "checking";
      paint(entry);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText || "null");
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body) {
        entry.recordingId = body.id;
        entry.state = "queued";
        entry.bar.value = 0;
        paint(entry);
        resolve("ok");
        return;
      }
      entry.state = "error";
      entry.message = detailOf(xhr.status, body);
      if (xhr.status === 401) entry.message = statusMessage(401);
      paint(entry);
      resolve(xhr.status === 401 ? "signed-out" : "refused");
    });
    xhr.addEventListener("error", () => resolve("network"));
    xhr.addEventListener("timeout", () => resolve("network"));
    xhr.addEventListener("abort", () => {
      entry.state = "error";
      entry.message = "送信を中止しました。";
      paint(entry);
      resolve("aborted");
    });
    xhr.send(formFor(entry));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function sendWithRetries(entry) {
  for (let attempt = 0; ; attempt++) {
    const result = await send(entry);
    if (result !== "network") return result;
    if (attempt >= RETRIES) {
      entry.state = "error";
      entry.message = "通信が途切れたため送信できませんでした。ネットワークを確認して「もう一度送信」を押してください。";
      paint(entry);
      return result;
    }
    const wait = 3 * (attempt + 1);
    entry.state = "uploading";
    paint(entry, `通信が途切れました。${wait} 秒後にもう一度送信します…`);
    await sleep(wait * 1000);
  }
}

async function sendAll(targets) {
  busy = true;
  updateSummary();
  let signedOut = false;
  for (const entry of targets) {
    if (signedOut) break;
    const result = await sendWithRetries(entry);
    signedOut = result === "signed-out";
  }
  busy = false;
  for (const entry of entries) paint(entry);
  updateSummary();
  const sent = targets.filter((e) => e.recordingId).length;
  if (signedOut) {
    errorBox.replaceChildren(
      "ログインの有効期限が切れました。",
      h("a", { href: loginUrl(), target: "_blank", rel: "noopener" }, "別のタブでログイン"),
      "してから「もう一度送信」を押してください。",
    );
    errorBox.hidden = false;
    errorBox.className = "alert alert-error";
  }
  announce(`${targets.length} 件中 ${sent} 件を登録しました。`);
  summary.textContent = sent ? `${sent} 件を登録しました。文字起こしの進み具合をここと記録一覧で確認できます。` : "";
  poll();
}

function retry(entry) {
  if (busy) return;
  entry.state = "ready";
  sendAll([entry]);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (busy) return;
  const targets = entries.filter((e) => e.state === "ready" || e.state === "error");
  if (!targets.length) {
    showMessage(errorBox, "録音ファイルを選んでください。");
    input.focus();
    return;
  }
  showMessage(errorBox, "");
  sendAll(targets);
});

// --- transcription progress --------------------------------------------------------------------

async function poll() {
  clearTimeout(pollTimer);
  const waiting = entries.filter((e) => e.recordingId && (e.state === "queued" || e.state === "running"));
  for (const entry of waiting) {
    try {
      const found = await api(`/api/v1/recordings/${entry.recordingId}`);
      if (found.status === "succeeded") {
        entry.state = "done";
        entry.bar.value = 100;
        paint(entry);
        announce(`${entry.title.value || entry.file.name} の文字起こしが完了しました。`);
      } else if (found.status === "failed" || found.status === "canceled") {
        entry.state = found.status === "failed" ? "failed" : "canceled";
        entry.message = found.error || STATUS_LABELS[found.status];
        paint(entry);
      } else if (found.status === "running") {
        entry.state = "running";
        const percent = Math.round((found.progress || 0) * 100);
        entry.bar.value = percent;
        paint(entry, progressPhrase(found.stage, found.progress));
      }
    } catch {
      // A missed poll is retried at the next tick.
    }
  }
  if (entries.some((e) => e.recordingId && (e.state === "queued" || e.state === "running"))) {
    pollTimer = setTimeout(poll, POLL_MS);
  }
}

warnBeforeLeaving(() => busy);

loadDictionaries();
updateSummary();
