// The console's commands and views, generated from the Rust signatures (bindings.ts, written by
// src-tauri/src/bindings.rs) so that the UI and Rust cannot drift. Errors arrive as
// {code, message} already in the UI language.
import { commands, type ErrorView } from "./bindings";

export * from "./bindings";
export type { RuleStatus, Status, EventView, Lang, Role, FirstSupervisor as FirstSupervisorForm } from "./bindings";

/** True when a thrown value is the console's `{code, kind, message}`. */
export function isErrorView(e: unknown): e is ErrorView {
  return typeof e === "object" && e !== null && "code" in e && "kind" in e && "message" in e;
}

/** Any thrown value as `{code, message}` (IPC failures outside the console included). */
export function toErrorView(e: unknown): ErrorView {
  if (isErrorView(e)) return e;
  return { code: "ipc", kind: "unavailable", message: String(e) };
}

/** The PC's offset from UTC in minutes (east positive), for days and times in exports. */
export function utcOffsetMinutes(): number {
  return -new Date().getTimezoneOffset();
}

/** The session commands under the names the first screens use. */
export const api = {
  status: commands.appStatus,
  checkOperatorPassword: commands.checkOperatorPassword,
  createFirstSupervisor: commands.createFirstSupervisor,
  signIn: commands.signIn,
  resume: commands.resumeSession,
  touch: commands.touchSession,
  lock: commands.lockSession,
  signOut: commands.signOut,
  setLanguage: commands.setLanguage,
  setIdleLockMinutes: commands.setIdleLockMinutes,
  setTheme: commands.setTheme,
  recentEvents: commands.recentEvents,
};
