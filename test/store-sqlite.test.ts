// The embedded store: what a write promised survives the bot being killed at once, the write-ahead
// log reaches the database file within about a second (what a power cut would leave), and a data
// directory keeps reading as it was written.
import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import Database from "better-sqlite3";
import Keyv from "keyv";
import { afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../src/log.ts";
import { openStore } from "../src/store/index.ts";
import { SqliteStore } from "../src/store/sqlite.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "atelier-sqlite-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The rows of the database file alone, as a power cut that lost the log would leave them. */
function rowsWithoutTheLog(file: string): number {
  const copy = `${file}.copy`;
  copyFileSync(file, copy);
  const db = new Database(copy, { readonly: true });
  try {
    return (db.prepare("SELECT count(*) AS n FROM keyv").get() as { n: number }).n;
  } catch {
    return 0; // the table itself is still only in the log
  } finally {
    db.close();
    rmSync(copy, { force: true });
  }
}

describe("the embedded store", () => {
  it("keeps every write whose promise resolved when the process is killed right after", async () => {
    const dataDir = tempDir();
    const script = `
      import { openStore } from ${JSON.stringify(new URL("../src/store/index.ts", import.meta.url).pathname)};
      const store = await openStore({ dataDir: ${JSON.stringify(dataDir)} });
      await Promise.all(Array.from({ length: 300 }, (_, n) => store.keyv.set("job:" + n, { n })));
      await Promise.all(Array.from({ length: 100 }, (_, n) => store.keyv.delete("job:" + n * 3)));
      process.stdout.write("written\\n");
      setInterval(() => undefined, 1000);`;
    const writer = join(dataDir, "writer.mts");
    writeFileSync(writer, script);
    const runner = new URL("../bin/run-ts.mjs", import.meta.url).pathname;
    const child = spawn(process.execPath, [runner, writer], { stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("written") && resolve());
      child.once("exit", (code) => reject(new Error(`writer exited (${code}) before writing`)));
    });
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));

    const again = await openStore({ dataDir });
    const found = await Promise.all(Array.from({ length: 300 }, (_, n) => again.keyv.get(`job:${n}`)));
    expect(found.filter((value) => value !== undefined)).toHaveLength(200);
    expect(found[1]).toEqual({ n: 1 });
    expect(found[3]).toBeUndefined();
    await again.close();
  });

  it("copies the log into the database file within about a second, not only when it grows large", async () => {
    const file = join(tempDir(), "store.sqlite");
    const store = new SqliteStore({ file, checkpointEveryMs: 200 });
    await store.set("atelier:job:1", JSON.stringify({ value: "queued" }));
    expect(rowsWithoutTheLog(file)).toBe(0);
    // Waiting for the checkpoint (it runs in another thread), not timing it.
    for (let tries = 0; tries < 100 && rowsWithoutTheLog(file) === 0; tries++) await sleep(100);
    expect(rowsWithoutTheLog(file)).toBe(1);
    await store.disconnect();
  });

  it("reads a data directory written before (same table), and answers keyv's whole interface", async () => {
    const dataDir = tempDir();
    const earlier = new Database(join(dataDir, "atelier.sqlite"));
    earlier.exec("CREATE TABLE keyv(key VARCHAR(255) PRIMARY KEY, value TEXT)");
    earlier
      .prepare("INSERT INTO keyv (key, value) VALUES (?, ?)")
      .run("atelier:prefs:42", JSON.stringify({ value: { speed: "fast" }, expires: null }));
    earlier.close();

    const store = await openStore({ dataDir });
    expect(await store.keyv.get("prefs:42")).toEqual({ speed: "fast" });
    await store.keyv.set("a", 1);
    await store.keyv.set("b", 2, 1);
    await sleep(5);
    expect(await store.keyv.get(["a", "b", "c"])).toEqual([1, undefined, undefined]);
    expect(await store.keyv.has("a")).toBe(true);
    expect(await store.keyv.delete("a")).toBe(true);
    expect(await store.keyv.delete("a")).toBe(false);
    const keys: string[] = [];
    for await (const [key] of store.keyv.iterator?.("atelier") ?? []) keys.push(String(key));
    expect(keys).toEqual(["prefs:42"]);
    await store.keyv.clear();
    expect(await store.keyv.get("prefs:42")).toBeUndefined();
    await store.close();
  });

  it("lets a second process's store on the same file see what the first wrote", async () => {
    const file = join(tempDir(), "store.sqlite");
    const bot = new Keyv({ store: new SqliteStore({ file }), namespace: "atelier" });
    const cli = new Keyv({ store: new SqliteStore({ file }), namespace: "atelier" });
    await bot.set("job:1", { state: "running" });
    expect(await cli.get("job:1")).toEqual({ state: "running" });
    await Promise.all([bot.disconnect(), cli.disconnect()]);
  });

  it("logs a failure the store can only report as an event, once a minute, with its stack", async () => {
    const logged: Array<{ message: string; error: unknown }> = [];
    const logger = {
      ...silentLogger,
      error: (message: string, fields?: { error?: unknown }) => {
        logged.push({ message, error: fields?.error });
      },
    };
    const store = await openStore({ dataDir: tempDir(), logger });
    const adapter = store.keyv.store as SqliteStore;
    // What the checkpoint thread reports when a checkpoint fails (a full disk), every second.
    adapter.emit("error", new Error("SQLite checkpoint failed: SqliteError: database or disk is full"));
    adapter.emit("error", new Error("SQLite checkpoint failed: SqliteError: database or disk is full"));
    expect(logged).toHaveLength(1);
    expect(logged[0]?.message).toMatch(/embedded store reported a failure/);
    expect(logged[0]?.error).toBeInstanceOf(Error);
    expect(String(logged[0]?.error)).toMatch(/disk is full/);
    await store.close();
  });
});
