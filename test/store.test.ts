import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { CachedRepository, KeyList, openStore, Repository, type Store } from "../src/store/index.ts";
import { type RedisServer, redisTestsRun, startRedis } from "./support/redis.ts";

const noteSchema = z.object({ title: z.string(), stars: z.number().int() });

function storeContract(name: string, open: () => Promise<Store>) {
  describe(name, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store.close();
    });

    it("keeps a record and reads it back validated", async () => {
      const notes = new Repository(store.keyv, "note", noteSchema);
      await notes.set("a", { title: "fox", stars: 3 });
      expect(await notes.get("a")).toEqual({ title: "fox", stars: 3 });
      expect(await notes.get("missing")).toBeUndefined();
      await notes.delete("a");
      expect(await notes.get("a")).toBeUndefined();
    });

    it("refuses a record that no longer matches its schema", async () => {
      await store.keyv.set("note:bad", { title: 42 });
      const notes = new Repository(store.keyv, "note", noteSchema);
      await expect(notes.get("bad")).rejects.toThrow(/note record bad is unreadable/);
    });

    it("keeps repositories with different prefixes apart", async () => {
      const notes = new Repository(store.keyv, "note", noteSchema);
      const drafts = new Repository(store.keyv, "draft", noteSchema);
      await notes.set("same", { title: "note", stars: 1 });
      await drafts.set("same", { title: "draft", stars: 2 });
      expect((await notes.get("same"))?.title).toBe("note");
      expect((await drafts.get("same"))?.title).toBe("draft");
    });

    it("keeps list order and loses no concurrent update", async () => {
      const list = new KeyList(store.keyv, `list-${name}`);
      await Promise.all(Array.from({ length: 50 }, (_, i) => list.add(`job${i}`)));
      await Promise.all([list.remove("job3"), list.remove("job7"), list.add("job0")]);
      const ids = await list.all();
      expect(ids).toHaveLength(48);
      expect(ids.slice(0, 4)).toEqual(["job0", "job1", "job2", "job4"]);
    });
  });
}

const sqliteDir = mkdtempSync(join(tmpdir(), "atelier-store-"));
afterAll(() => rmSync(sqliteDir, { recursive: true, force: true }));

storeContract("embedded SQLite store", () => openStore({ dataDir: sqliteDir }));

describe.runIf(redisTestsRun)("with a redis-server", () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  storeContract("Redis store", () => openStore({ dataDir: sqliteDir, redisUrl: redis.url }));
});

describe("embedded SQLite store across restarts", () => {
  it("finds records written before the store was closed", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "atelier-restart-"));
    try {
      const first = await openStore({ dataDir });
      await new Repository(first.keyv, "note", noteSchema).set("kept", { title: "kept", stars: 5 });
      await new KeyList(first.keyv, "open").add("kept");
      await first.close();

      const second = await openStore({ dataDir });
      expect(await new Repository(second.keyv, "note", noteSchema).get("kept")).toEqual({
        title: "kept",
        stars: 5,
      });
      expect(await new KeyList(second.keyv, "open").all()).toEqual(["kept"]);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("says clearly when Redis cannot be reached", async () => {
    await expect(
      openStore({ dataDir: sqliteDir, redisUrl: "redis://user:hunter2@127.0.0.1:1" }),
    ).rejects.toThrow(/^Cannot reach Redis at 127.0.0.1:1 \(ECONNREFUSED\): check REDIS_URL/);
  });
});

describe("cached repository", () => {
  it("answers reads from memory after the first and writes changes behind, in order", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "atelier-cache-"));
    try {
      const store = await openStore({ dataDir });
      const backing = new Repository(store.keyv, "note", noteSchema);
      const cached = new CachedRepository(backing);
      await backing.set("a", { title: "stored", stars: 1 });
      expect(await cached.get("a")).toEqual({ title: "stored", stars: 1 });
      await store.keyv.set("note:a", { title: "changed behind its back", stars: 2 });
      expect((await cached.get("a"))?.title).toBe("stored");

      cached.set("a", { title: "first", stars: 3 });
      cached.set("a", { title: "second", stars: 4 });
      cached.set("b", { title: "other", stars: 5 });
      expect((await cached.get("a"))?.title).toBe("second");
      await cached.flushed();
      expect(await backing.get("a")).toEqual({ title: "second", stars: 4 });
      expect(await backing.get("b")).toEqual({ title: "other", stars: 5 });
      cached.delete("b");
      await cached.flushed();
      expect(await backing.get("b")).toBeUndefined();
      await store.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
