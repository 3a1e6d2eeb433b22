// One user action that calls the console: whether it is running, and the refusal it ended with.
// Every form uses it, so "busy", "error shown as {code, message}" and "cleared on retry" behave alike.
import { toErrorView, type ErrorView } from "./api";

export class Action {
  busy = $state(false);
  error = $state<ErrorView | null>(null);

  /** Runs `call`; on refusal keeps it in `error` and returns `undefined`. */
  async run<T>(call: () => Promise<T>): Promise<T | undefined> {
    this.busy = true;
    this.error = null;
    try {
      return await call();
    } catch (e) {
      this.error = toErrorView(e);
      return undefined;
    } finally {
      this.busy = false;
    }
  }
}
