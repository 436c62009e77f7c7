import { EventEmitter } from "node:events";

/** A probe returns a truthy value (the thing waited for) or a "not yet" value. */
export type Probe<T> = () => T | undefined | null | false;

const CHANGE = "change";

/**
 * One notification channel for every state change in the fake (messages, interactions, gateway).
 * `waitFor` re-checks its probe on each change instead of polling, so tests wake up immediately.
 */
export class ChangeFeed {
  readonly #emitter = new EventEmitter();

  constructor() {
    // Many concurrent waiters are normal in e2e tests; the default limit of 10 would only warn.
    this.#emitter.setMaxListeners(0);
  }

  notify(): void {
    this.#emitter.emit(CHANGE);
  }

  waitFor<T>(probe: Probe<T>, timeoutMs = 5_000, description = "condition"): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onChange = (): void => {
        settleIfReady();
      };
      const timer = setTimeout(() => {
        stopWatching();
        reject(new Error(`FakeDiscord.waitFor timed out after ${timeoutMs} ms waiting for ${description}`));
      }, timeoutMs);
      const stopWatching = (): void => {
        clearTimeout(timer);
        this.#emitter.off(CHANGE, onChange);
      };
      const settleIfReady = (): void => {
        let value: T | undefined | null | false;
        try {
          value = probe();
        } catch (error) {
          stopWatching();
          reject(error);
          return;
        }
        if (value === undefined || value === null || value === false) return;
        stopWatching();
        resolve(value);
      };
      this.#emitter.on(CHANGE, onChange);
      settleIfReady();
    });
  }
}
