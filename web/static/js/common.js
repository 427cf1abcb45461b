// Shared by every page: API calls with the session cookie and CSRF header, Japanese labels and
// formats, the status announcer and the navigation's log-out button.
import { initMenu } from "./nav-menu.js";

export const KIND_LABELS = { meeting: "会議", interview: "面談", negotiation: "交渉", phone: "電話" };
export const STATUS_LABELS = {
  queued: "順番待ち",
  running: "処理中",
  succeeded: "完了",
  failed: "失敗",
  canceled: "取り消し",
};
export const STAGE_LABELS = {
  decode: "音声の読み込み",
  vad: "発話区間の検出",
  asr: "文字起こし",
  format: "仕上げ",
  done: "完了",
};

// What a job is doing, for one status phrase: 「文字起こし中 7%」.
const STAGE_DOING = {
  decode: "音声を読み込み中",
  vad: "発話を探しています",
  asr: "文字起こし中",
  diarize: "話者を判定中",
  format: "仕上げ中",
};

/** One phrase for a running job's state: 「文字起こし中 7%」 (never the stage twice). */
export function progressPhrase(stage, progress) {
  const percent = Math.round((Number(progress) || 0) * 100);
  return `${STAGE_DOING[stage] || "処理中"} ${percent}%`;
}

/** A version of the minutes as every page names it: 第3版, and the untouched machine transcript. */
export function revisionName(number) {
  return number ? `第${number}版` : "文字起こし(未編集)";
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, detail, code = "", headers = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.code = code;
    this.headers = headers;
  }
}

export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "kiroku_csrf") return decodeURIComponent(rest.join("="));
  }
  return "";
}

export function loginUrl() {
  return "/login?next=" + encodeURIComponent(location.pathname + location.search);
}

/** Plain-Japanese text for an HTTP status without a usable ``detail``. */
export function statusMessage(status) {
  if (status === 0) return "サーバーに接続できませんでした。ネットワークを確認して、もう一度お試しください。";
  if (status === 401) return "ログインの有効期限が切れました。もう一度ログインしてください。";
  if (status === 403) return "この操作を行う権限がありません。";
  if (status === 404) return "見つかりません。削除されたか、表示する権限がありません。";
  if (status === 409) return "他の操作と重なりました。画面を読み込み直してください。";
  if (status === 413) return "ファイルが大きすぎます。";
  if (status === 415) return "対応していない形式のファイルです。";
  if (status === 429) return "操作が続いたため一時的に制限しています。しばらく待ってからお試しください。";
  if (status >= 500) return "サーバーで問題が起きました。時間をおいてもう一度お試しください。";
  return `エラーが発生しました(${status})。`;
}

/** The API's Japanese ``detail`` from a response body, or a fallback for the status. */
export function detailOf(status, body) {
  if (body && typeof body.detail === "string" && body.detail) return body.detail;
  if (body && Array.isArray(body.detail) && body.detail.length) {
    return "入力内容に誤りがあります。" + body.detail.map((d) => d.msg || "").join(" / ");
  }
  return statusMessage(status);
}

/**
 * Call the API. Returns the parsed JSON (or null for 204). Throws ApiError with the Japanese message.
 * ``redirectOn401``: a signed-out visitor goes to the login page (default); the editor turns it off so
 * that unsaved work stays on screen.
 */
// Set once the person has asked to log out: the page's own requests that the logout overtakes
// answer 401, and must not send them to a login page that would bring them back here.
let signingOut = false;

export async function api(path, { method = "GET", json, body, headers = {}, redirectOn401 = true, raw = false } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "same-origin" };
  if (UNSAFE.has(method)) init.headers["X-CSRF-Token"] = csrfToken();
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, statusMessage(0), "network");
  }
  if (raw && response.ok) return response;
  let data = null;
  const type = response.headers.get("content-type") || "";
  if (response.status !== 204 && type.includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 401 && redirectOn401 && !signingOut) {
      location.assign(loginUrl());
    }
    throw new ApiError(response.status, detailOf(response.status, data), data?.code || "", response.headers);
  }
  return data;
}

export function errorText(error) {
  if (error instanceof ApiError) return error.detail;
  return "予期しないエラーが発生しました。画面を読み込み直してください。";
}

// --- formats ---------------------------------------------------------------------------------------

const TOKYO = "Asia/Tokyo";
const DATE_PARTS = { timeZone: TOKYO, year: "numeric", month: "numeric", day: "numeric", weekday: "short" };
const dateTimeFormat = new Intl.DateTimeFormat("ja-JP", { ...DATE_PARTS, hour: "2-digit", minute: "2-digit" });
const dateFormat = new Intl.DateTimeFormat("ja-JP", DATE_PARTS);
const timeFormat = new Intl.DateTimeFormat("ja-JP", { timeZone: TOKYO, hour: "2-digit", minute: "2-digit" });

/** A server time (aware ISO, or naive meaning UTC) as a Date; null when empty or unreadable. */
export function parseServerTime(value) {
  if (!value) return null;
  let text = String(value);
  if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(text)) text += "Z";
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : date;
}

function parts(format, date) {
  const out = {};
  for (const p of format.formatToParts(date)) out[p.type] = p.value;
  return out;
}

/** 2025年1月15日(水) 10:00 in Japan time. */
export function formatDateTime(value) {
  const date = value instanceof Date ? value : parseServerTime(value);
  if (!date) return "";
  const p = parts(dateTimeFormat, date);
  return `${p.year}年${p.month}月${p.day}日(${p.weekday}) ${p.hour}:${p.minute}`;
}

export function formatDate(value) {
  const date = value instanceof Date ? value : parseServerTime(value);
  if (!date) return "";
  const p = parts(dateFormat, date);
  return `${p.year}年${p.month}月${p.day}日(${p.weekday})`;
}

export function formatTime(value) {
  const date = value instanceof Date ? value : parseServerTime(value);
  return date ? timeFormat.format(date) : "";
}

/** A length of time for people: 1時間02分, 12分30秒, 45秒. */
export function formatDuration(seconds) {
  const total = Math.round(Number(seconds) || 0);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h) return `${h}時間${String(m).padStart(2, "0")}分`;
  if (m) return `${m}分${String(s).padStart(2, "0")}秒`;
  return `${s}秒`;
}

/** A position in a recording: 1:02:03 or 02:03. */
export function formatClock(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(1)} GB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} バイト`;
}

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export function escapeHtml(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** Build an element: h("button", {class: "btn", onclick}, "text", child…). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  return appendChildren(el, children);
}

/** Append ``children`` (nodes, text, nested arrays; null, undefined and false skipped) to ``el``. */
export function appendChildren(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const $ = (id) => document.getElementById(id);

/** Whether the browser can paint ranges with the CSS Custom Highlight API (find marks, review places). */
export const HIGHLIGHTS = typeof CSS !== "undefined" && "highlights" in CSS && typeof Highlight !== "undefined";

/** Character offset of the DOM position (``node``, ``offset``) inside the text of element ``el``. */
export function textOffset(el, node, offset) {
  const before = document.createRange();
  before.selectNodeContents(el);
  before.setEnd(node, offset);
  return before.toString().length;
}

// --- page furniture --------------------------------------------------------------------------------

let announceTimer = 0;
/** Tell screen-reader users (and show, where the page has a visible status) what just happened. */
export function announce(message) {
  const live = document.getElementById("live");
  if (!live) return;
  clearTimeout(announceTimer);
  live.textContent = "";
  // A fresh text node after a tick, so the same message twice is still read out.
  announceTimer = setTimeout(() => {
    live.textContent = message;
  }, 50);
}

export function pageData() {
  const node = document.getElementById("page-data");
  if (!node) return {};
  try {
    return JSON.parse(node.textContent || "{}");
  } catch {
    return {};
  }
}

let peopleCache = null;
/** Names for user and device ids: {users: {id: name}, devices: {id: name}}. */
export async function people() {
  if (!peopleCache) {
    peopleCache = api("/web/people").catch(() => ({ users: {}, devices: {} }));
  }
  return peopleCache;
}

export function debounce(fn, ms) {
  let timer = 0;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

export function initLayout() {
  initMenu();
  const logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async () => {
      logout.disabled = true;
      signingOut = true;
      try {
        await api("/api/v1/auth/logout", { method: "POST", redirectOn401: false });
      } catch {
        // Signed out already, or the session expired: the login page is where to go either way.
      }
      location.assign("/login");
    });
  }
}

/** Show a message in an alert box element (role=alert or status is set in the template). */
export function showMessage(box, message, kind = "error") {
  if (!box) return;
  box.hidden = !message;
  box.className = `alert alert-${kind}`;
  box.textContent = message || "";
}

/** The file name the server gave in Content-Disposition (RFC 5987 filename* first), or ``fallback``. */
function filenameFrom(disposition, fallback) {
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition || "");
  if (star) {
    try {
      return decodeURIComponent(star[1]);
    } catch {
      // a malformed name: fall through to the plain one
    }
  }
  const plain = /filename="?([^";]+)"?/i.exec(disposition || "");
  return plain ? plain[1] : fallback;
}

/** Hand a fetched export to the browser as a download through the page's hidden link. */
export async function saveDownload(response, link, fallback) {
  offerBlob(await response.blob(), link, filenameFrom(response.headers.get("content-disposition"), fallback));
}

/** Hand ``blob`` to the browser as a download named ``name`` through the page's hidden link. */
export function offerBlob(blob, link, name) {
  const url = URL.createObjectURL(blob);
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 30000);
}

/** Ask before the page is left (reloaded, closed) while ``busy()`` says work would be lost. */
export function warnBeforeLeaving(busy) {
  window.addEventListener("beforeunload", (event) => {
    if (busy()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
}
