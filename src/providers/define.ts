// Every adapter is built through `defineProvider`: it declares the capabilities that are data and
// implements the methods it supports; the yes/no capabilities that mirror optional methods (blend,
// describe, cancel, callback) are read off those methods, so they can never disagree.
import type { DerivedCapability, ProviderAdapter, ProviderCapabilities } from "./types.ts";

/** Which optional method each derived capability stands for. */
const methodOf = {
  blend: "blend",
  describe: "describe",
  cancel: "cancel",
  callback: "parseCallback",
} as const satisfies Record<DerivedCapability, keyof ProviderAdapter>;

/** The full capabilities of `adapter`: its declared data plus what its methods show. */
export function capabilitiesOf(adapter: ProviderAdapter): ProviderCapabilities {
  const derived = Object.fromEntries(
    Object.entries(methodOf).map(([capability, method]) => [
      capability,
      typeof adapter[method] === "function",
    ]),
  ) as Record<DerivedCapability, boolean>;
  return Object.freeze({ ...adapter.capabilities, ...derived });
}

/** The adapter as an ImageProvider, its `capabilities` completed from the methods it implements. */
export function defineProvider<A extends ProviderAdapter>(
  adapter: A,
): Omit<A, "capabilities"> & { readonly capabilities: ProviderCapabilities } {
  return { ...adapter, capabilities: capabilitiesOf(adapter) };
}
