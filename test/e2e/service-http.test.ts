// The bot's HTTP port for operators: /healthz says whether Discord and the store are fine (and
// what is not), /metrics speaks Prometheus with jobs, queue, Discord calls and process figures.
import { get as httpGet } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imagineGrid, startWorld, type World } from "./world.ts";

let world: World;
beforeAll(async () => {
  world = await startWorld({ http: true, taskDurationMs: 200 });
});
afterAll(async () => {
  await world.stop();
});

/** A plain GET with node:http, as a monitoring probe would. */
function get(path: string): Promise<{ status: number; text: string; type: string }> {
  return new Promise((resolve, reject) => {
    httpGet(`${world.httpUrl}${path}`, (response) => {
      let text = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        text += chunk;
      });
      response.on("end", () =>
        resolve({ status: response.statusCode ?? 0, text, type: String(response.headers["content-type"]) }),
      );
    }).once("error", reject);
  });
}

describe("the HTTP port", () => {
  it("/metrics counts a finished job by provider and outcome, and has the queue, Discord and process figures", async () => {
    await imagineGrid(world, "a metered fox");
    const metrics = await get("/metrics");
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain("text/plain");
    expect(metrics.text).toMatch(
      /atelier_jobs_finished_total\{provider="evolink",kind="imagine",outcome="completed"\} 1/,
    );
    expect(metrics.text).toMatch(
      /atelier_job_duration_seconds_count\{provider="evolink",outcome="completed"\} 1/,
    );
    expect(metrics.text).toMatch(/atelier_queue_depth 0/);
    expect(metrics.text).toMatch(/atelier_discord_responses_total\{status="2xx"\} \d+/);
    expect(metrics.text).toContain("nodejs_eventloop_lag_seconds");
  });

  it("/healthz is 200 while Discord is connected, 503 naming the problem when it is not", async () => {
    expect(await get("/healthz")).toMatchObject({ status: 200, text: '{"ok":true}' });
    await world.bot.client.destroy();
    const down = await get("/healthz");
    expect(down.status).toBe(503);
    expect(JSON.parse(down.text)).toEqual({ ok: false, problems: ["Discord gateway not connected"] });
  });

  it("answers 404 elsewhere", async () => {
    expect((await get("/nothing-here")).status).toBe(404);
  });
});
