// The UI's own words in Japanese and English. Messages about outcomes (errors, rules, audit
// summaries) come from the Rust crates already translated; this file holds labels only.
import type { Lang, Role } from "./api";
import { deskJa, deskEn } from "./words";

const ja = {
  appName: "鍵屋 Kagiya",
  loading: "読み込み中…",
  language: "表示言語",
  setupTitle: "最初のスーパーバイザーを登録",
  setupIntro:
    "このパソコンで初めて鍵屋を使います。支店の責任者（スーパーバイザー）を登録してください。登録したスーパーバイザーでそのままサインインします。",
  operatorId: "オペレーターID",
  operatorIdHint: "半角英数字と - _ . で3〜32文字",
  name: "氏名",
  loginPassword: "ログインパスワード",
  loginPasswordRepeat: "ログインパスワード（確認のため再入力）",
  confirmationPassword: "確認用パスワード",
  confirmationPasswordHint: "ロック解除などの重要な操作の確認に使います。ログインパスワードとは別のものにしてください。",
  confirmationPasswordRepeat: "確認用パスワード（確認のため再入力）",
  rulesFor: "パスワードのルール",
  repeatMatches: "再入力が一致している",
  register: "登録してサインイン",
  signInIntro: "オペレーターIDとログインパスワードを入力してください。",
  password: "パスワード",
  signIn: "サインイン",
  signOut: "サインアウト",
  lockNow: "画面をロック",
  lockShortcut: "Ctrl+Shift+L",
  lockedTitle: "画面はロックされています",
  lockedIntro: "無操作が続いたか、手動でロックされました。作業中の画面はそのまま保持されています。",
  lockedAs: "ロック中のオペレーター",
  resume: "ロックを解除",
  signOutInstead: "別のオペレーターでサインインする（作業中の画面は破棄されます）",
  welcome: "ようこそ、",
  role_supervisor: "スーパーバイザー",
  role_operator: "オペレーター",
  recentActivity: "最近の操作記録（監査ログ）",
  refresh: "更新",
  colTime: "日時",
  colActor: "操作者",
  colWhat: "内容",
  system: "（システム）",
  noEvents: "記録はまだありません。",
  idleLock: "自動ロックまでの無操作時間（分）",
  idleLockSupervisorOnly: "自動ロックの時間はスーパーバイザーが確認用パスワードで変更します。",
  idleLockNow: (s: number) => `現在の自動ロック: ${formatDuration(s, "ja")}無操作でロック`,
  save: "保存",
  saved: "保存しました。",
  fatalTitle: "鍵屋を開けませんでした",
  fatalIntro: "データベースを開けませんでした。システム管理者に連絡してください。",
  working: "処理中…",
  showPassword: "表示",
  hidePassword: "隠す",
  ...deskJa,
};

type Dict = typeof ja;

const en: Dict = {
  appName: "Kagiya 鍵屋",
  loading: "Loading…",
  language: "Language",
  setupTitle: "Register the first supervisor",
  setupIntro:
    "This is the first time Kagiya runs on this PC. Register the branch's supervisor; you will be signed in as them right away.",
  operatorId: "Operator ID",
  operatorIdHint: "3 to 32 characters: letters, digits, - _ .",
  name: "Name",
  loginPassword: "Login password",
  loginPasswordRepeat: "Login password (again)",
  confirmationPassword: "Confirmation password",
  confirmationPasswordHint:
    "Confirms important actions such as unlocking users. It must differ from the login password.",
  confirmationPasswordRepeat: "Confirmation password (again)",
  rulesFor: "Password rules",
  repeatMatches: "Both entries match",
  register: "Register and sign in",
  signInIntro: "Enter your operator ID and login password.",
  password: "Password",
  signIn: "Sign in",
  signOut: "Sign out",
  lockNow: "Lock screen",
  lockShortcut: "Ctrl+Shift+L",
  lockedTitle: "The screen is locked",
  lockedIntro: "It was locked after inactivity or by hand. Your work is kept as it was.",
  lockedAs: "Locked operator",
  resume: "Unlock",
  signOutInstead: "Sign in as another operator (discards the kept screen)",
  welcome: "Welcome, ",
  role_supervisor: "Supervisor",
  role_operator: "Operator",
  recentActivity: "Recent activity (audit log)",
  refresh: "Refresh",
  colTime: "Time",
  colActor: "By",
  colWhat: "What",
  system: "(system)",
  noEvents: "Nothing recorded yet.",
  idleLock: "Lock after this many idle minutes",
  idleLockSupervisorOnly: "A supervisor changes the idle lock, with their confirmation password.",
  idleLockNow: (s: number) => `Now locking after ${formatDuration(s, "en")} without activity`,
  save: "Save",
  saved: "Saved.",
  fatalTitle: "Kagiya could not start",
  fatalIntro: "The database could not be opened. Please contact your system administrator.",
  working: "Working…",
  showPassword: "Show",
  hidePassword: "Hide",
  ...deskEn,
};

export const dictionaries: Record<Lang, Dict> = { ja, en };

/** The current UI language; set from the console's status. */
export const i18n = $state<{ lang: Lang }>({ lang: "ja" });

/** The label for `key` in the current language. */
export function t<K extends keyof Dict>(key: K): Dict[K] {
  return dictionaries[i18n.lang][key];
}

export function roleLabel(role: Role): string {
  return role === "supervisor" ? t("role_supervisor") : t("role_operator");
}

/** "10分" / "10 min", or seconds when under a minute. */
export function formatDuration(seconds: number, lang: Lang): string {
  if (seconds % 60 === 0) {
    const m = seconds / 60;
    return lang === "ja" ? `${m}分` : `${m} min`;
  }
  return lang === "ja" ? `${seconds}秒` : `${seconds} s`;
}

/** A date (no time) in the PC's local time zone. */
export function formatDate(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === "ja" ? "ja-JP" : "en-GB", { dateStyle: "medium" }).format(new Date(ms));
}

/** A timestamp in the PC's local time zone. */
export function formatTime(ms: number, lang: Lang): string {
  return new Intl.DateTimeFormat(lang === "ja" ? "ja-JP" : "en-GB", {
    dateStyle: "medium",
    timeStyle: "medium",
  }).format(new Date(ms));
}
