// Where the signed-in operator is: one screen and its parameters (a customer, a user, a filter).
// Screens navigate by calling `go`; the back button returns to the previous place.

import type { UserListFilter } from "./bindings";

export type Screen =
  | "dashboard"
  | "customers"
  | "customer"
  | "users"
  | "user"
  | "requests"
  | "certificates"
  | "audit"
  | "sync"
  | "settings";

export interface Place {
  screen: Screen;
  /** contract_no for "customer", login_id for "user" and "certificates". */
  id?: string;
  /** The users table's filter. */
  filter?: UserListFilter;
  /** The customer the users table is limited to. */
  contractNo?: string;
  /** The address a certificate is registered for. */
  address?: string;
}

export const nav = $state<{ place: Place; history: Place[] }>({
  place: { screen: "dashboard" },
  history: [],
});

export function go(place: Place) {
  nav.history.push(nav.place);
  if (nav.history.length > 50) nav.history.shift();
  nav.place = place;
}

export function back() {
  const prev = nav.history.pop();
  nav.place = prev ?? { screen: "dashboard" };
}

/** The menu: screen, label key and Alt+digit shortcut. */
export const MENU = [
  { screen: "dashboard", key: "navDashboard" },
  { screen: "customers", key: "navCustomers" },
  { screen: "users", key: "navUsers" },
  { screen: "requests", key: "navRequests" },
  { screen: "certificates", key: "navCertificates" },
  { screen: "audit", key: "navAudit" },
  { screen: "sync", key: "navSync" },
  { screen: "settings", key: "navSettings" },
] as const;
