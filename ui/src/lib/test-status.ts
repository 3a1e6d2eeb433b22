// The console's status as the component tests hand it to screens: signed in and active, in English.
import type { Role, Status } from "./api";

export function signedInStatus(role: Role, operator_id = role === "supervisor" ? "sv001" : "op101"): Status {
  return {
    needs_setup: false,
    lang: "en",
    session: { state: "active", operator: { operator_id, name: "Test Operator", role } },
    idle_lock_minutes: 10,
    idle_lock_seconds: 600,
    theme: "system",
    operator_password_rules: [],
    password_change_due: false,
    demo: false,
  };
}
