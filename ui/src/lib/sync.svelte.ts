// The sync state the status bar and the sync screen share: read from the console every few
// seconds while signed in (the worker thread does the rounds; this only shows where it stands).
import { commands, type SyncView } from "./bindings";

export const sync = $state<{ view: SyncView | null }>({ view: null });

/** Reads the state once; a refusal (signed out, locked) leaves the last one shown. */
export async function refreshSync(): Promise<void> {
  try {
    sync.view = await commands.syncView();
  } catch {
    // Not signed in or locked: nothing new to show.
  }
}

/** Starts a round now and shows the state it reports. */
export async function syncNow(): Promise<void> {
  try {
    sync.view = await commands.syncNow();
  } catch {
    // As above.
  }
}
