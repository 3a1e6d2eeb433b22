// The console's commands as typed functions. The shapes mirror the Rust views in
// crates/kagiya-console/src/view.rs; errors arrive as {code, message} already in the UI language.
import { invoke } from "@tauri-apps/api/core";

export type Lang = "ja" | "en";
export type Role = "operator" | "supervisor";

export interface ErrorView {
  code: string;
  message: string;
}

export interface RuleStatus {
  code: string;
  label: string;
  ok: boolean;
}

export interface SessionOperator {
  operator_id: string;
  name: string;
  role: Role;
}

export interface SessionView {
  state: "signed_out" | "active" | "locked";
  operator: SessionOperator | null;
}

export interface Status {
  needs_setup: boolean;
  lang: Lang;
  session: SessionView;
  idle_lock_minutes: number;
  idle_lock_seconds: number;
  operator_password_rules: RuleStatus[];
}

export interface EventView {
  seq: number;
  at: number;
  actor: string | null;
  kind: string;
  summary: string;
}

export interface FirstSupervisorForm {
  operator_id: string;
  name: string;
  password: string;
  password_repeat: string;
  confirmation_password: string;
  confirmation_password_repeat: string;
}

/** True when a thrown value is the console's `{code, message}`. */
export function isErrorView(e: unknown): e is ErrorView {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** Any thrown value as `{code, message}` (IPC failures outside the console included). */
export function toErrorView(e: unknown): ErrorView {
  if (isErrorView(e)) return e;
  return { code: "ipc", message: String(e) };
}

export const api = {
  status: () => invoke<Status>("app_status"),
  checkOperatorPassword: (operatorId: string, password: string, loginPassword: string | null) =>
    invoke<RuleStatus[]>("check_operator_password", { operatorId, password, loginPassword }),
  createFirstSupervisor: (form: FirstSupervisorForm) =>
    invoke<Status>("create_first_supervisor", { form }),
  signIn: (operatorId: string, password: string) =>
    invoke<Status>("sign_in", { operatorId, password }),
  resume: (password: string) => invoke<Status>("resume_session", { password }),
  touch: () => invoke<Status>("touch_session"),
  lock: () => invoke<Status>("lock_session"),
  signOut: () => invoke<Status>("sign_out"),
  setLanguage: (lang: Lang) => invoke<Status>("set_language", { lang }),
  setIdleLockMinutes: (minutes: number) => invoke<Status>("set_idle_lock_minutes", { minutes }),
  recentEvents: (limit: number) => invoke<EventView[]>("recent_events", { limit }),
};
