// Button ids carry only a short job id, an action and an index; the job record holds the rest,
// so buttons on any message the bot ever made keep working after restarts.
export const buttonActions = {
  upscale: "u",
  variation: "v",
  reroll: "r",
  varySubtle: "vs",
  varyStrong: "vx",
  upscaleSubtle: "us",
  upscaleCreative: "uc",
  hd: "hd",
  providerAction: "pa",
  cancel: "x",
  zoom15: "z15",
  zoom2: "z2",
  panLeft: "pl",
  panRight: "pr",
  panUp: "pu",
  panDown: "pd",
  square: "sq",
  /** On a /describe result: imagine suggested prompt n. */
  imagineDescription: "d",
} as const;

export type ButtonAction = keyof typeof buttonActions;

export interface ButtonRef {
  jobId: string;
  action: ButtonAction;
  /**
   * Image number (1-based), description number (1-based) or, for provider actions, the button's
   * position in the job record.
   */
  index?: number;
}

/** A codec for ids of the form `<prefix>:<job id>:<action code>[:<index>]`, limited to some actions. */
export function jobRefCodec(prefix: string, actions: readonly ButtonAction[]) {
  const byCode = new Map<string, ButtonAction>(actions.map((action) => [buttonActions[action], action]));
  return {
    encode(ref: ButtonRef): string {
      const parts = [prefix, ref.jobId, buttonActions[ref.action]];
      if (ref.index !== undefined) parts.push(String(ref.index));
      return parts.join(":");
    },
    /** Undefined for ids that are not this codec's (other bots', other forms, a future format). */
    decode(customId: string): ButtonRef | undefined {
      const [head, jobId, code, index, ...rest] = customId.split(":");
      if (head !== prefix || !jobId || !code || rest.length > 0) return undefined;
      const action = byCode.get(code);
      if (!action || !/^[0-9a-z]{4,32}$/.test(jobId)) return undefined;
      if (index === undefined) return { jobId, action };
      if (!/^\d{1,2}$/.test(index)) return undefined;
      return { jobId, action, index: Number(index) };
    },
    owns(customId: string): boolean {
      return customId.startsWith(`${prefix}:`);
    },
  };
}

const buttonCodec = jobRefCodec("at", Object.keys(buttonActions) as ButtonAction[]);

export const encodeButton = buttonCodec.encode;

/** Returns undefined for ids that are not ours (other bots' or a future format). */
export const decodeButton = buttonCodec.decode;
