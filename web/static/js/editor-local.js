// Local safety: every unsaved change is mirrored into this browser's IndexedDB a moment after it is
// made, and removed once the server has confirmed a save holding it. If the tab is closed, the
// browser crashes or the network is gone when the clerk gives up, the next opening of the recording
// offers the kept edits back (戻す) or lets them go (破棄). Restored edits are saved on the revision
// they were made on (If-Match), so someone else's later version is never overwritten: that is the
// ordinary conflict banner.
import { announce, formatDateTime, h, revisionName } from "./common.js";

const DB_NAME = "kiroku-editor";
const STORE = "drafts";
const WRITE_MS = 300; // mirror this long after the last change (well before the 1.5 s autosave)

function openDb() {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === "undefined") {
      reject(new Error("no IndexedDB"));
      return;
    }
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function run(mode, work) {
  return openDb().then(
    (db) =>
      new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const result = work(tx.objectStore(STORE));
        tx.oncomplete = () => {
          db.close();
          resolve(result?.result);
        };
        tx.onerror = tx.onabort = () => {
          db.close();
          reject(tx.error);
        };
      }),
  );
}

/** The local mirror of one editor page; ``ed`` is the page's shared context. */
export function createLocal(ed) {
  const { state } = ed;
  // One clerk's drafts only: another person signing in on this computer is never offered them.
  const key = `${ed.data.me}:${ed.rid}`;
  let timer = 0;
  let offered = false;
  ed.metrics.localWrites = 0;

  function mirror() {
    clearTimeout(timer);
    // When the page is idle: copying a 2-hour meeting must not land between two keystrokes.
    const idle = window.requestIdleCallback || ((fn) => fn());
    timer = setTimeout(() => idle(write, { timeout: 1000 }), WRITE_MS);
  }

  async function write() {
    if (!state.loaded || !state.dirty) return;
    const draft = { base: state.revision, at: new Date().toISOString(), changes: state.changes, body: ed.save.minutesBody() };
    try {
      await run("readwrite", (store) => store.put(draft, key));
      ed.metrics.localWrites++;
      document.body.dataset.localDraft = "kept";
    } catch {
      // No storage (private window, quota): the server save is still the safety.
    }
  }

  /** The server holds everything on screen: the mirror is no longer needed. */
  async function confirmed() {
    clearTimeout(timer);
    if (state.dirty) return;
    try {
      await run("readwrite", (store) => store.delete(key));
      document.body.dataset.localDraft = "none";
    } catch {
      // nothing kept
    }
  }

  /** After the first load: offer edits this browser kept and the server never confirmed. */
  async function offer() {
    if (offered) return;
    offered = true;
    let draft;
    try {
      draft = await run("readonly", (store) => store.get(key));
    } catch {
      return;
    }
    if (!draft?.body) {
      document.body.dataset.localDraft = "none";
      return;
    }
    const newer = state.revision !== draft.base;
    ed.view.showBanner(
      "warning",
      "local",
      h("strong", {}, `保存されていない編集が、このブラウザに残っています(${formatDateTime(draft.at)})。`),
      " 画面を閉じたか、保存の前に通信が切れたためです。",
      newer ? `そのあとに${revisionName(state.revision)}が保存されているため、戻すと重なりを確かめてから保存します。` : "戻すと、その編集を保存します。",
      h("br"),
      h("button", { class: "btn btn-small btn-primary", type: "button", onclick: () => restore(draft) }, "残っている編集を戻す"),
      h("button", { class: "btn btn-small", type: "button", onclick: discard }, "破棄する"),
    );
    document.body.dataset.localDraft = "offered";
    announce("保存されていない編集がこのブラウザに残っています。戻すか破棄するかを選んでください。");
  }

  function restore(draft) {
    ed.view.hideBanner("local");
    // On the revision the edits were made on: if someone saved since, the save is a conflict, not an overwrite.
    ed.loader.applyMinutes({ ...draft.body, revision: draft.base });
    ed.save.markDirty();
    ed.save.saveNow();
    announce("残っていた編集を戻しました。保存します。");
  }

  async function discard() {
    ed.view.hideBanner("local");
    try {
      await run("readwrite", (store) => store.delete(key));
    } catch {
      // already gone
    }
    document.body.dataset.localDraft = "none";
    announce("残っていた編集を破棄しました。");
  }

  return { mirror, confirmed, offer };
}
