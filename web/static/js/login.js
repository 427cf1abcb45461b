// ログイン: POST /api/v1/auth/login, then on to the page that sent the visitor here.
import { api, errorText, pageData } from "./common.js";

const form = document.getElementById("login-form");
const errorBox = document.getElementById("login-error");
const submit = document.getElementById("login-submit");
const next = pageData().next || "/";

function showError(message, field) {
  errorBox.textContent = message;
  errorBox.hidden = false;
  if (field) field.focus();
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const username = form.username.value.trim();
  const password = form.password.value;
  if (!username) return showError("ユーザー名を入力してください。", form.username);
  if (!password) return showError("パスワードを入力してください。", form.password);
  errorBox.hidden = true;
  submit.disabled = true;
  submit.textContent = "ログインしています…";
  try {
    await api("/api/v1/auth/login", { method: "POST", json: { username, password }, redirectOn401: false });
    location.assign(next);
  } catch (error) {
    form.password.value = "";
    showError(errorText(error), form.password);
    submit.disabled = false;
    submit.textContent = "ログイン";
  }
});
