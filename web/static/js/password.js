// パスワード変更: anyone's own password; the API asks for the current one and signs out other devices.
import { $, announce, api, errorText, initLayout, showMessage } from "./common.js";

initLayout();

const form = $("password-form");
const errorBox = $("password-error");
const doneBox = $("password-done");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  showMessage(doneBox, "");
  const current = $("current-password").value;
  const next = $("new-password").value;
  if (next.length < 8) {
    showMessage(errorBox, "新しいパスワードは8文字以上にしてください。");
    $("new-password").focus();
    return;
  }
  if (next !== $("new-password-again").value) {
    showMessage(errorBox, "確認のパスワードが一致しません。");
    $("new-password-again").focus();
    return;
  }
  $("password-submit").disabled = true;
  try {
    await api("/api/v1/auth/password", {
      method: "POST",
      json: { current_password: current, new_password: next },
      redirectOn401: true,
    });
    form.reset();
    showMessage(errorBox, "");
    showMessage(doneBox, "パスワードを変更しました。他の端末でのログインは終了しました。", "success");
    announce("パスワードを変更しました。");
  } catch (error) {
    showMessage(errorBox, errorText(error));
  } finally {
    $("password-submit").disabled = false;
  }
});
