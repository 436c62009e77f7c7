// /help's text: the services here, how to pick one, and every parameter of the table within
// Discord's 2000 characters.
import { describe, expect, it } from "vitest";
import { helpText } from "../../src/discord/help-view.ts";

describe("/help", () => {
  it("names the one service, the buttons and the parameters with their aliases", () => {
    const text = helpText(["evolink"]);
    expect(text).toContain("Image service: `evolink`.");
    expect(text).toContain("**U1–U4**");
    expect(text).toContain("`--ar` (--aspect) aspect ratio, default 1:1");
    expect(text).toContain("`--provider` (--via)");
    expect(text.length).toBeLessThanOrEqual(2000);
  });

  it("tells how to choose when several services are configured", () => {
    expect(helpText(["evolink", "openai"])).toContain(
      "Image services here: `evolink`, `openai` (pick yours in /settings, or add `--provider NAME` to a prompt).",
    );
  });
});
