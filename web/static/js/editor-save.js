// Saving the minutes: a moment after typing stops (PUT with If-Match on the revision this page has),
// retrying by itself after network trouble, waiting for the clerk when signed out or refused, and
// stopping for good when someone else saved first (a 409 conflict): their version is never
// overwritten. Exports (Word, …) save first, so the file holds what is on the screen.
import { announce, api, errorText, formatClock, formatTime, h, loginUrl, offerBlob, people, revisionName, saveDownload, warnBeforeLeaving } from "./common.js";
import * as T from "./transcript-model.js";

const SAVE_IDLE_MS = 1500; // save this long after the last change …
const SAVE_MAX_WAIT_MS = 10000; // … or at the latest this long after the first unsaved one

/** Saving for one editor page; ``ed`` is the page's shared context. */
export function createSave(ed) {
  const { els, state } = ed;
  let saveTimer = 0;

  function setSaveState(kind, text) {
    els.saveState.dataset.state = kind;
    if (els.saveState.textContent !== text) els.saveState.textContent = text;
  }

  function markDirty() {
    state.changes++;
    if (!state.dirty) {
      state.dirty = true;
      state.firstDirtyAt = performance.now();
    }
    ed.local?.mirror(); // kept in this browser until the server confirms it
    ed.overview?.schedule();
    if (state.conflict) return;
    if (!state.saving && !state.blocked) setSaveState("dirty", "未保存の変更あり");
    clearTimeout(saveTimer);
    const waited = performance.now() - state.firstDirtyAt;
    saveTimer = setTimeout(() => saveNow(), waited > SAVE_MAX_WAIT_MS ? 0 : SAVE_IDLE_MS);
  }

  function minutesBody() {
    return T.toMinutes(state.header, state.rest, state.speakers, state.segs);
  }

  async function putMinutes(body) {
    return api(`${ed.base}/minutes`, {
      method: "PUT",
      json: body,
      headers: { "If-Match": `"r${state.revision}"` },
      redirectOn401: false,
    });
  }

  /** The record's labels for the version just saved: naming one speaker, or moving who speaks first,
   * re-letters the others (発言者B may become 発言者A), as it does in the Word file. */
  function takeLabels(labels) {
    if (!labels) return;
    const fresh = new Map(Object.entries(labels));
    const same = [...fresh].every(([id, label]) => state.unnamed.get(id) === label);
    if (same && fresh.size === state.unnamed.size) return;
    state.unnamed = fresh;
    ed.view.refreshSpeakerNames();
    ed.speakers.refreshNames();
  }

  /** Save now if anything is unsaved; resolves when the newest change is saved (or cannot be). */
  async function saveNow() {
    clearTimeout(saveTimer);
    if (state.saving) {
      await state.saving;
      if (state.dirty && !state.conflict && !state.blocked) return saveNow();
      return;
    }
    if (!state.dirty || state.conflict || !state.loaded) return;
    state.blocked = "";
    const changes = state.changes;
    setSaveState("saving", "保存中…");
    state.saving = (async () => {
      try {
        const saved = await putMinutes(minutesBody());
        state.revision = saved.revision;
        state.retryMs = 0;
        takeLabels(saved.speaker_labels);
        if (state.changes === changes) state.dirty = false;
        else state.firstDirtyAt = performance.now();
        if (!state.dirty) ed.local?.confirmed();
        els.revisionLabel.textContent = revisionName(state.revision);
        ed.view.hideBanner("save");
        setSaveState(state.dirty ? "dirty" : "saved", state.dirty ? "未保存の変更あり" : `保存済み ${formatTime(new Date())}`);
      } catch (error) {
        saveFailed(error);
      } finally {
        state.saving = null;
      }
    })();
    await state.saving;
  }

  function saveFailed(error) {
    const { showBanner } = ed.view;
    if (error.status === 409 && error.code !== "not_ready") {
      enterConflict();
      return;
    }
    if (error.status === 401) {
      state.blocked = "signed-out";
      setSaveState("error", "保存できません(ログイン切れ)");
      showBanner(
        "error",
        "save",
        "ログインの有効期限が切れたため保存できませんでした。変更はこの画面に残っています。",
        h("br"),
        h("a", { class: "btn btn-small", href: loginUrl(), target: "_blank", rel: "noopener" }, "別のタブでログイン"),
        h("button", { class: "btn btn-small btn-primary", type: "button", onclick: () => saveNow() }, "もう一度保存"),
      );
      return;
    }
    if (error.status === 422 || error.status === 413 || error.status === 403 || error.status === 404) {
      state.blocked = "refused";
      setSaveState("error", "保存できませんでした");
      showBanner("error", "save", `保存できませんでした: ${errorText(error)}`);
      return;
    }
    // The network or the server: try again by itself, more slowly each time.
    state.retryMs = Math.min(60000, state.retryMs ? state.retryMs * 2 : 5000);
    setSaveState("error", "保存できませんでした(再試行します)");
    showBanner(
      "warning",
      "save",
      `${errorText(error)} 変更はこの画面に残っています。${Math.round(state.retryMs / 1000)} 秒後にもう一度保存します。`,
    );
    clearTimeout(saveTimer);
    saveTimer = setTimeout(() => saveNow(), state.retryMs);
  }

  /** Who saved the newest version: 「別のタブで」 when it was this clerk, else the person by name. */
  async function whoSavedFirst() {
    try {
      const [revisions, names] = await Promise.all([api(`${ed.base}/minutes/revisions`, { redirectOn401: false }), people()]);
      const last = revisions[revisions.length - 1];
      if (!last || last.author_id == null) return "";
      if (last.author_id === ed.data.me) return "mine";
      return names.users[String(last.author_id)] || "";
    } catch {
      return "";
    }
  }

  async function enterConflict() {
    state.conflict = true;
    clearTimeout(saveTimer);
    setSaveState("conflict", "保存を止めています");
    ed.view.setEditable();
    const who = await whoSavedFirst();
    const headline =
      who === "mine"
        ? "別のタブ(または別の画面)で、あなたがこの記録を先に保存しました。"
        : who
          ? `${who}さんがこの記録を先に保存しました。`
          : "他の人がこの記録を先に保存しました。";
    ed.view.showBanner(
      "error",
      "conflict",
      h("strong", {}, headline),
      " 上書きしないよう、この画面の変更は保存していません(この画面には残っています)。",
      "最新の版を読み込んでから編集を続けてください。必要なら先に自分の編集内容を控えてください。",
      h("br"),
      h("button", { class: "btn btn-small btn-primary", type: "button", onclick: reloadLatest }, "最新の版を読み込む"),
      h("button", { class: "btn btn-small", type: "button", onclick: downloadMine }, "自分の編集内容をテキストで保存"),
    );
    announce(`${headline}保存を止めました。`);
  }

  async function reloadLatest() {
    if (state.dirty && !confirm("この画面の保存されていない変更は失われます。最新の版を読み込みますか?")) return;
    state.dirty = false;
    state.conflict = false;
    state.blocked = "";
    ed.view.hideBanner();
    await ed.loader.load();
    ed.local?.confirmed(); // the clerk chose the server's version over the edits on screen
    announce("最新の版を読み込みました。");
  }

  function downloadMine() {
    const named = state.speakers.map((s) => ({ ...s, name: ed.view.speakerName(s.id) }));
    const text = T.plainText(named, state.segs, formatClock);
    const blob = new Blob([text], { type: "text/plain;charset=utf-8" });
    offerBlob(blob, els.download, `${state.header.title || "記録"}-未保存の編集.txt`);
  }

  // --- export -----------------------------------------------------------------------------------

  async function exportAs(format, button) {
    button.disabled = true;
    try {
      if (state.dirty || state.saving) await saveNow();
      if (state.conflict) {
        announce("他の人の保存と重なっているため、書き出す前に最新の版を読み込んでください。");
        return;
      }
      if (state.dirty) {
        ed.view.showBanner("warning", "export", "保存できていない変更があるため、書き出しを止めました。保存できてからもう一度押してください。");
        return;
      }
      // 全文 or 整文, with or without times: the choices in the 書き出し panel (the server tidies a copy).
      const tidy = document.querySelector('input[name="export-text"]:checked')?.value === "tidy";
      const stamps = document.getElementById("export-timestamps")?.checked;
      const query = new URLSearchParams({ format, tidy: String(tidy) });
      if (format === "docx" || format === "txt") query.set("timestamps", String(Boolean(stamps)));
      const response = await api(`${ed.base}/export?${query}`, { raw: true, redirectOn401: false });
      await saveDownload(response, els.download, `recording-${ed.rid}.${format}`);
      announce(`${format.toUpperCase()} で書き出しました。`);
    } catch (error) {
      ed.view.showBanner("error", "export", `書き出せませんでした: ${errorText(error)}`);
    } finally {
      button.disabled = false;
    }
  }

  for (const button of document.querySelectorAll("[data-format]")) {
    button.addEventListener("click", () => exportAs(button.dataset.format, button));
  }

  warnBeforeLeaving(() => state.dirty || state.saving);

  return { setSaveState, markDirty, putMinutes, saveNow, enterConflict, minutesBody };
}
