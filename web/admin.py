"""What the administrator's console (管理) shows: its sections, in the order of its menu."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    key: str  # the path under /admin
    title: str
    summary: str


ADMIN_SECTIONS = (
    Section("users", "利用者", "追加、パスワードの再発行、無効化と再有効化、役割と部署の変更"),
    Section("departments", "部署", "追加、名前の変更、廃止、月の上限時間"),
    Section("devices", "会議室機器", "登録 (機器キーは一度だけ表示)、キーの無効化、最終接続、アップロード数"),
    Section("tokens", "API トークン", "持ち主ごとの一覧、発行、有効期限、無効化"),
    Section("retention", "保存期間", "録音・セッション・トークンを保つ期間 (設定の確認)"),
    Section("voices", "声の登録", "部署ごとに登録された職員の声、同意の記録、削除"),
    Section("audit", "監査ログ", "利用者・操作・日付で絞り込み、CSV で書き出し"),
)
# Word templates per kind and department have their own page (another part of the console).
TEMPLATES_LINK = ("/admin/templates", "文書テンプレート", "記録の種類・部署ごとの Word テンプレート")
